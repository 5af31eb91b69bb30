"""Cuts where strokes meet (``image_touch``) and the ``image-touch`` recipe (``train_image_touch``): the candidate
cuts of touching symbols, their labels from truth pixels, the model's inputs, and a small training run."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from inkmath.data.crohme import InkmlExpression, TraceGroup
from inkmath.equation.image import touch as image_touch
from inkmath.training.recipes import image_touch as train_image_touch
from inkmath.equation.core.tree import Box
from inkmath.predict import Prediction


def _foot() -> np.ndarray:
    """A stem standing on the middle of a bar ('1' over '-' touching): one component, (80, 90) bool."""
    img = np.zeros((80, 90), np.uint8)
    cv2.line(img, (45, 5), (45, 70), 255, 5)
    cv2.line(img, (5, 72), (85, 72), 255, 5)
    return img > 0


def test_branches_count_the_runs_of_ink_a_circle_crosses():
    mask = _foot()
    runs = image_touch.branches(mask, 8.0)
    assert runs[40, 45] == 2  # the middle of the stem: up and down
    assert runs[72, 45] == 3  # where the stem meets the bar: up, left, right
    assert runs[72, 20] == 2
    for step in (2, 3):  # every step-th pixel of every step-th row: the same counts there
        assert np.array_equal(image_touch.branches(mask, 8.0, step), runs[::step, ::step])


def test_a_stem_touching_a_bar_is_cut_from_it():
    mask = _foot()
    cuts = image_touch.touch_cuts(mask, 60.0, 5.0, 0.35)
    stem = np.zeros_like(mask)
    stem[:68] = mask[:68]
    # one cut parts the stem (one side) from the whole bar (the other), up to the ink taken out where they meet
    assert any(np.count_nonzero((side if side[10, 45] else mask & ~side) ^ stem) < 0.05 * mask.sum() for side in cuts)
    # no cut is found twice, nor its mirror
    keys = {np.packbits(s).tobytes() for s in cuts} | {np.packbits(mask & ~s).tobytes() for s in cuts}
    assert len(keys) == 2 * len(cuts)
    # a plain stroke has no point where strokes meet
    line = np.zeros((80, 90), np.uint8)
    cv2.line(line, (5, 40), (85, 40), 255, 5)
    assert image_touch.touch_cuts(line > 0, 60.0, 5.0, 0.35) == []


def test_no_cuts_are_looked_for_in_a_component_far_larger_than_a_few_symbols():
    mask = _foot()  # 80 px: cut at a typical symbol of 60 px (above), not when that is 80 / (TOUCH_MAX_SIZE + 1) px
    assert image_touch.touch_cuts(mask, 60.0, 5.0, 0.35)
    assert image_touch.touch_cuts(mask, max(mask.shape) / (image_touch.TOUCH_MAX_SIZE + 1), 5.0, 0.35) == []


def test_a_tangle_is_read_at_every_kth_branch_point_within_the_work_bound(monkeypatch):
    rng = np.random.default_rng(0)
    img = np.zeros((300, 300), np.uint8)
    for _ in range(60):  # a scribble: crossings everywhere
        a, b = rng.integers(0, 300, (2, 2))
        cv2.line(img, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 255, 4)
    mask = img > 0
    labelled = []
    real = image_touch.ink_labels
    monkeypatch.setattr(image_touch, "ink_labels", lambda ink: labelled.append(1) or real(ink))
    image_touch.touch_cuts(mask, 60.0, 4.0, 0.35)
    everything = len(labelled)
    assert everything > 8  # many branch points: a bound of a quarter of the work reads a quarter of them or fewer
    labelled.clear()
    monkeypatch.setattr(image_touch, "TOUCH_MAX_WORK", everything * mask.size // 4)
    image_touch.touch_cuts(mask, 60.0, 4.0, 0.35)
    assert 0 < len(labelled) * mask.size <= image_touch.TOUCH_MAX_WORK
    # a component within the bound reads every branch point: the stem on the bar has the cuts it has unbounded
    bounded = image_touch.touch_cuts(_foot(), 60.0, 5.0, 0.35)
    monkeypatch.setattr(image_touch, "TOUCH_MAX_WORK", 10 ** 15)
    unbounded = image_touch.touch_cuts(_foot(), 60.0, 5.0, 0.35)
    assert bounded and len(bounded) == len(unbounded)
    assert all(np.array_equal(a, b) for a, b in zip(bounded, unbounded))


def test_touch_cuts_keep_no_cut_within_touch_same_of_an_earlier_one():
    rng = np.random.default_rng(4)
    kept = 0
    for _ in range(40):
        img = np.zeros((70, 70), np.uint8)
        for _ in range(int(rng.integers(2, 5))):
            a, b = rng.integers(0, 70, (2, 2))
            cv2.line(img, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 255, int(rng.integers(3, 7)))
        mask = img > 0
        cuts = image_touch.touch_cuts(mask, 40.0, 5.0, 0.35)
        kept += len(cuts)
        for j, side in enumerate(cuts):
            assert not (side & ~mask).any()
            least = image_touch.TOUCH_SAME * min(np.count_nonzero(side), np.count_nonzero(mask & ~side))
            for other in cuts[:j]:  # both this side and the other differ from each earlier cut by that much
                assert np.count_nonzero(side ^ other) >= least and np.count_nonzero(mask & ~side ^ other) >= least
    assert kept > 20


def test_cuts_where_strokes_meet_are_looked_for_only_in_components_not_read_surely(monkeypatch):
    from inkmath.equation.image import splits as image_splits

    mask = _foot()
    looked = []
    monkeypatch.setattr(image_touch, "touch_cuts", lambda crop, *a: looked.append(crop.shape) or [])
    comps = [(Box(0.0, 0.0, 90.0, 80.0), mask)]
    for prob, tried in ((image_touch.TOUCH_WHOLE, False), (image_touch.TOUCH_WHOLE - 0.01, True)):
        looked.clear()
        out = image_splits.split_touching(mask.astype(np.uint8) * 255, comps, [[Prediction("1", "1", prob)]], 30.0,
                                          None, 3, pen=5.0)
        assert bool(looked) == tried and out == (comps, [[Prediction("1", "1", prob)]])  # no neck: nothing cut
    looked.clear()  # making the model's data, every component tried is looked at (as for the shipped model)
    image_splits.split_touching(mask.astype(np.uint8) * 255, comps, [[Prediction("1", "1", image_touch.TOUCH_WHOLE)]],
                                30.0, None, 3, pen=5.0, touch=train_image_touch.data_search([]))
    assert looked


def test_narrow_components_are_looked_at_only_where_strokes_meet_and_not_for_the_models_data(monkeypatch):
    from inkmath.equation.image import splits as image_splits

    mask = _foot()
    looked, necks = [], []
    monkeypatch.setattr(image_touch, "touch_cuts", lambda crop, *a: looked.append(crop.shape) or [])
    monkeypatch.setattr(image_splits, "_neck_paths_many",
                        lambda crops, unit: necks.extend(c.shape for c in crops) or [[] for _ in crops])
    comps = [(Box(0.0, 0.0, 90.0, 80.0), mask)]  # 90 px wide: narrow for a typical symbol of 120 px
    low = [[Prediction("1", "1", image_touch.TOUCH_WHOLE - 0.01)]]
    for touch, tried in ((image_touch.TouchSearch(), True), (train_image_touch.data_search([]), False)):
        looked.clear()
        image_splits.split_touching(mask.astype(np.uint8) * 255, comps, low, 120.0, None, 3, pen=5.0, touch=touch)
        assert bool(looked) == tried
    assert not necks  # a narrow component is never cut at its necks
    looked.clear()  # read surely: not looked at
    image_splits.split_touching(mask.astype(np.uint8) * 255, comps, [[Prediction("1", "1", image_touch.TOUCH_WHOLE)]],
                                120.0, None, 3, pen=5.0)
    assert not looked


def test_a_cut_parts_two_symbols_only_when_each_side_is_one_of_them_nearly_whole():
    lab = np.full((10, 10), -1, np.int16)
    lab[:, :5], lab[:, 5:] = 0, 1
    left = np.zeros((10, 10), bool)
    left[:, :5] = True
    assert train_image_touch.parts_two_symbols(left, ~left, lab)
    part = left.copy()
    part[:, :3] = False  # most of symbol 0 on the other side
    assert not train_image_touch.parts_two_symbols(part, ~part, lab)
    same = np.zeros((10, 10), bool)
    same[:5, :5] = True
    assert not train_image_touch.parts_two_symbols(same, left & ~same, lab)  # both sides of symbol 0


def test_cut_features_read_the_left_side_first_and_spread_readings():
    index = {"1": 0, "-": 1, "x": 2}
    comp = Box(0, 0, 60, 60)
    sides = [(Box(30, 0, 60, 60), 0.3), (Box(0, 0, 30, 60), 0.7)]  # the right side given first
    reads = [[Prediction("1", "1", 0.9)], [Prediction("-", "-", 0.8)]]
    raw = image_touch.cut_raw(comp, 30.0, [Prediction("x", "x", 0.4)], sides, reads, (1.5, -0.2, 3), index)
    assert raw.shape == (image_touch.RAW_LEN,)
    f = image_touch.touch_features(raw, 3)
    assert f.shape == (1, image_touch.N_GEOMETRY + 9)
    assert np.allclose(f[0, image_touch.N_GEOMETRY:], [0, 0, 0.4, 0, 0.8, 0, 0.9, 0, 0])  # whole, left, right
    assert f[0, 2] == pytest.approx(0.7)  # the left side's share of the ink
    assert image_touch.touch_features(raw, 3, spreads=False).shape == (1, image_touch.N_GEOMETRY)


class ShapeStub:
    """Reads a crop by its shape: flat '-' (0.9), tall '1' (0.9), anything else 'x' (0.3)."""

    def predict(self, images, ink="auto", top=5):
        out = []
        for im in images:
            ys, xs = np.nonzero(np.asarray(im) > 60)
            h, w = np.ptp(ys) + 1, np.ptp(xs) + 1
            t, p = ("-", 0.9) if h * 3 < w else ("1", 0.9) if w * 3 < h else ("x", 0.3)
            out.append([Prediction(t, t, p)] + [Prediction(c, c, 0.02) for c in "ab7l"][:top - 1])
        return out


def _expr(k: int) -> InkmlExpression:
    """A '1' standing on a '-' it touches, in ink units."""
    stem = np.array([[20, 0], [20 + k, 40]], float)
    bar = np.array([[0, 40], [40, 40]], float)
    return InkmlExpression(f"e{k}", [stem, bar], [TraceGroup("1", [0]), TraceGroup("-", [1])], "1-")


def test_recipe_builds_its_cache_resumes_from_it_and_ships_a_card(tmp_path, monkeypatch):
    from inkmath.training.recipes import image_merge as train_image_merge
    from inkmath.predict import Predictor

    monkeypatch.setattr(train_image_merge, "training_expressions",
                        lambda limit: ((k, _expr(k % 2)) for k in range(limit)))
    monkeypatch.setattr(Predictor, "load", staticmethod(lambda *a, **kw: ShapeStub()))
    (tmp_path / "r.yaml").write_text("model: tanh-mlp\nhidden: 4\nepochs: 2\nlimit: 4\nshard: 2\n")
    out = tmp_path / "w" / "image-touch.safetensors"
    argv = ["--config", str(tmp_path / "r.yaml"), "--cache", str(tmp_path / "cache"), "--out", str(out)]
    assert train_image_touch.main(argv) == 0
    shards = sorted((tmp_path / "cache").rglob("shard-*.npz"))
    assert len(shards) == 2
    z = np.load(shards[0])
    assert int(z["n"]) == 2 and z["y"].max() == 1.0  # the stem cut off its bar parts the two symbols
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["name"] == "image-touch" and card["model"] == "tanh-mlp"
    model = image_touch.load_image_touch_model(out)  # its card names its kind
    assert model.w1.shape[1] == 4
    monkeypatch.setattr(train_image_touch, "expression_rows", lambda *a: pytest.fail("rebuilt a cached shard"))
    assert train_image_touch.main(argv) == 0
