"""What serve.py adds for access: secure by default (generated secrets, first admin), demo on loopback only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from dashboard.access.config import ConfigError
from dashboard.access.serving import AUTH_MODULE, prepare_access
from dashboard.access.users import UserStore
from dashboard.local_server import ROOT


def test_local_mode_generates_secrets_and_a_first_admin_once(tmp_path, capsys):
    environ = {"CREDIT_AUTH": "local", "CREDIT_ACCESS_DIR": str(tmp_path)}
    args = prepare_access(environ, address="127.0.0.1")
    assert args[args.index("--auth-module") + 1] == str(AUTH_MODULE)
    assert args[args.index("--session-ids") + 1] == "signed" and "--session-token-expiration" in args
    assert len(environ["PANEL_COOKIE_SECRET"]) >= 32 and len(environ["BOKEH_SECRET_KEY"]) >= 32
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    printed = capsys.readouterr().out
    password = printed.split("password\n")[1].split()[0]
    assert UserStore(tmp_path / "users.sqlite").authenticate("admin", password).reason == "ok"
    again = {"CREDIT_AUTH": "local", "CREDIT_ACCESS_DIR": str(tmp_path)}
    prepare_access(again, address="127.0.0.1")
    assert (
        again["PANEL_COOKIE_SECRET"] == environ["PANEL_COOKIE_SECRET"]
    )  # persisted: logins survive restarts
    assert "password" not in capsys.readouterr().out


def test_oidc_mode_uses_panels_generic_provider(tmp_path):
    args = prepare_access({"CREDIT_AUTH": "oidc", "CREDIT_ACCESS_DIR": str(tmp_path)}, address="0.0.0.0")
    assert args[args.index("--oauth-provider") + 1] == "generic" and "--auth-module" not in args


def test_demo_mode_is_refused_off_the_loopback_interface(tmp_path):
    with pytest.raises(ConfigError, match="loopback"):
        prepare_access({"CREDIT_AUTH": "demo", "CREDIT_ACCESS_DIR": str(tmp_path)}, address="0.0.0.0")
    assert prepare_access({"CREDIT_AUTH": "demo"}, address="127.0.0.1", use_xheaders=True) == [
        "--use-xheaders"
    ]


def test_serve_script_refuses_an_exposed_demo_before_building_anything(tmp_path):
    env = {**os.environ, "CREDIT_ACCESS_DIR": str(tmp_path), "CREDIT_WAREHOUSE": str(tmp_path / "w.duckdb"),
           "CREDIT_MODEL_DIR": str(tmp_path / "m")}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "scripts/serve.py", "--demo", "--address", "0.0.0.0"],
        capture_output=True, text=True, env=env, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode != 0 and "refusing to start: demo mode" in result.stderr
    assert not (tmp_path / "w.duckdb").exists()
