"""The warehouse's one nearest-neighbour implementation (in-memory index) against its SQL reference, with the
group statistics it answers (size, default rate, percentiles) and the histogram bins, on generated data."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pytest

from warehouse import Cohort, Warehouse
from warehouse.neighbours import NeighbourIndex

# Continuous, integer (many exact ties) and sparse (many NULLs) features, as the dashboard's ranking may pick.
FEATURE_SETS = (
    ("EXT_SOURCE_2", "EXT_SOURCE_3", "AMT_CREDIT", "DAYS_BIRTH"),
    ("CNT_CHILDREN", "CNT_FAM_MEMBERS"),
    ("EXT_SOURCE_1", "AMT_ANNUITY", "DAYS_EMPLOYED"),
)


@pytest.fixture(scope="module")
def scored(scored_warehouse: Path) -> Warehouse:
    with Warehouse(scored_warehouse) as opened:
        yield opened


def _client_ids(path: Path, count: int) -> list[int]:
    """Spread-out clients, including one with many missing values."""
    with duckdb.connect(str(path), read_only=True) as con:
        spread = [
            row[0] for row in con.sql("SELECT SK_ID_CURR FROM features ORDER BY hash(SK_ID_CURR)").fetchall()
        ]
        sparse = con.sql("SELECT SK_ID_CURR FROM features WHERE EXT_SOURCE_1 IS NULL LIMIT 1").fetchall()[0][
            0
        ]
    return [*spread[:count], sparse]


@pytest.mark.parametrize("features", FEATURE_SETS)
def test_index_gives_the_sql_neighbours(scored: Warehouse, scored_warehouse: Path, features) -> None:
    for sk_id in _client_ids(scored_warehouse, 6):
        for k in (1, 25, 60):
            got = scored.nearest_clients(sk_id, features, k=k)
            expected = scored._nearest_clients_sql(sk_id, features, k=k)
            assert got.columns == expected.columns == ["SK_ID_CURR", "distance"]
            assert got["SK_ID_CURR"].to_list() == expected["SK_ID_CURR"].to_list(), (features, sk_id, k)
            assert got["distance"].to_list() == pytest.approx(
                expected["distance"].to_list(), rel=1e-12, abs=1e-12
            )
            assert sk_id not in got["SK_ID_CURR"].to_list()


def test_unknown_client_has_no_neighbours_and_bad_features_are_refused(scored: Warehouse) -> None:
    assert (
        scored.nearest_clients(1, FEATURE_SETS[0]).height
        == 0
        == scored._nearest_clients_sql(1, FEATURE_SETS[0]).height
    )
    with pytest.raises(ValueError, match="at least one"):
        scored.nearest_clients(1, [])
    with pytest.raises(ValueError, match="categorical"):
        scored.nearest_clients(1, ["NAME_CONTRACT_TYPE"])
    with pytest.raises(ValueError, match="unknown feature"):
        scored.nearest_clients(1, ["DROP TABLE features"])


def test_neighbour_groups_statistics_equal_sql(scored: Warehouse, scored_warehouse: Path) -> None:
    """Sizes, default rates and percentiles of listed-client cohorts come from the index once it is loaded:
    the same answers as SQL, for indexed and non-indexed features, unknown ids and duplicates included."""
    features = FEATURE_SETS[0]
    scored.neighbour_index(features)
    checked = 0
    for sk_id in _client_ids(scored_warehouse, 4):
        ids = tuple(scored.nearest_clients(sk_id, features, k=30)["SK_ID_CURR"].to_list())
        for cohort in (
            Cohort(client_ids=ids),
            Cohort(client_ids=(*ids, ids[0], -5)),
            Cohort(client_ids=(-5,)),
        ):
            got, expected = scored.cohort_stats(cohort), scored._cohort_stats_sql(cohort)
            assert got["n"] == expected["n"] and got["n_labelled"] == expected["n_labelled"]
            if expected["default_rate"] is None:
                assert got["default_rate"] is None
            else:
                assert got["default_rate"] == pytest.approx(expected["default_rate"], rel=1e-12)
            for feature in (*features, "AMT_INCOME_TOTAL"):
                for q in (0.1, 0.5, 0.9):
                    value = scored.quantiles(feature, cohort if expected["n"] else None, (q,))[q]
                    got_share = scored.percentile_of(feature, value, cohort)
                    want = scored._percentile_of_sql(feature, value, cohort)
                    assert got_share == want or (math.isnan(got_share) and math.isnan(want)), (
                        feature,
                        cohort,
                    )
                    checked += 1
    assert checked > 50
    mixed = Cohort(client_ids=(100002,), age_range=(20.0, 70.0))  # not a plain list: always SQL
    assert scored.cohort_stats(mixed) == scored._cohort_stats_sql(mixed)


@pytest.mark.parametrize("feature", ["AMT_INCOME_TOTAL", "EXT_SOURCE_2", "CNT_CHILDREN"])
def test_bin_of_is_the_bin_sql_counts_a_client_in(scored: Warehouse, scored_warehouse: Path, feature) -> None:
    bins = 12
    edges = scored.bin_edges(feature, bins)
    assert len(edges) == bins + 1
    assert scored.histogram(feature, None, bins)["bin_start"].to_list() == edges[:-1]
    for sk_id in _client_ids(scored_warehouse, 8):
        value = scored.client_features(sk_id)[feature][0]
        counts = scored.histogram(feature, Cohort(client_ids=(sk_id,)), bins)["count"].to_list()
        if value is None:
            assert sum(counts) == 0
            continue
        assert counts[scored.bin_of(feature, value, bins)] == 1
        grid = scored.bivariate(feature, feature, Cohort(client_ids=(sk_id,)), bins=bins)
        assert grid["x_index"].to_list() == [scored.bin_of(feature, value, bins)]
    assert scored.bin_of(feature, -1e300, bins) == 0 and scored.bin_of(feature, 1e300, bins) == bins - 1


def test_index_finds_rows_by_id_and_refuses_unordered_ids() -> None:
    """Rows are found by binary search: duplicates and unknown ids are skipped, as SQL's ``IN`` would."""
    values = {"x": np.array([1.0, 2.0, np.nan, 4.0])}
    index = NeighbourIndex(np.array([10, 20, 30, 40]), values, {"x": (2.0, 1.0)}, np.full(4, np.nan))
    assert index.rows((40, 5, 10, 40, 99, 25)).tolist() == [3, 0]
    assert index.rows(()).tolist() == []
    ids, distances = index.nearest(20, 2)
    # The missing value counts as the mean, so client 30 sits exactly on client 20.
    assert ids.tolist() == [30, 10] and distances.tolist() == [0.0, 1.0]
    assert index.nearest(21, 2)[0].size == 0
    with pytest.raises(ValueError, match="ascending"):
        NeighbourIndex(np.array([10, 30, 20]), {"x": np.zeros(3)}, {"x": (0.0, 1.0)}, np.zeros(3))
