"""The ProtoViT tab against a real (micro) trained run: pick or upload an image, get the sheet and its table."""

from __future__ import annotations

import io
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


def test_catalogue_image_is_explained_with_alt_text_and_a_table(images_view):
    assert images_view._controls.visible and images_view._picker.options
    data = images_view.explain_selected()
    assert data is not None and data["predicted_class"] in ("red", "green", "blue")
    assert images_view._sheet.visible and images_view._sheet.object
    assert data["predicted_class"] in images_view._sheet.alt_text
    assert "<table>" in images_view._table.object and "<caption>" in images_view._table.object


def test_uploaded_image_is_explained_and_garbage_is_refused(images_view):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (30, 170, 60)).save(buffer, format="PNG")
    images_view._upload.value = buffer.getvalue()
    assert images_view.explain_selected() is not None
    images_view._upload.value = b"not an image at all"
    assert images_view.explain_selected() is None
    assert 'role="alert"' in images_view._status.object


def test_catalogue_refuses_names_outside_the_manifest(images_view_resources):
    with pytest.raises(FileNotFoundError):
        images_view_resources.open_product_image("../../etc/passwd")
