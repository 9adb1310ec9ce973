"""Measure the scorer: training time and CV AUC on the default warehouse, batch scoring, one-client explanations.

    python scripts/bench_scorer.py [--warehouse data/warehouse.duckdb] [--model DIR] [--clients 200]

Without ``--model`` a scorer is trained into a temporary folder (that run's wall time is the training figure;
the warehouse is not modified). With ``--model`` that artifact is benchmarked and its recorded training time is
reported. A missing default warehouse is built first (307,511 synthetic applicants). The figures are printed and
written to docs/benchmarks.md between the scorer markers; other sections of that file are kept.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from benchmarks_doc import BENCHMARKS, load_average, write_section

from models import Scorer, train_scorer
from warehouse import Warehouse, build_warehouse

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_APPLICANTS = 307_511
TARGETS = {"explain_ms": 5.0, "batch_s": 60.0, "training_s": 300.0}


def _explain_latencies(scorer: Scorer, store: Warehouse, n_clients: int, seed: int) -> list[float]:
    """Milliseconds per client for score + all contributions + reasons + sentence (features already in memory,
    alternating French and English), after one warm-up call."""
    ids = store.model_frame(split="train", columns=["EXT_SOURCE_3"]).get_column("SK_ID_CURR").to_numpy()
    chosen = np.random.default_rng(seed).choice(ids, min(n_clients, len(ids)), replace=False)
    rows = [store.client_features(int(sk_id)) for sk_id in chosen]
    scorer.explain(rows[0])
    latencies = []
    for i, row in enumerate(rows):
        start = time.perf_counter()
        scorer.explain(row, lang="fr" if i % 2 == 0 else "en")
        latencies.append(1000 * (time.perf_counter() - start))
    return latencies


def _timed(call):
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def _section(figures: dict, warehouse: Path, command: str) -> str:
    def verdict(value: float, target_key: str) -> str:
        return "yes" if value < TARGETS[target_key] else "**no**"

    f = figures
    return f"""## Scorer (`scripts/bench_scorer.py`)

Measured {f["date"]} on {f["machine"]}; load average {f["load"]} when the timings ended (the 2 cores were
shared with other jobs: treat the times as upper bounds). Warehouse
`{warehouse.name}` ({f["n_train"]:,} training clients, {f["n_all"]:,} in all, {f["n_features"]} features),
LightGBM {f["n_rounds"]} rounds; training on {f["threads"]} cores (that many cross-validation folds side by side,
one LightGBM thread each). Command: `{command}`; the model was trained by
`{f["trained_by"]}` (training time as recorded in its metrics.json; load average {f["training_load"]} when it
ended).

| figure | value | target | met |
|---|---|---|---|
| one client: score + all {f["n_features"]} contributions + reasons + sentence, median of {f["n_clients"]} (p95) | {f["explain_median"]:.2f} ms ({f["explain_p95"]:.2f} ms) | < 5 ms | {verdict(f["explain_median"], "explain_ms")} |
| batch scoring of {f["n_train"]:,} clients: probability + decision | {f["batch_s"]:.1f} s | < 60 s | {verdict(f["batch_s"], "batch_s")} |
| same with the top-5 exact contributions as JSON (the warehouse `scores` table) | {f["batch_contrib_s"]:.1f} s | | |
| training on the default warehouse ({f["n_folds"]}-fold CV, baselines, refit, calibration, fairness, importance) | {f["training_s"]:.0f} s | < 300 s | {verdict(f["training_s"], "training_s")} |
| cross-validated AUC, synthetic default ({f["n_folds"]} folds) | {f["cv_auc"]:.4f} ± {f["cv_auc_std"]:.4f} | | |
| same folds: logistic regression / prior-only baseline | {f["logistic_auc"]:.4f} / {f["dummy_auc"]:.4f} | | |
| business cost per client (10·FN + FP) at threshold {100 * f["threshold"]:.1f} %: scorer / logistic / prior | {f["cost"]:.4f} / {f["logistic_cost"]:.4f} / {f["dummy_cost"]:.4f} | | |

