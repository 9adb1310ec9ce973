"""The served explanations are exact TreeSHAP: LightGBM's ``pred_contrib`` checked against the shap library.

The scorer computes contributions with LightGBM's built-in TreeSHAP (no shap at run time); an independent
implementation (``shap.TreeExplainer``, which parses the trees itself, categorical splits included) must give the
same numbers for every client, feature and the base value.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import shap

from models import Scorer
from warehouse import Warehouse


def test_contributions_match_the_shap_library(small_model_dir: Path, small_warehouse: Path) -> None:
    scorer = Scorer.load(small_model_dir)
    with Warehouse(small_warehouse) as store:
        clients = store.model_frame(split=None).sample(60, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap's notes about LightGBM's binary objective
        explainer = shap.TreeExplainer(scorer.booster)
        reference = np.asarray(explainer.shap_values(scorer.schema.encode(clients)))
    assert reference.shape == (clients.height, len(scorer.feature_names))
    assert scorer.schema.categorical_indices, "the check must cover categorical splits too"
    for row in range(0, clients.height, 10):
        explanation = scorer.explain(clients.slice(row, 1))
        served = dict(explanation.contributions.select("feature", "contribution").iter_rows())
        expected = dict(zip(scorer.feature_names, reference[row], strict=True))
        np.testing.assert_allclose([served[name] for name in expected], list(expected.values()), atol=1e-9)
        np.testing.assert_allclose(
            explanation.base_value, float(np.ravel(explainer.expected_value)[0]), atol=1e-9
        )
    stored = scorer.population_scores(clients, top_k=3)
    for row, text in enumerate(stored.get_column("TOP_CONTRIBUTIONS")):
        for item in json.loads(text):
            position = scorer.feature_names.index(item["feature"])
            assert abs(item["contribution"] - reference[row, position]) < 1e-5  # stored rounded to 5 places
    assert stored.get_column("SK_ID_CURR").equals(clients.get_column("SK_ID_CURR"))
