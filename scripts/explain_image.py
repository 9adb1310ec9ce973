"""Contrastive reasoning sheet of one image from a trained ProtoViT run: PNG + JSON.

    python scripts/explain_image.py RUN_DIR IMAGE --out DIR [--top-k 3]

The sheet sets the predicted class beside the runner-up: for each, the top-k prototypes adding points and the
top-k taking points away, with their matched sub-patches on the image and on the prototype's source image,
similarity x weight = points, the other prototypes summed, and the total that equals the class's logit.
Matches on near-white background are flagged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from protovit import DataError, Predictor, load_run
from protovit.data import load_image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("image", type=Path)
    parser.add_argument("--out", required=True, type=Path, help="output folder for IMAGE_STEM.png and .json")
    parser.add_argument("--top-k", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        predictor = load_run(args.run_dir)
        if not isinstance(predictor, Predictor):
            raise ValueError(
                f"{args.run_dir} is a {predictor.config.model} run; only ProtoViT runs explain images"
            )
        reasoning = predictor.explain(
            load_image(args.image, predictor.config.max_image_pixels), top_k=args.top_k
        )
    except (DataError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    png, json_path = args.out / f"{args.image.stem}.png", args.out / f"{args.image.stem}.json"
    reasoning.render().save(png)
    json_path.write_text(reasoning.to_json() + "\n", encoding="utf-8")
    print(
        f"{reasoning.predicted_class} ({reasoning.probability:.2f}) vs {reasoning.runner_up.class_name} "
        f"({reasoning.runner_up.probability:.2f}): {png}, {json_path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
