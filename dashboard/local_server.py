"""Start and stop ``panel serve dashboard/app.py`` on a free loopback port (browser tests and the benchmark).

One implementation for both, so the tests and the figures exercise the very command the deployment uses.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from dashboard.serve import panel_command, parse_args

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 90


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class LocalServer:
    """A running ``panel serve``: the app URL, the process and its log file."""

    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        """Terminate the server (kill it if it does not stop within 10 s)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_local_server(
    env_overrides: dict[str, str],
    log: Path,
    *,
    num_threads: int = 2,
    prefix: tuple[str, ...] = (),
    extra_args: tuple[str, ...] = (),
) -> LocalServer:
    """Serve the dashboard on 127.0.0.1 with ``pad-serve``'s ``panel serve`` command; return once ``/liveness``
    answers.

    ``prefix`` runs the server under another command (e.g. ``("nice", "-n", "10")``); ``extra_args`` are more
    ``panel serve`` options (e.g. those of an access mode, :func:`dashboard.access.serving.panel_access_args`).
    """
    port = free_port()
    env = {**os.environ, **env_overrides, "PYTHONUNBUFFERED": "1"}
    address = ["--port", str(port), "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"]
    args, _ = parse_args([*address, "--num-threads", str(num_threads)])
    command = [*prefix, *panel_command(args, list(extra_args))]
    with log.open("w") as handle:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    server = LocalServer(f"http://127.0.0.1:{port}/app", process, log)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"panel serve exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/liveness", timeout=2):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(
        f"panel serve did not answer /liveness in {START_TIMEOUT_SECONDS} s:\n{log.read_text()}"
    )
