"""The model card: what the scorer is for, what it was trained on, how good it is, for whom it errs, its limits.

Generated from the artifact's own numbers at training time, so the card can never disagree with the model.
"""

from __future__ import annotations

import polars as pl

from models.groups import GROUPS

TOP_FEATURES_IN_CARD = 10


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _table(frame: pl.DataFrame, columns: dict[str, str], formats: dict[str, str]) -> str:
    """A Markdown table of ``frame`` with human headers and per-column formats."""
    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    for row in frame.iter_rows(named=True):
        cells = []
        for column in columns:
            value = row[column]
            kind = formats.get(column)
            cells.append(
                _pct(value)
                if kind == "pct"
                else f"{value:.4f}"
                if kind == "f4"
                else f"{value:,}"
                if kind == "int"
                else str(value)
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_model_card(metadata: dict, metrics: dict, tables: dict[str, pl.DataFrame]) -> str:
    """Markdown model card: intended use, data, metrics with baselines, calibration, fairness, importance, limits."""
    base = metrics["baselines"]
    calibration = metrics["calibration"]
    group_labels = {group.key: group.label_en for group in GROUPS}
    groups = (
        tables["group_importance"]
        .head(TOP_FEATURES_IN_CARD)
        .with_columns(pl.col("group").replace(group_labels).alias("group"))
    )
    excluded = ", ".join(metadata["excluded_features"]) or "none"
    return f"""# Model card: "Prêt à dépenser" credit scorer

Generated on {metadata["created_at"]} by `models.train_scorer` (artifact format {metadata.get("format_version", 1)}).

## Intended use
Estimate the probability that a consumer-credit applicant defaults (Home Credit definition: late payment on one of
the first instalments) and propose a decision, to **support** a relationship manager who explains it to the client.
It is not meant to decide alone: clients in the grey zone (probability within ±{100 * metadata["grey_zone"]:.1f} percentage points
of the threshold) should be reviewed by a person, and every decision comes with its exact reasons.

## Data
- Warehouse `features` table, train split: {metrics["n_train"]:,} clients, {_pct(metrics["default_rate"])} defaults,
  {metrics["n_features"]} features discovered from the warehouse catalog.
- Training-data fingerprint (SHA-256): `{metadata["training_fingerprint"]}`.
- Excluded from the inputs on purpose: {excluded} (protected attribute; still used for the fairness table), and
  the weekday and hour of the application (when the file was keyed in, nothing about the client).

## Model
LightGBM ({metadata["library_versions"]["lightgbm"]}), categorical features native, defaulters' weight
×{metadata["positive_weight"]:g} (imbalance is handled by stratified folds and the cost threshold), {metrics["n_rounds"]} rounds chosen by early stopping in
{metadata["n_folds"]}-fold stratified cross-validation, refit on all training clients. Served probabilities are
Platt-calibrated on the out-of-fold scores (slope {calibration["slope"]:.4f}, intercept
{calibration["intercept"]:.4f}).

## Performance (out-of-fold)
| model | CV AUC | business cost per client |
|---|---|---|
| this scorer | {metrics["cv_auc"]:.4f} ± {metrics["cv_auc_std"]:.4f} | {metrics["business_cost"]:.4f} |
| logistic regression, same folds | {base["logistic"]["cv_auc"]:.4f} ± {base["logistic"]["cv_auc_std"]:.4f} | {base["logistic"]["business_cost"]:.4f} |
| prior only (dummy), same folds | {base["dummy"]["cv_auc"]:.4f} | {base["dummy"]["business_cost"]:.4f} |

Business rule: a missed default costs {metrics["cost_fn"]:g}, a wrongly refused good client {metrics["cost_fp"]:g}.
Threshold on the calibrated probability: **{_pct(metrics["threshold"])}** (refused at or above). At that threshold:
recall of defaulters {_pct(metrics["recall_at_threshold"])}, precision {_pct(metrics["precision_at_threshold"])},
approval rate {_pct(metrics["approval_rate"])}.

Calibration (out-of-fold, cross-fitted): Brier {calibration["brier_before"]:.4f} → {calibration["brier_after"]:.4f},
expected calibration error {calibration["ece_before"]:.4f} → {calibration["ece_after"]:.4f}.

## Fairness (out-of-fold decisions at the threshold)
FNR: defaulters granted / defaulters. FPR: good payers refused / good payers.

{_table(tables["fairness"], {"attribute": "attribute", "group": "group", "n": "clients", "default_rate": "default rate", "approval_rate": "approval rate", "default_rate_approved": "default rate among approved", "fnr": "FNR", "fpr": "FPR"}, {"n": "int", "default_rate": "pct", "approval_rate": "pct", "default_rate_approved": "pct", "fnr": "pct", "fpr": "pct"})}

## What drives the score (mean absolute SHAP value over a sample of clients, log-odds)
{_table(groups, {"group": "feature group", "mean_abs_shap": "mean absolute SHAP"}, {"mean_abs_shap": "f4"})}

## Limits
- Trained on one population and period: scores drift when the applicant mix changes; retrain and compare the
  fingerprint and metrics before serving a new model.
- The calibration and the threshold are fitted on the same out-of-fold scores as the reported cost, which is
  therefore slightly optimistic; the served model (all training rows) is not the one the folds evaluated.
- Contributions are exact TreeSHAP values in the model's raw log-odds, not percentage points; they explain the
  model, not the world (a feature can matter because it stands in for another).
- Values outside the ranges seen in training are refused in what-if: trees cannot extrapolate.
- On synthetic data the figures describe the generator, not real clients.
"""
