"""Protocol-level load test of the dashboard: many Bokeh client sessions over the websocket, no browser.

Each simulated manager does what a browser does on the wire: ``GET /app`` (the server creates the session and
builds its page), then opens the session's websocket and pulls the document (``bokeh.client``). A client switch is
what a click on a client link sends: the link list's ``current`` property changes in the client document, the
server loads the client and patches the page; the switch is complete when the server's patch of the address
(``?client=<id>``) arrives.

Phases: warm-up, server CPU per new session (sessions opened one after the other), N sessions opened at once,
M users switching clients with think time, and an optional soak (users keep opening sessions, switching and
leaving) that samples the server's memory. Everything is bounded (session count, per-request timeouts, phase
durations) and only loopback addresses are accepted.

With ``--processes N`` it starts N ``panel serve`` processes and sends each page (its request and its websocket) to
one of them in turn: what nginx's sticky cookie does in the deployment (docs/deployment.md), without the proxy.

    nice -n 10 python scripts/bench_load.py --warehouse /work/data/warehouse.duckdb --model /work/data/model
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from bokeh.client import ClientSession
from bokeh.core.serialization import Serialized, UnknownReferenceError
from bokeh.util.token import get_session_id
from bokeh.util.warnings import BokehUserWarning
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from any directory
    sys.path.insert(0, str(ROOT))

import panel.models  # noqa: E402, F401  (registers Panel's models for the client's deserializer)

import dashboard.shell  # noqa: E402, F401  (same for the page's own components)
from dashboard.local_server import start_local_server  # noqa: E402
from scripts.benchmarks_doc import load_average, write_section  # noqa: E402

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_SESSIONS = 200
MAX_PROCESSES = 8
REQUEST_TIMEOUT_SECONDS = 60.0
SWITCH_TIMEOUT_SECONDS = 30.0
TOKEN = re.compile(r'"token"\s*:\s*"([^"]+)"')
TARGETS = {
    "cpu_per_session_ms": 100.0,
    "burst_open_p95_s": 1.5,
    "switch_p95_ms": 300.0,
    "steady_rss_mb": 600.0,
    "soak_rss_growth_pct": 10.0,
}
# The soak's first minutes are its ramp-up: its users arrive, and pages they closed are only freed once unused for
# Bokeh's session lifetime, so more documents are alive than in the switching phase before it. Growth after the
# ramp-up is what a leak would show; the growth from the very first sample is reported beside it.
SOAK_RAMP_SECONDS = 120.0


class LoadError(RuntimeError):
    """A simulated manager's request failed or timed out (counted as an error, never retried silently)."""


def check_loopback(url: str) -> str:
    """The app URL if its host is a loopback address; anything else is refused (this tool never leaves the host)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        raise SystemExit(f"refusing {url!r}: only http:// on a loopback address (127.0.0.1, localhost, ::1)")
    return url


class LoadClientSession(ClientSession):
    """Bokeh's client session, applying the server's patches one event at a time.

    When a page builds components after it was opened (a view on its first client or first show), Panel's server
    can send a change of a new model before the change that adds the model to the page. BokehJS copes; Bokeh's
    Python client raises on the unknown model and stops reading the session for good, so no later patch (the
    address) would ever arrive. Here such an event is skipped; the server's work is the same.
    """

    # Panel may define a model again in a later patch; the client keeps the one it has and says so every time.
    warnings.filterwarnings("ignore", message="reference already known", category=BokehUserWarning)

    def _handle_patch(self, message: object) -> None:
        content, buffers = message.content, message.buffers
        for event in content.get("events", []):
            with contextlib.suppress(UnknownReferenceError):
                self.document.apply_json_patch(Serialized({"events": [event]}, buffers), setter=self)


@dataclass
class Page:
    """One open page: its Bokeh client session and the models a manager's clicks change or wait for."""

    session: ClientSession
    client_links: object
    location: object

    def switch(self, sk_id: int, timeout: float = SWITCH_TIMEOUT_SECONDS) -> float:
        """Choose client ``sk_id`` as a link click does; seconds until the server's address patch arrives.

        The server updates the page (decision card, view) before it writes the address, so the address patch
        marks the end of the switch.
        """
        wanted = f"client={sk_id}"
        connection = self.session._connection  # the only way to run this session's loop until a condition
        loop = connection.io_loop
        timer = loop.call_later(
            timeout, loop.stop
        )  # the loop only checks its condition when a message arrives
        started = time.perf_counter()
        self.client_links.current = str(sk_id)
        connection._loop_until(lambda: wanted in (self.location.search or "") or not connection.connected)
        elapsed = time.perf_counter() - started
        loop.remove_timeout(timer)
        if wanted not in (self.location.search or ""):
            reason = "connection closed" if not connection.connected else f"no answer in {timeout:.0f} s"
            raise LoadError(f"switch to {sk_id}: {reason}")
        return elapsed

    def next_client(self, ids: list[int], rng: random.Random) -> int:
        """A random client other than the one shown (choosing the link of the shown client changes nothing)."""
        shown = self.client_links.current
        return rng.choice([sk_id for sk_id in ids if str(sk_id) != shown])

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.session.close()


