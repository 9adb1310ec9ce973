"""Cohort queries of the read-only Warehouse on the shared small synthetic warehouse."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import polars as pl
import pytest

from warehouse import Cohort, Warehouse, WarehouseBusyError, build_warehouse, write_scores


@pytest.fixture(scope="module")
def warehouse(small_warehouse: Path) -> Warehouse:
    with Warehouse(small_warehouse) as opened:
        yield opened


COHORT = Cohort(age_range=(30, 50), contract_type="Cash loans", gender=("F", "M"))


def _count(path: Path, where: str) -> tuple[int, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(f"SELECT count(*), coalesce(sum(TARGET), 0) FROM features WHERE {where}").fetchall()[0]


def test_cohort_stats_match_a_direct_count(warehouse: Warehouse, small_warehouse: Path) -> None:
    n, defaults = _count(
        small_warehouse,
        "-DAYS_BIRTH BETWEEN 30 * 365.25 AND 50 * 365.25 "
        "AND NAME_CONTRACT_TYPE = 'Cash loans' AND CODE_GENDER IN ('F', 'M')",
    )
    stats = warehouse.cohort_stats(COHORT)
    assert stats["n"] == n and 0 < n < warehouse.cohort_stats(None)["n"]
    assert stats["default_rate"] == pytest.approx(defaults / stats["n_labelled"])


def test_age_bounds_match_fractional_days(warehouse: Warehouse, small_warehouse: Path) -> None:
    """Age bounds become whole days (a faster scan): the same clients as comparing with 365.25-day years."""
    for low, high in ((30.3, 41.7), (25, 25.002), (44, 44)):
        n, _ = _count(small_warehouse, f"DAYS_BIRTH BETWEEN {-high * 365.25} AND {-low * 365.25}")
        assert warehouse.cohort_stats(Cohort(age_range=(low, high)))["n"] == n
    assert warehouse.cohort_stats(Cohort(age_range=(0, math.inf)))["n"] == warehouse.cohort_stats(None)["n"]


def test_histogram_counts_sum_to_cohort_size(warehouse: Warehouse) -> None:
    histogram = warehouse.histogram("AMT_CREDIT", COHORT, bins=25)
    assert histogram.columns == ["bin_start", "bin_end", "count", "n_default"] and histogram.height == 25
    stats = warehouse.cohort_stats(COHORT)
    assert histogram["count"].sum() == stats["n"]  # AMT_CREDIT is never missing; outliers land in end bins
    assert histogram["n_default"].sum() == round(stats["default_rate"] * stats["n_labelled"])
    assert (histogram["bin_end"] > histogram["bin_start"]).all()


def test_histogram_edges_are_population_wide(warehouse: Warehouse) -> None:
    everyone = warehouse.histogram("EXT_SOURCE_2", None, bins=10)
    cohort = warehouse.histogram("EXT_SOURCE_2", Cohort(age_range=(20, 30)), bins=10)
    assert everyone["bin_start"].to_list() == cohort["bin_start"].to_list()
    assert cohort["count"].sum() < everyone["count"].sum()


def test_histogram_range_ignores_extreme_outliers(warehouse: Warehouse) -> None:
    histogram = warehouse.histogram("AMT_INCOME_TOTAL", None, bins=20)
    assert histogram["bin_end"].max() < 2_000_000  # not stretched to the synthetic 117 M income
    assert histogram["count"].sum() == warehouse.cohort_stats(None)["n"]


def test_percentile_and_quantiles(warehouse: Warehouse) -> None:
    quantiles = warehouse.quantiles("AMT_CREDIT", COHORT, qs=(0.1, 0.5, 0.9))
    assert quantiles[0.1] < quantiles[0.5] < quantiles[0.9]
    assert warehouse.percentile_of("AMT_CREDIT", quantiles[0.5], COHORT) == pytest.approx(0.5, abs=0.05)
    assert warehouse.percentile_of("AMT_CREDIT", 0, COHORT) == 0.0
    assert warehouse.percentile_of("AMT_CREDIT", 1e12, COHORT) == 1.0


def test_group_default_rates(warehouse: Warehouse) -> None:
    by_education = warehouse.group_default_rates("NAME_EDUCATION_TYPE")
    assert by_education["n"].sum() == warehouse.cohort_stats(None)["n"]
    assert "Higher education" in by_education["group"].to_list()
    by_score = warehouse.group_default_rates("EXT_SOURCE_3", COHORT)
    assert by_score["n"].sum() == warehouse.cohort_stats(COHORT)["n"]
    bands = by_score.filter(pl.col("group") != "missing")
    assert bands.height == 5
    assert bands["default_rate"][0] > bands["default_rate"][-1]  # low external score, more defaults


def test_nearest_clients_exclude_self_and_are_sorted(warehouse: Warehouse) -> None:
    sk_id = warehouse.search_clients("1000")[0]
    nearest = warehouse.nearest_clients(
        sk_id, ["EXT_SOURCE_2", "AMT_CREDIT", "DAYS_BIRTH", "EXT_SOURCE_1"], k=15
    )
    assert nearest.columns == ["SK_ID_CURR", "distance"] and nearest.height == 15
    assert sk_id not in nearest["SK_ID_CURR"].to_list()
    assert nearest["distance"].is_sorted()
    farther = warehouse.nearest_clients(
        sk_id, ["EXT_SOURCE_2", "AMT_CREDIT", "DAYS_BIRTH", "EXT_SOURCE_1"], k=40
    )
    assert farther["SK_ID_CURR"].head(15).to_list() == nearest["SK_ID_CURR"].to_list()


@pytest.mark.parametrize("name", ["NOPE", "AMT_CREDIT; DROP TABLE features", 'AMT_CREDIT"', "SK_ID_CURR"])
def test_unknown_feature_names_are_rejected(warehouse: Warehouse, name: str) -> None:
    for call in (
        lambda: warehouse.histogram(name),
        lambda: warehouse.quantiles(name),
        lambda: warehouse.nearest_clients(100001, [name]),
        lambda: warehouse.group_default_rates(name),
        lambda: warehouse.model_frame("train", [name]),
    ):
        with pytest.raises(ValueError, match="unknown feature"):
            call()


def test_categorical_features_have_no_histogram(warehouse: Warehouse) -> None:
    with pytest.raises(ValueError, match="categorical"):
        warehouse.histogram("CODE_GENDER")


def test_client_lookups(warehouse: Warehouse) -> None:
    assert warehouse.search_clients("abc") == [] and warehouse.search_clients("") == []
    ids = warehouse.search_clients("10001", limit=5)
    assert len(ids) == 5 and all(str(i).startswith("10001") for i in ids)
    profile = warehouse.client_profile(ids[0])
    assert profile["SK_ID_CURR"] == ids[0] and 20 < profile["age_years"] < 70
    assert warehouse.client_profile(1) is None
    assert warehouse.client_features(ids[0]).height == 1
    empty = warehouse.client_features(1)
    assert empty.height == 0 and empty.columns == warehouse.client_features(ids[0]).columns
    assert warehouse.application_row(ids[0]).width == 122


def test_row_lookups_equal_duckdb_polars_export(warehouse: Warehouse, small_warehouse: Path) -> None:
    """Row lookups fetch Python values into a cached schema: same types and values as DuckDB's Arrow export."""
    train_id, test_id = (warehouse.model_frame(split, [])["SK_ID_CURR"][0] for split in ("train", "test"))
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        for sk_id in (train_id, test_id, 1):
            expected = pl.DataFrame(con.sql(f"SELECT * FROM features WHERE SK_ID_CURR = {sk_id}"))
            assert warehouse.client_features(sk_id).equals(expected)
            assert warehouse.client_features(sk_id).schema == expected.schema
            expected = pl.DataFrame(
                con.sql(
                    f"SELECT * FROM application_train WHERE SK_ID_CURR = {sk_id} "
                    f"UNION ALL BY NAME SELECT * FROM application_test WHERE SK_ID_CURR = {sk_id}"
                )
            )
            assert warehouse.application_row(sk_id).schema == expected.schema
            assert warehouse.application_row(sk_id).equals(expected)


