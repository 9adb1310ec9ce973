"""The ProtoViT tab against a real (micro) trained run: pick or upload an image, get the contrastive sheet and its
table; hostile uploads are refused before decoding; no server path is ever shown; background training."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zlib
from dataclasses import replace

import pytest
from PIL import Image

from dashboard.cockpit import Cockpit
from dashboard.resources import load_resources
from dashboard.session import ClientSession
from dashboard.views.images import ImagesView
from tests.protovit.conftest import micro_config, write_image_folder


@pytest.fixture(scope="module")
def images_view_resources(dashboard_paths, tmp_path_factory):
    from protovit import train

    images = write_image_folder(tmp_path_factory.mktemp("product_images"))
    run = tmp_path_factory.mktemp("protovit_run")
    train(micro_config(), images, run, progress=False)
    return load_resources(replace(dashboard_paths, protovit_run=run, protovit_images=images))


@pytest.fixture
def images_view(images_view_resources, lang):
    view = ImagesView(ClientSession(Cockpit(images_view_resources), lang=lang))
    view.activate()
    return view


def huge_png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of width x height white pixels, built row by row: a few kilobytes on disk
    whatever its size, never held decoded in memory."""
    compressor, row = zlib.compressobj(9), b"\x00" + b"\xff" * ((width + 7) // 8)
    chunks = [compressor.compress(row * 1000) for _ in range(height // 1000)]
    chunks += [compressor.compress(row * (height % 1000)), compressor.flush()]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(chunks)) + chunk(b"IEND", b"")
    )


def test_catalogue_image_is_explained_with_alt_text_and_a_contrastive_table(images_view):
    assert images_view._controls.visible and images_view._picker.options
    data = images_view.explain_selected()
    assert data is not None and data["predicted_class"] in ("red", "green", "blue")
    assert images_view._sheet.visible and images_view._sheet.object
    assert data["predicted_class"] in images_view._sheet.alt_text
    table = images_view._table.object
    assert "<table>" in table and "<caption>" in table
    for case in data["cases"]:  # both classes are in the table, with their totals
        assert f"<td>{case['class_name']}</td>" in table or case["class_name"] in table


def test_uploaded_image_is_explained_and_garbage_is_refused(images_view):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (30, 170, 60)).save(buffer, format="JPEG")
    images_view._upload.value = buffer.getvalue()
    assert images_view.explain_selected() is not None
    for garbage in (b"not an image at all", b"GIF89a" + b"\x00" * 64, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64):
        images_view._upload.value = garbage
        assert images_view.explain_selected() is None
        assert 'role="alert"' in images_view._status.object


@pytest.mark.parametrize("side", [12000, 20000])
def test_huge_pngs_are_refused_before_decoding_with_memory_bounded(images_view, side):
    from protovit.service import UploadError, open_upload

    data = huge_png(side, side)
    assert len(data) < 200_000  # compresses to a few kilobytes...
    tracemalloc.start()
    with pytest.raises(UploadError) as refused:
        open_upload(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert refused.value.reason == "pixels" and peak < 20_000_000  # ...and is never decoded
    with pytest.raises(UploadError) as bomb:  # without our cap, PIL's decompression-bomb guard answers
        open_upload(data, max_pixels=10**12)
    assert bomb.value.reason == "bomb"
    images_view._upload.value = data
    assert images_view.explain_selected() is None
    assert "25" in images_view._status.object and 'role="alert"' in images_view._status.object


def test_at_most_k_explanations_run_at_once(images_view_resources):
    from dashboard.cockpit import ImageRefused

    cockpit = Cockpit(images_view_resources)
    cockpit.predictor()
    gate = images_view_resources.explanations
    image = Image.new("RGB", (40, 40), "red")
    with gate.slot(), gate.slot():
        assert gate.limit == 2
        with pytest.raises(ImageRefused, match="busy"):
            cockpit.explain_image(image)
    assert cockpit.explain_image(image).predicted_class in ("red", "green", "blue")


def test_missing_run_and_images_never_show_server_paths(dashboard_paths, tmp_path, lang):
    paths = replace(dashboard_paths, protovit_run=tmp_path / "no_run", protovit_images=tmp_path / "no_images")
    view = ImagesView(ClientSession(Cockpit(load_resources(paths)), lang=lang))
    view.activate()
    status = view._status.object
    assert "pixi run train-protovit" in status and not view._controls.visible
    assert str(tmp_path) not in status and "/" not in status.replace("</", "")


def test_server_with_images_and_no_run_trains_in_the_background_then_explains(
    dashboard_paths, tmp_path, monkeypatch, lang
):
    images = write_image_folder(tmp_path / "images")
    config = tmp_path / "micro.json"
    micro_config().save(config)
    monkeypatch.setenv("PROTOVIT_AUTOTRAIN", "1")
    monkeypatch.setenv("PROTOVIT_AUTOTRAIN_CONFIG", str(config))
    resources = load_resources(
        replace(dashboard_paths, protovit_run=tmp_path / "run", protovit_images=images)
    )
    cockpit = Cockpit(resources)
    resources.start_protovit_if_untrained()  # what the server's start-up warm-up does
    assert resources.protovit_training is not None and resources.protovit_training.progress().running
    view = ImagesView(ClientSession(cockpit, lang=lang))
    view.activate()
    assert 'role="status"' in view._status.object and view._progress.visible and not view._controls.visible
    deadline = time.monotonic() + 300
    while resources.protovit_training.progress().running and time.monotonic() < deadline:
        time.sleep(1)
    assert not resources.protovit_training.lock.exists()
    view._update()
    assert view._controls.visible and not view._progress.visible, (
        tmp_path / "run" / "background.log"
    ).read_text()
    assert view.explain_selected() is not None