def open_page(url: str, query: str = "") -> tuple[Page, float]:
    """GET the page (the server creates the session), pull its document over the websocket; (page, seconds).

    ``query`` is the address's query string without ``?`` (e.g. ``client=100002&lang=en``).
    """
    query = f"?{query}" if query else ""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url + query, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            html = response.read().decode("utf-8", "replace")
    except OSError as error:
        raise LoadError(f"GET {url}{query}: {error}") from error
    match = TOKEN.search(html)
    if match is None:
        raise LoadError(f"GET {url}{query}: no session token in the page")
    websocket_url = "ws" + url[len("http") :] + "/ws"
    session = LoadClientSession(session_id=get_session_id(match.group(1)), websocket_url=websocket_url)
    try:
        session.pull()
    except Exception as error:
        session.close()
        raise LoadError(f"websocket pull {websocket_url}: {type(error).__name__}: {error}") from error
    elapsed = time.perf_counter() - started
    document = session.document
    links = [model for model in document.models if _prop(model, "query_key") == "client"]
    locations = [model for model in document.models if type(model).__name__ == "Location"]
    if not links or not locations:
        session.close()
        raise LoadError("the page has no client links or no location model (data missing page?)")
    return Page(session, _link_model(links[0]), locations[0]), elapsed


def _prop(model: object, name: str) -> object:
    """A property of a Bokeh model, also looking into a Panel component's ``data`` sub-model."""
    data = getattr(model, "data", None)
    for candidate in (model, data):
        if candidate is not None and name in getattr(candidate, "properties", lambda: ())():
            return getattr(candidate, name)
    return None


def _link_model(model: object) -> object:
    """The object whose ``current`` property a link click changes (the component's data model)."""
    data = getattr(model, "data", None)
    return data if data is not None and "current" in data.properties() else model


