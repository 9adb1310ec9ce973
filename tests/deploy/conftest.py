"""Fixtures of the deployment tests: Debian's nginx rendering ``deploy/nginx/cockpit.conf.template`` with a
self-signed certificate, in front of two real ``panel serve`` processes on loopback.

Without nginx or openssl the tests are skipped with a message, except in CI (``CI=true``), where a missing
dependency is a failure (scripts/test.sh installs nginx when it runs as root).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard.local_server import LocalServer, free_port, start_local_server
from tests.ui.conftest import chromium_path  # noqa: F401  (the browser fixture, skipped or failed the same way)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "cockpit.conf.template"
VARIABLES = (
    "COCKPIT_UPSTREAMS",
    "COCKPIT_SERVER_NAME",
    "COCKPIT_LISTEN_ADDRESS",
    "COCKPIT_HTTP_PORT",
    "COCKPIT_HTTPS_PORT",
    "COCKPIT_TLS_CERT",
    "COCKPIT_TLS_KEY",
)


def render(values: dict[str, str]) -> str:
    """What ``envsubst`` with the listed variable names makes of the template (nginx's $variables untouched)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    for name in VARIABLES:
        text = text.replace("${" + name + "}", values[name])
    assert "${" not in text.split("# Websocket upgrade", 1)[1], "a placeholder was left unrendered"
    return text


def require(program: str, package: str) -> str:
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if path is None:
        message = f"deployment tests need {program} (apt-get install {package})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — required in CI", pytrace=False)
        pytest.skip(message)
    return path


@dataclass
class Proxy:
    """nginx in front of the replicas: its HTTPS and HTTP ports, the replicas and the files of the run."""

    https_port: int
    http_port: int
    replicas: list[LocalServer]
    process: subprocess.Popen
    folder: Path

    def served(self, path: str = "/app") -> list[int]:
        """How many requests for ``path`` each replica answered, from nginx's access log (test format).

        After a failed attempt nginx logs every upstream it tried ("dead:port, live:port"): the last one answered.
        """
        log = (self.folder / "access.log").read_text()
        return [
            len(
                re.findall(
                    rf"^(?:\S+, )*{re.escape(replica.url.split('/')[2])} GET {re.escape(path)}(\?\S*)? ",
                    log,
                    re.M,
                )
            )
            for replica in self.replicas
        ]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}/app"


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited:\n{log.read_text() if log.exists() else ''}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nginx did not listen on {port} in {timeout} s")


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 (what the tests' browser is told to accept)."""
    openssl = require("openssl", "openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def proxy(
    scored_warehouse: Path, small_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxy]:
    """nginx (TLS, sticky cookie) in front of two ``panel serve --use-xheaders`` processes; all stopped after."""
    tmp_path = tmp_path_factory.mktemp("proxy")
    nginx = require("nginx", "nginx")
    cert, key = self_signed_certificate(tmp_path)
    https_port, http_port = free_port(), free_port()
    replicas: list[LocalServer] = []
    process = None
    try:
        for index in range(2):
            replicas.append(
                start_local_server(
                    {
                        "CREDIT_WAREHOUSE": str(scored_warehouse),
                        "CREDIT_MODEL_DIR": str(small_model_dir),
                        # The explicit local demo mode (no login): login is tested by the access tests.
                        "CREDIT_AUTH": "demo",
                        "CREDIT_ACCESS_DIR": str(tmp_path / "access"),
                    },
                    tmp_path / f"replica{index}.log",
                    extra_args=("--use-xheaders", "--allow-websocket-origin", f"127.0.0.1:{https_port}"),
                )
            )
        upstreams = " ".join(
            f"server {replica.url.split('/')[2]} max_fails=1 fail_timeout=10s;" for replica in replicas
        )
        site = tmp_path / "cockpit.conf"
        site.write_text(
            render(
                {
                    "COCKPIT_UPSTREAMS": upstreams,
                    "COCKPIT_SERVER_NAME": "127.0.0.1",
                    "COCKPIT_LISTEN_ADDRESS": "127.0.0.1",
                    "COCKPIT_HTTP_PORT": str(http_port),
                    "COCKPIT_HTTPS_PORT": str(https_port),
                    "COCKPIT_TLS_CERT": str(cert),
                    "COCKPIT_TLS_KEY": str(key),
                }
            )
        )
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (tmp_path / name).mkdir()
        main = tmp_path / "nginx.conf"
        user = "user root root;\n" if os.geteuid() == 0 else ""  # the workers read this run's temp folders
        main.write_text(
            f"{user}worker_processes 1;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log info;\n"
            "daemon off;\nevents { worker_connections 256; }\n"
            f"http {{\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
            "  log_format upstream '$upstream_addr $request';\n"
            f"  access_log {tmp_path}/access.log upstream;\n"
            + "".join(
                f"  {name}_temp_path {tmp_path}/{name};\n" for name in ("fastcgi", "uwsgi", "scgi", "proxy")
            )
            + f"  client_body_temp_path {tmp_path}/body;\n  include {site};\n}}\n"
        )
        check = subprocess.run(
            [nginx, "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stderr
        log = tmp_path / "error.log"
        process = subprocess.Popen([nginx, "-c", str(main), "-p", str(tmp_path)], stderr=subprocess.STDOUT,
                                   stdout=(tmp_path / "nginx.out").open("w"))  # fmt: skip
        _wait_for_port(https_port, process, log)
        yield Proxy(https_port, http_port, replicas, process, tmp_path)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        for replica in replicas:
            if replica.process.poll() is None:
                replica.stop()
