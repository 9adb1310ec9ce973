"""ProtoViT (NeurIPS 2024): an interpretable ViT that reasons "this part looks like that prototype".

Public API (see docs/protovit.md): backbones through timm, the model, the losses (paper and official
semantics), the stage-explicit trainer, run loading and explanations, and evaluation metrics.
"""

from protovit.backbones import (
    PAPER_BACKBONES,
    SMALL_DATA_BACKBONES,
    WeightsNotFoundError,
    WeightsSource,
    create_backbone,
)
from protovit.config import ConfigError, ProtoViTConfig
from protovit.data import (
    DataError,
    InMemoryImages,
    cv_split,
    duplicate_groups,
    read_manifest,
    stratified_split,
)
from protovit.explain import (
    ClassCase,
    ClassifierPredictor,
    Predictor,
    PrototypeCard,
    PrototypeEvidence,
    Reasoning,
    SubPatch,
    load_run,
)
from protovit.losses import (
    cluster_similarity,
    coherence,
    off_class_l1,
    orthogonality,
    separation_similarity,
    stage_loss,
)
from protovit.metrics import classification_report, matching_stability, mcnemar_exact, prototype_purity
from protovit.model import ProtoViT, ProtoViTOutput, greedy_match, neighbour_table
from protovit.train import PROTOVIT_STAGES, project_prototypes, train

__all__ = [
    "PAPER_BACKBONES",
    "PROTOVIT_STAGES",
    "SMALL_DATA_BACKBONES",
    "ClassCase",
    "ClassifierPredictor",
    "ConfigError",
    "DataError",
    "InMemoryImages",
    "Predictor",
    "ProtoViT",
    "ProtoViTConfig",
    "ProtoViTOutput",
    "PrototypeCard",
    "PrototypeEvidence",
    "Reasoning",
    "SubPatch",
    "WeightsNotFoundError",
    "WeightsSource",
    "classification_report",
    "cluster_similarity",
    "coherence",
    "create_backbone",
    "cv_split",
    "duplicate_groups",
    "greedy_match",
    "load_run",
    "matching_stability",
    "mcnemar_exact",
    "neighbour_table",
    "off_class_l1",
    "orthogonality",
    "project_prototypes",
    "prototype_purity",
    "read_manifest",
    "separation_similarity",
    "stage_loss",
    "stratified_split",
    "train",
]
