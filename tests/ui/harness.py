"""Helpers for the browser tests: start and stop ``panel serve`` on a free loopback port, open a page and wait
for Bokeh to render (never a fixed sleep)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
SERVER_START_SECONDS = 90
BOKEH_READY = ("() => window.Bokeh !== undefined && Bokeh.documents.length > 0 "
               "&& Bokeh.documents[0].roots().length > 0")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen
    log: Path


def start_server(env_overrides: dict[str, str], log: Path) -> Server:
    """``panel serve dashboard/app.py`` on a free loopback port; returns once ``/liveness`` answers."""
    port = free_port()
    env = {**os.environ, **env_overrides, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "panel", "serve", str(ROOT / "dashboard" / "app.py"), "--port", str(port),
               "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}", "--liveness",
               "--num-threads", "2"]
    handle = log.open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"panel serve exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/liveness", timeout=2):
                return Server(f"http://127.0.0.1:{port}/app", process, log)
        except OSError:
            time.sleep(0.2)
    stop_server(Server("", process, log))
    raise RuntimeError(f"panel serve did not answer /liveness in {SERVER_START_SECONDS} s:\n{log.read_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def open_app(page, url: str) -> None:
    """Navigate and wait until Bokeh has rendered the document's roots (never a fixed sleep)."""
    page.goto(url)
    page.wait_for_function(BOKEH_READY)
    page.wait_for_selector("nav a[aria-current=page], #main-content h2")
