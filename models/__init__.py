"""Credit scorer: LightGBM with a business-cost threshold, calibrated probabilities, exact explanations."""

from models.artifact import FORMAT_VERSION
from models.encoding import ScorerError
from models.reasons import FeatureEffect, Reason
from models.scorer import Explanation, Scorer
from models.whatif import FieldSpec, WhatIfError

__all__ = [
    "FORMAT_VERSION",
    "Explanation",
    "FeatureEffect",
    "FieldSpec",
    "Reason",
    "Scorer",
    "ScorerError",
    "WhatIfError",
    "train_scorer",
]


def __getattr__(name: str) -> object:
    """``train_scorer`` is imported on first use: training needs scikit-learn, which serving does not load."""
    if name == "train_scorer":
        from models.training import train_scorer

        return train_scorer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