def test_model_frame_and_catalog(warehouse: Warehouse) -> None:
    train = warehouse.model_frame("train")
    test = warehouse.model_frame("test", ["EXT_SOURCE_1"])
    assert train["TARGET"].null_count() == 0 and test["TARGET"].null_count() == test.height
    assert test.columns == ["SK_ID_CURR", "split", "TARGET", "EXT_SOURCE_1"]
    catalog = warehouse.feature_catalog()
    assert catalog.height == train.width - 3
    gender = catalog.filter(pl.col("name") == "CODE_GENDER").row(0, named=True)
    assert gender["is_categorical"] and gender["levels"] == ["F", "M"]  # "XNA" became NULL
    with pytest.raises(ValueError):
        warehouse.model_frame("validation")


def test_bivariate_counts(warehouse: Warehouse) -> None:
    grid = warehouse.bivariate("EXT_SOURCE_2", "DAYS_BIRTH", COHORT, bins=8)
    assert grid.columns == ["x_index", "y_index", "x_bin", "y_bin", "count", "default_rate"]
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        both = con.sql(
            "SELECT count(*) FROM features WHERE EXT_SOURCE_2 IS NOT NULL AND -DAYS_BIRTH "
            "BETWEEN 30 * 365.25 AND 50 * 365.25 AND NAME_CONTRACT_TYPE = 'Cash loans' AND CODE_GENDER IS NOT NULL"
        ).fetchall()[0][0]
    assert grid["count"].sum() == both
    assert grid.select("x_bin", "y_bin").unique().height == grid.height