class Servers:
    """The app URLs of the server processes under test; each new page goes to the next one (round robin)."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = [check_loopback(url.rstrip("/")) for url in urls]
        self._turn = itertools.count()  # next() on a count is atomic in CPython: safe from the users' threads

    def next(self) -> str:
        return self.urls[next(self._turn) % len(self.urls)]


@dataclass
class ServerProbe:
    """CPU time and resident memory of the server processes (and any children, e.g. ``--num-procs``)."""

    pids: list[int]
    roots: list[psutil.Process] = field(init=False)

    def __post_init__(self) -> None:
        self.roots = [psutil.Process(pid) for pid in self.pids]

    def processes(self) -> list[psutil.Process]:
        return [process for root in self.roots for process in (root, *root.children(recursive=True))]

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def rss_mb(self) -> list[float]:
        """Resident memory of each server process, in MB."""
        sizes = []
        for process in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                sizes.append(process.memory_info().rss / 1e6)
        return sizes

    def wait_idle(self, timeout: float = 180.0, quiet: float = 0.05) -> None:
        """Wait until the server uses under ``quiet`` of a core over two seconds (warm-up threads finished)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = self.cpu_seconds()
            time.sleep(2.0)
            if self.cpu_seconds() - before < 2.0 * quiet:
                return


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p95 (nearest rank) and max; NaN for an empty list."""
    if not values:
        return {"p50": math.nan, "p95": math.nan, "max": math.nan, "n": 0}
    ordered = sorted(values)
    rank = max(0, math.ceil(0.95 * len(ordered)) - 1)
    return {"p50": statistics.median(ordered), "p95": ordered[rank], "max": ordered[-1], "n": len(ordered)}


@dataclass
class Results:
    """Every figure of one run (seconds unless the name says otherwise)."""

    sessions: int
    users: int
    think: float
    switch_seconds: float
    soak_seconds: float
    cpu_per_session_ms: float = math.nan
    sequential_open: dict = field(default_factory=dict)
    burst_open: dict = field(default_factory=dict)
    switch: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    rss_after_warm_up_mb: list[float] = field(default_factory=list)
    rss_steady_mb: list[float] = field(default_factory=list)
    soak_rss_mb: list[tuple[float, float]] = field(default_factory=list)
    soak_peak_rss_mb: list[float] = field(default_factory=list)  # each process's highest sample in the soak
    client_cpu_s: float = 0.0

    def soak_rss_after(self, after_seconds: float = 0.0) -> list[float]:
        """Total server RSS of the soak's samples taken ``after_seconds`` into it or later (0: all of them)."""
        return [rss for elapsed, rss in self.soak_rss_mb if elapsed >= after_seconds]

    def soak_growth_pct(self, after_seconds: float = 0.0) -> float:
        """Growth from the first of :meth:`soak_rss_after` to its last; NaN without two such samples."""
        kept = self.soak_rss_after(after_seconds)
        if len(kept) < 2:
            return math.nan
        return 100.0 * (kept[-1] - kept[0]) / kept[0]


def client_ids(warehouse_path: Path, count: int, seed: int) -> list[int]:
    """Existing client ids to switch between, spread over the id range (read through the warehouse API)."""
    from warehouse import Warehouse

    with Warehouse(warehouse_path) as warehouse:
        ids = [sk_id for prefix in range(10, 46) for sk_id in warehouse.search_clients(str(prefix), limit=10)]
    if not ids:
        raise SystemExit(f"no clients found in {warehouse_path}")
    return random.Random(seed).sample(ids, min(count, len(ids)))


def run_users(
    servers: Servers, users: int, ids: list[int], think: float, duration: float, seed: int, results: Results
) -> list[float]:
    """M users each on their own page, switching to a random client after ``think`` seconds (±50 %).

    The ``duration`` starts once every page is open (opening them is the burst's business), and every user
    switches at least once.
    """
    switches: list[float] = []
    lock = threading.Lock()
    all_open = threading.Barrier(users)

    def wait_for_the_others() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            all_open.wait(timeout=2 * REQUEST_TIMEOUT_SECONDS)

    def user(index: int) -> None:
        rng = random.Random(seed + index)
        try:
            page, _ = open_page(servers.next())
        except LoadError as error:
            with lock:
                results.errors.append(f"users: {error}")
            wait_for_the_others()
            return
        wait_for_the_others()
        stop = time.monotonic() + duration
        try:
            while True:
                time.sleep(think * rng.uniform(0.5, 1.5))
                try:
                    elapsed = page.switch(page.next_client(ids, rng))
                except LoadError as error:
                    with lock:
                        results.errors.append(f"users: {error}")
                    return
                with lock:
                    switches.append(elapsed)
                if time.monotonic() + think >= stop:
                    return
        finally:
            page.close()

    with ThreadPoolExecutor(max_workers=users) as pool:
        list(pool.map(user, range(users)))
    return switches


