"""Business cost of a decision threshold: cost = cost_fn·FN + cost_fp·FP, normalised per client.

A client is refused when its probability of default is at or above the threshold. A missed default (false
negative: granted, then defaults) loses capital; a wrongly refused good client (false positive) loses a margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ThresholdChoice:
    """The cost-minimising threshold and what the policy does on the data it was chosen on."""

    threshold: float
    cost: float
    recall: float
    precision: float
    approval_rate: float


def _sorted_candidates(y_true: np.ndarray, scores: np.ndarray):
    """Distinct scores (ascending) with, for each, the positives and negatives scoring strictly below it."""
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    sorted_y = y_true[order]
    distinct, first_index = np.unique(sorted_scores, return_index=True)
    positives_before = np.concatenate([[0], np.cumsum(sorted_y)])[first_index]
    negatives_before = first_index - positives_before
    return distinct, positives_before, negatives_before


def _validated(y_true, scores) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1 or len(y) == 0:
        raise ValueError("y_true and scores must be non-empty 1-D arrays of the same length")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y_true must contain only 0 and 1")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    return y, s


def policy_cost(y_true, scores, threshold: float, cost_fn: float = 10.0, cost_fp: float = 1.0) -> float:
    """Cost per client of refusing everyone whose score is >= threshold."""
    y, s = _validated(y_true, scores)
    refused = s >= threshold
    false_negatives = np.sum((y == 1) & ~refused)
    false_positives = np.sum((y == 0) & refused)
    return float((cost_fn * false_negatives + cost_fp * false_positives) / len(y))


def best_threshold(y_true, scores, cost_fn: float = 10.0, cost_fp: float = 1.0) -> ThresholdChoice:
    """Exact arg-min of the cost over every distinct cut of the scores (not a 0.01 grid).

    Candidate thresholds are the distinct scores themselves plus "refuse nobody" (reported as the next float above
    the largest score). Ties in cost go to the lower threshold, i.e. the more prudent policy.
    """
    y, s = _validated(y_true, scores)
    n = len(y)
    n_pos = int(y.sum())
    distinct, pos_below, neg_below = _sorted_candidates(y, s)
    # Threshold = distinct[k]: clients below it are granted; FN = positives below, FP = negatives at or above.
    fn = np.append(pos_below, n_pos)
    fp = np.append((n - n_pos) - neg_below, 0)
    costs = (cost_fn * fn + cost_fp * fp) / n
    best = int(np.argmin(costs))
    threshold = float(distinct[best]) if best < len(distinct) else float(np.nextafter(distinct[-1], np.inf))
    tp = n_pos - fn[best]
    refused = tp + fp[best]
    return ThresholdChoice(
        threshold=threshold,
        cost=float(costs[best]),
        recall=float(tp / n_pos) if n_pos else 0.0,
        precision=float(tp / refused) if refused else 0.0,
        approval_rate=float(1 - refused / n),
    )


def cost_curve(
    y_true, scores, cost_fn: float = 10.0, cost_fp: float = 1.0, grid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cost per client at each threshold of a display grid (default 0 to 1 by 0.005)."""
    y, s = _validated(y_true, scores)
    thresholds = np.linspace(0.0, 1.0, 201) if grid is None else np.asarray(grid, dtype=np.float64)
    sorted_pos = np.sort(s[y == 1])
    sorted_neg = np.sort(s[y == 0])
    fn = np.searchsorted(sorted_pos, thresholds, side="left")
    fp = len(sorted_neg) - np.searchsorted(sorted_neg, thresholds, side="left")
    return thresholds, (cost_fn * fn + cost_fp * fp) / len(y)


def near_optimal_half_width(
    thresholds: np.ndarray, costs: np.ndarray, best: float, best_cost: float, tolerance: float = 0.02
) -> float:
    """Half-width of the band of thresholds whose cost is within ``tolerance`` (relative) of the optimum.

    Any threshold in that band is an almost equally good policy, so a client whose probability falls inside it
    could fairly be decided either way: this is the grey zone the dashboard flags for a human look.
    """
    near = np.append(thresholds[costs <= min(costs.min(), best_cost) * (1 + tolerance)], best)
    return float((near.max() - near.min()) / 2)
