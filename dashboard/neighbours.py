"""Nearest clients from an in-memory index, built once per process.

``Warehouse.nearest_clients`` answers by scanning every client in SQL: about 70 ms on 307,511 clients, more
than the whole budget for showing a client. The dashboard always asks about the same few standardised features,
so each process loads those columns once (≈ 20 MB for 8 features) and answers a query with one vectorised
distance computation (a few milliseconds). The semantics are the warehouse's, exactly: z-scores on population
mean and population standard deviation, missing values at the mean, Euclidean distance, ties by id, the client
itself excluded (a test checks both give the same neighbours).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import numpy as np

_BUILD_LOCK = threading.Lock()


class NeighbourIndex:
    """Standardised features of every client, one contiguous row per feature (``columns[j, i]`` is client i's
    z-score on feature j: a distance then reads each feature once, in order), with ids and known outcomes."""

    def __init__(
        self,
        ids: np.ndarray,
        columns: np.ndarray,
        target: np.ndarray,
        *,
        features: tuple[str, ...] = (),
        missing: np.ndarray | None = None,
        moments: tuple[tuple[float, float], ...] = (),
    ) -> None:
        self.ids = ids
        self.columns = np.ascontiguousarray(columns)
        self.target = target
        self.features = features
        self.missing = np.zeros(self.columns.shape, dtype=bool) if missing is None else missing
        self.moments = moments
        self._row_of = {int(sk_id): row for row, sk_id in enumerate(ids)}

    @classmethod
    def from_warehouse(cls, warehouse: Any, features: tuple[str, ...]) -> NeighbourIndex:
        """Read the features of every client (one query per process) and standardise them."""
        frame = warehouse.model_frame(split=None, columns=list(features))
        columns, missing, moments = [], [], []
        for feature in features:
            values = frame[feature].cast(float).to_numpy().astype(np.float64)
            known = values[~np.isnan(values)]
            mean = float(known.mean()) if known.size else 0.0
            std = float(known.std()) if known.size else 0.0  # population std, as the warehouse's stddev_pop
            std = std or 1.0
            columns.append((np.where(np.isnan(values), mean, values) - mean) / std)
            missing.append(np.isnan(values))
            moments.append((mean, std))
        target = frame["TARGET"].cast(float).to_numpy().astype(np.float64)
        return cls(
            frame["SK_ID_CURR"].to_numpy().astype(np.int64),
            np.vstack(columns),
            target,
            features=tuple(features),
            missing=np.vstack(missing),
            moments=tuple(moments),
        )

    def nearest(self, sk_id: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest clients' ids and distances, nearest first; empty if ``sk_id`` is unknown."""
        row = self._row_of.get(int(sk_id))
        if row is None:
            return np.empty(0, dtype=np.int64), np.empty(0)
        squared = np.zeros(len(self.ids))
        for column in self.columns:  # feature by feature, summed in the same order as the warehouse's SQL
            delta = column - column[row]
            squared += delta * delta
        distances = np.sqrt(squared)
        distances[row] = np.inf
        k = min(k, len(self.ids) - 1)
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        kth = np.partition(distances, k - 1)[k - 1]
        candidates = np.flatnonzero(distances <= kth)  # every tie at the boundary, then order as SQL does
        order = np.lexsort((self.ids[candidates], distances[candidates]))[:k]
        chosen = candidates[order]
        return self.ids[chosen], distances[chosen]

    def percentile_of(self, feature: str, value: float, ids: np.ndarray) -> float | None:
        """Share of the non-missing values of ``ids`` strictly below ``value`` (the warehouse's definition);
        None when ``feature`` is not in the index; NaN for a group without values."""
        if feature not in self.features:
            return None
        column = self.features.index(feature)
        mean, std = self.moments[column]
        rows = [self._row_of[int(sk_id)] for sk_id in ids if int(sk_id) in self._row_of]
        known = self.columns[column, rows][~self.missing[column, rows]]
        return float((known < (value - mean) / std).mean()) if known.size else float("nan")

    def outcome_stats(self, ids: np.ndarray) -> tuple[int, float | None]:
        """Group size and observed default rate (over clients with a known outcome) of ``ids``."""
        rows = [self._row_of[int(sk_id)] for sk_id in ids if int(sk_id) in self._row_of]
        known = self.target[rows]
        known = known[~np.isnan(known)]
        return len(rows), (float(known.mean()) if known.size else None)


@functools.lru_cache(maxsize=4)
def _index_for(warehouse: Any, features: tuple[str, ...]) -> NeighbourIndex:
    return NeighbourIndex.from_warehouse(warehouse, features)


def neighbour_index(warehouse: Any, features: tuple[str, ...]) -> NeighbourIndex:
    """The process-wide index for ``features`` (built on first use, under a lock so only once)."""
    with _BUILD_LOCK:
        return _index_for(warehouse, features)
