"""The image reader's own symbol crops (``crohme-wap``) and the classifier that reads image crops."""

from __future__ import annotations

import numpy as np
import pytest

from inkmath import InkmathError
from inkmath.data import load_dataset
from inkmath.equation import image_segmentation
from test_crohme import FIXTURES, make_archive


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("INKMATH_CACHE", str(tmp_path / "cache"))
    (tmp_path / "crohme").mkdir()
    make_archive(tmp_path / "crohme" / "crohme2014_test_inkml.tar.xz", "TestEM2014GT", FIXTURES)
    return tmp_path


def test_crops_of_wap_like_renderings_are_labelled_like_the_stroke_crops(data_dir):
    ds = load_dataset("crohme-wap:test", data_dir)
    ink = load_dataset("crohme:test:preset=crohme32", data_dir)
    assert ds.images.shape == (7, 32, 32) and ds.images.dtype == np.uint8 and ds.prepared == "crohme32"
    assert ds.labels.tolist() == ink.labels.tolist()  # the same symbols, \bullet dropped
    assert ds.ids[0] == "wap/a/0" and ds.ids[-1] == "wap/b/2"
    assert all(img.max() > 200 and img[0].max() < 40 for img in ds.images)  # ink centred, black border
    # a bitmap is not a rendering of the strokes: the crops differ from the stroke crops
    assert np.abs(ds.images.astype(int) - ink.images.astype(int)).mean() > 1.0
    again = load_dataset("crohme-wap:test", data_dir)  # from the cache, the same crops
    assert np.array_equal(again.images, ds.images)
    assert len(list((data_dir / "cache").glob("crohme-wap-test-*.npz"))) == 1
    mixed = load_dataset("crohme-wap:test:mix=1", data_dir)
    assert len(mixed) == 14 and mixed.ids[7] == "ink/a/0" and np.array_equal(mixed.images[7:], ink.images)
    assert len(load_dataset("crohme-wap:test:limit=1", data_dir)) == 4


def test_crohme_wap_spec_errors(data_dir):
    with pytest.raises(InkmathError, match="mix must be 0 or 1"):
        load_dataset("crohme-wap:test:mix=2", data_dir)
    with pytest.raises(InkmathError, match="positive whole number"):
        load_dataset("crohme-wap:test:limit=0", data_dir)


class _Fake:
    def __init__(self, name, engine="onnx"):
        self.card, self.engine = {"name": name}, engine


def test_images_are_read_by_the_image_classifier_only_in_place_of_the_default(monkeypatch):
    loaded = []
    monkeypatch.setattr(image_segmentation, "_IMAGE_PREDICTORS", {})
    monkeypatch.setattr("inkmath.predict.Predictor.load",
                        classmethod(lambda cls, name, engine="torch": loaded.append((name, engine)) or _Fake(name)))
    monkeypatch.setattr(image_segmentation, "IMAGE_CLASSIFIER", "crohme-m-wap")
    default = _Fake("crohme-m")
    got = image_segmentation.image_classifier(default)
    assert got.card["name"] == "crohme-m-wap" and loaded == [("crohme-m-wap", "onnx")]
    assert image_segmentation.image_classifier(default) is got and len(loaded) == 1  # loaded once per engine
    assert image_segmentation.image_classifier(got) is got  # already the image classifier
    own = _Fake("crohme")
    assert image_segmentation.image_classifier(own) is own  # a caller's own weights are kept
    monkeypatch.setattr(image_segmentation, "IMAGE_CLASSIFIER", None)
    assert image_segmentation.image_classifier(default) is default


def test_the_image_classifier_recipe_fine_tunes_the_readers_classifier_on_the_image_crops():
    from pathlib import Path

    from inkmath.equation.recognize import DEFAULT_WEIGHTS
    from inkmath.training.config import make_config

    cfg = make_config(Path(__file__).resolve().parents[1] / "configs" / "crohme-m-wap.yaml")
    assert cfg.init == DEFAULT_WEIGHTS and cfg.dataset == "crohme-wap:train" and cfg.val == "crohme-wap:val"
    assert cfg.model == "inkres-m" and cfg.preset == "crohme32"
    # not shipped (docs/decisions/2026-11-24-image-7.md): images are read by the reader's own classifier
    assert image_segmentation.IMAGE_CLASSIFIER is None
