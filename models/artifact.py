"""The scorer artifact: a versioned folder of plain files (native LightGBM text, JSON, CSV, Markdown).

Nothing is pickled, so an artifact can be read, diffed and audited without running our code. A folder is written
next to its destination and swapped in with ``os.replace``: a reader never sees half an artifact, and a failed
training leaves the previous one in place.

Every artifact carries a ``model_id``: a fingerprint of what decides (the trees, the threshold, the calibration,
the features), recomputed at read time, so a hand-edited or corrupted artifact is refused and the ``scores``
table written by this model can be matched to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from models.encoding import ScorerError

FORMAT_VERSION = 2  # 2: model_id and warehouse_build_id in metadata.json
MODEL_FILE = "model.txt"
METADATA_FILE = "metadata.json"
METRICS_FILE = "metrics.json"
FAIRNESS_FILE = "fairness.csv"
IMPORTANCE_FILE = "importance.csv"
GROUP_IMPORTANCE_FILE = "group_importance.csv"
COST_CURVE_FILE = "cost_curve.csv"
MODEL_CARD_FILE = "model_card.md"
# The metadata entries that change a decision; the model id covers them and the trees.
DECIDING_KEYS = ("features", "threshold", "raw_threshold", "grey_zone", "calibration")
TABLE_FILES = {
    "fairness": FAIRNESS_FILE,
    "importance": IMPORTANCE_FILE,
    "group_importance": GROUP_IMPORTANCE_FILE,
    "cost_curve": COST_CURVE_FILE,
}


@dataclass(frozen=True)
class Artifact:
    model_text: str
    metadata: dict
    metrics: dict
    tables: dict[str, pl.DataFrame]
    model_card: str


def model_fingerprint(model_text: str, metadata: dict) -> str:
    """The model id: SHA-256 (16 hex digits) of the trees and the deciding metadata, stable across rewrites."""
    deciding = json.dumps({key: metadata[key] for key in DECIDING_KEYS}, sort_keys=True, allow_nan=False)
    return hashlib.sha256(model_text.encode() + b"\0" + deciding.encode()).hexdigest()[:16]


def write_artifact(out_dir: Path, artifact: Artifact) -> Path:
    """Write every file into a fresh sibling folder, then swap it in place of ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the served folder must be readable by the app's user
    try:
        (staging / MODEL_FILE).write_text(artifact.model_text, encoding="utf-8")
        metadata = {
            **artifact.metadata,
            "format_version": FORMAT_VERSION,
            "model_id": model_fingerprint(artifact.model_text, artifact.metadata),
        }
        (staging / METADATA_FILE).write_text(
            json.dumps(metadata, indent=2, allow_nan=False), encoding="utf-8"
        )
        (staging / METRICS_FILE).write_text(
            json.dumps(artifact.metrics, indent=2, allow_nan=False), encoding="utf-8"
        )
        for key, name in TABLE_FILES.items():
            artifact.tables[key].write_csv(staging / name)
        (staging / MODEL_CARD_FILE).write_text(artifact.model_card, encoding="utf-8")
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``staging``; an existing folder is moved aside first, then removed."""
    if out_dir.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.replace(out_dir, retired / out_dir.name)
        os.replace(staging, out_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, out_dir)


def read_artifact(model_dir: Path) -> Artifact:
    """Read an artifact folder; ScorerError if a file is missing or the format version is not this one."""
    model_dir = Path(model_dir)
    names = [MODEL_FILE, METADATA_FILE, METRICS_FILE, MODEL_CARD_FILE, *TABLE_FILES.values()]
    missing = [name for name in names if not (model_dir / name).is_file()]
    if missing:
        raise ScorerError(
            f"{model_dir} is not a scorer artifact: missing {', '.join(missing)}"
            " (train one with scripts/train_scorer.py)"
        )
    metadata = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8"))
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ScorerError(
            f"{model_dir} has artifact format {metadata.get('format_version')!r}; this code reads"
            f" format {FORMAT_VERSION}: retrain with scripts/train_scorer.py"
        )
    model_text = (model_dir / MODEL_FILE).read_text(encoding="utf-8")
    if metadata.get("model_id") != model_fingerprint(model_text, metadata):
        raise ScorerError(
            f"{model_dir}: model.txt or metadata.json was changed after training (the model id no longer"
            " matches): retrain with scripts/train_scorer.py"
        )
    return Artifact(
        model_text=model_text,
        metadata=metadata,
        metrics=json.loads((model_dir / METRICS_FILE).read_text(encoding="utf-8")),
        tables={key: pl.read_csv(model_dir / name) for key, name in TABLE_FILES.items()},
        model_card=(model_dir / MODEL_CARD_FILE).read_text(encoding="utf-8"),
    )
