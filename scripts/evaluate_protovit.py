"""Evaluate a trained ProtoViT or baseline run on a folder holding manifest.csv + images/.

    python scripts/evaluate_protovit.py RUN_DIR --data DIR --out FILE.json [--compare OTHER_RUN_DIR] [--all-images]

By default only the run's held-out images (its cross-validation fold, in split.json) are evaluated: DIR must be
the folder it was trained on. --all-images evaluates every image of DIR, and says how many of them the run was
trained on. Writes accuracy, macro_f1, per_class (precision, recall, F1), confusion_matrix, n_images, the
training cost and per-image predictions; with --compare, the other run's accuracy and macro-F1 and the exact
paired McNemar test on the same images.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from protovit import DataError
from protovit.evaluation import evaluate_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument(
        "--compare", type=Path, help="a second run evaluated on the same images (paired test)"
    )
    parser.add_argument(
        "--all-images",
        action="store_true",
        help="evaluate every image of DIR, not only the run's held-out ones",
    )
    args = parser.parse_args(argv)
    try:
        result = evaluate_run(args.run_dir, args.data, args.compare, all_images=args.all_images)
    except (DataError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if result["training_images_included"]:
        print(
            f"warning: {result['training_images_included']} of the {result['n_images']} evaluated images were used "
            "to train this run; their accuracy is not a measure of generalisation",
            file=sys.stderr,
        )
    line = f"{args.run_dir}: accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f} on {result['n_images']} {result['images']}"
    if "compare" in result:
        line += f"; McNemar p = {result['compare']['mcnemar']['p_value']:.4f} vs {args.compare}"
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
