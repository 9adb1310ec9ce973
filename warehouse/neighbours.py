"""The in-memory nearest-neighbour index behind :meth:`warehouse.Warehouse.nearest_clients`.

Scanning every client in SQL for each neighbour search costs more than the whole budget for showing a client, and
the dashboard always asks about the same few standardised features. So the warehouse loads those columns once,
feature-major (``z[j, i]`` is client i's z-score on feature j: a distance reads each feature once, in order), and
answers with one vectorised computation. Its semantics are the SQL reference's exactly: z-scores on the
population mean and population standard deviation, missing values at the mean, Euclidean distance summed feature
by feature in the SQL's order, ties by id, the client itself excluded. The index holds no SQL: the warehouse
gives it the columns and the moments.
"""

from __future__ import annotations

import numpy as np


class NeighbourIndex:
    """Standardised features of every client, with ids and known outcomes (NaN when unlabelled)."""

    def __init__(
        self,
        ids: np.ndarray,
        values: dict[str, np.ndarray],
        moments: dict[str, tuple[float, float]],
        target: np.ndarray,
    ) -> None:
        """Args:
        ids: client ids, one per row, ascending (rows are found by binary search: a dict of every id would
            cost a long-running server tens of megabytes).
        values: raw values per feature (float64, NaN for missing), in distance order.
        moments: population mean and standard deviation per feature (the SQL reference's).
        target: known outcome per row, NaN when unknown.
        """
        if ids.size > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            raise ValueError("NeighbourIndex needs client ids in strictly ascending order")
        self.ids = ids
        self.features = tuple(values)
        self.moments = tuple(moments[name] for name in self.features)
        self.missing = np.vstack([np.isnan(values[name]) for name in self.features])
        self.z = np.ascontiguousarray(
            np.vstack(
                [
                    (np.where(np.isnan(values[name]), mean, values[name]) - mean) / std
                    for name, (mean, std) in zip(self.features, self.moments, strict=True)
                ]
            )
        )
        self.target = target

    def rows(self, ids: tuple[int, ...]) -> np.ndarray:
        """Row numbers of the ``ids`` the index holds (unknown ids are skipped, as SQL's ``IN`` would)."""
        wanted = np.fromiter(dict.fromkeys(int(sk_id) for sk_id in ids), dtype=np.int64)
        if wanted.size == 0 or self.ids.size == 0:
            return np.empty(0, dtype=np.int64)
        rows = np.minimum(np.searchsorted(self.ids, wanted), self.ids.size - 1)
        return rows[self.ids[rows] == wanted]

    def nearest(self, sk_id: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest clients' ids and distances, nearest first; empty if ``sk_id`` is unknown."""
        found = self.rows((sk_id,))
        row = int(found[0]) if found.size else None
        k = min(int(k), len(self.ids) - 1)
        if row is None or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        squared = np.zeros(len(self.ids))
        for column in self.z:
            delta = column - column[row]
            squared += delta * delta
        distances = np.sqrt(squared)
        distances[row] = np.inf
        kth = np.partition(distances, k - 1)[k - 1]
        candidates = np.flatnonzero(distances <= kth)  # every tie at the boundary, then order as SQL does
        chosen = candidates[np.lexsort((self.ids[candidates], distances[candidates]))[:k]]
        return self.ids[chosen], distances[chosen]

    def percentile_of(self, feature: str, value: float, rows: np.ndarray) -> float:
        """Share of the non-missing values of ``rows`` strictly below ``value``; NaN for a group without values."""
        j = self.features.index(feature)
        mean, std = self.moments[j]
        known = self.z[j, rows][~self.missing[j, rows]]
        return float((known < (float(value) - mean) / std).mean()) if known.size else float("nan")

    def outcome_stats(self, rows: np.ndarray) -> dict:
        """``n``, ``n_labelled`` and ``default_rate`` of ``rows``, as :meth:`Warehouse.cohort_stats` gives them."""
        outcomes = self.target[rows]
        known = outcomes[~np.isnan(outcomes)]
        return {
            "n": int(rows.size),
            "n_labelled": int(known.size),
            "default_rate": float(known.mean()) if known.size else None,
        }
