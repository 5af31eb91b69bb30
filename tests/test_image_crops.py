"""The image reader's own symbol crops (``crohme-wap``) and the classifier that reads image crops."""

from __future__ import annotations

import numpy as np
import pytest

from inkmath import InkmathError
from inkmath.data import load_dataset
from inkmath.equation.synth import crohme_wap  # noqa: F401 (registers crohme-wap)
from inkmath.equation.image import segmentation as image_segmentation
from test_crohme import data_dir  # noqa: F401  (the fixture: a CROHME folder of small InkML files)


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


def _record_loads(monkeypatch) -> list:
    """No image predictor loaded yet, and ``Predictor.load`` stubbed: the (name, engine, threads) of each load."""
    loaded = []
    monkeypatch.setattr("inkmath.predict._LOADED", {})
    monkeypatch.setattr("inkmath.predict.Predictor.load",
                        classmethod(lambda cls, name, engine="torch", threads=None: loaded.append(
                            (name, engine, threads)) or _Fake(name, engine)))
    return loaded


def test_the_image_classifier_recipe_fine_tunes_the_readers_classifier_on_the_image_crops():
    from pathlib import Path

    from inkmath.equation.recognize import DEFAULT_WEIGHTS
    from inkmath.training.config import make_config

    cfg = make_config(Path(__file__).resolve().parents[1] / "configs" / "crohme-m-wap.yaml")
    assert cfg.init == DEFAULT_WEIGHTS and cfg.dataset == "crohme-wap:train" and cfg.val == "crohme-wap:val"
    assert cfg.model == "inkres-m" and cfg.preset == "crohme32"
    # not shipped (docs/decisions/image-reader.md): images are read by the reader's own classifier


def test_crops_cut_as_the_page_reader_cuts_them_are_labelled_like_the_wap_crops(data_dir):
    ds = load_dataset("crohme-page:test", data_dir)
    wap = load_dataset("crohme-wap:test", data_dir)
    assert ds.name == "crohme-page:test" and ds.prepared == "crohme32" and ds.images.shape == (7, 32, 32)
    assert ds.labels.tolist() == wap.labels.tolist() and ds.ids[0] == "page/a/0"
    assert all(img.max() > 200 and img[0].max() < 40 for img in ds.images)
    assert np.abs(ds.images.astype(int) - wap.images.astype(int)).mean() > 1.0  # photographed ink is not WAP's
    assert len(list((data_dir / "cache").glob("crohme-page-test-*.npz"))) == 1
    assert np.array_equal(load_dataset("crohme-page:test", data_dir).images, ds.images)  # the cache's
    spread = load_dataset("crohme-page:test:every=2", data_dir)  # the first of every two expressions
    assert {i.split("/")[1] for i in spread.ids} == {"a"} and np.array_equal(spread.images, ds.images[:len(spread)])
    with pytest.raises(InkmathError, match="every must be"):
        load_dataset("crohme-page:test:every=0", data_dir)
    with pytest.raises(InkmathError, match="cannot be combined"):
        load_dataset("crohme-page:test:every=2:mix=1", data_dir)


def test_page_like_masks_cover_the_crops_ink():
    from test_crohme import INKML_XY

    from inkmath.data.crohme import read_inkml
    from inkmath.equation.synth.page_like import render_labelled

    expr = read_inkml(INKML_XY.encode(), "fixture_xy.inkml")  # x^2=1
    img, groups = render_labelled(expr, np.random.default_rng(3))
    assert img.dtype == np.uint8 and set(np.unique(img)) <= {0, 255} and img.any()
    assert [k for k, _ in groups] == list(range(len(expr.groups)))
    union = np.logical_or.reduce([m for _, m in groups])
    assert (union & (img > 0)).sum() > 0.9 * (img > 0).sum()  # each symbol's mask lies on its own ink
    assert all(m.shape == img.shape and (m & (img > 0)).any() for _, m in groups)
    with pytest.raises(InkmathError, match="Unknown crop style"):
        from inkmath.equation.synth.image_crops import expression_crops

        expression_crops(expr, np.random.default_rng(0), style="scan")


def test_the_page_classifier_replaces_only_the_default_classifier_for_the_page(monkeypatch):
    loaded = _record_loads(monkeypatch)
    default = _Fake("crohme-m")
    got = image_segmentation.in_place_of_default(default, "crohme-m-page")
    assert got.card["name"] == "crohme-m-page" and [load[:2] for load in loaded] == [("crohme-m-page", "onnx")]
    assert image_segmentation.in_place_of_default(got, "crohme-m-page") is got  # already that classifier
    assert image_segmentation.in_place_of_default(default, None) is default


def test_the_page_reads_the_default_classifier_on_its_own_engine(monkeypatch):
    import importlib.util

    loaded = _record_loads(monkeypatch)
    torch_default = _Fake("crohme-m", engine="torch")
    got = image_segmentation.in_place_of_default(torch_default, "crohme-m", "onnx")
    assert (got.card["name"], got.engine) == ("crohme-m", "onnx") and loaded == [("crohme-m", "onnx", 1)]
    assert image_segmentation.in_place_of_default(torch_default, "crohme-m", "onnx") is got  # loaded once
    assert image_segmentation.in_place_of_default(got, "crohme-m", "onnx") is got  # already on that engine
    assert image_segmentation.in_place_of_default(torch_default, "crohme-m", None) is torch_default
    own = _Fake("crohme", engine="torch")
    assert image_segmentation.in_place_of_default(own, "crohme-m", "onnx") is own  # a caller's own weights
    monkeypatch.setattr("inkmath.predict._LOADED", {})
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    assert image_segmentation.in_place_of_default(torch_default, "crohme-m", "onnx") is torch_default
    assert len(loaded) == 1
