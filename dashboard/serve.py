"""Serve the dashboard, preparing the default data on first use (``pad-serve``, ``python scripts/serve.py``).

The first run builds the synthetic warehouse and trains the default scorer (with progress output), so that one
command takes a fresh clone to a working dashboard. Later runs start serving at once. Paths come from the same
environment variables the dashboard reads (``CREDIT_WAREHOUSE``, ``CREDIT_MODEL_DIR``), so what is prepared is
what is served. Options this command does not know go unchanged to ``panel serve`` (``--num-procs 2``,
``--basic-auth FILE``, ``--oauth-provider ...``, ``--cookie-secret ...``, ``--use-xheaders``, ``--prefix /pad``,
``--admin``, ...), so deployments use Panel's own options rather than a second list of them here.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = Path(__file__).resolve().with_name("app.py")
LETTER = APP.with_name("letter.py")  # the client letter at /letter?client=ID&lang=fr
DEFAULT_APPLICANTS = 307_511


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """Our options, and the rest in order for ``panel serve`` (no abbreviations: ``--pre`` is Panel's)."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Any other option is passed to `panel serve` (see `panel serve --help`).",
        allow_abbrev=False,
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5006")))
    parser.add_argument("--address", default=os.environ.get("PANEL_ADDRESS", "127.0.0.1"))
    parser.add_argument(
        "--allow-websocket-origin",
        default=os.environ.get("PANEL_ALLOW_WEBSOCKET_ORIGIN"),
        help="host[:port] the browser uses when not on localhost (comma-separated)",
    )
    parser.add_argument("--num-threads", type=int, default=int(os.environ.get("PANEL_NUM_THREADS", "4")))
    parser.add_argument(
        "--synthetic",
        type=int,
        default=DEFAULT_APPLICANTS,
        help="applicants in the synthetic warehouse built when none exists",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prepare-only", action="store_true", help="build data and model, then exit")
    parser.add_argument(
        "--auth",
        choices=("local", "oidc", "demo"),
        default=os.environ.get("CREDIT_AUTH") or "local",
        help="local users (default), the bank's identity provider (OIDC), or a local demo without login",
    )
    parser.add_argument("--demo", action="store_const", const="demo", dest="auth", help="same as --auth demo")
    parser.add_argument("--use-xheaders", action="store_true", help="behind a TLS proxy (X-Forwarded-*)")
    return parser.parse_known_args(argv)


def prepare(warehouse_path: Path, model_dir: Path, applicants: int, seed: int) -> None:
    """Build what is missing: the warehouse first, then the scorer trained on it (which writes scores)."""
    if not warehouse_path.exists():
        from warehouse import build_warehouse

        print(
            f"==> building the synthetic warehouse ({applicants:,} applicants) at {warehouse_path}",
            flush=True,
        )
        warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        build_warehouse(warehouse_path, synthetic=applicants, seed=seed, progress=True)
    if not (model_dir / "metadata.json").exists():
        from models import train_scorer

        print(f"==> training the default scorer into {model_dir}", flush=True)
        train_scorer(warehouse_path, model_dir, seed=seed, progress=True)


def panel_command(args: argparse.Namespace, passed: list[str] = ()) -> list[str]:
    """The ``panel serve`` command line: liveness endpoint for health checks, bounded session lifetimes, then
    the options passed through (last, so that one given twice overrides ours).

    A page that never connected its websocket is kept 15 s (a slow first load); a closed page asks to be
    discarded (:mod:`dashboard.lifetime`), which the check every 2 s carries out.
    """
    command = [
        sys.executable, "-m", "panel", "serve", str(APP), str(LETTER),
        "--port", str(args.port),
        "--address", args.address,
        "--num-threads", str(args.num_threads),
        "--liveness",
        "--index", "app",
        "--unused-session-lifetime", "15000",
        "--check-unused-sessions", "2000",
    ]  # fmt: skip
    origins = args.allow_websocket_origin or f"localhost:{args.port},127.0.0.1:{args.port}"
    for origin in origins.split(","):
        command += ["--allow-websocket-origin", origin.strip()]
    return command + list(passed)


def main(argv: list[str] | None = None) -> int:
    args, passed = parse_args(argv)
    access_args: list[str] = []
    if not args.prepare_only:  # refuse an unprotected configuration before building anything
        from dashboard.access.config import ConfigError
        from dashboard.access.serving import prepare_access

        os.environ["CREDIT_AUTH"] = args.auth
        try:
            access_args = prepare_access(os.environ, address=args.address, use_xheaders=args.use_xheaders)
        except ConfigError as error:
            print(f"refusing to start: {error}", file=sys.stderr)
            return 2
    warehouse_path = Path(os.environ.get("CREDIT_WAREHOUSE", ROOT / "data" / "warehouse.duckdb"))
    model_dir = Path(os.environ.get("CREDIT_MODEL_DIR", ROOT / "data" / "model"))
    from warehouse.errors import BuildInterrupted, WarehouseBusyError

    try:
        prepare(warehouse_path, model_dir, args.synthetic, args.seed)
    except WarehouseBusyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BuildInterrupted as stop:
        print(f"interrupted: {warehouse_path} unchanged, nothing half-written left", file=sys.stderr)
        return 128 + stop.signum
    if args.prepare_only:
        return 0
    os.environ["CREDIT_WAREHOUSE"] = str(warehouse_path)
    os.environ["CREDIT_MODEL_DIR"] = str(model_dir)
    command = panel_command(args, [*access_args, *passed])
    print(f"==> serving on http://{args.address}:{args.port}/app", flush=True)
    os.execv(command[0], command)
