"""Do the warehouse, the served model and the stored decisions belong together?

A rebuilt warehouse, a retrained model or a ``scores`` table written by another model would otherwise mix two
models' decisions on one page, or score a population the model never saw. The check compares the ids each piece
records (``build_info`` in the warehouse, ``warehouse_build_id``/``model_id`` in the artifact, ``scores_info``)
and returns what is wrong with the command that fixes it, for the dashboard to show admins.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.scorer import Scorer
    from warehouse import Warehouse


class Mismatch(Enum):
    """What does not fit; the value is the i18n key suffix the dashboard shows."""

    WAREHOUSE_UNRECORDED = "warehouse_unrecorded"  # built before builds were recorded: rebuild it
    MODEL_FOR_OTHER_DATA = "model_other_data"  # trained on another build with different data: retrain
    SCORES_FROM_OTHER_MODEL = "scores_other_model"  # scores written by another model: rescore


@dataclass(frozen=True)
class Versions:
    """The versions in use (shown in the page footer) and what does not fit."""

    data_version: str | None
    model_version: str
    mismatches: tuple[Mismatch, ...]

    @property
    def consistent(self) -> bool:
        return not self.mismatches


def check_versions(warehouse: Warehouse, scorer: Scorer) -> Versions:
    """Compare the warehouse's build, the scorer's training build and the writer of ``scores``.

    A model stays valid on a rebuild of the same data (same fingerprint, new build id); ``scores`` must come
    from exactly this model. A warehouse without scores is consistent (nothing stored to mix).
    """
    build = warehouse.build_info()
    mismatches = []
    if build is None:
        mismatches.append(Mismatch.WAREHOUSE_UNRECORDED)
    elif (
        build["build_id"] != scorer.warehouse_build_id
        and build["data_fingerprint"] != scorer.warehouse_fingerprint
    ):
        mismatches.append(Mismatch.MODEL_FOR_OTHER_DATA)
    if warehouse.has_scores() and warehouse.scores_model_id() != scorer.model_id:
        mismatches.append(Mismatch.SCORES_FROM_OTHER_MODEL)
    return Versions(None if build is None else build["build_id"], scorer.model_id, tuple(mismatches))