@pytest.fixture()
def scored_copy(small_warehouse: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "scored.duckdb"
    shutil.copyfile(small_warehouse, copy)
    return copy


def _scores(path: Path) -> pl.DataFrame:
    with Warehouse(path) as warehouse:
        ids = warehouse.model_frame(None, ["EXT_SOURCE_2"])
    return ids.select(
        "SK_ID_CURR",
        PROBABILITY=(1 - pl.col("EXT_SOURCE_2").fill_null(0.5)) / 4,
    ).with_columns(
        DECISION=pl.when(pl.col("PROBABILITY") > 0.12).then(pl.lit("refused")).otherwise(pl.lit("granted")),
        TOP_CONTRIBUTIONS=pl.lit('[{"feature": "EXT_SOURCE_2"}]'),
    )


def test_write_scores_and_decision_cohort(scored_copy: Path) -> None:
    scores = _scores(scored_copy)
    with Warehouse(scored_copy) as before:
        assert not before.has_scores()
        assert before.cohort_stats(Cohort(decision="refused"))["n"] == scores.height  # ignored without scores
    write_scores(scored_copy, scores, model_id="first-model")
    write_scores(scored_copy, scores, model_id="second-model")  # replacing works too
    with Warehouse(scored_copy) as after:
        refused = scores.filter(pl.col("DECISION") == "refused").height
        assert after.has_scores() and after.cohort_stats(Cohort(decision="refused"))["n"] == refused
        assert after.scores_model_id() == "second-model"
        histogram = after.score_histogram(bins=20)
        assert histogram["count"].sum() == scores.height and histogram.height == 20
    assert sorted(p.name for p in scored_copy.parent.iterdir()) == ["scored.duckdb"]


def test_write_scores_refuses_a_file_open_read_write(scored_copy: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
            "sys.stdin.read()",
            str(scored_copy),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseBusyError, match="read-write"):
            write_scores(scored_copy, _scores_frame_without_reading(), model_id="m")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert sorted(p.name for p in scored_copy.parent.iterdir()) == ["scored.duckdb"]


def _scores_frame_without_reading() -> pl.DataFrame:
    return pl.DataFrame(
        {"SK_ID_CURR": [100001], "PROBABILITY": [0.2], "DECISION": ["refused"], "TOP_CONTRIBUTIONS": ["[]"]}
    )


def test_write_scores_rejects_bad_frames(scored_copy: Path) -> None:
    with pytest.raises(ValueError, match="DECISION"):
        write_scores(
            scored_copy, _scores_frame_without_reading().with_columns(DECISION=pl.lit("maybe")), model_id="m"
        )
    with pytest.raises(ValueError, match="lacks"):
        write_scores(scored_copy, _scores_frame_without_reading().drop("PROBABILITY"), model_id="m")
    with pytest.raises(ValueError, match="model_id"):
        write_scores(scored_copy, _scores_frame_without_reading(), model_id="")


def test_build_info_identifies_the_build_and_fingerprints_the_data(
    small_warehouse: Path, tmp_path: Path
) -> None:
    with Warehouse(small_warehouse) as store:
        info = store.build_info()
        assert store.scores_model_id() is None
    assert set(info) == {
        "build_id",
        "built_at",
        "data_fingerprint",
        "origin",
        "duckdb_version",
        "storage_version",
    }
    assert info["origin"] == "synthetic: 4000 applicants, seed 0" and len(info["data_fingerprint"]) == 64
    again = build_warehouse(tmp_path / "again.duckdb", synthetic=4_000, seed=0, progress=False)
    other = build_warehouse(tmp_path / "other.duckdb", synthetic=4_000, seed=1, progress=False)
    with Warehouse(again) as same, Warehouse(other) as different:
        assert same.build_info()["build_id"] != info["build_id"]
        assert same.build_info()["data_fingerprint"] == info["data_fingerprint"]
        assert different.build_info()["data_fingerprint"] != info["data_fingerprint"]
    with duckdb.connect(str(again), read_only=True) as con:
        comment = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = 'build_info'"
        ).fetchone()[0]
    assert "build id" in comment


