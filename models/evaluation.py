"""Honest evaluation tables: fairness by gender and age band, global importance from exact contributions."""

from __future__ import annotations

import numpy as np
import polars as pl

from models.groups import group_of

AGE_BANDS = ((0, 30, "< 30"), (30, 40, "30-39"), (40, 50, "40-49"), (50, 60, "50-59"), (60, 200, "60+"))
DAYS_PER_YEAR = 365.25


def age_band(days_birth: np.ndarray) -> np.ndarray:
    """Age band labels from the Home Credit DAYS_BIRTH (negative days); missing age → "unknown"."""
    years = -np.asarray(days_birth, dtype=np.float64) / DAYS_PER_YEAR
    bands = np.full(len(years), "unknown", dtype=object)
    for low, high, label in AGE_BANDS:
        bands[(years >= low) & (years < high)] = label
    return bands


def fairness_table(groups: dict[str, np.ndarray], y_true: np.ndarray, refused: np.ndarray) -> pl.DataFrame:
    """Per attribute and group: n, default rate, approval rate, default rate among approved, FNR and FPR.

    FNR = defaulters granted / defaulters (missed defaults); FPR = good payers refused / good payers.
    """
    y = np.asarray(y_true, dtype=bool)
    refused = np.asarray(refused, dtype=bool)
    rows = []
    for attribute, values in groups.items():
        values = np.array(["unknown" if v is None else str(v) for v in values], dtype=object)
        for group in sorted(set(values.tolist())):
            member = values == group
            y_g, refused_g = y[member], refused[member]
            approved = ~refused_g
            rows.append(
                {
                    "attribute": attribute,
                    "group": str(group),
                    "n": int(member.sum()),
                    "default_rate": _rate(y_g, np.ones_like(y_g)),
                    "approval_rate": _rate(approved, np.ones_like(y_g)),
                    "default_rate_approved": _rate(y_g, approved),
                    "fnr": _rate(approved, y_g),
                    "fpr": _rate(refused_g, ~y_g),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "attribute": pl.String,
            "group": pl.String,
            "n": pl.Int64,
            "default_rate": pl.Float64,
            "approval_rate": pl.Float64,
            "default_rate_approved": pl.Float64,
            "fnr": pl.Float64,
            "fpr": pl.Float64,
        },
    )


def _rate(event: np.ndarray, among: np.ndarray) -> float | None:
    """Share of ``event`` among the rows where ``among`` is true (None when there are none)."""
    total = int(among.sum())
    return float((event & among).sum() / total) if total else None


def group_keys(features: list[str]) -> list[str]:
    """The human group key of each feature (the feature name itself when no rule groups it)."""
    return [group.key if (group := group_of(name)) else name for name in features]


def importance_tables(features: list[str], contributions: np.ndarray) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Mean |SHAP| per feature and per group (mean of |sum over the group's features| per client).

    ``contributions`` is LightGBM's pred_contrib output without the bias column.
    """
    keys = group_keys(features)
    per_feature = pl.DataFrame(
        {
            "feature": features,
            "group": keys,
            "mean_abs_shap": np.abs(contributions).mean(axis=0),
        }
    ).sort("mean_abs_shap", descending=True)
    unique_keys = list(dict.fromkeys(keys))
    membership = np.zeros((len(features), len(unique_keys)))
    membership[np.arange(len(features)), [unique_keys.index(k) for k in keys]] = 1.0
    grouped = contributions @ membership
    per_group = pl.DataFrame(
        {
            "group": unique_keys,
            "mean_abs_shap": np.abs(grouped).mean(axis=0),
        }
    ).sort("mean_abs_shap", descending=True)
    return per_feature, per_group
