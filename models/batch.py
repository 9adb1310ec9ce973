"""Batch scoring of every client (train and test splits) into the warehouse's ``scores`` table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from models.scorer import Scorer
from warehouse import write_scores


def write_population_scores(
    model_dir: Path, warehouse_path: Path, frame: pl.DataFrame, log: Callable[[str], None] = print
) -> pl.DataFrame:
    """Score every row of ``frame`` with the saved artifact (so the table matches what is served) and write it
    through the warehouse's atomic rebuild path. Returns the scores written."""
    scorer = Scorer.load(model_dir)
    log(f"scoring {frame.height:,} clients (probability, decision, top contributions)")
    scores = scorer.population_scores(frame)
    log(f"writing the scores table into {warehouse_path}")
    write_scores(Path(warehouse_path), scores, model_id=scorer.model_id)
    return scores
