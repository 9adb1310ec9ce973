"""Benchmark the audit trail and write its section of docs/benchmarks.md.

Figures (issue 9):
1. audit write cost per action (one chained, durable append): median and p95, on the default SQLite store
   (WAL, synchronous=FULL) and on PostgreSQL when ``--postgres-url`` is given;
2. client switch time on the server with auth and audit on versus off: the same client switches through the
   dashboard's session, without a signed-in user, then as a signed-in local user whose every switch is recorded
   (interleaved, so load drifts hit both alike).

Run: ``nice python scripts/bench_audit.py`` (``--warehouse``, ``--model-dir`` to point elsewhere;
``--postgres-url postgresql://...`` to add PostgreSQL; ``--no-write`` to print only).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks_doc import load_average, write_section
from tqdm import tqdm

from dashboard.access.audit import AuditTrail
from dashboard.access.guard import SessionAccess
from dashboard.access.users import UserStore
from dashboard.cockpit import cockpit_for
from dashboard.resources import DataPaths, load_resources
from dashboard.session import ClientSession


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def bench_writes(trail: AuditTrail, count: int, label: str) -> list[float]:
    """Milliseconds per ``record`` call, each a full chained append committed to disk."""
    times = []
    for index in tqdm(range(count), desc=f"audit writes ({label})", unit="row"):
        start = time.perf_counter()
        trail.record(user="bench", role="manager", session="bench", action="client_opened", client_id=index)
        times.append((time.perf_counter() - start) * 1000)
    if not trail.verify().intact:
        raise RuntimeError("the benchmark's own chain does not verify")
    return times


def bench_switches(cockpit, folder: Path, ids: list[int]) -> tuple[list[float], list[float]]:
    """Milliseconds per client switch (``ClientSession.show``) without and with a signed-in, audited user."""
    store = UserStore(folder / "users.sqlite")
    store.add("bench", "a long benchmark password", "manager")
    store.start_login("L", "bench")
    access = SessionAccess(
        "bench", "manager", "bench-session", "local", AuditTrail(str(folder / "switch_audit.sqlite")), 900,
        on_activity=lambda: store.seen("L"), login_open=lambda: store.login_active("L", 900),
    )  # fmt: skip
    plain, audited = ClientSession(cockpit, lang="fr"), ClientSession(cockpit, access=access, lang="fr")
    for sk_id in ids[:5]:  # warm both paths (caches, first SQLite pages)
        plain.show(sk_id)
        audited.show(sk_id)
    off, on = [], []
    for sk_id in tqdm(ids, desc="client switches (off/on)", unit="client"):
        for session, times in ((plain, off), (audited, on)):
            start = time.perf_counter()
            if not session.show(sk_id):
                raise RuntimeError(f"client {sk_id} could not be shown: {session.error}")
            times.append((time.perf_counter() - start) * 1000)
    return off, on


def describe(times: list[float]) -> str:
    return f"median {statistics.median(times):.2f} ms, p95 {percentile(times, 0.95):.2f} ms"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = DataPaths.from_env()
    parser.add_argument("--warehouse", type=Path, default=defaults.warehouse)
    parser.add_argument("--model-dir", type=Path, default=defaults.model_dir)
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--postgres-url", help="also measure appends on this PostgreSQL database")
    parser.add_argument("--no-write", action="store_true", help="print the figures, do not touch the docs")
    args = parser.parse_args(argv)
    load_before = load_average()
    resources = load_resources(
        DataPaths(args.warehouse, args.model_dir, defaults.protovit_run, defaults.protovit_images)
    )
    if not resources.ready:
        raise SystemExit(f"data missing: {[str(problem.path) for problem in resources.problems]}")
    cockpit = cockpit_for(resources)
    rng = random.Random(0)
    prefixes = [str(rng.randint(1000, 4567)) for _ in range(args.clients * 3)]
    ids = [found[0] for found in (cockpit.search_clients(prefix, limit=5) for prefix in prefixes) if found]
    ids = ids[: args.clients]
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        writes = {
            "SQLite (WAL, synchronous=FULL)": bench_writes(
                AuditTrail(str(Path(folder) / "audit.sqlite")), args.writes, "SQLite"
            )
        }
        if args.postgres_url:
            writes["PostgreSQL"] = bench_writes(AuditTrail(args.postgres_url), args.writes, "PostgreSQL")
        off, on = bench_switches(cockpit, Path(folder), ids)
    lines = [
        "## Access and audit trail (`scripts/bench_audit.py`)",
        "",
        f"Warehouse `{args.warehouse.name}` ({cockpit.warehouse.cohort_stats(None)['n']:,} clients); "
        f"load average before {load_before}, after {load_average()} (2 shared cores).",
        "",
        "| figure | median | p95 |",
        "|---|---|---|",
    ]
    for label, times in writes.items():
        lines.append(
            f"| audit write per action, {label} ({len(times)} appends) | {statistics.median(times):.2f} ms | "
            f"{percentile(times, 0.95):.2f} ms |"
        )
    lines += [
        f"| client switch on the server, auth and audit off ({len(off)} clients) | {statistics.median(off):.1f} ms | "
        f"{percentile(off, 0.95):.1f} ms |",
        f"| client switch on the server, signed-in user, audited | {statistics.median(on):.1f} ms | "
        f"{percentile(on, 0.95):.1f} ms |",
        "",
        "A switch with audit on adds one durable append (the write above) and, at most every ten seconds, the "
        "login's activity time; the websocket carries no per-message authentication cost.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("audit", body)


if __name__ == "__main__":
    main()
