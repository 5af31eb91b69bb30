"""The pen model: its features, a small training that learns what only the pen's direction tells apart, exact resume,
and its evidence joining the context models' reading of the stroke reader's groups."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inkmath import InkmathError
from inkmath.equation.reader import pen_symbols
from inkmath.equation.strokes import segment
from inkmath.training.recipes import pen as train_pen
from inkmath.equation.reader.pen_symbols import POINTS, STEP_FEATURES, fuse, pen_features


def bar(x0, x1, y=0.0, n=12):
    return np.column_stack([np.linspace(x0, x1, n), np.full(n, y)])


def test_features_are_the_path_resampled_centred_and_masked():
    steps, group = pen_features([[bar(0, 40)], [bar(0, 40, 0), bar(0, 40, 20)]], scale=1.0)
    assert steps.shape == (2, POINTS, STEP_FEATURES + 1) and group.shape == (2, pen_symbols.GROUP_FEATURES)
    real = steps[0, :, -1] == 1
    assert real[: POINTS - 2].all()  # one stroke: its share of the points, less the 2 each stroke keeps back
    xs = steps[0, real, 0]
    assert xs[0] == pytest.approx(-0.5) and xs[-1] == pytest.approx(0.5)  # centred, / the longer side
    assert (np.diff(xs) > 0).all() and (steps[0, real, 2][1:] > 0).all()  # drawn rightwards
    assert steps[1, :, 4].sum() == 2  # two strokes start
    assert group[0, 3] == pytest.approx(1 / pen_symbols.MAX_STROKES)
    moved, _ = pen_features([[bar(100, 140, 55)]], scale=1.0)
    np.testing.assert_allclose(moved[0], steps[0], atol=1e-6)  # where the group lies does not matter


def test_features_refuse_an_empty_group():
    with pytest.raises(InkmathError, match="without points"):
        pen_features([[np.zeros((0, 2))]], 1.0)


def test_fuse_is_the_product_renormalised_to_the_classes_share():
    p = fuse(np.array([0.6, 0.3]), np.log([0.2, 0.8]))  # 0.1 is junk's and stays junk's
    np.testing.assert_allclose(p, np.array([0.12, 0.24]) * 0.9 / 0.36, rtol=1e-6)


def test_evidence_divides_out_part_of_the_training_prior():
    pen = pen_symbols.PenModel(None, {"classes": ["a", "b"], "class_counts": [299, 99]})
    e = pen.evidence(np.log([[0.5, 0.5]]))
    prior = np.log([300 / 400, 100 / 400])
    np.testing.assert_allclose(e[0], pen_symbols.PEN_WEIGHT * (np.log(0.5) - pen_symbols.PRIOR_WEIGHT * prior),
                               rtol=1e-5)
    assert e[0, 1] > e[0, 0]  # an even reading favours the rarer class


def test_the_numpy_forward_pass_is_the_networks():
    import torch

    torch.manual_seed(0)
    net = pen_symbols.build_pen_net(7, width=16, hidden=12)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm1d):  # stats as a trained network has them
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    net.eval()
    groups = [[bar(0, 40), bar(10, 30, 8)], [np.column_stack([np.cos(t := np.linspace(0, 6, 30)), np.sin(t)])]]
    steps, group = pen_features(groups, 0.5)
    with torch.no_grad():
        want = net(torch.from_numpy(steps), torch.from_numpy(group)).numpy()
    got = pen_symbols.pen_logits(pen_symbols.fold({k: v.numpy() for k, v in net.state_dict().items()}), steps, group)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def _direction_data(n: int, rng):
    """Bars drawn rightwards (class 0) or leftwards (class 1): the same crop, told apart by the pen alone."""
    labels = rng.integers(0, 2, n)
    groups = [[bar(0, 40, n=int(rng.integers(6, 20)))[:: 1 if k == 0 else -1]] for k in labels]
    steps, group = pen_features(groups, 1.0)
    return {"steps": steps, "group": group, "labels": labels.astype(np.int64)}


def test_a_small_training_learns_what_only_the_pen_tells_and_resumes_exactly(tmp_path):
    rng = np.random.default_rng(0)
    data, val = _direction_data(512, rng), {"val": _direction_data(128, rng)}
    cfg = train_pen.PenConfig(width=16, hidden=16, epochs=3, batch_size=64, threads=1)
    whole = train_pen.fit(cfg, data, val, ["right", "left"], tmp_path / "whole", log=lambda s: None)
    assert whole["history"][-1]["val_top1"] > 0.95
    train_pen.fit(cfg, data, val, ["right", "left"], tmp_path / "cut", log=lambda s: None, stop_after=1)
    again = train_pen.fit(cfg, data, val, ["right", "left"], tmp_path / "cut", resume=True, log=lambda s: None)
    assert again["history"] == [dict(r, seconds=a["seconds"]) for r, a in zip(whole["history"], again["history"])]
    import torch

    a = torch.load(tmp_path / "whole" / "checkpoint.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    # shipped and loaded back, it reads as it did
    dest = train_pen.ship(cfg, tmp_path / "whole", whole, "configs/pen-symbols.yaml", tmp_path / "pen.safetensors")
    card = json.loads(dest.with_suffix(".json").read_text())
    assert card["classes"] == ["right", "left"] and card["recipe"]["width"] == 16
    assert card["class_counts"] == np.bincount(data["labels"], minlength=2).tolist()
    pen = pen_symbols.load_pen_model(str(dest))
    lp = pen.log_probs([[bar(0, 40)], [bar(40, 0)]], 1.0)
    assert list(lp.argmax(1)) == [0, 1]


def test_ship_refuses_an_unfinished_run(tmp_path):
    rng = np.random.default_rng(1)
    data = _direction_data(128, rng)
    cfg = train_pen.PenConfig(width=8, hidden=8, epochs=2, batch_size=64, threads=1)
    res = train_pen.fit(cfg, data, {"val": data}, ["right", "left"], tmp_path, log=lambda s: None, stop_after=1)
    with pytest.raises(InkmathError, match="--resume"):
        train_pen.ship(cfg, tmp_path, res, "c.yaml", tmp_path / "pen.safetensors")


class FlatCrops:
    """A stand-in crop classifier that cannot tell its two classes apart."""

    card = {"name": "flat"}

    def __init__(self):
        from inkmath.vocab import Vocabulary

        self.vocab = Vocabulary(("right", "left"), ("right", "left"))

    def predict_with_logits(self, crops, ink="auto", top=5):
        z = np.zeros((len(crops), 2), np.float32)
        return self.top_predictions(z, top), z

    def top_predictions(self, logits, top=5):
        from inkmath.predict import Predictor

        return Predictor.top_predictions(self, logits, top)


class DirectionPen:
    """A stand-in pen model: class 0 when the group's first stroke runs rightwards."""

    classes = ["right", "left"]

    def log_probs(self, groups, scale):
        right = np.array([g[0][-1, 0] > g[0][0, 0] for g in groups])
        return np.log(np.where(right[:, None], [[0.9, 0.1]], [[0.1, 0.9]]))

    def evidence(self, log_probs):
        return np.asarray(log_probs, np.float32)


