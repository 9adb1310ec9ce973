"""Evaluate a trained ProtoViT or VGG16 run on a folder holding manifest.csv + images/.

    python scripts/evaluate_protovit.py RUN_DIR --data DIR --out FILE.json [--compare OTHER_RUN_DIR] [--split val]

Writes accuracy, macro_f1, per_class (precision, recall, F1), confusion_matrix, n_images and per-image
predictions; with --compare, the other run's accuracy and macro-F1 and the exact paired McNemar test.
--split val keeps only the run's own validation images (DIR must be the folder it was trained on).
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
        "--split", choices=("all", "val"), default="all", help="all images, or the run's validation split"
    )
    args = parser.parse_args(argv)
    try:
        result = evaluate_run(args.run_dir, args.data, args.compare, validation_only=args.split == "val")
    except (DataError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    line = f"{args.run_dir}: accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f} on {result['n_images']} images"
    if "compare" in result:
        line += f"; McNemar p = {result['compare']['mcnemar']['p_value']:.4f} vs {args.compare}"
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