Real Home Credit data (Kaggle CSV files in `DIR`; the application table alone also works):

```bash
python scripts/build_warehouse.py --out data/real.duckdb --source DIR
python scripts/train_scorer.py --warehouse data/real.duckdb --out data/model-real   # prints cv_auc
python scripts/bench_scorer.py --warehouse data/real.duckdb --model data/model-real
```"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_warehouse = Path(os.environ.get("CREDIT_WAREHOUSE", ROOT / "data" / "warehouse.duckdb"))
    parser.add_argument("--warehouse", type=Path, default=default_warehouse)
    parser.add_argument("--model", type=Path, help="benchmark this artifact instead of training one")
    parser.add_argument("--clients", type=int, default=200, help="clients timed one by one (default 200)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)

    if not args.warehouse.exists():
        print(f"==> building the default warehouse ({DEFAULT_APPLICANTS:,} applicants) at {args.warehouse}")
        build_warehouse(args.warehouse, synthetic=DEFAULT_APPLICANTS, seed=0, progress=True)
    with tempfile.TemporaryDirectory(prefix="bench_scorer_") as scratch:
        model_dir = args.model
        if model_dir is None:
            model_dir = Path(scratch) / "model"
            print(f"==> training on {args.warehouse}")
            _, training_s = _timed(
                lambda: train_scorer(
                    args.warehouse, model_dir, seed=args.seed, num_threads=args.threads, write_scores=False
                )
            )
        scorer = Scorer.load(model_dir)
        metrics = scorer.metrics
        if args.model is not None:
            training_s = metrics["training_seconds"]
        with Warehouse(args.warehouse) as store:
            scorer.check_against(store)
            train = store.model_frame(split="train")
            n_all = store.cohort_stats(None)["n"]
            print(f"==> one-client explanations ({args.clients} clients)")
            latencies = _explain_latencies(scorer, store, args.clients, args.seed)
        print(f"==> batch scoring {train.height:,} clients")
        _, batch_s = _timed(lambda: scorer.score_frame(train))
        _, batch_contrib_s = _timed(lambda: scorer.population_scores(train))

    baselines = metrics["baselines"]
    figures = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "trained_by": f"python {scorer.metadata['command']}" if args.model is not None else "this benchmark",
        "load": load_average(),
        "machine": f"{os.cpu_count()} CPU cores, Python {platform.python_version()}",
        "n_train": train.height,
        "n_all": n_all,
        "n_features": metrics["n_features"],
        "n_rounds": metrics["n_rounds"],
        "threads": scorer.metadata["training_threads"],
        "n_clients": len(latencies),
        "explain_median": statistics.median(latencies),
        "explain_p95": float(np.percentile(latencies, 95)),
        "batch_s": batch_s,
        "batch_contrib_s": batch_contrib_s,
        "training_s": training_s,
        "training_load": " / ".join(f"{value:.1f}" for value in metrics["training_load_average"]),
        "n_folds": scorer.metadata["n_folds"],
        "cv_auc": metrics["cv_auc"],
        "cv_auc_std": metrics["cv_auc_std"],
        "logistic_auc": baselines["logistic"]["cv_auc"],
        "dummy_auc": baselines["dummy"]["cv_auc"],
        "threshold": metrics["threshold"],
        "cost": metrics["business_cost"],
        "logistic_cost": baselines["logistic"]["business_cost"],
        "dummy_cost": baselines["dummy"]["business_cost"],
    }
    command = "python scripts/bench_scorer.py" + ("" if args.model is None else f" --model {args.model}")
    section = _section(figures, args.warehouse, command)
    print(section)
    if not args.no_write:
        write_section("scorer", section)
        print(f"==> written to {BENCHMARKS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