def test_a_memory_limit_bounds_duckdbs_cache_and_queries_still_answer(small_warehouse: Path) -> None:
    with Warehouse(small_warehouse, memory_limit="64MB") as bounded:
        setting = bounded._rows("SELECT current_setting('memory_limit')")[0][0]
        assert setting.replace(" ", "").upper() in {"64.0MB", "61.0MIB", "64MB"}, setting
        assert bounded.cohort_stats(None)["n"] > 0


def _wide_file(path: Path, columns: int = 40, rows: int = 3 * 122_880) -> Path:
    """A ``features`` table in three row groups whose columns do not compress (random doubles): one row pins a
    256 KiB block of each column, as a row of the default data does."""
    values = ", ".join(f"random() AS c{index}" for index in range(columns))
    with duckdb.connect(str(path)) as con:
        con.execute("SELECT setseed(0.5)")
        con.execute(
            f"CREATE TABLE features AS SELECT range AS SK_ID_CURR, 'train' AS split, 0::BIGINT AS TARGET, {values} "
            f"FROM range({rows})"
        )
    return path


def test_concurrent_wide_row_reads_fit_a_small_memory_limit(tmp_path: Path) -> None:
    """One row pins up to about 20 MB here, and rows of different row groups pin different blocks: read six at a
    time they would exceed the limit (DuckDB's "Out of Memory"), so the warehouse reads them one at a time."""
    path = _wide_file(tmp_path / "wide.duckdb")
    ids = list(range(0, 3 * 122_880, 1_223))
    with Warehouse(path, memory_limit="24MB") as bounded, ThreadPoolExecutor(max_workers=6) as pool:
        rows = list(pool.map(bounded.client_features, ids))
    assert [row["SK_ID_CURR"][0] for row in rows] == ids
