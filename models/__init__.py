"""Credit scorer: LightGBM with a business-cost threshold, calibrated probabilities, exact explanations."""

from models.artifact import FORMAT_VERSION
from models.encoding import ScorerError
from models.reasons import FeatureEffect, Reason
from models.scorer import Explanation, Scorer
from models.training import train_scorer
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
