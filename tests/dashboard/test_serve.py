"""``pad-serve`` / scripts/serve.py: options it does not know reach ``panel serve`` unchanged, and work there."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bokeh.util.token import get_session_id

from dashboard.serve import panel_command, parse_args

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_options_are_passed_through_in_order_after_ours() -> None:
    extra = ["--num-procs", "2", "--prefix", "/pad", "--session-token-expiration", "60", "--admin"]
    args, passed = parse_args(["--port", "5999", *extra])
    assert args.port == 5999 and passed == extra
    command = panel_command(args, passed)
    assert command[1:4] == ["-m", "panel", "serve"] and command[4].endswith("dashboard/app.py")
    assert "--liveness" in command and "--unused-session-lifetime" in command
    assert command[command.index("--allow-websocket-origin") + 1] == "localhost:5999"
    assert command[-len(passed) :] == passed


def test_no_abbreviation_swallows_a_panel_option() -> None:
    args, passed = parse_args(["--pre", "/x", "--basic-auth", "users.json", "--admin"])
    assert not args.prepare_only and passed == ["--pre", "/x", "--basic-auth", "users.json", "--admin"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(*options: str, warehouse: Path, model_dir: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "CREDIT_WAREHOUSE": str(warehouse),
        "CREDIT_MODEL_DIR": str(model_dir),
        # The explicit local demo (loopback only), with its own access folder: these tests are about options.
        "CREDIT_AUTH": "demo",
        "CREDIT_ACCESS_DIR": str(warehouse.parent / "serve-access"),
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "serve.py"), *options],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_passed_through_prefix_moves_the_whole_server(
    scored_warehouse: Path, small_model_dir: Path
) -> None:
    port = _free_port()
    server = _serve(
        "--port", str(port), "--prefix", "/pad", warehouse=scored_warehouse, model_dir=small_model_dir
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.communicate()[0]
            try:
                if _status(f"http://127.0.0.1:{port}/pad/liveness") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not answer on /pad/liveness"
            time.sleep(0.5)
        assert _status(f"http://127.0.0.1:{port}/liveness") == 404
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_an_option_panel_does_not_know_is_refused_by_panel(
    scored_warehouse: Path, small_model_dir: Path
) -> None:
    server = _serve(
        "--port", str(_free_port()), "--no-such-option", warehouse=scored_warehouse, model_dir=small_model_dir
    )
    output, _ = server.communicate(timeout=90)
    assert server.returncode != 0 and "unrecognized arguments: --no-such-option" in output


def _discarded(log: Path, session_id: str) -> bool:
    return f"Discarding session {session_id!r}" in log.read_text()  # Bokeh's debug line


def test_a_closed_page_is_freed_at_once_and_a_page_still_loading_is_kept(
    scored_warehouse: Path, small_model_dir: Path, tmp_path: Path
) -> None:
    """A closed page's document goes at the next check (every 2 s), not after the 15-s unused-session lifetime;
    a page whose websocket has not connected yet keeps that grace."""
    from dashboard.local_server import start_local_server
    from scripts.bench_load import TOKEN, open_page

    env = {
        "CREDIT_WAREHOUSE": str(scored_warehouse),
        "CREDIT_MODEL_DIR": str(small_model_dir),
        "CREDIT_AUTH": "demo",  # the explicit local demo mode (no login)
        "CREDIT_ACCESS_DIR": str(tmp_path / "access"),
    }
    server = start_local_server(env, tmp_path / "server.log", extra_args=("--log-level", "debug"))
    try:
        with urllib.request.urlopen(server.url, timeout=60) as response:  # a browser still loading the page
            loading = get_session_id(TOKEN.search(response.read().decode()).group(1))
        page, _ = open_page(server.url)
        page.close()
        closed_at = time.monotonic()
        while not _discarded(server.log, page.session.id) and time.monotonic() - closed_at < 10:
            time.sleep(0.2)
        assert _discarded(server.log, page.session.id), "a closed page was kept 10 s"
        assert not _discarded(server.log, loading), "a page whose websocket had not connected was discarded"
    finally:
        server.stop()
