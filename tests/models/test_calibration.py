"""Platt calibration: recovers a known distortion, improves Brier, round-trips through JSON, inverts exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import expit, logit

from models.calibration import (
    PlattCalibration,
    brier_score,
    expected_calibration_error,
    reliability_table,
)


def _reweighted_scores(n: int = 50_000, weight: float = 10.0):
    """True probabilities and the raw log-odds a model trained with positives weighted ×weight would give."""
    rng = np.random.default_rng(0)
    p = rng.beta(1, 11, size=n)
    y = (rng.random(n) < p).astype(int)
    return y, p, logit(p) + np.log(weight)


def test_recovers_the_shift_of_reweighting_and_improves_brier() -> None:
    y, _, raw = _reweighted_scores()
    calibration = PlattCalibration.fit(raw, y)
    assert calibration.slope == pytest.approx(1.0, abs=0.1)
    assert calibration.intercept == pytest.approx(-np.log(10.0), abs=0.15)
    before, after = expit(raw), calibration.probability(raw)
    assert brier_score(y, after) < brier_score(y, before)
    assert expected_calibration_error(y, after) < 0.01 < expected_calibration_error(y, before)


def test_json_round_trip_and_inverse() -> None:
    y, _, raw = _reweighted_scores(5_000)
    calibration = PlattCalibration.fit(raw, y)
    again = PlattCalibration.from_json(json.loads(json.dumps(calibration.to_json())))
    assert again == calibration
    assert calibration.probability(calibration.raw_score_for(0.09)) == pytest.approx(0.09)


def test_reliability_table_covers_every_client() -> None:
    y, p, _ = _reweighted_scores(1_000)
    table = reliability_table(y, p, n_bins=10)
    assert sum(row["n"] for row in table) == 1_000
    assert [row["mean_predicted"] for row in table] == sorted(row["mean_predicted"] for row in table)


def test_backwards_ranking_is_refused() -> None:
    y, _, raw = _reweighted_scores(5_000)
    with pytest.raises(ValueError, match="backwards"):
        PlattCalibration.fit(-raw, y)
