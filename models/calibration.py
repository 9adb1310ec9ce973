"""Platt calibration of the raw LightGBM log-odds, and the numbers that show whether it helped.

Why Platt (a logistic regression on the raw score) rather than isotonic: what needs fixing is a scale, not a
shape (L2 shrinkage and early stopping can leave the raw log-odds slightly under-confident; reweighting, if
used, shifts them), which an affine map in log-odds undoes. It is strictly monotone (the ranking, hence the AUC
and the set of possible decisions, is unchanged), smooth (a what-if edit always moves the probability, no
isotonic plateaus), two numbers in JSON, and it keeps the TreeSHAP contributions exact:
calibrated logit = slope · (base value + Σ contributions) + intercept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit


@dataclass(frozen=True)
class PlattCalibration:
    """p = sigmoid(slope · raw_score + intercept)."""

    slope: float
    intercept: float

    @classmethod
    def fit(cls, raw_scores: np.ndarray, y_true: np.ndarray) -> PlattCalibration:
        """Maximum likelihood fit (unregularised) on out-of-fold raw scores."""
        raw = np.asarray(raw_scores, dtype=np.float64)
        y = np.asarray(y_true, dtype=np.float64)

        def negative_log_likelihood(params: np.ndarray) -> tuple[float, np.ndarray]:
            z = params[0] * raw + params[1]
            p = expit(z)
            loss = np.sum(np.logaddexp(0.0, z) - y * z)
            residual = p - y
            return float(loss), np.array([np.sum(residual * raw), np.sum(residual)])

        result = minimize(negative_log_likelihood, x0=np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
        slope, intercept = (float(v) for v in result.x)
        if not slope > 0:
            raise ValueError(
                f"calibration slope {slope:.4g} is not positive: the model ranks clients backwards"
            )
        return cls(slope, intercept)

    def probability(self, raw_scores: np.ndarray | float) -> np.ndarray:
        return expit(self.slope * np.asarray(raw_scores, dtype=np.float64) + self.intercept)

    def raw_score_for(self, probability: float) -> float:
        """The raw score at which the calibrated probability equals ``probability`` (inverse map)."""
        return float((np.log(probability / (1 - probability)) - self.intercept) / self.slope)

    def to_json(self) -> dict:
        return {"method": "platt", "slope": self.slope, "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: dict) -> PlattCalibration:
        if data.get("method") != "platt":
            raise ValueError(f"unknown calibration method {data.get('method')!r}")
        return cls(float(data["slope"]), float(data["intercept"]))


def reliability_table(y_true: np.ndarray, probabilities: np.ndarray, n_bins: int = 10) -> list[dict]:
    """Equal-count bins of predicted probability: mean predicted vs observed default rate."""
    order = np.argsort(probabilities, kind="mergesort")
    rows = []
    for chunk in np.array_split(order, n_bins):
        if len(chunk) == 0:
            continue
        rows.append(
            {
                "n": len(chunk),
                "mean_predicted": float(probabilities[chunk].mean()),
                "observed_rate": float(y_true[chunk].mean()),
            }
        )
    return rows


def expected_calibration_error(y_true: np.ndarray, probabilities: np.ndarray, n_bins: int = 10) -> float:
    """Count-weighted mean |predicted − observed| over the reliability bins."""
    table = reliability_table(y_true, probabilities, n_bins)
    total = sum(row["n"] for row in table)
    return float(sum(row["n"] * abs(row["mean_predicted"] - row["observed_rate"]) for row in table) / total)


def brier_score(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    return float(np.mean((np.asarray(probabilities) - np.asarray(y_true)) ** 2))
