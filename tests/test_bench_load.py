"""Smoke test of the load generator: three real Bokeh client sessions against a real ``panel serve``."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from scripts import bench_load


def test_three_sessions_open_switch_and_are_measured(
    scored_warehouse: Path, small_model_dir: Path, tmp_path: Path
) -> None:
    figures = tmp_path / "load.json"
    results = bench_load.main(
        [
            "--warehouse", str(scored_warehouse),
            "--model", str(small_model_dir),
            "--sessions", "3",
            "--users", "3",
            "--sequential", "2",
            "--think", "0.3",
            "--switch-seconds", "4",
            "--soak-seconds", "3",
            "--num-threads", "2",
            "--json", str(figures),
        ]
    )  # fmt: skip
    assert results.errors == []
    assert results.burst_open["n"] == 3 and results.burst_open["p95"] > 0
    assert results.switch["n"] >= 3 and results.switch["p50"] > 0
    assert results.cpu_per_session_ms > 0 and not math.isnan(results.cpu_per_session_ms)
    assert results.rss_after_warm_up_mb and all(size > 50 for size in results.rss_after_warm_up_mb)
    assert results.soak_rss_mb and len(results.soak_peak_rss_mb) == 1 and results.soak_peak_rss_mb[0] > 50
    table = bench_load.report(results)
    assert "3 sessions opened at once" in table and "≤ 100 ms" in table
    assert "highest RSS per process" in table
    assert figures.is_file()


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1:5006/app",
        "http://example.org/app",
        "https://127.0.0.1/app",
        "http://0.0.0.0:5006/app",
    ],
)
def test_only_loopback_servers_are_targeted(url: str) -> None:
    with pytest.raises(SystemExit, match="loopback"):
        bench_load.check_loopback(url)


def test_counts_are_bounded() -> None:
    with pytest.raises(SystemExit):
        bench_load.parse_args(["--sessions", str(bench_load.MAX_SESSIONS + 1)])


def test_recorded_command_keeps_what_shapes_the_figures() -> None:
    argv = ["--sessions", "3", "--json", "/tmp/figures.json", "--record", "--soak-seconds", "60"]
    assert bench_load._recorded_arguments(argv) == ["--sessions", "3", "--soak-seconds", "60"]


def test_two_processes_share_the_pages_and_are_both_measured(
    scored_warehouse: Path, small_model_dir: Path
) -> None:
    results = bench_load.main(
        [
            "--warehouse", str(scored_warehouse),
            "--model", str(small_model_dir),
            "--processes", "2",
            "--sessions", "2",
            "--users", "2",
            "--sequential", "2",
            "--think", "0.3",
            "--switch-seconds", "2",
            "--num-threads", "2",
        ]
    )  # fmt: skip
    assert results.errors == []
    assert results.burst_open["n"] == 2 and results.switch["n"] >= 2
    # Both processes served pages: each loaded the data (well above a bare Python process).
    assert len(results.rss_after_warm_up_mb) == 2 and all(size > 150 for size in results.rss_after_warm_up_mb)


def test_servers_take_pages_in_turn_and_only_on_loopback() -> None:
    servers = bench_load.Servers(["http://127.0.0.1:5006/app/", "http://127.0.0.1:5007/app"])
    assert [servers.next() for _ in range(3)] == [
        "http://127.0.0.1:5006/app",
        "http://127.0.0.1:5007/app",
        "http://127.0.0.1:5006/app",
    ]
    with pytest.raises(SystemExit, match="loopback"):
        bench_load.Servers(["http://10.0.0.1:5006/app"])
    with pytest.raises(SystemExit):
        bench_load.parse_args(["--processes", "0"])


def test_soak_growth_is_reported_from_the_start_and_after_the_ramp_up() -> None:
    results = bench_load.Results(sessions=3, users=3, think=1.0, switch_seconds=0.0, soak_seconds=600.0)
    results.soak_rss_mb = [(10.0, 500.0), (60.0, 600.0), (130.0, 640.0), (400.0, 650.0), (600.0, 672.0)]
    assert results.soak_growth_pct() == pytest.approx(34.4)
    assert results.soak_growth_pct(bench_load.SOAK_RAMP_SECONDS) == pytest.approx(5.0)
    table = bench_load.report(results)
    assert "500 → 672 MB (+34.4 %)" in table
    assert "640 → 672 MB (+5.0 %) | growth < 10 % | met |" in table
    results.soak_peak_rss_mb = [672.0]
    assert "672 MB | ≤ 600 MB | NOT met |" in bench_load.report(results)
    results.soak_rss_mb = results.soak_rss_mb[:2]
    assert math.isnan(results.soak_growth_pct(bench_load.SOAK_RAMP_SECONDS))
    assert "– (soak too short)" in bench_load.report(results)