def soak(
    servers: Servers,
    probe: ServerProbe,
    users: int,
    ids: list[int],
    think: float,
    duration: float,
    seed: int,
    results: Results,
) -> None:
    """Users keep arriving, switching a few clients and leaving; server RSS sampled every 10 s (the total, and each
    process's highest)."""
    stop = time.monotonic() + duration
    sampling = threading.Event()
    started = time.monotonic()

    def record() -> None:
        sizes = probe.rss_mb()
        results.soak_rss_mb.append((time.monotonic() - started, sum(sizes)))
        peaks = results.soak_peak_rss_mb or [0.0] * len(sizes)
        results.soak_peak_rss_mb = [max(peak, size) for peak, size in zip(peaks, sizes, strict=False)]

    def sample() -> None:
        while not sampling.wait(10.0):
            record()

    def user(index: int) -> None:
        rng = random.Random(seed + 1000 + index)
        while time.monotonic() + 5 * think < stop:
            try:
                page, _ = open_page(servers.next())
            except LoadError as error:
                results.errors.append(f"soak: {error}")
                time.sleep(think)
                continue
            try:
                for _ in range(rng.randint(2, 6)):
                    time.sleep(think * rng.uniform(0.5, 1.5))
                    page.switch(page.next_client(ids, rng))
            except LoadError as error:
                results.errors.append(f"soak: {error}")
            finally:
                page.close()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with ThreadPoolExecutor(max_workers=users) as pool:
        list(tqdm(pool.map(user, range(users)), total=users, desc="soak users", leave=False))
    sampling.set()
    sampler.join()
    record()


def run(
    servers: Servers,
    probe: ServerProbe,
    ids: list[int],
    *,
    sessions: int,
    users: int,
    think: float,
    switch_seconds: float,
    soak_seconds: float,
    sequential: int,
    seed: int = 0,
) -> Results:
    """All phases against a running server; returns the figures (errors are collected, not raised)."""
    results = Results(sessions, users, think, switch_seconds, soak_seconds)
    client_cpu_start = time.process_time()
    for url in servers.urls:  # each process loads the shared resources and starts the warm-up
        first, _ = open_page(url)
        first.close()
    probe.wait_idle()
    results.rss_after_warm_up_mb = probe.rss_mb()

    cpu_before = probe.cpu_seconds()
    times = []
    for _ in tqdm(range(sequential), desc="sequential sessions", leave=False):
        page, elapsed = open_page(servers.next())
        times.append(elapsed)
        page.close()
    results.cpu_per_session_ms = 1000.0 * (probe.cpu_seconds() - cpu_before) / sequential
    results.sequential_open = percentiles(times)

    barrier = threading.Barrier(sessions)

    def at_once(_: int) -> tuple[Page | None, float | None]:
        barrier.wait()
        try:
            return open_page(servers.next())
        except LoadError as error:
            results.errors.append(f"burst: {error}")
            return None, None

    with ThreadPoolExecutor(max_workers=sessions) as pool:
        opened = list(pool.map(at_once, range(sessions)))
    results.burst_open = percentiles([elapsed for _, elapsed in opened if elapsed is not None])
    for page, _ in opened:
        if page is not None:
            page.close()

    if switch_seconds > 0:
        results.switch = percentiles(run_users(servers, users, ids, think, switch_seconds, seed, results))
        results.rss_steady_mb = probe.rss_mb()
    if soak_seconds > 0:
        soak(servers, probe, users, ids, think, soak_seconds, seed, results)
    results.client_cpu_s = time.process_time() - client_cpu_start
    return results


