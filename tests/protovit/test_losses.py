"""Each loss term on hand-made cases, in the paper's and the official code's semantics."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from protovit import (
    ProtoViT,
    cluster_similarity,
    coherence,
    off_class_l1,
    orthogonality,
    separation_similarity,
    stage_loss,
)
from tests.protovit.conftest import micro_config

# Two classes, two prototypes each (0, 1 -> class 0; 2, 3 -> class 1), K = 2.
IDENTITY = F.one_hot(torch.tensor([0, 0, 1, 1]), 2).float()
COSINES = torch.tensor(
    [
        [[0.2, 0.5], [0.1, -0.3], [0.9, 0.0], [-0.2, -0.1]],  # image of class 0
        [[-0.4, -0.6], [-0.1, -0.2], [0.3, 0.7], [0.4, 0.1]],  # image of class 1
    ]
)
LABELS = torch.tensor([0, 1])


def test_cluster_paper_takes_the_best_own_class_sub_prototype():
    assert cluster_similarity(COSINES, LABELS, IDENTITY) == pytest.approx((0.5 + 0.7) / 2)


def test_separation_paper_takes_the_best_other_class_sub_prototype():
    assert separation_similarity(COSINES, LABELS, IDENTITY) == pytest.approx((0.9 + -0.1) / 2)


def test_official_cluster_and_separation_are_floored_at_zero():
    negative = -COSINES.abs() - 0.1
    assert cluster_similarity(negative, LABELS, IDENTITY, "official") == 0.0
    assert separation_similarity(negative, LABELS, IDENTITY, "official") == 0.0
    assert cluster_similarity(negative, LABELS, IDENTITY) < 0  # the paper's form is not floored
    assert separation_similarity(COSINES, LABELS, IDENTITY, "official") == pytest.approx((0.9 + 0.0) / 2)


def _prototypes(*columns: list[list[float]]) -> torch.Tensor:
    """Prototypes from lists of sub-prototype vectors -> tensor [m, d, K]."""
    return torch.tensor(columns, dtype=torch.float32).permute(0, 2, 1)


def test_coherence_paper_is_the_mean_of_the_worst_active_pair():
    vectors = _prototypes(
        [[1, 0, 0], [1, 0, 0], [1, 0, 0]],  # identical: 0
        [[1, 0, 0], [0, 1, 0], [1, 0, 0]],  # orthogonal pair: 1
    )
    slots = torch.ones(2, 3)
    assert coherence(vectors, slots) == pytest.approx((0 + 1) / 2)
    slots[1, 1] = 0.0  # prune the odd sub-prototype: the remaining pair is identical
    assert coherence(vectors, slots) == pytest.approx(0.0)


def test_coherence_official_measures_the_distance_to_the_last_sub_prototype_and_sums():
    vectors = _prototypes(
        [[1, 0, 0], [0, 1, 0], [0, 1, 0]],  # the first differs from the last: 1
        [[0, 1, 0], [0, 0, 1], [0, 1, 0]],  # the middle one differs from the last: 1, scaled by its slot 0.5
    )
    slots = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.5, 1.0]])
    assert coherence(vectors, slots, "official") == pytest.approx(1.0 + 0.5)
    assert coherence(vectors, slots, "paper") == pytest.approx((1.0 + 0.5) / 2)


def test_orthogonality_paper_is_zero_for_orthonormal_prototypes_and_counts_identical_ones():
    orthonormal = _prototypes([[1, 0, 0, 0], [1, 0, 0, 0]], [[0, 1, 0, 0], [0, 1, 0, 0]])
    assert orthogonality(orthonormal, prototypes_per_class=2) == pytest.approx(0.0, abs=1e-6)
    identical = torch.ones(4, 4, 2)  # two classes of two identical prototypes: off-diagonal 1 each
    assert orthogonality(identical, prototypes_per_class=2) == pytest.approx(2 * 2)


def test_orthogonality_official_is_entrywise_l1_with_diagonal_k():
    identical = torch.ones(4, 4, 2)  # rows of K = 2 unit sub-vectors: Gram entries all 2
    per_class = 2 * abs(2 - 1) + 2 * 2  # diagonal |2 - 1| twice, off-diagonal |2| twice
    assert orthogonality(identical, prototypes_per_class=2, semantics="official") == pytest.approx(
        2 * per_class
    )


def test_l1_acts_only_on_off_class_weights():
    weight = torch.tensor([[1.0, 1.0, -0.5, -0.5], [-0.5, -0.5, 1.0, 1.0]])
    assert off_class_l1(weight, IDENTITY) == pytest.approx(4 * 0.5)


@pytest.mark.parametrize("semantics", ["paper", "official"])
def test_stage_losses_combine_the_right_terms_with_their_weights(semantics):
    config = micro_config(num_classes=3, semantics=semantics)
    torch.manual_seed(0)
    model = ProtoViT(config)
    output = model(torch.randn(4, 3, 32, 32))
    labels = torch.tensor([0, 1, 2, 0])
    expected_parts = {
        "warmup": {"ce", "cluster", "separation", "coherence", "orthogonality"},
        "joint": {"ce", "cluster", "separation", "coherence", "orthogonality"},
        "slots": {"ce", "coherence"},
        "last_layer": {"ce", "l1"},
    }
    weights = {
        "ce": config.ce_weight, "cluster": config.cluster_weight, "separation": config.separation_weight,
        "coherence": config.coherence_weight, "orthogonality": config.orthogonality_weight, "l1": config.l1_weight,
    }  # fmt: skip
    for stage, parts in expected_parts.items():
        terms = stage_loss(stage, model, output.logits, output.sub_cosines, labels, config)
        assert set(terms.parts) == parts
        stage_weights = (
            {**weights, "coherence": config.slot_coherence_weight} if stage == "slots" else weights
        )
        assert float(terms.total.detach()) == pytest.approx(
            sum(stage_weights[n] * v for n, v in terms.parts.items()), rel=1e-5
        )
    assert config.separation_weight == (0.09 if semantics == "paper" else 0.1)
    assert config.slot_coherence_weight == (5e-5 if semantics == "paper" else 1e-6)
