"""Business-cost threshold: exact optimum on constructed cases, cost curve agreeing with the exact cost."""

from __future__ import annotations

import numpy as np
import pytest

from models.cost import best_threshold, cost_curve, near_optimal_half_width, policy_cost


def test_known_optimum_on_a_constructed_case() -> None:
    # Scores 0.1 .. 0.9. Refusing at t = 0.5 refuses the three defaulters (0.5, 0.7, 0.9) and two good clients
    # (0.6, 0.8): cost 2. A higher cut misses a defaulter (10 + ...); a lower one refuses more good clients.
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    y = np.array([0, 0, 0, 0, 1, 0, 1, 0, 1])
    choice = best_threshold(y, scores, cost_fn=10, cost_fp=1)
    assert choice.threshold == 0.5
    assert choice.cost == pytest.approx(2 / 9)  # FPs at 0.6 and 0.8
    assert choice.recall == 1.0
    assert choice.precision == pytest.approx(3 / 5)
    assert choice.approval_rate == pytest.approx(4 / 9)


def test_cheap_misses_move_the_threshold_up_to_refusing_nobody() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.4])
    y = np.array([0, 1, 0, 0])
    # Missing the default costs 1; refusing at 0.2 would cost 2 false positives (0.3, 0.4): grant everyone.
    choice = best_threshold(y, scores, cost_fn=1, cost_fp=1)
    assert choice.threshold > 0.4
    assert choice.cost == pytest.approx(1 / 4)
    assert choice.approval_rate == 1.0


def test_exact_search_agrees_with_brute_force_on_random_data() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(500) < 0.1).astype(int)
    scores = np.clip(0.08 + 0.3 * y * rng.random(500) + 0.2 * rng.random(500), 0, 1).round(3)
    choice = best_threshold(y, scores, cost_fn=10, cost_fp=1)
    brute = min(policy_cost(y, scores, t) for t in np.append(np.unique(scores), 2.0))
    assert choice.cost == pytest.approx(brute)
    assert policy_cost(y, scores, choice.threshold) == pytest.approx(choice.cost)


def test_calibrated_probabilities_put_the_optimum_near_one_eleventh() -> None:
    rng = np.random.default_rng(0)
    p = rng.beta(1, 10, size=200_000)
    y = (rng.random(len(p)) < p).astype(int)
    assert best_threshold(y, p, cost_fn=10, cost_fp=1).threshold == pytest.approx(1 / 11, abs=0.01)


def test_cost_curve_matches_policy_cost_and_grey_zone_contains_the_optimum() -> None:
    rng = np.random.default_rng(1)
    p = rng.beta(1, 10, size=20_000)
    y = (rng.random(len(p)) < p).astype(int)
    grid, costs = cost_curve(y, p)
    for t, c in zip(grid[::40], costs[::40], strict=True):
        assert c == pytest.approx(policy_cost(y, p, t))
    choice = best_threshold(y, p)
    assert choice.cost <= costs.min() + 1e-12
    half_width = near_optimal_half_width(grid, costs, choice.threshold, choice.cost)
    assert 0 < half_width < 0.1


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="0 and 1"):
        best_threshold(np.array([0, 2]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="NaN"):
        best_threshold(np.array([0, 1]), np.array([0.1, np.nan]))