def report(results: Results) -> str:
    """The markdown table recorded in docs/benchmarks.md (and printed)."""

    def ms(stats: dict, key: str) -> str:
        return "–" if not stats or math.isnan(stats[key]) else f"{1000 * stats[key]:.0f} ms"

    def met(value: float, target: float) -> str:
        return "–" if math.isnan(value) else ("met" if value <= target else "NOT met")

    steady = max(results.rss_steady_mb or results.rss_after_warm_up_mb or [math.nan])
    rows = [
        (
            "server CPU per new session (sequential opens)",
            f"{results.cpu_per_session_ms:.0f} ms",
            "≤ 100 ms",
            met(results.cpu_per_session_ms, TARGETS["cpu_per_session_ms"]),
        ),
        (
            "page open, one at a time (p50 / p95)",
            f"{ms(results.sequential_open, 'p50')} / {ms(results.sequential_open, 'p95')}",
            "",
            "",
        ),
        (
            f"{results.sessions} sessions opened at once (p50 / p95 / max)",
            f"{ms(results.burst_open, 'p50')} / {ms(results.burst_open, 'p95')} / {ms(results.burst_open, 'max')}",
            "p95 ≤ 1.5 s",
            met(results.burst_open.get("p95", math.nan), TARGETS["burst_open_p95_s"]),
        ),
        (
            f"{results.users} users switching clients, {results.think:g} s think"
            f" (p50 / p95 / max, {results.switch.get('n', 0)} switches)",
            f"{ms(results.switch, 'p50')} / {ms(results.switch, 'p95')} / {ms(results.switch, 'max')}",
            "p95 ≤ 300 ms, 0 errors",
            met(1000 * results.switch.get("p95", math.nan), TARGETS["switch_p95_ms"])
            if not results.errors
            else "NOT met",
        ),
        ("errors", str(len(results.errors)), "0", "met" if not results.errors else "NOT met"),
        (
            "server RSS per process after warm-up / under load",
            f"{_mb(results.rss_after_warm_up_mb)} / {_mb(results.rss_steady_mb)}",
            "≤ 600 MB",
            met(steady, TARGETS["steady_rss_mb"]),
        ),
    ]
    if results.soak_rss_mb:
        after_ramp = results.soak_rss_after(SOAK_RAMP_SECONDS)
        soak = f"soak {results.soak_seconds / 60:g} min, {results.users} users: total RSS"
        rows.append(
            (
                f"{soak} from the first sample to the last",
                f"{results.soak_rss_mb[0][1]:.0f} → {results.soak_rss_mb[-1][1]:.0f} MB"
                f" ({results.soak_growth_pct():+.1f} %)",
                "",
                "",
            )
        )
        rows.append(
            (
                f"{soak} after its {SOAK_RAMP_SECONDS / 60:g}-minute ramp-up (growth a leak would show)",
                f"{after_ramp[0]:.0f} → {after_ramp[-1]:.0f} MB ({results.soak_growth_pct(SOAK_RAMP_SECONDS):+.1f} %)"
                if len(after_ramp) >= 2
                else "– (soak too short)",
                "growth < 10 %",
                met(results.soak_growth_pct(SOAK_RAMP_SECONDS), TARGETS["soak_rss_growth_pct"]),
            )
        )
        rows.append(
            (
                f"soak {results.soak_seconds / 60:g} min: highest RSS per process (users keep opening and closing"
                " pages)",
                _mb(results.soak_peak_rss_mb),
                "≤ 600 MB",
                met(max(results.soak_peak_rss_mb, default=math.nan), TARGETS["steady_rss_mb"]),
            )
        )
    lines = ["| what | measured | target | |", "|---|---|---|---|"]
    lines += [f"| {what} | {value} | {target} | {verdict} |" for what, value, target, verdict in rows]
    if results.errors:
        lines += ["", "First errors:", ""] + [f"- `{error[:200]}`" for error in results.errors[:5]]
    return "\n".join(lines)


def _mb(sizes: list[float]) -> str:
    return " + ".join(f"{size:.0f}" for size in sizes) + " MB" if sizes else "–"


