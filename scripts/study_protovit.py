"""Cross-validated study: ProtoViT and its baselines on the same stratified, duplicate-grouped folds.

    python scripts/study_protovit.py --data DIR --runs runs/study --evals docs/protovit_eval \\
        [--config configs/protovit_cpu.toml] [--folds 0 1 2 3 4] [--arms protovit resnet10t vgg16_bn features]
        [--seed S]

For each fold and arm: train (resumable) into RUNS/ARM/fold_K, then evaluate the held-out fold into
EVALS/ARM_foldK.json. All arms read the same configuration, so they share the folds, image size, augmentation,
weight condition and (CNNs) the budget of optimizer steps. The full study is the default (5 folds, 4 arms); pass
fewer folds when time is short. ``--seed S`` repeats arms with another training seed on the same folds (the
configuration's ``split_seed`` fixes them); those arms are named ARM-seedS (S = the configuration's own seed
is the plain arm). docs/protovit_results.md is then
regenerated with scripts/report_protovit.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from protovit import ConfigError, DataError, ProtoViTConfig, train
from protovit.evaluation import evaluate_run

ROOT = Path(__file__).resolve().parents[1]
ARMS = ("protovit", "resnet10t", "vgg16_bn", "features")


def arm_config(base: ProtoViTConfig, arm: str, fold: int) -> ProtoViTConfig:
    """The study's configuration of one arm on one fold (no epoch selection: the held-out fold only measures)."""
    values = {**base.to_dict(), "fold": fold, "select_best_epoch": False}
    if arm == "features":
        values["model"] = "features"
    elif arm != "protovit":
        values.update(model="cnn", baseline_arch=arm)
    return ProtoViTConfig.from_dict(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--runs", required=True, type=Path)
    parser.add_argument("--evals", type=Path, default=ROOT / "docs" / "protovit_eval")
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "protovit_cpu.toml")
    parser.add_argument("--folds", type=int, nargs="+")
    parser.add_argument("--arms", nargs="+", default=list(ARMS))
    parser.add_argument("--threads", type=int, help="torch threads per process (overrides the configuration)")
    parser.add_argument(
        "--seed", type=int, help="training seed (overrides the configuration); arms become ARM-seedS"
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:
        base = ProtoViTConfig.load(args.config)
        if args.threads:
            base = base.replace(num_threads=args.threads)
        repeat = (
            args.seed is not None and args.seed != base.seed
        )  # the configuration's own seed is the plain arm
        if repeat:
            base = base.replace(seed=args.seed)
        folds = args.folds if args.folds is not None else list(range(base.cv_folds))
        args.evals.mkdir(parents=True, exist_ok=True)
        for fold in folds:
            for arm in args.arms:
                name = f"{arm}-seed{args.seed}" if repeat else arm
                run_dir = args.runs / name / f"fold_{fold}"
                train(arm_config(base, arm, fold), args.data, run_dir, progress=not args.no_progress)
                result = evaluate_run(run_dir, args.data)
                result["arm"] = name
                out = args.evals / f"{name}_fold{fold}.json"
                out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
                print(
                    f"{name} fold {fold}: accuracy {result['accuracy']:.4f} ({result['training']['total_seconds']:.0f} s)"
                )
    except (ConfigError, DataError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
