"""Train the credit scorer on a warehouse and save its artifact folder; batch-score every client into the warehouse.

Usage: ``pad-train-scorer --warehouse PATH.duckdb --out MODEL_DIR [--seed S]`` (or ``python
scripts/train_scorer.py ...``). Works unchanged on the synthetic warehouse and on one built from the real Home
Credit files (application table alone or all tables): the feature set comes from the warehouse's catalog.
``--score-only`` rewrites the ``scores`` table with the existing model, e.g. after a rebuild of the same data.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from models.batch import write_population_scores
from models.encoding import ScorerError
from models.scorer import Scorer
from models.training import train_scorer
from models.versions import Mismatch, check_versions
from warehouse import Warehouse, WarehouseBusyError, WarehouseInputError

SUMMARY_KEYS = (
    "cv_auc",
    "cv_auc_std",
    "oof_auc",
    "threshold",
    "business_cost",
    "recall_at_threshold",
    "precision_at_threshold",
    "approval_rate",
    "brier",
    "n_train",
    "n_features",
    "training_seconds",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--warehouse", type=Path, required=True, help="warehouse DuckDB file (built beforehand)"
    )
    parser.add_argument("--out", type=Path, required=True, help="artifact folder (replaced atomically)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cost-fn", type=float, default=10.0, help="cost of a missed default (default 10)")
    parser.add_argument(
        "--cost-fp", type=float, default=1.0, help="cost of refusing a good client (default 1)"
    )
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--threads", type=int, default=2, help="LightGBM threads (default 2)")
    parser.add_argument(
        "--no-write-scores", action="store_true", help="do not write the scores table into the warehouse"
    )
    parser.add_argument(
        "--score-only",
        action="store_true",
        help="do not train: rewrite the scores table with the model already in --out",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser.parse_args(argv)


def score_only(warehouse_path: Path, model_dir: Path, quiet: bool) -> int:
    """Rescore every client with the saved model (the fix the dashboard gives for scores from another model).

    Refused when the model was trained on other data: its scores would look valid and be wrong; retrain instead.
    """
    scorer = Scorer.load(model_dir)
    with Warehouse(warehouse_path) as store:
        unfit = set(check_versions(store, scorer).mismatches) - {Mismatch.SCORES_FROM_OTHER_MODEL}
        if unfit:
            raise ScorerError(
                f"the model in {model_dir} was not trained on this data ({', '.join(m.value for m in unfit)}):"
                " train it again instead of --score-only"
            )
        frame = store.model_frame(split=None)
    write_population_scores(model_dir, warehouse_path, frame, log=(lambda _: None) if quiet else print)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.warehouse.is_file():
        print(f"no warehouse at {args.warehouse}: build one with scripts/build_warehouse.py", file=sys.stderr)
        return 2
    try:
        if args.score_only:
            return score_only(args.warehouse, args.out, args.quiet)
        metrics = train_scorer(
            args.warehouse,
            args.out,
            seed=args.seed,
            cost_fn=args.cost_fn,
            cost_fp=args.cost_fp,
            n_folds=args.folds,
            num_threads=args.threads,
            progress=not args.quiet,
            write_scores=not args.no_write_scores,
        )
    except (ScorerError, WarehouseInputError, WarehouseBusyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps({key: metrics[key] for key in SUMMARY_KEYS}, indent=2))
    return 0