@contextlib.contextmanager
def served(args: argparse.Namespace) -> Iterator[tuple[Servers, ServerProbe]]:
    """The server under test: the one at ``--url`` (with ``--pid``), or ``--processes`` fresh ``panel serve``."""
    if args.url:
        if args.pid is None:
            raise SystemExit("--url needs --pid (the server process whose CPU and memory are measured)")
        yield Servers([args.url]), ServerProbe([args.pid])
        return
    with tempfile.TemporaryDirectory(prefix="bench_load_") as folder, contextlib.ExitStack() as stack:
        environment = {
            "CREDIT_WAREHOUSE": str(args.warehouse),
            "CREDIT_MODEL_DIR": str(args.model),
            # The explicit local demo mode (no login, loopback only): the load is the dashboard's.
            "CREDIT_AUTH": "demo",
            "CREDIT_ACCESS_DIR": str(Path(folder) / "access"),  # one access store, as the replicas share one
        }
        servers = []
        for index in range(args.processes):
            server = start_local_server(
                environment,
                Path(folder) / f"server{index}.log",
                num_threads=args.num_threads,
                prefix=("nice", "-n", str(args.server_nice)) if args.server_nice else (),
            )
            stack.callback(server.stop)
            servers.append(server)
        yield (
            Servers([server.url for server in servers]),
            ServerProbe([server.process.pid for server in servers]),
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=ROOT / "data" / "warehouse.duckdb")
    parser.add_argument("--model", type=Path, default=ROOT / "data" / "model")
    parser.add_argument(
        "--url", help="app URL of a running local server (loopback only), e.g. http://127.0.0.1:5006/app"
    )
    parser.add_argument("--pid", type=int, help="process id of that server (for CPU and memory)")
    parser.add_argument("--sessions", type=int, default=20, help="sessions opened at once")
    parser.add_argument("--users", type=int, default=20, help="users switching clients")
    parser.add_argument("--think", type=float, default=2.0, help="mean think time between switches (s)")
    parser.add_argument("--switch-seconds", type=float, default=60.0, help="duration of the switching phase")
    parser.add_argument("--soak-seconds", type=float, default=0.0, help="duration of the soak (0: none)")
    parser.add_argument(
        "--sequential", type=int, default=10, help="sessions opened one by one for CPU/session"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="panel serve processes started, pages sent to each in turn"
    )
    parser.add_argument("--num-threads", type=int, default=4, help="panel serve --num-threads")
    parser.add_argument("--server-nice", type=int, default=0, help="run the started server under nice -n N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", action="store_true", help="write the figures to docs/benchmarks.md")
    parser.add_argument("--json", type=Path, help="also write the raw figures to this JSON file")
    args = parser.parse_args(argv)
    if not 1 <= args.processes <= MAX_PROCESSES:
        parser.error(f"--processes must be between 1 and {MAX_PROCESSES}")
    for name in ("sessions", "users", "sequential"):
        value = getattr(args, name)
        if not 1 <= value <= MAX_SESSIONS:
            parser.error(f"--{name} must be between 1 and {MAX_SESSIONS}")
    if args.switch_seconds < 0 or args.soak_seconds < 0 or args.soak_seconds > 4 * 3600 or args.think <= 0:
        parser.error("durations must be ≥ 0 (soak ≤ 4 h) and --think > 0")
    return args


def _recorded_arguments(argv: list[str]) -> list[str]:
    """The command-line arguments that shape the figures (not where they are written)."""
    shown, skip = [], False
    for argument in argv:
        if skip or argument == "--record":
            skip = False
            continue
        if argument == "--json":
            skip = True
            continue
        shown.append(argument)
    return shown


def main(argv: list[str] | None = None) -> Results:
    args = parse_args(argv)
    ids = client_ids(args.warehouse, 200, args.seed)
    with served(args) as (servers, probe):
        results = run(
            servers,
            probe,
            ids,
            sessions=args.sessions,
            users=args.users,
            think=args.think,
            switch_seconds=args.switch_seconds,
            soak_seconds=args.soak_seconds,
            sequential=args.sequential,
            seed=args.seed,
        )
    table = report(results)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(results.__dict__, indent=1, default=str), encoding="utf-8")
    if args.record:
        shown = _recorded_arguments(argv if argv is not None else sys.argv[1:])
        # One section per kind of run (a soak is recorded apart from the quiet measurement of the same topology).
        soaked = "-soak" if args.soak_seconds > 0 else ""
        if args.processes == 1:
            section, title, topology = f"load{soaked}", "", "One `panel serve` process"
        else:
            section = f"load-{args.processes}-processes{soaked}"
            title = f", {args.processes} processes"
            topology = (
                f"{args.processes} `panel serve` processes, each page (request and websocket) sent to one of "
                "them in turn, as nginx's sticky cookie does in the deployment (the proxy itself is not in the "
                "measurement)"
            )
        write_section(
            section,
            f"## Load: many managers at once{title}{', soak' if soaked else ''} (protocol-level Bokeh clients)\n\n"
            f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Command:\n\n"
            f"    nice -n 10 python scripts/bench_load.py {' '.join(shown)}\n\n"
            f"{topology}; the Bokeh client sessions run on the same machine and their own CPU use "
            f"competes with the server's ({results.client_cpu_s:.0f} s of client CPU in this run); load average "
            f"at the end {load_average()} (the 2-core machine is shared).\n\n{table}\n",
        )
    return results


if __name__ == "__main__":
    main()
