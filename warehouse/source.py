"""Read side of the warehouse: cohort queries for the dashboard and the scorer, as Polars frames.

One read-only DuckDB connection per :class:`Warehouse`, a fresh cursor per call (thread-safe). Feature and column
names are checked against the catalogue before they reach SQL; values always travel as parameters.
Population-wide statistics (histogram edges, means and standard deviations) are computed once and cached, and
``percentile_of`` answers the population-wide cohorts (everyone, or one decision) from cached sorted values.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from warehouse.arrow_exchange import to_polars
from warehouse.neighbours import NeighbourIndex

_KEY_COLUMNS = ("SK_ID_CURR", "split", "TARGET")
_EDGE_QUANTILES = (0.005, 0.995)  # histogram range: robust to the 117 M income and similar outliers
_GROUP_BANDS = 5
_SORTED_VALUES_CACHE = 32  # (feature, population-wide cohort) entries; ~2.5 MB each on 307,511 clients
_NEIGHBOUR_INDEXES = 4  # feature sets kept in memory; the dashboard uses one
_FEATURES_ROW = "SELECT * FROM features WHERE SK_ID_CURR = ?"
_APPLICATION_ROW = (
    "SELECT * FROM application_train WHERE SK_ID_CURR = ? "
    "UNION ALL BY NAME SELECT * FROM application_test WHERE SK_ID_CURR = ?"
)


@dataclass(frozen=True)
class Cohort:
    """An explainable group of clients; every field left to None does not filter.

    Ranges are inclusive ``(low, high)`` in human units (age in years, income in currency); categorical fields
    take one Kaggle level or a tuple of levels; ``decision`` ('granted' | 'refused') filters on the ``scores``
    table when the file has one and is ignored otherwise.
    """

    age_range: tuple[float, float] | None = None
    income_range: tuple[float, float] | None = None
    contract_type: str | tuple[str, ...] | None = None
    gender: str | tuple[str, ...] | None = None
    family_status: str | tuple[str, ...] | None = None
    education: str | tuple[str, ...] | None = None
    decision: str | None = None
    client_ids: tuple[int, ...] | None = None


_CATEGORY_FILTERS = {
    "contract_type": "NAME_CONTRACT_TYPE",
    "gender": "CODE_GENDER",
    "family_status": "NAME_FAMILY_STATUS",
    "education": "NAME_EDUCATION_TYPE",
}


class Warehouse:
    """Read-only access to a warehouse file built by :func:`warehouse.build_warehouse`."""

    def __init__(self, path: Path | str, *, memory_limit: str | None = None) -> None:
        """Open ``path`` read-only.

        ``memory_limit`` (DuckDB syntax, e.g. ``"256MB"``) bounds DuckDB's buffer cache: a long-running server
        reads many small pieces of the file and would otherwise keep them cached up to most of the machine's
        memory, while training reads whole tables and needs no bound.
        """
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no warehouse at {self.path}: run scripts/build_warehouse.py first")
        # Not duckdb.connect(path): DuckDB shares one database instance per path within a process, so after a
        # rebuild a new Warehouse would still read the replaced file while an older one is open. A private
        # in-memory instance attaching the file reads what is at ``path`` now; see ``_cursor`` for the USE.
        config = {"python_enable_replacements": False}
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        self._con = duckdb.connect(":memory:", config=config)
        self._con.execute(f"ATTACH '{str(self.path).replace(chr(39), chr(39) * 2)}' AS warehouse (READ_ONLY)")
        self._con.execute("USE warehouse")
        self._lock = threading.Lock()
        self._row_read_lock = threading.Lock()
        self._edges: dict[str, tuple[float, float]] = {}
        self._moments: dict[str, tuple[float, float]] = {}
        self._bands: dict[str, list[float]] = {}
        self._sorted_lock = threading.Lock()
        self._sorted: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._sorted_loading: dict[tuple, threading.Lock] = {}
        self._index_lock = threading.Lock()
        self._indexes: OrderedDict[tuple[str, ...], NeighbourIndex] = OrderedDict()
        columns = self._rows(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'features' "
            "AND database_name = current_database() ORDER BY column_index"
        )
        self._types = {name: dtype for name, dtype in columns if name not in _KEY_COLUMNS}
        self._catalog: pl.DataFrame | None = None
        self._row_schemas: dict[str, pl.Schema] = {}
        # The file is never written while open read-only (a rebuild replaces it), so the answer cannot change.
        self._has_scores = bool(
            self._rows(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'scores' "
                "AND database_name = current_database()"
            )[0][0]
        )

    def close(self) -> None:
        self._con.close()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh connection for one call (thread-safe); the default database is per connection, hence USE."""
        cursor = self._con.cursor()
        cursor.execute("USE warehouse")
        return cursor

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------------------------
    def _rows(self, query: str, params: Sequence[object] = ()) -> list[tuple]:
        cursor = self._cursor()
        try:
            return cursor.execute(query, list(params)).fetchall()
        finally:
            cursor.close()

    def _frame(self, query: str, params: Sequence[object] = ()) -> pl.DataFrame:
        cursor = self._cursor()
        try:
            result = cursor.execute(query, list(params))
            names = [d[0] for d in result.description]
            rows = result.fetchall()
        finally:
            cursor.close()
        return pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)

    def _feature(self, name: str, *, numeric: bool = False) -> str:
        """Quoted column name, after checking it is a feature (and numeric if asked)."""
        if name not in self._types:
            raise ValueError(f"unknown feature {name!r}")
        if numeric and self._types[name] == "VARCHAR":
            raise ValueError(f"feature {name!r} is categorical; use group_default_rates instead")
        return f'"{name}"'

    def _where(self, cohort: Cohort | None) -> tuple[str, list[object]]:
        """SQL condition over ``features`` for ``cohort`` and its parameters."""
        if cohort is None:
            return "TRUE", []
        conditions: list[str] = []
        params: list[object] = []
        if cohort.age_range is not None:
            low, high = cohort.age_range
            conditions.append("DAYS_BIRTH BETWEEN ? AND ?")
            params += _integer_bounds(-high * 365.25, -low * 365.25)
        if cohort.income_range is not None:
            conditions.append("AMT_INCOME_TOTAL BETWEEN ? AND ?")
            params += list(cohort.income_range)
        for field, column in _CATEGORY_FILTERS.items():
            value = getattr(cohort, field)
            if value is not None:
                levels = [value] if isinstance(value, str) else list(value)
                conditions.append(
                    f"{column} IN ({', '.join('?' * len(levels))})"
                )  # a plain IN list is fastest
                params += levels
        if cohort.decision is not None and self.has_scores():
            if cohort.decision not in ("granted", "refused"):
                raise ValueError(f"decision must be 'granted' or 'refused', got {cohort.decision!r}")
            conditions.append("SK_ID_CURR IN (SELECT SK_ID_CURR FROM scores WHERE DECISION = ?)")
            params.append(cohort.decision)
        if cohort.client_ids is not None:
            conditions.append("SK_ID_CURR IN (SELECT unnest(?::BIGINT[]))")
            params.append([int(i) for i in cohort.client_ids])
        return (" AND ".join(conditions) or "TRUE"), params

    def _population_range(self, feature: str) -> tuple[float, float]:
        """Histogram range of ``feature`` over everyone: the 0.5 %-99.5 % quantiles (cached)."""
        with self._lock:
            if feature not in self._edges:
                column = self._feature(feature, numeric=True)
                low, high = self._rows(
                    f"SELECT quantile_cont({column}, {_EDGE_QUANTILES[0]}), "
                    f"quantile_cont({column}, {_EDGE_QUANTILES[1]}) FROM features"
                )[0]
                if low is None:
                    low = high = 0.0
                self._edges[feature] = (float(low), float(high) if high > low else float(low) + 1.0)
            return self._edges[feature]

    # -- clients ----------------------------------------------------------------------------------------------
    def search_clients(self, prefix: str, limit: int = 20) -> list[int]:
        """Ids starting with the digits typed, smallest first; ``[]`` for empty or non-digit input."""
        prefix = prefix.strip()
        if not prefix.isdigit():
            return []
        rows = self._rows(
            "SELECT SK_ID_CURR FROM features WHERE starts_with(SK_ID_CURR::VARCHAR, ?) ORDER BY SK_ID_CURR LIMIT ?",
            [prefix, int(limit)],
        )
        return [row[0] for row in rows]

    def stored_decisions(self, sk_ids: Sequence[int]) -> dict[int, str]:
        """The stored decision ('granted' | 'refused') of each id that has a score; ``{}`` without scores, so a
        list of clients can show each one's decision without scoring them."""
        ids = [int(sk_id) for sk_id in sk_ids]
        if not ids or not self.has_scores():
            return {}
        rows = self._rows("SELECT SK_ID_CURR, DECISION FROM scores WHERE list_contains(?, SK_ID_CURR)", [ids])
        return {int(sk_id): decision for sk_id, decision in rows}

    def client_profile(self, sk_id: int) -> dict | None:
        frame = self._frame("SELECT * FROM clients WHERE SK_ID_CURR = ?", [int(sk_id)])
        return frame.row(0, named=True) if frame.height else None

    def client_features(self, sk_id: int) -> pl.DataFrame:
        return self._row_frame(_FEATURES_ROW, [int(sk_id)])

    def application_row(self, sk_id: int) -> pl.DataFrame:
        """The raw application row (train or test; TARGET is NULL for test) for what-if editing."""
        return self._row_frame(_APPLICATION_ROW, [int(sk_id)] * 2)

    def _row_frame(self, query: str, params: Sequence[object]) -> pl.DataFrame:
        """A lookup of a row or two, typed like :meth:`_typed` but run with ``cursor.execute``.

        Reading a relation into Polars binds the query and then runs it, which doubled the cost of fetching one
        229-column ``features`` row; the Polars schema it gives is asked once per query (every ``?`` compared
        to NULL, so no row) and the rows are fetched as Python values into it.
        """
        with self._lock:
            if query not in self._row_schemas:
                self._row_schemas[query] = self._typed(query.replace("?", "NULL")).schema
            schema = self._row_schemas[query]
        # One row of a wide table pins a block of each of its columns in DuckDB's buffer at once; reading one such
        # row at a time keeps a server's bounded buffer (``memory_limit``) from running out under concurrent loads.
        with self._row_read_lock:
            rows = self._rows(query, params)
        return pl.DataFrame(rows, schema=schema, orient="row")

    def _typed(self, query: str) -> pl.DataFrame:
        """Result with DuckDB's column types kept even when empty or all-NULL. Only for queries whose values
        are interpolated from validated values or checked names (relations take no parameters cheaply)."""
        cursor = self._cursor()
        try:
            return to_polars(cursor.sql(query))
        finally:
            cursor.close()

    def model_frame(self, split: str | None = "train", columns: list[str] | None = None) -> pl.DataFrame:
        """``features`` rows of one split (or all with None), optionally only some feature columns."""
        select = "*" if columns is None else ", ".join([*_KEY_COLUMNS, *(self._feature(c) for c in columns)])
        if split is None:
            return self._typed(f"SELECT {select} FROM features ORDER BY SK_ID_CURR")
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train', 'test' or None, got {split!r}")
        return self._typed(f"SELECT {select} FROM features WHERE split = '{split}' ORDER BY SK_ID_CURR")

    def feature_catalog(self) -> pl.DataFrame:
        """``name, dtype, is_categorical, levels`` for every feature column (levels only for categorical)."""
        with self._lock:
            if self._catalog is None:
                rows = []
                for name, dtype in self._types.items():
                    levels = None
                    if dtype == "VARCHAR":
                        levels = [
                            r[0]
                            for r in self._rows(
                                f'SELECT DISTINCT "{name}" FROM features WHERE "{name}" IS NOT NULL ORDER BY 1'
                            )
                        ]
                    rows.append(
                        {"name": name, "dtype": dtype, "is_categorical": dtype == "VARCHAR", "levels": levels}
                    )
                self._catalog = pl.DataFrame(
                    rows,
                    schema={
                        "name": pl.String,
                        "dtype": pl.String,
                        "is_categorical": pl.Boolean,
                        "levels": pl.List(pl.String),
                    },
                )
            return self._catalog

    # -- cohorts ----------------------------------------------------------------------------------------------
    def cohort_stats(self, cohort: Cohort | None = None) -> dict:
        """``n``, ``n_labelled`` and ``default_rate`` (None without labels) of the cohort.

        A cohort of listed clients only (a neighbour group) is answered from a loaded neighbour index, which holds
        every client's outcome; anything else is one SQL query. Both give the same answer.
        """
        index = self._index_for_ids(cohort)
        if index is not None:
            return index.outcome_stats(index.rows(cohort.client_ids))
        return self._cohort_stats_sql(cohort)

    def _cohort_stats_sql(self, cohort: Cohort | None) -> dict:
        """``cohort_stats`` computed in SQL, for any cohort (the reference the index path must match)."""
        where, params = self._where(cohort)
        n, labelled, rate = self._rows(
            f"SELECT count(*), count(TARGET), avg(TARGET) FROM features WHERE {where}", params
        )[0]
        return {"n": n, "n_labelled": labelled, "default_rate": rate}

    def histogram(self, feature: str, cohort: Cohort | None = None, bins: int = 30) -> pl.DataFrame:
        """Counts per bin on population-wide edges; values beyond the 0.5-99.5 % range go to the end bins."""
        column = self._feature(feature, numeric=True)
        low, high = self._population_range(feature)
        width = (high - low) / bins
        where, params = self._where(cohort)
        rows = self._rows(
            f"SELECT least(greatest(floor(({column} - ?) / ?), 0), ?)::INTEGER AS bin, count(*), "
            f"coalesce(sum(TARGET), 0) FROM features WHERE {column} IS NOT NULL AND {where} GROUP BY bin",
            [low, width, bins - 1, *params],
        )
        return _bin_frame(low, width, bins, rows)

    def bin_edges(self, feature: str, bins: int = 30) -> list[float]:
        """The ``bins + 1`` population-wide edges :meth:`histogram` and :meth:`bivariate` count on."""
        low, high = self._population_range(feature)
        width = (high - low) / bins
        return [low + i * width for i in range(bins + 1)]

    def bin_of(self, feature: str, value: float, bins: int = 30) -> int:
        """The bin :meth:`histogram` counts ``value`` in (values beyond the range go to the end bins)."""
        self._feature(feature, numeric=True)
        low, high = self._population_range(feature)
        return min(max(math.floor((float(value) - low) / ((high - low) / bins)), 0), bins - 1)

    def percentile_of(self, feature: str, value: float, cohort: Cohort | None = None) -> float:
        """Share (0-1) of the cohort's non-missing values strictly below ``value``; NaN for an empty cohort.

        Population-wide cohorts (everyone, or a cohort whose only field is ``decision``) are the same few groups
        for every client: they are answered from the cohort's sorted values, fetched once and kept in a bounded
        LRU; a neighbour group on an indexed feature from the neighbour index; any other cohort is one SQL query.
        All give the same answer.
        """
        if cohort is None or cohort == Cohort(decision=cohort.decision):
            values = self._sorted_values(feature, cohort)
            if values.size == 0:
                return math.nan
            return int(np.searchsorted(values, float(value), side="left")) / values.size
        index = self._index_for_ids(cohort, feature)
        if index is not None:
            return index.percentile_of(feature, value, index.rows(cohort.client_ids))
        return self._percentile_of_sql(feature, value, cohort)

    def _percentile_of_sql(self, feature: str, value: float, cohort: Cohort | None) -> float:
        """``percentile_of`` computed in SQL, for any cohort (the reference the cached path must match)."""
        column = self._feature(feature, numeric=True)
        where, params = self._where(cohort)
        share = self._rows(
            f"SELECT avg(({column} < ?)::DOUBLE) FROM features WHERE {column} IS NOT NULL AND {where}",
            [float(value), *params],
        )[0][0]
        return math.nan if share is None else float(share)

    def _sorted_values(self, feature: str, cohort: Cohort | None) -> np.ndarray:
        """Ascending non-missing values of ``feature`` in ``cohort`` as float64 (LRU-cached per instance).

        Keyed on the SQL condition, so a ``decision`` ignored for lack of ``scores`` shares everyone's entry and a
        bad decision raises as in SQL. Comparing an integer column with a DOUBLE in DuckDB casts it to DOUBLE, so
        float64 values compare exactly as the SQL path does (NaN sorts last in both).
        """
        column = self._feature(feature, numeric=True)
        where, params = self._where(cohort)
        key = (feature, where, tuple(params))
        with self._sorted_lock:
            values = self._sorted.get(key)
            if values is not None:
                self._sorted.move_to_end(key)
                return values
            loading = self._sorted_loading.setdefault(key, threading.Lock())
        with loading:  # one fetch per key; other keys are fetched and answered meanwhile
            with self._sorted_lock:
                values = self._sorted.get(key)
            if values is None:
                cursor = self._cursor()
                try:
                    fetched = cursor.execute(
                        f"SELECT {column}::DOUBLE AS v FROM features WHERE {column} IS NOT NULL AND {where}",
                        params,
                    ).fetchnumpy()["v"]
                finally:
                    cursor.close()
                values = np.sort(np.asarray(fetched, dtype=np.float64))
                values.setflags(write=False)
            with self._sorted_lock:
                self._sorted[key] = values
                self._sorted.move_to_end(key)
                while len(self._sorted) > _SORTED_VALUES_CACHE:
                    self._sorted.popitem(last=False)
                self._sorted_loading.pop(key, None)
            return values

    def quantiles(
        self, feature: str, cohort: Cohort | None = None, qs: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9)
    ) -> dict[float, float]:
        column = self._feature(feature, numeric=True)
        if not all(0 <= q <= 1 for q in qs):
            raise ValueError(f"quantiles must lie in [0, 1], got {list(qs)}")
        where, params = self._where(cohort)
        values = self._rows(
            f"SELECT quantile_cont({column}, ?::DOUBLE[]) FROM features WHERE {where}", [list(qs), *params]
        )[0][0]
        if values is None:
            return {q: math.nan for q in qs}
        return {q: (math.nan if v is None else float(v)) for q, v in zip(qs, values, strict=True)}

    def group_default_rates(self, column: str, cohort: Cohort | None = None) -> pl.DataFrame:
        """``group, n, default_rate`` per category (numeric columns in population-wide quintile bands)."""
        quoted = self._feature(column)
        where, params = self._where(cohort)
        if self._types[column] == "VARCHAR":
            group_sql, group_params = f"coalesce({quoted}, 'missing')", []
        else:
            edges = self._band_edges(column)
            group_sql = (
                f"CASE WHEN {quoted} IS NULL THEN 'missing' ELSE "
                f"'band ' || (1 + list_count(list_filter(?::DOUBLE[], lambda e: e <= {quoted}))) END"
            )
            group_params = [edges]
        rows = self._rows(
            f"SELECT {group_sql} AS grp, count(*), avg(TARGET) FROM features WHERE {where} "
            f"GROUP BY grp ORDER BY grp",
            [*group_params, *params],
        )
        if self._types[column] != "VARCHAR":
            labels = self._band_labels(column)
            rows = [(labels.get(g, g), n, rate) for g, n, rate in rows]
        return pl.DataFrame(
            rows, schema={"group": pl.String, "n": pl.Int64, "default_rate": pl.Float64}, orient="row"
        )

    def _band_edges(self, column: str) -> list[float]:
        with self._lock:
            if column not in self._bands:
                qs = [i / _GROUP_BANDS for i in range(1, _GROUP_BANDS)]
                values = self._rows(f'SELECT quantile_cont("{column}", ?::DOUBLE[]) FROM features', [qs])[0][
                    0
                ]
                self._bands[column] = sorted({float(v) for v in values or [] if v is not None})
            return self._bands[column]

    def _band_labels(self, column: str) -> dict[str, str]:
        edges = self._band_edges(column)
        bounds = ["-inf", *(f"{e:.4g}" for e in edges), "+inf"]
        return {f"band {i + 1}": f"[{bounds[i]}, {bounds[i + 1]})" for i in range(len(bounds) - 1)}

    def nearest_clients(self, sk_id: int, features: Sequence[str], k: int = 50) -> pl.DataFrame:
        """The ``k`` clients closest to ``sk_id`` in z-scored ``features`` (missing → population mean), the
        client excluded, nearest first (ties by id); empty for an unknown client.

        Answered from an in-memory index of ``features`` (loaded on first use, a few kept per process): see
        :mod:`warehouse.neighbours`. :meth:`_nearest_clients_sql` is the reference it is tested against.
        """
        index = self.neighbour_index(features)
        ids, distances = index.nearest(sk_id, k)
        return pl.DataFrame(
            {"SK_ID_CURR": ids, "distance": distances},
            schema={"SK_ID_CURR": pl.Int64, "distance": pl.Float64},
        )

    def neighbour_index(self, features: Sequence[str]) -> NeighbourIndex:
        """The index of ``features``, read once (one query) under a lock so concurrent first users share it."""
        key = tuple(features)
        if not key:
            raise ValueError("nearest_clients needs at least one feature")
        columns = [self._feature(f, numeric=True) for f in key]
        with self._index_lock:
            index = self._indexes.get(key)
            if index is None:
                moments = {f: self._moments_of(f) for f in dict.fromkeys(key)}
                cursor = self._cursor()
                try:
                    fetched = cursor.execute(
                        f"SELECT SK_ID_CURR, TARGET::DOUBLE AS TARGET, "
                        f"{', '.join(f'{c}::DOUBLE AS {c}' for c in dict.fromkeys(columns))} "
                        f"FROM features ORDER BY SK_ID_CURR"
                    ).fetchnumpy()
                finally:
                    cursor.close()

                def floats(name: str) -> np.ndarray:
                    return np.asarray(
                        np.ma.filled(fetched[name].astype(np.float64), np.nan), dtype=np.float64
                    )

                index = NeighbourIndex(
                    np.asarray(fetched["SK_ID_CURR"], dtype=np.int64),
                    {f: floats(f) for f in key},
                    moments,
                    floats("TARGET"),
                )
                self._indexes[key] = index
                while len(self._indexes) > _NEIGHBOUR_INDEXES:
                    self._indexes.popitem(last=False)
            self._indexes.move_to_end(key)
            return index

    def _index_for_ids(self, cohort: Cohort | None, feature: str | None = None) -> NeighbourIndex | None:
        """A loaded index able to answer for ``cohort`` when it lists clients and nothing else (holding
        ``feature`` when one is asked), else None."""
        if cohort is None or cohort.client_ids is None or cohort != Cohort(client_ids=cohort.client_ids):
            return None
        with self._index_lock:
            return next(
                (index for index in self._indexes.values() if feature is None or feature in index.features),
                None,
            )

    def _nearest_clients_sql(self, sk_id: int, features: Sequence[str], k: int = 50) -> pl.DataFrame:
        """``nearest_clients`` computed in SQL (the reference the index must match)."""
        if not features:
            raise ValueError("nearest_clients needs at least one feature")
        columns = [self._feature(f, numeric=True) for f in features]
        moments = [self._moments_of(f) for f in features]
        z_terms = [
            f"(coalesce({c}, {m!r}) - {m!r}) / {s!r}" for c, (m, s) in zip(columns, moments, strict=True)
        ]
        target_terms = ", ".join(f"{t} AS z{i}" for i, t in enumerate(z_terms))
        distance = " + ".join(f"pow({t} - me.z{i}, 2)" for i, t in enumerate(z_terms))
        return self._frame(
            f"WITH me AS (SELECT {target_terms} FROM features WHERE SK_ID_CURR = ?) "
            f"SELECT SK_ID_CURR, sqrt({distance}) AS distance FROM features, me WHERE SK_ID_CURR <> ? "
            f"ORDER BY distance, SK_ID_CURR LIMIT ?",
            [int(sk_id), int(sk_id), int(k)],
        ).cast({"SK_ID_CURR": pl.Int64, "distance": pl.Float64})

    def _moments_of(self, feature: str) -> tuple[float, float]:
        with self._lock:
            if feature not in self._moments:
                mean, std = self._rows(f'SELECT avg("{feature}"), stddev_pop("{feature}") FROM features')[0]
                self._moments[feature] = (float(mean or 0.0), float(std) if std else 1.0)
            return self._moments[feature]

    def bivariate(self, x: str, y: str, cohort: Cohort | None = None, bins: int = 40) -> pl.DataFrame:
        """Counts and default rate on a ``bins`` × ``bins`` grid of population-wide ranges: ``x_index, y_index``
        (the bins :meth:`bin_of` gives), ``x_bin, y_bin`` (their lower edges), ``count, default_rate``."""
        x_column, y_column = self._feature(x, numeric=True), self._feature(y, numeric=True)
        (x_low, x_high), (y_low, y_high) = self._population_range(x), self._population_range(y)
        x_width, y_width = (x_high - x_low) / bins, (y_high - y_low) / bins
        where, params = self._where(cohort)
        last = bins - 1
        return self._frame(
            f"SELECT x_index, y_index, ? + ? * x_index AS x_bin, ? + ? * y_index AS y_bin, "
            f"count(*) AS count, avg(TARGET) AS default_rate FROM ("
            f"SELECT least(greatest(floor(({x_column} - ?) / ?), 0), {last})::INTEGER AS x_index, "
            f"least(greatest(floor(({y_column} - ?) / ?), 0), {last})::INTEGER AS y_index, TARGET FROM features "
            f"WHERE {x_column} IS NOT NULL AND {y_column} IS NOT NULL AND {where}) GROUP BY ALL ORDER BY ALL",
            [x_low, x_width, y_low, y_width, x_low, x_width, y_low, y_width, *params],
        ).cast(
            {
                "x_index": pl.Int64,
                "y_index": pl.Int64,
                "x_bin": pl.Float64,
                "y_bin": pl.Float64,
                "count": pl.Int64,
                "default_rate": pl.Float64,
            }
        )

    # -- scores -----------------------------------------------------------------------------------------------
    def has_scores(self) -> bool:
        return self._has_scores

    def build_info(self) -> dict[str, str] | None:
        """The ``build_info`` row (``build_id``, ``built_at``, ``data_fingerprint``, ``origin``, ...) as text;
        None for a file built before builds were recorded, which readers must treat as an unknown version."""
        if not self._has_table("build_info"):
            return None
        cursor = self._cursor()
        try:
            cursor.execute("SELECT * FROM build_info LIMIT 1")
            names = [column[0] for column in cursor.description]
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else {name: str(value) for name, value in zip(names, row, strict=True)}

    def scores_model_id(self) -> str | None:
        """Id of the model that wrote the ``scores`` table; None without scores or when no model was recorded."""
        if not self._has_scores or not self._has_table("scores_info"):
            return None
        rows = self._rows("SELECT model_id FROM scores_info LIMIT 1")
        return rows[0][0] if rows else None

    def _has_table(self, name: str) -> bool:
        return bool(
            self._rows(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND database_name = current_database()",
                [name],
            )[0][0]
        )

    def share_scored_below(self, probability: float) -> float:
        """Share of the scored clients whose probability is strictly below ``probability`` (the approval rate at
        that threshold); NaN when ``scores`` is empty."""
        if not self.has_scores():
            raise LookupError("this warehouse has no scores table; train and publish a scorer first")
        share = self._rows("SELECT avg((PROBABILITY < ?)::DOUBLE) FROM scores", [float(probability)])[0][0]
        return math.nan if share is None else float(share)

    def score_histogram(self, bins: int = 50) -> pl.DataFrame:
        """Clients per probability bin on [0, 1], with the known defaults among them."""
        if not self.has_scores():
            raise LookupError("this warehouse has no scores table; train and publish a scorer first")
        rows = self._rows(
            "SELECT least(floor(s.PROBABILITY * ?), ?)::INTEGER AS bin, count(*), coalesce(sum(f.TARGET), 0) "
            "FROM scores s LEFT JOIN features f USING (SK_ID_CURR) GROUP BY bin",
            [bins, bins - 1],
        )
        return _bin_frame(0.0, 1.0 / bins, bins, rows)


def _integer_bounds(low: float, high: float) -> list[float]:
    """``ceil(low), floor(high)``: the same integers pass ``BETWEEN`` as with ``low, high``, but an integer bound
    lets DuckDB filter a BIGINT column in the scan instead of casting every value to DOUBLE (about 1.5 ms of a
    cohort query over 356,255 rows). Infinite bounds stay as they are."""
    return [math.ceil(low) if math.isfinite(low) else low, math.floor(high) if math.isfinite(high) else high]


def _bin_frame(low: float, width: float, bins: int, rows: list[tuple]) -> pl.DataFrame:
    """``bin_start, bin_end, count, n_default`` for every bin, empty bins included."""
    counts = {index: (count, n_default) for index, count, n_default in rows}
    return pl.DataFrame(
        {
            "bin_start": [low + i * width for i in range(bins)],
            "bin_end": [low + (i + 1) * width for i in range(bins)],
            "count": [counts.get(i, (0, 0))[0] for i in range(bins)],
            "n_default": [counts.get(i, (0, 0))[1] for i in range(bins)],
        },
        schema={"bin_start": pl.Float64, "bin_end": pl.Float64, "count": pl.Int64, "n_default": pl.Int64},
    )
