"""``percentile_of`` on population-wide cohorts (cached sorted values) gives exactly the SQL answer."""

from __future__ import annotations

import itertools
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pytest

from warehouse import Cohort, Warehouse, source

POPULATION_COHORTS = (None, Cohort(decision="granted"), Cohort(decision="refused"), Cohort())
FEATURES = ("AMT_CREDIT", "AMT_INCOME_TOTAL", "DAYS_BIRTH", "EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3")


@pytest.fixture(scope="module")
def scored(scored_warehouse: Path) -> Warehouse:
    with Warehouse(scored_warehouse) as opened:
        yield opened


def _probe_values(path: Path, feature: str) -> tuple[list[float], int]:
    """Below min, at min, the smallest values and between them, inner quantiles (existing values), the most
    repeated value, max, above max, zeros and extremes; and how many rows share the most repeated value."""
    with duckdb.connect(str(path), read_only=True) as con:
        low, high, inner = con.sql(
            f'SELECT min("{feature}"), max("{feature}"), '
            f'quantile_disc("{feature}", [0.1, 0.25, 0.5, 0.75, 0.9]) FROM features'
        ).fetchall()[0]
        mode, ties = con.sql(
            f'SELECT "{feature}", count(*) FROM features WHERE "{feature}" IS NOT NULL GROUP BY 1 '
            "ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchall()[0]
        some = [
            row[0]
            for row in con.sql(
                f'SELECT DISTINCT "{feature}" FROM features WHERE "{feature}" IS NOT NULL ORDER BY 1 LIMIT 5'
            ).fetchall()
        ]
    assert len(inner) == 5
    between = [(a + b) / 2 for a, b in itertools.pairwise(some)]
    return [low - 1, low, *some, *between, *inner, mode, high, high + 1, 0, -0.0, 1e300, -1e300], ties


def _features_by_kind(path: Path) -> list[str]:
    """The listed features plus an integer one and the numeric feature with the most NULLs."""
    with duckdb.connect(str(path), read_only=True) as con:
        types = dict(
            con.sql(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'features' "
                "AND column_name NOT IN ('SK_ID_CURR', 'split', 'TARGET')"
            ).fetchall()
        )
        integer = next(n for n, t in types.items() if t in ("BIGINT", "INTEGER") and n != "DAYS_BIRTH")
        numeric = [n for n, t in types.items() if t != "VARCHAR"]
        nulls = con.sql(
            "SELECT " + ", ".join(f'count(*) - count("{n}")' for n in numeric) + " FROM features"
        ).fetchall()[0]
    most_null = max(zip(nulls, numeric, strict=True))[1]
    assert max(nulls) > 0
    return [*FEATURES, integer, most_null]


def test_cached_percentile_equals_sql(scored: Warehouse, scored_warehouse: Path) -> None:
    assert scored.has_scores()
    checked = most_ties = 0
    for feature in _features_by_kind(scored_warehouse):
        values, ties = _probe_values(scored_warehouse, feature)
        most_ties = max(most_ties, ties)
        for value in values:
            for cohort in POPULATION_COHORTS:
                expected = scored._percentile_of_sql(feature, value, cohort)
                got = scored.percentile_of(feature, value, cohort)
                assert got == expected or (math.isnan(got) and math.isnan(expected)), (feature, value, cohort)
                checked += 1
    assert checked > 100 and most_ties > 50  # a value equal to many rows was probed
    assert ("DAYS_BIRTH", "TRUE", ()) in scored._sorted


def test_empty_population_is_nan_like_sql(scored: Warehouse) -> None:
    """No non-missing value in the cohort: NaN, as SQL's avg over no rows (seeded entry; the fixture has none)."""
    with Warehouse(scored.path) as fresh:
        fresh.percentile_of("AMT_CREDIT", 0.0)
        (key,) = fresh._sorted
        fresh._sorted[key] = np.empty(0)
        assert math.isnan(fresh.percentile_of("AMT_CREDIT", 0.0))
    assert math.isnan(scored._percentile_of_sql("AMT_CREDIT", 0.0, Cohort(client_ids=(-1,))))


def test_other_cohorts_and_errors_unchanged(scored: Warehouse) -> None:
    cohort = Cohort(age_range=(30, 50), decision="granted")
    assert scored.percentile_of("AMT_CREDIT", 5e5, cohort) == scored._percentile_of_sql(
        "AMT_CREDIT", 5e5, cohort
    )
    with pytest.raises(ValueError, match="categorical"):
        scored.percentile_of("NAME_CONTRACT_TYPE", 1.0)
    with pytest.raises(ValueError, match="unknown feature"):
        scored.percentile_of("NOPE", 1.0)
    with pytest.raises(ValueError, match="decision must be"):
        scored.percentile_of("AMT_CREDIT", 1.0, Cohort(decision="maybe"))


def test_decision_without_scores_shares_everyones_entry(small_warehouse: Path) -> None:
    with Warehouse(small_warehouse) as plain:
        assert not plain.has_scores()
        assert plain.percentile_of("AMT_CREDIT", 5e5, Cohort(decision="granted")) == plain._percentile_of_sql(
            "AMT_CREDIT", 5e5, None
        )
        plain.percentile_of("AMT_CREDIT", 5e5)
        assert len(plain._sorted) == 1


def test_lru_is_bounded(scored_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "_SORTED_VALUES_CACHE", 3)
    with Warehouse(scored_warehouse) as fresh:
        for feature in FEATURES[:3]:
            fresh.percentile_of(feature, 0.0)
        fresh.percentile_of(FEATURES[0], 0.0)  # most recently used now
        fresh.percentile_of(FEATURES[3], 0.0)  # evicts FEATURES[1]
        assert [key[0] for key in fresh._sorted] == [FEATURES[2], FEATURES[0], FEATURES[3]]
        for feature in FEATURES:
            for cohort in POPULATION_COHORTS[:3]:
                fresh.percentile_of(feature, 0.0, cohort)
        assert len(fresh._sorted) == 3
        assert source._SORTED_VALUES_CACHE == 3


def test_concurrent_calls_fetch_each_population_once(scored_warehouse: Path) -> None:
    with Warehouse(scored_warehouse) as fresh:
        expected = {
            (f, c): fresh._percentile_of_sql(f, 0.3, c) for f in FEATURES for c in POPULATION_COHORTS[:3]
        }
        fetched: list[tuple] = []
        original = fresh._con.cursor

        class Counting:
            def __init__(self) -> None:
                self.cursor = original()

            def execute(self, query: str, params: list | None = None) -> object:  # None: Warehouse's USE
                if "::DOUBLE AS v" in query:
                    fetched.append((query, tuple(params)))
                return self.cursor.execute(query, params)

            def close(self) -> None:
                self.cursor.close()

        fresh._con = _Proxy(fresh._con, Counting)
        with ThreadPoolExecutor(8) as pool:
            keys = list(expected) * 6
            results = list(pool.map(lambda key: fresh.percentile_of(key[0], 0.3, key[1]), keys))
        assert results == [expected[key] for key in keys]
        assert len(fetched) == len(set(fetched)) == len(expected)


class _Proxy:
    """A connection whose ``cursor()`` is wrapped (DuckDB connections do not take new attributes)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, make_cursor: type) -> None:
        self._con, self.cursor = con, make_cursor

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)
