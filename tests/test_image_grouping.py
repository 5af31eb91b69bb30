"""The learned image grouping (``image_grouping``) and its recipe (``train_image_merge``): pair features, joining,
and a small training run that builds its cache, resumes from it, and writes weights with a card."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inkmath.data.crohme import InkmlExpression, TraceGroup
from inkmath.equation.image import grouping as image_grouping
from inkmath.training.recipes import image_merge as train_image_merge
from inkmath.equation.core.tree import Box
from inkmath.predict import Prediction


def test_candidate_pairs_are_near_neighbours_in_x_order():
    boxes = [Box(0, 0, 10, 20), Box(12, 0, 22, 20), Box(100, 0, 110, 20)]
    assert image_grouping.candidate_pairs(boxes, 20.0) == [(0, 1)]  # the far one is nobody's pair


def test_pair_features_spread_readings_over_the_classes():
    index = {"x": 0, "1": 1, "-": 2}
    boxes, groups = [Box(0, 0, 10, 20), Box(12, 0, 22, 20)], [[0], [1]]
    preds = [[Prediction("1", "1", 0.6)], [Prediction("1", "1", 0.5)]]
    raw = image_grouping.pair_raw(boxes, groups, preds, [Prediction("x", "x", 0.9), Prediction("?", "?", 0.05)],
                                  0, 1, 20.0, index)
    assert raw.shape == (image_grouping.RAW_LEN,)
    f = image_grouping.pair_features(raw, 3)
    assert f.shape == (1, 20 + 9)
    assert np.allclose(f[0, 20:], [0, 0.6, 0, 0, 0.5, 0, 0.9, 0, 0])  # an unknown label ('?') counts for none
    assert f[0, 4] == pytest.approx(0.1)  # the x gap in typical symbols


def test_join_follows_probabilities_and_forced_decisions():
    pairs, probs = [(0, 1), (1, 2), (2, 3)], np.array([0.95, 0.2, 0.8])
    assert image_grouping._join(4, pairs, probs, set(), set()) == [[0, 1], [2, 3]]
    assert image_grouping._join(4, pairs, probs, {1}, set()) == [[0, 1, 2, 3]]
    assert image_grouping._join(4, pairs, probs, set(), {0}) == [[0], [1], [2, 3]]
    assert image_grouping._join(4, pairs, probs, set(), set(), threshold=0.9) == [[0, 1], [2], [3]]
    t = image_grouping.MERGE_PROB
    assert image_grouping._margin(t) == 0.0
    assert image_grouping._margin(0.99) == pytest.approx(np.log(99) - np.log(t / (1 - t)))


def _expr(k: int) -> InkmlExpression:
    """'= 1': two bars (one symbol) and a stem, in ink units."""
    bar = lambda y: np.array([[0, y], [30, y + k]], float)  # noqa: E731
    stem = np.array([[50, -10], [52, 35]], float)
    return InkmlExpression(f"e{k}", [bar(0), bar(14), stem], [TraceGroup("=", [0, 1]), TraceGroup("1", [2])], "=1")


def test_recipe_builds_its_cache_resumes_from_it_and_ships_a_card(tmp_path, monkeypatch):
    monkeypatch.setattr(train_image_merge, "training_expressions",
                        lambda limit: ((k, _expr(k)) for k in range(limit)))
    (tmp_path / "r.yaml").write_text("model: tanh-mlp\nhidden: 4\nepochs: 2\nlimit: 4\nshard: 2\n")
    out = tmp_path / "w" / "image-merge.safetensors"
    argv = ["--config", str(tmp_path / "r.yaml"), "--cache", str(tmp_path / "cache"), "--out", str(out)]
    assert train_image_merge.main(argv) == 0
    shards = sorted((tmp_path / "cache").rglob("shard-*.npz"))
    assert len(shards) == 2
    z = np.load(shards[0])
    assert int(z["n"]) == 2 and z["y"].max() == 1.0  # the two bars of '=' are one symbol
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["name"] == "image-merge" and card["model"] == "tanh-mlp" and card["config"] == str(tmp_path / "r.yaml")
    model = image_grouping.load_image_merge_model(out)  # its card names its kind
    assert model.w1.shape[1] == 4
    # resumed: the cached shards are read, not built again
    monkeypatch.setattr(train_image_merge, "expression_rows", lambda *a: pytest.fail("rebuilt a cached shard"))
    assert train_image_merge.main(argv) == 0


def test_the_models_groupings_join_the_rules_alternatives_once(monkeypatch):
    """segment_image_nbest offers the model's groupings where they differ from the rules' (each once, by margin)."""
    from test_image_alternatives import StemStub, ones_touching

    from inkmath.equation.image import segmentation as image_segmentation

    img = ones_touching()
    monkeypatch.setattr(image_grouping, "learned_groupings", lambda *a, **kw: [])  # the rules' alternatives alone
    rules = image_segmentation.segment_image_nbest(img, StemStub(), 6, ink="white")
    same = [sorted(h.strokes) for h in rules[0][0]]

    def fake(parts, classifier, k, model=None, merge_prob=None):
        groups = [list(g) for g in same]
        boxes = [parts.comps[g[0]][0] for g in groups]
        box = boxes[0]
        for b in boxes[1:]:
            box = box.union(b)
        return [(0.0, (groups, boxes, [parts.preds[g[0]] for g in groups])),  # the rules' own: not again
                (0.1, ([sorted(c for g in groups for c in g)], [box], [parts.preds[0]]))]  # one symbol: new

    monkeypatch.setattr(image_grouping, "learned_groupings", fake)
    found = image_segmentation.segment_image_nbest(img, StemStub(), 6, ink="white")
    assert len(found) == len(rules) + 1
    assert [len(h) for h, _ in found].count(1) == 1 and [len(h) for h, _ in rules].count(1) == 0
    assert found[0] == rules[0]  # the rules' grouping stays first


def test_crop_readings_read_each_crop_once_and_answer_in_order():
    """One expression's crops: a crop with the same pixels (and ink, top) is read once; the answers keep the order
    asked, duplicates included, and the wrapped classifier's other attributes show through."""
    from inkmath.equation.image.segmentation import CropReadings

    class Counting:
        preset = "p"

        def __init__(self):
            self.seen = []

        def predict(self, images, ink="auto", top=5):
            self.seen.append(len(images))
            return [[Prediction(str(int(im.sum())), "", 1.0)] for im in images]

    inner = Counting()
    reads = CropReadings(inner)
    a, b = np.ones((3, 4), np.uint8), np.full((3, 4), 2, np.uint8)
    assert [r[0].label for r in reads.predict([a, b, a], ink="white")] == ["12", "24", "12"]
    assert inner.seen == [2]  # 'a' asked twice in one batch: read once
    assert [r[0].label for r in reads.predict([b, a.copy()], ink="white")] == ["24", "12"]
    assert inner.seen == [2]  # both read already
    reads.predict([a], ink="white", top=3)  # another top: another reading
    reads.predict([a.reshape(4, 3)], ink="white")  # the same bytes in another shape: another crop
    assert inner.seen == [2, 1, 1]
    assert reads.predict([], ink="white") == [] and inner.seen == [2, 1, 1]
    assert reads.preset == "p"


