"""Benchmark the dashboard and write its section of docs/benchmarks.md.

Figures (targets from issue 4), on the default warehouse and model:
1. server-side work to show a client (row, score, contributions, reasons, comparisons): p95 < 50 ms;
2. in Chromium, switching client until the decision card has updated: median < 300 ms;
3. cold page load to interactive (fresh browser context, no cache): < 2.5 s;
4. 20 concurrent sessions switching clients on loopback: p95 < 500 ms, no error (bounded in count and time);
5. server memory (RSS) with 20 sessions open.

Run: ``nice python scripts/bench_dashboard.py`` (``--warehouse``, ``--model-dir`` to point elsewhere;
``--no-write`` to print only).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the benchmark reuses the UI tests' browser harness

from benchmarks_doc import write_section  # noqa: E402

from dashboard.cockpit import DEFAULT_CRITERIA, Cockpit  # noqa: E402
from dashboard.local_server import LocalServer, start_local_server  # noqa: E402
from dashboard.resources import DataPaths, load_resources  # noqa: E402
from tests.ui.harness import BOKEH_READY, CHROMIUM_FLAGS, PAGE_READY_SELECTOR  # noqa: E402

SEARCH_LABEL = "Numéro de dossier client"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def sample_client_ids(cockpit: Cockpit, count: int, seed: int = 0) -> list[int]:
    """Random existing client ids, found through the same prefix search the dashboard uses."""
    rng = random.Random(seed)
    ids: list[int] = []
    while len(ids) < count:
        prefix = str(rng.randint(1000, 4567))
        found = cockpit.search_clients(prefix, limit=50)
        if found:
            ids.append(rng.choice(found))
    return ids


def show_client_work(cockpit: Cockpit, sk_id: int, lang: str = "fr") -> tuple[float, float]:
    """What the server does to show a client, in two timed phases (ms):

    1. the snapshot: profile and features rows, score, contributions and reasons (``Cockpit.snapshot``);
    2. the comparisons of the Compare view: four groups' sizes and default rates, and the client's percentile, in
       each group, of the numeric feature that weighs most on this client's score.
    """
    start = time.perf_counter()
    snapshot = cockpit.snapshot(sk_id, lang)
    middle = time.perf_counter()
    groups = cockpit.comparison_groups(snapshot, DEFAULT_CRITERIA)
    numeric = set(cockpit.numeric_features())
    feature = next(name for name in snapshot.explanation.contributions["feature"] if name in numeric)
    cockpit.client_percentiles(feature, snapshot.value(feature), groups)
    end = time.perf_counter()
    return (middle - start) * 1000, (end - middle) * 1000


def bench_server_side(cockpit: Cockpit, ids: list[int]) -> dict[str, float]:
    cockpit.warm_up()  # what the served app's start-up warm-up does before the first manager arrives
    show_client_work(cockpit, ids[0])  # first call pays one-off caches (catalogue, population edges)
    phases = [show_client_work(cockpit, sk_id) for sk_id in ids[1:]]
    totals = [snapshot + comparisons for snapshot, comparisons in phases]
    reads = []
    for sk_id in ids[1:51]:  # the warehouse's two point reads alone, one after the other
        start = time.perf_counter()
        cockpit.warehouse.client_features(sk_id)
        cockpit.warehouse.client_profile(sk_id)
        reads.append((time.perf_counter() - start) * 1000)
    return {
        "n": len(totals),
        "median": statistics.median(totals),
        "p95": percentile(totals, 0.95),
        "snapshot_median": statistics.median(p[0] for p in phases),
        "comparisons_median": statistics.median(p[1] for p in phases),
        "point_reads_median": statistics.median(reads),
    }


async def _switch(page, sk_id: int) -> float:
    """Type an id and press Enter; time until the decision card shows that client."""
    search = page.get_by_label(SEARCH_LABEL)
    await search.fill(str(sk_id))
    start = time.perf_counter()
    await search.press("Enter")
    await page.get_by_role("heading", name=f"Décision pour le client {sk_id}").wait_for(timeout=30_000)
    return (time.perf_counter() - start) * 1000


async def _open(page, url: str) -> None:
    await page.goto(url)
    await page.wait_for_function(BOKEH_READY)
    await page.wait_for_selector(PAGE_READY_SELECTOR)


async def bench_browser(
    server: LocalServer,
    ids: list[int],
    chromium: str,
    sessions: int,
    switches_per_session: int,
    time_limit: float,
) -> dict[str, object]:
    import psutil
    from playwright.async_api import async_playwright

    results: dict[str, object] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        # Cold page loads: a fresh context each time (no HTTP cache), until the search box is usable.
        loads = []
        for _ in range(5):
            context = await browser.new_context()
            page = await context.new_page()
            start = time.perf_counter()
            await _open(page, server.url)
            await page.get_by_label(SEARCH_LABEL).wait_for()
            loads.append((time.perf_counter() - start) * 1000)
            await context.close()
        results["cold_load"] = {"median": statistics.median(loads), "max": max(loads), "n": len(loads)}

        # One session switching client.
        context = await browser.new_context()
        page = await context.new_page()
        await _open(page, f"{server.url}?client={ids[0]}")
        switch = [await _switch(page, sk_id) for sk_id in ids[1:21]]
        results["switch"] = {
            "median": statistics.median(switch),
            "p95": percentile(switch, 0.95),
            "n": len(switch),
        }
        await context.close()

        # Concurrent sessions, each switching a bounded number of times within a time limit.
        contexts = [await browser.new_context() for _ in range(sessions)]
        pages = [await context.new_page() for context in contexts]
        for page in pages:  # sessions open one after another; the measured part is their concurrent switching
            page.set_default_timeout(90_000)
            await _open(page, server.url)
        server_process = psutil.Process(server.process.pid)
        results["rss_mb_sessions_open"] = server_process.memory_info().rss / 2**20
        errors: list[str] = []

        async def user(index: int, page) -> list[float]:
            rng = random.Random(index)
            timings = []
            for _ in range(switches_per_session):
                try:
                    timings.append(await _switch(page, rng.choice(ids)))
                except Exception as error:  # recorded, reported, never hidden
                    errors.append(f"session {index}: {type(error).__name__}")
            return timings

        start = time.perf_counter()
        per_user = await asyncio.wait_for(
            asyncio.gather(*(user(i, p) for i, p in enumerate(pages))), time_limit
        )
        elapsed = time.perf_counter() - start
        concurrent = [t for timings in per_user for t in timings]
        results["concurrent"] = {
            "sessions": sessions,
            "switches": len(concurrent),
            "errors": errors,
            "seconds": elapsed,
            "median": statistics.median(concurrent),
            "p95": percentile(concurrent, 0.95),
        }
        results["rss_mb_after_switching"] = server_process.memory_info().rss / 2**20
        for context in contexts:
            await context.close()
        await browser.close()
    return results


def render_section(args, server_side: dict, browser: dict, rss_idle: float, command: str) -> str:
    cold, switch, concurrent = browser["cold_load"], browser["switch"], browser["concurrent"]

    def verdict(value: float, target: float) -> str:
        return "met" if value < target else "**not met**"

    errors = concurrent["errors"]
    return "\n".join(
        [
            "## Dashboard",
            "",
            f"Command: `{command}`. Data: `{_shown(args.warehouse)}` and `{_shown(args.model_dir)}`; server `panel serve` with "
            f"`--num-threads {args.num_threads}` on loopback; headless Chromium (Playwright) on the same 2 cores.",
            "",
            "| figure | measured | target |",
            "|---|---|---|",
            f"| server-side work to show a client (row, score, contributions, reasons, 4 comparison groups, "
            f"percentiles), {server_side['n']} random clients | median {server_side['median']:.1f} ms, "
            f"p95 {server_side['p95']:.1f} ms (snapshot median {server_side['snapshot_median']:.1f} ms, of which the "
            f"warehouse's features + profile point reads {server_side['point_reads_median']:.1f} ms; comparisons median "
            f"{server_side['comparisons_median']:.1f} ms) | p95 < 50 ms: {verdict(server_side['p95'], 50)} |",
            f"| Chromium: switch client until the decision card shows it, {switch['n']} switches | "
            f"median {switch['median']:.0f} ms, p95 {switch['p95']:.0f} ms | median < 300 ms: "
            f"{verdict(switch['median'], 300)} |",
            f"| cold page load (fresh context) until the search box is usable, {cold['n']} loads | "
            f"median {cold['median'] / 1000:.2f} s, max {cold['max'] / 1000:.2f} s | < 2.5 s: "
            f"{verdict(cold['median'], 2500)} |",
            f"| {concurrent['sessions']} concurrent sessions switching clients ({concurrent['switches']} switches "
            f"in {concurrent['seconds']:.1f} s) | median {concurrent['median']:.0f} ms, p95 {concurrent['p95']:.0f} ms, "
            f"{len(errors)} errors | p95 < 500 ms, no error: "
            f"{verdict(concurrent['p95'], 500) if not errors else '**not met** (errors)'} |",
            f"| server memory (RSS) | {rss_idle:.0f} MB after start and one session; "
            f"{browser['rss_mb_sessions_open']:.0f} MB with {concurrent['sessions']} sessions open; "
            f"{browser['rss_mb_after_switching']:.0f} MB after their switches | |",
            "",
            "The browser and the server share the same two cores, so the browser-side figures include Chromium's own "
            "rendering work for every session. Load average of the machine (other jobs included) while measuring: "
            f"{args.load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.",
        ]
    )


def _shown(path: Path) -> str:
    """A path as the reader would type it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=ROOT / "data" / "warehouse.duckdb")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "data" / "model")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--switches", type=int, default=5, help="client switches per concurrent session")
    parser.add_argument(
        "--time-limit", type=float, default=240.0, help="seconds allowed for the concurrent run"
    )
    parser.add_argument("--num-threads", type=int, default=4)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    args.load_before = os.getloadavg()[0]

    import psutil

    paths = DataPaths(
        args.warehouse, args.model_dir, ROOT / "runs" / "protovit", ROOT / "../shared/data/flipkart"
    )
    cockpit = Cockpit(load_resources(paths))
    if not cockpit.ready:
        raise SystemExit(f"not ready: {cockpit.problems}")
    ids = sample_client_ids(cockpit, args.clients)
    server_side = bench_server_side(cockpit, ids)
    print("server side", server_side, flush=True)

    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as folder:
        server = start_local_server(
            {
                "CREDIT_WAREHOUSE": str(args.warehouse.resolve()),
                "CREDIT_MODEL_DIR": str(args.model_dir.resolve()),
                # The explicit local demo mode (no sign-in) with a private access folder: the figures are the
                # page's; scripts/bench_audit.py measures what sign-in and the audit trail add.
                "CREDIT_AUTH": "demo",
                "CREDIT_ACCESS_DIR": str(Path(folder) / "access"),
            },
            Path(folder) / "server.log",
            num_threads=args.num_threads,
        )
        try:
            import urllib.request

            with urllib.request.urlopen(server.url, timeout=60):
                pass  # one session, so the process has loaded its shared resources
            rss_idle = psutil.Process(server.process.pid).memory_info().rss / 2**20
            browser = asyncio.run(
                bench_browser(server, ids, chromium, args.sessions, args.switches, args.time_limit)
            )
        finally:
            server.stop()
    print("browser", browser, flush=True)
    command = "python scripts/bench_dashboard.py " + " ".join(argv if argv is not None else sys.argv[1:])
    section = render_section(args, server_side, browser, rss_idle, command.strip())
    print(section)
    if not args.no_write:
        write_section("dashboard", section)


if __name__ == "__main__":
    main()