class EvenContext:
    """A stand-in context model that finds every symbol's two classes equally likely, and no junk."""

    classes = ("right", "left")
    num_classes = 2

    def probs(self, boxes, idx, prob, logits=None):
        return np.tile(np.float32([0.5, 0.5, 0.0]), (len(boxes), 1))


def test_the_pen_decides_what_crop_and_context_leave_even():
    from inkmath.equation.reader import symbols

    strokes = [bar(0, 40), bar(340, 300)]
    hyps = segment.segment_strokes(strokes, FlatCrops(), top=2, pen=DirectionPen())
    plain = segment.segment_strokes(strokes, FlatCrops(), top=2)
    assert [h.strokes for h in hyps] == [h.strokes for h in plain]  # the same groups and candidates
    assert [[c.prob for c in h.candidates] for h in hyps] == [[c.prob for c in h.candidates] for h in plain]
    assert all(h.pen_evidence is None for h in plain)
    reading = symbols.read_symbols(hyps, EvenContext())
    assert reading.tokens == ["right", "left"]
    assert reading.candidates[0][0].prob == pytest.approx(0.9, abs=1e-4)
    assert symbols.read_symbols(plain, EvenContext()).candidates[0][0].prob == pytest.approx(0.5)


def test_the_reader_reads_the_pen_only_beside_its_own_classifier():
    from inkmath.equation.recognize import reader_pen

    assert reader_pen(FlatCrops()) is None
    assert reader_pen(FlatCrops(), "none") is None


def test_a_recipe_with_an_unknown_key_is_refused_by_name(tmp_path):
    recipe = tmp_path / "pen.yaml"
    recipe.write_text("width: 32\nwidht: 64\n")
    with pytest.raises(InkmathError, match="widht"):
        train_pen.load_config(str(recipe), {})
    assert train_pen.load_config(None, {"epochs": 2}).epochs == 2
    with pytest.raises(InkmathError, match="not found"):
        train_pen.load_config(str(tmp_path / "missing.yaml"), {})