def test_other_weights_and_threshold_are_passed_not_set(tmp_path):
    """The benchmarks' --image-merge: the weights at a path (and a threshold) are read where they are given; the
    shipped model and ``MERGE_PROB`` stay what they are."""
    tensors = {"mean": np.zeros(3, np.float32), "std": np.ones(3, np.float32), "w1": np.ones((3, 2), np.float32),
               "b1": np.zeros(2, np.float32), "w2": np.ones((2, 1), np.float32), "b2": np.zeros(1, np.float32)}
    from safetensors.numpy import save_file

    path = tmp_path / "m.safetensors"
    save_file(tensors, str(path))
    shipped = image_grouping.load_image_merge_model()
    model = image_grouping.load_image_merge_model(str(path))  # a file without a card: the accessor names its kind
    assert model is not shipped and model.w1.shape == (3, 2) and model is image_grouping.load_image_merge_model(path)
    assert image_grouping.load_image_merge_model() is shipped and shipped.w1.shape[1] != 2
    assert image_grouping._margin(0.5, 0.5) == 0.0 and image_grouping._margin(0.5) > 0  # MERGE_PROB: 0.7


def test_the_class_index_is_the_image_classifiers_and_the_image_models_recipes():
    """The image models' inputs spread readings over the classes of the classifier that reads image crops (the
    reader's); the classifiers their recipes learn from have the same classes in the same order, so a reading at run
    time lands where the model learnt it."""
    import yaml

    from inkmath.equation.recognize import DEFAULT_WEIGHTS
    from inkmath.weights import resolve_weights

    def names(weights: str) -> list[str]:
        return resolve_weights(weights)[1]["classes"]["names"]

    image_grouping.class_index.cache_clear()
    try:
        assert list(image_grouping.class_index()) == names(DEFAULT_WEIGHTS)
        for config in ("configs/image-merge.yaml", "configs/image-touch.yaml"):
            recipe = yaml.safe_load((Path(__file__).resolve().parent.parent / config).read_text())
            assert names(recipe["classifier"]) == names(DEFAULT_WEIGHTS), config
    finally:
        image_grouping.class_index.cache_clear()
