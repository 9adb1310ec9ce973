"""Model invariants: greedy matching, slot rescaling, exact decomposition of logits, backbones and weights."""

from __future__ import annotations

import pytest
import torch

from protovit import ProtoViT, WeightsNotFoundError, create_backbone, greedy_match, neighbour_table
from protovit.backbones import PAPER_BACKBONES, patch_grid, split_tokens
from tests.protovit.conftest import MICRO_BACKBONE, micro_config


def brute_force_match(cosines: torch.Tensor, rows: int, cols: int, radius: int) -> list[int]:
    """The greedy rule written as plain loops, for one prototype: cosines [N, K] -> token per sub-prototype."""
    n_tokens, k_sub = cosines.shape
    used_tokens, used_subs, previous = set(), set(), None
    tokens = [None] * k_sub

    def adjacent(a: int, b: int) -> bool:
        return abs(a // cols - b // cols) <= radius and abs(a % cols - b % cols) <= radius

    for _ in range(k_sub):
        free = [
            (n, k)
            for n in range(n_tokens)
            for k in range(k_sub)
            if n not in used_tokens and k not in used_subs
        ]
        near = [(n, k) for n, k in free if previous is None or adjacent(previous, n)]
        n, k = max(near or free, key=lambda pair: (float(cosines[pair]), -pair[0] * k_sub - pair[1]))
        tokens[k], previous = n, n
        used_tokens.add(n)
        used_subs.add(k)
    return tokens


@pytest.mark.parametrize(
    ("rows", "cols", "k_sub", "radius"), [(4, 4, 3, 1), (4, 5, 4, 1), (3, 3, 4, 1), (5, 5, 5, 2)]
)
def test_greedy_matching_equals_brute_force_and_respects_radius(rows, cols, k_sub, radius):
    generator = torch.Generator().manual_seed(rows * 100 + k_sub)
    cosines = torch.rand(3, 5, rows * cols, k_sub, generator=generator) * 2 - 1
    result = greedy_match(cosines, neighbour_table(rows, cols, radius))
    for b in range(3):
        for j in range(5):
            tokens = result.token_indices[b, j].tolist()
            assert tokens == brute_force_match(cosines[b, j], rows, cols, radius)
            assert len(set(tokens)) == k_sub, "a token was reused"
            order = result.order[b, j].tolist()
            assert sorted(order) == list(range(k_sub))
            picks = [tokens[k] for k in order]
            for step in range(1, k_sub):
                before, after = picks[step - 1], picks[step]
                chebyshev = max(abs(before // cols - after // cols), abs(before % cols - after % cols))
                assert chebyshev <= radius or not _has_free_neighbour(
                    before, picks[:step], rows, cols, radius
                )
            expected = torch.stack([cosines[b, j, tokens[k], k] for k in range(k_sub)])
            assert torch.equal(result.cosines[b, j], expected), "values must be in sub-prototype order"


def _has_free_neighbour(token: int, picks: list[int], rows: int, cols: int, radius: int) -> bool:
    table = neighbour_table(rows, cols, radius)
    return bool((table[token] & ~torch.isin(torch.arange(rows * cols), torch.tensor(picks))).any())


def test_matching_never_reuses_a_token_when_the_neighbourhood_is_exhausted():
    # 2x2 grid, K = 4, radius 0: no neighbour is ever free, every pick must still be a new token.
    cosines = torch.rand(2, 3, 4, 4)
    result = greedy_match(cosines, neighbour_table(2, 2, 0))
    for tokens in result.token_indices.reshape(-1, 4).tolist():
        assert sorted(tokens) == [0, 1, 2, 3]


def test_gradient_flows_only_through_matched_cosines():
    cosines = torch.rand(1, 2, 16, 3, requires_grad=True)
    result = greedy_match(cosines, neighbour_table(4, 4, 1))
    result.cosines.sum().backward()
    assert int((cosines.grad != 0).sum()) == 2 * 3


@pytest.fixture
def micro_model() -> ProtoViT:
    torch.manual_seed(0)
    return ProtoViT(micro_config(num_classes=3)).eval()


def test_slot_rescaling(micro_model):
    cosines = torch.rand(2, micro_model.num_prototypes, 3) * 2 - 1
    with torch.no_grad():
        micro_model.slot_logits.fill_(200.0)
        all_on = micro_model.score(cosines)[0]
        assert torch.allclose(all_on, cosines.sum(-1), atol=1e-6)
        micro_model.slot_logits[0, :, 1] = -200.0
        one_off = micro_model.score(cosines)[0]
        expected = 3 / 2 * (cosines[..., 0] + cosines[..., 2])
        assert torch.allclose(one_off, expected, atol=1e-6)
        assert one_off.abs().max() <= 3 + 1e-6


def test_slots_start_near_one_and_last_layer_is_plus_one_minus_half(micro_model):
    assert torch.all(micro_model.slots() > 0.9999)
    weight = micro_model.last_layer.weight
    assert weight.shape == (3, 6)
    assert torch.equal(weight[0, :2], torch.ones(2)) and torch.equal(weight[0, 2:], torch.full((4,), -0.5))


def test_contributions_sum_exactly_to_logits(micro_model):
    output = micro_model(torch.randn(4, 3, 32, 32))
    contributions = micro_model.contributions(output.scores)
    assert contributions.shape == (4, 3, micro_model.num_prototypes)
    assert torch.allclose(contributions.sum(-1), output.logits, atol=1e-5)
    assert output.sub_cosines.shape == output.token_indices.shape == (4, 6, 3)


def test_cls_token_is_subtracted(micro_model):
    images = torch.randn(2, 3, 32, 32)
    cls_token, patches = split_tokens(micro_model.backbone, micro_model.backbone.forward_features(images))
    assert torch.allclose(micro_model.encode(images), patches - cls_token[:, None])


@pytest.mark.parametrize("img_size", [40, 48])
def test_any_image_size_the_backbone_accepts(img_size):
    model = ProtoViT(micro_config(num_classes=3, img_size=img_size)).eval()
    side = img_size // 8
    assert model.grid == (side, side)
    output = model(torch.randn(1, 3, img_size, img_size))
    assert int(output.token_indices.max()) < side * side
    assert model.token_box(side * side - 1) == (img_size - 8, img_size - 8, img_size, img_size)


@pytest.mark.parametrize("name", PAPER_BACKBONES)
def test_paper_backbones_build_and_give_a_token_grid(name):
    backbone = create_backbone(name, img_size=32, depth=2, embed_dim=32, num_heads=2, patch_size=8)
    tokens = backbone.forward_features(torch.randn(1, 3, 32, 32))
    assert patch_grid(backbone) == (4, 4)
    cls_token, patches = split_tokens(backbone, tokens)
    assert patches.shape == (1, 16, 32) and cls_token.shape == (1, 32)
    assert backbone.weights_source.kind == "random-init"


@pytest.mark.parametrize("name", PAPER_BACKBONES)
def test_protovit_runs_on_each_paper_backbone(name):
    model = ProtoViT(micro_config(num_classes=3, backbone=name)).eval()
    output = model(torch.randn(2, 3, 32, 32))
    assert output.logits.shape == (2, 3) and output.token_indices.max() < 16
    assert torch.allclose(model.contributions(output.scores).sum(-1), output.logits, atol=1e-5)


def test_weights_file_really_loads(tmp_path):
    torch.manual_seed(1)
    reference = create_backbone("deit_tiny_patch16_224", img_size=32, **MICRO_BACKBONE)
    path = tmp_path / "backbone.pth"
    torch.save({"model": reference.state_dict()}, path)  # the original DeiT files wrap {'model': ...}
    torch.manual_seed(2)
    loaded = create_backbone("deit_tiny_patch16_224", weights=path, img_size=32, **MICRO_BACKBONE)
    for key, tensor in reference.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], tensor), key
    assert loaded.weights_source.kind == "file" and "sha256=" in loaded.weights_source.detail


def test_weights_file_for_another_image_size_loads_with_resized_position_embeddings(tmp_path):
    reference = create_backbone("deit_tiny_patch16_224", img_size=32, **MICRO_BACKBONE)
    path = tmp_path / "backbone.safetensors"
    from safetensors.torch import save_file

    save_file(reference.state_dict(), path)
    loaded = create_backbone("deit_tiny_patch16_224", weights=path, img_size=48, **MICRO_BACKBONE)
    assert loaded.pos_embed.shape[1] == 1 + 36 and patch_grid(loaded) == (6, 6)
    assert torch.equal(loaded.blocks[0].attn.qkv.weight, reference.blocks[0].attn.qkv.weight)


def test_missing_or_wrong_weights_file_is_an_error_never_random_init(tmp_path):
    with pytest.raises(WeightsNotFoundError, match="not found"):
        create_backbone(
            "deit_tiny_patch16_224", weights=tmp_path / "absent.pth", img_size=32, **MICRO_BACKBONE
        )
    wrong = tmp_path / "wrong.pth"
    torch.save({"unrelated.weight": torch.zeros(3)}, wrong)
    with pytest.raises(WeightsNotFoundError, match="does not hold weights"):
        create_backbone("deit_tiny_patch16_224", weights=wrong, img_size=32, **MICRO_BACKBONE)


def test_hub_weights_unavailable_offline_is_a_clear_error(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(
        constants, "HF_HUB_OFFLINE", True
    )  # fail at once even if the hub was imported earlier
    with pytest.raises(WeightsNotFoundError, match="--weights FILE"):
        create_backbone("deit_tiny_patch16_224", pretrained=True, img_size=32, **MICRO_BACKBONE)


@pytest.mark.parametrize("name", ["convstem_vit_tiny", "resstem_vit_tiny"])
def test_conv_stem_vits_are_in_timms_registry_and_train_protovit(name):
    import timm

    assert {"convstem_vit_tiny", "convstem_vit_small", "resstem_vit_tiny"} <= set(
        timm.list_models("*stem_vit_*")
    )
    model = ProtoViT(micro_config(num_classes=3, backbone=name, backbone_kwargs={}, img_size=32))
    assert model.grid == (4, 4) and model.stride == (8, 8)
    output = model(torch.randn(2, 3, 32, 32))
    assert torch.allclose(model.contributions(output.scores).sum(-1), output.logits, atol=1e-5)


def test_residual_stem_has_its_residual_blocks_and_rejects_a_wrong_block_count():
    import timm
    from timm.models.resnet import BasicBlock

    backbone = timm.create_model("resstem_vit_tiny", num_classes=0, stem_width=32, stem_blocks=(0, 1, 2))
    blocks = [m for m in backbone.patch_embed.stem if isinstance(m, BasicBlock)]
    assert [b.conv1.in_channels for b in blocks] == [64, 128, 128]
    with pytest.raises(ValueError, match="stem_blocks needs 3 counts"):
        timm.create_model("resstem_vit_tiny", num_classes=0, stem_blocks=(1, 1))


def _hybrid_backbone():
    """A timm ViT whose patch embedding is timm's HybridEmbed over a small stride-4 CNN (patch_size 1 on it); its
    3x3 / stride 2 / padding 1 convolutions put each feature's field inside its 4x4 input cell, off its centre."""
    from functools import partial

    from timm.layers import HybridEmbed
    from timm.models.vision_transformer import VisionTransformer

    cnn = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(8, 16, 3, stride=2, padding=1),
    )
    cnn.num_features = 16  # HybridEmbed reads the CNN's output width from here
    return VisionTransformer(
        img_size=32, patch_size=1, embed_dim=32, depth=1, num_heads=2, num_classes=0,
        embed_layer=partial(HybridEmbed, backbone=cnn, feature_size=8, feature_ratio=4),
    )  # fmt: skip


@pytest.mark.parametrize(("kind", "size"), [("conv_stem", 32), ("res_stem", 96), ("hybrid", 32)])
def test_token_boxes_land_on_the_pixels_that_drive_the_token(kind, size):
    """The box of a token must sit on the pixels its embedding depends on (its receptive field).

    With positive weights and a positive image every unit is active, so the input gradient of a token is a
    symmetric bump over its exact receptive field. Where that field lies inside the image its centroid is the
    field's centre and must fall in the box (exactly on the box centre for this package's stems, whose even
    kernels centre the field). Near the border zero padding cuts the field and pulls the centroid inwards (the
    residual stem's field is several cells wide); there every pixel of the box must still drive the token.
    """
    import timm

    from protovit.backbones import token_stride

    torch.manual_seed(0)
    if kind == "hybrid":
        backbone = _hybrid_backbone().eval()
    else:
        name = "convstem_vit_tiny" if kind == "conv_stem" else "resstem_vit_tiny"
        backbone = timm.create_model(name, img_size=size, num_classes=0).eval()
    assert backbone.patch_embed.patch_size in ((8, 8), (1, 1))
    stride = token_stride(backbone)
    rows, cols = patch_grid(backbone)
    assert stride == (size // rows, size // cols) and stride != (1, 1)
    model = ProtoViT(
        micro_config(num_classes=3, backbone="convstem_vit_tiny", backbone_kwargs={}, img_size=32)
    )
    model.backbone, model.stride, model.grid = backbone, stride, (rows, cols)
    with torch.no_grad():
        for layer in backbone.patch_embed.modules():
            if isinstance(layer, torch.nn.Conv2d):
                layer.weight.fill_(1.0 / layer.weight[0].numel())
                if layer.bias is not None:
                    layer.bias.zero_()
    untruncated = 0
    for token in (0, cols + 2, (rows // 2) * cols + cols // 2, rows * cols - 1):
        images = torch.ones(1, 3, size, size, requires_grad=True)
        backbone.patch_embed(images)[0, token].abs().sum().backward()
        saliency = images.grad.abs().sum(dim=(0, 1))
        left, top, right, bottom = model.token_box(token)
        assert bool((saliency[top:bottom, left:right] > 0).all()), token
        support = saliency.nonzero()
        if support.min() == 0 or support.max() == size - 1:
            continue  # the field is cut by the border
        untruncated += 1
        weights = saliency / saliency.sum()
        centre_y = float((weights.sum(dim=1) * torch.arange(size)).sum())
        centre_x = float((weights.sum(dim=0) * torch.arange(size)).sum())
        assert left <= centre_x < right and top <= centre_y < bottom, (
            token,
            (centre_x, centre_y),
            (left, top),
        )
        if kind != "hybrid":
            assert (
                abs(centre_x - (left + right - 1) / 2) < 1e-3
                and abs(centre_y - (top + bottom - 1) / 2) < 1e-3
            )
    assert untruncated >= 1


def test_backbone_safetensors_written_after_stage_0_loads_with_timm(tmp_path):
    """backbone.safetensors uses timm's key names, so --weights (timm's file loader) takes it as pretrained."""
    from protovit.checkpoint import save_backbone

    torch.manual_seed(3)
    reference = create_backbone("convstem_vit_tiny", img_size=32)
    save_backbone(tmp_path / "backbone.safetensors", reference, "test")
    torch.manual_seed(4)
    loaded = create_backbone("convstem_vit_tiny", img_size=32, weights=tmp_path / "backbone.safetensors")
    for key, tensor in reference.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], tensor), key
    assert loaded.weights_source.kind == "file"
