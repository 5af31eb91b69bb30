"""The stroke-merge model's context features, its ensemble file and its recipe (on a few synthetic drawings)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from inkmath import InkmathError
from inkmath.data import crohme
from inkmath.data.crohme import InkmlExpression, TraceGroup
from inkmath.equation.strokes import segment
from inkmath.training.recipes import merge as train_merge
from inkmath.training.small_models import fit


def test_context_features_put_each_pair_beside_its_neighbours():
    pf = np.arange(4 * 29, dtype=np.float32).reshape(4, 29)
    c = segment.context_features(pf, 1)
    assert c.shape == (4, 89)
    assert np.array_equal(c[:, :29], pf)
    assert np.array_equal(c[1:, 29:58], pf[:-1]) and not c[0, 29:59].any()  # the pair before, absent for the first
    assert np.array_equal(c[:, 58], [0, 1, 1, 1])
    assert np.array_equal(c[:-1, 59:88], pf[1:]) and not c[-1, 59:89].any()  # the pair after, absent for the last
    assert np.array_equal(c[:, 88], [1, 1, 1, 0])
    c2 = segment.context_features(pf[:1], 2)  # one pair: every neighbour absent
    assert c2.shape == (1, 149) and np.array_equal(c2[0, :29], pf[0]) and not c2[0, 29:].any()


def _members(seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for window in (0, 1):
        X = rng.normal(size=(200, 29 + 60 * window)).astype(np.float32)
        out.append(fit(X, (X[:, 0] > 0).astype(np.float32), outputs=1, hidden=3, epochs=2, batch=64))
    return out


def test_an_ensemble_file_averages_its_members_logits_and_a_plain_file_is_one_model(tmp_path):
    a, b = _members()
    save_file({**{f"0.{k}": v for k, v in a.items()}, **{f"1.{k}": v for k, v in b.items()}}, tmp_path / "e.st")
    ens = segment.load_merge_model(str(tmp_path / "e.st"))
    assert [m.window for m in ens.members] == [0, 1]
    pf = np.random.default_rng(1).normal(size=(5, 29)).astype(np.float32)
    z = (ens.members[0].logits(pf)[:, 0] + ens.members[1].logits(segment.context_features(pf, 1))[:, 0]) / 2
    assert np.allclose(ens.pair_probs(pf), 1 / (1 + np.exp(-z)), atol=1e-6)
    save_file(a, tmp_path / "one.st")
    one = segment.load_merge_model(str(tmp_path / "one.st"))
    assert len(one.members) == 1 and np.array_equal(one.pair_probs(pf), segment.MergeModel(**a).prob(pf))
    save_file({k: (v[:28] if k in ("mean", "std", "w1") else v) for k, v in a.items()}, tmp_path / "bad.st")
    with pytest.raises(InkmathError, match="28 features"):
        segment.load_merge_model(str(tmp_path / "bad.st"))


def test_the_shipped_model_reads_context_and_groups_an_equals_sign():
    model = segment.load_merge_model()
    assert len(model.members) >= 1
    bars = [np.column_stack([np.linspace(0, 60, 20), np.full(20, y)]) for y in (40, 60)]
    one = np.column_stack([np.full(20, 200.0), np.linspace(0, 100, 20)])
    p = segment.merge_probs(bars + [one])
    assert p.shape == (2,) and p[0] > 0.5 > p[1]


def _drawing(k: int) -> InkmlExpression:
    """'= 1 =': two bars, a stem far off, two bars; a little different each time."""
    bar = lambda x, y: np.column_stack([np.linspace(x, x + 30, 10), np.full(10, y + k % 3)])  # noqa: E731
    stem = np.column_stack([np.full(10, 60.0 + k % 5), np.linspace(-10, 35, 10)])
    strokes = [bar(0, 0), bar(0, 14), stem, bar(90, 0), bar(90, 14)]
    groups = [TraceGroup("=", [0, 1]), TraceGroup("1", [2]), TraceGroup("=", [3, 4])]
    return InkmlExpression(f"e{k}", strokes, groups, "=1=")


def test_the_recipe_trains_one_member_per_window_and_ships_a_card(tmp_path, monkeypatch):
    monkeypatch.setattr(crohme, "iter_inkml", lambda source, subset=None: (_drawing(k) for k in range(30)))
    monkeypatch.setenv("INKMATH_DATA", str(tmp_path))
    (tmp_path / "r.yaml").write_text("model: tanh-mlp\nhidden: 4\nepochs: 30\nwindows: [0, 1]\n")
    out = tmp_path / "w" / "stroke-merge.safetensors"
    assert train_merge.main(["--config", str(tmp_path / "r.yaml"), "--out", str(out)]) == 0
    assert sorted(load_file(str(out))) == sorted(f"{k}.{n}" for k in (0, 1) for n in
                                                 ("mean", "std", "w1", "b1", "w2", "b2"))
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["name"] == "stroke-merge" and card["config"] == str(tmp_path / "r.yaml")
    assert card["parameters"] == (29 * 4 + 4 + 4 + 1) + (89 * 4 + 4 + 4 + 1)
    assert card["data"]["train"].startswith("CROHME 2014 training InkML, 30 expressions, 120 consecutive")
    assert card["metrics"]["heldout_pair_accuracy"] == 1.0  # the held-out drawings are as easy as the others
    model = segment.load_merge_model(str(out))
    assert [m.window for m in model.members] == [0, 1]
    p = segment.merge_probs(_drawing(0).strokes, model)
    assert (p > 0.5).tolist() == [True, False, False, True]
    # the same recipe gives the same tensors
    again = tmp_path / "again.safetensors"
    assert train_merge.main(["--config", str(tmp_path / "r.yaml"), "--out", str(again)]) == 0
    assert all(np.array_equal(v, load_file(str(again))[k]) for k, v in load_file(str(out)).items())


def test_grouping_val_counts_the_truth_grouping_among_the_offered_ones():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import grouping_val

    assert grouping_val.truth_spans([TraceGroup("=", [0, 1]), TraceGroup("1", [3])], [0, 1, 3]) == [(0, 2), (2, 3)]
    assert grouping_val.truth_spans([TraceGroup("4", [0, 2]), TraceGroup("1", [1])], [0, 1, 2]) is None  # not a run
    assert grouping_val.truth_spans([TraceGroup("1", [0])], [0, 1]) is None  # a stroke in no symbol
    spans = [(0, 1), (0, 2), (1, 2)]
    # '=' of two bars: each bar alone reads '-' at 0.9, the two together '=' at 0.9
    row = {"n": 0, "id": "e", "strokes": 2, "truth": [(0, 2)], "spans": spans,
           "top": [[["-", 0.9]], [["=", 0.9]], [["-", 0.9]]]}
    joined, apart = [np.array([0.9])], [np.array([0.001])]
    s = grouping_val.score([row], joined, k=3)
    assert (s["first"], s["among3"], s["symbols_first_pct"]) == (1, 1, 100.0)
    s = grouping_val.score([row], apart, k=3)  # the join is under the 2 % floor: '=' is never read
    assert (s["first"], s["among3"]) == (0, 0)
    assert grouping_val.groupings(row, np.array([0.3]), 2) == [[(0, 1), (1, 2)], [(0, 2)]]  # readings alike:
    assert grouping_val.groupings(row, np.array([0.7]), 2) == [[(0, 2)], [(0, 1), (1, 2)]]  # the merge model decides
