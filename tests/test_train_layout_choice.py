"""The layout choice's weights learnt on the training ink (``equation.train_layout_choice``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SHARED_DATA, has_shared

from inkmath.equation.layout_choice import FEATURES


def _items(rng, n, asked=True):
    items = []
    for _ in range(n):
        f = rng.normal(size=(4, len(FEATURES)))
        right = np.zeros(4, bool)
        right[int(np.argmax(f[:, FEATURES.index("d_lm")]))] = True  # the LM's favourite is right
        items.append((f, right, asked))
    return items


def test_fitting_learns_the_feature_that_marks_the_right_candidate():
    from inkmath.equation.train_layout_choice import fit, right_with

    items = _items(np.random.default_rng(0), 60)
    w = fit(items, l2=0.001)
    assert int(np.argmax(w)) == FEATURES.index("d_lm")
    assert right_with(items, w) >= 55
    assert right_with(items, -w) <= 10


def test_lines_not_asked_are_read_with_the_rules_and_learnt_from_only_with_every_line():
    from inkmath.equation.train_layout_choice import fit, right_with

    rng = np.random.default_rng(1)
    items = _items(rng, 40, asked=False)
    with pytest.raises(ValueError, match="no line"):
        fit(items, l2=0.001)  # no line past the gate
    w = fit(items, l2=0.001, lines="all")
    rules = FEATURES.index("is_rules")
    by_rules = sum(bool(r[int(np.argmax(f[:, rules]))]) for f, r, _ in items)
    assert right_with(items, w) == by_rules  # not asked: the rules' tree whatever the weights
    assert right_with(items, w, asked_only=False) >= 35


def test_items_round_trip_and_folds_are_stable(tmp_path):
    from inkmath.equation.train_layout_choice import fold_of, load_items, save_items

    items = _items(np.random.default_rng(2), 5) + [(None, np.asarray([True]), False)] + _items(
        np.random.default_rng(3), 2, asked=False)
    save_items(tmp_path / "items.npz", items)
    back = load_items(tmp_path / "items.npz")
    assert len(back) == len(items)
    for (f, r, a), (f2, r2, a2) in zip(items, back):
        assert (f is None and f2 is None) or np.array_equal(f, f2)
        assert np.array_equal(r, r2) and a == a2
    ids = [f"formulaire{i:03d}-equation{j:03d}" for i in range(20) for j in range(5)]
    folds = [fold_of(i, 2) for i in ids]
    assert folds == [fold_of(i, 2) for i in ids] and 30 < sum(folds) < 70


@pytest.mark.skipif(not has_shared("crohme", "crohme2014_train_inkml.tar.xz"), reason="CROHME training ink missing")
def test_a_small_training_run_reads_each_fold_with_models_trained_on_the_other_and_resumes(tmp_path, monkeypatch):
    from inkmath.equation import train_layout_choice
    from inkmath.equation.layout_choice import choice_weights

    monkeypatch.setenv("INKMATH_DATA", str(SHARED_DATA))
    cfg = tmp_path / "recipe.yaml"
    cfg.write_text("folds: 2\nread_folds: 2\nfold_epochs: 1\nlines: all\nl2: 0.01\n")
    out, run = tmp_path / "choice.safetensors", tmp_path / "run"
    args = ["--config", str(cfg), "--run", str(run), "--limit", "12", "--out", str(out)]
    assert train_layout_choice.main(args) == 0
    for fold in (0, 1):  # each fold's models, LM and candidates are kept
        for part in ("structure.safetensors", "structure-input.safetensors", "latex-lm.safetensors", "items.npz"):
            assert (run / f"fold{fold}-{part}").is_file()
        items = train_layout_choice.load_items(run / f"fold{fold}-items.npz")
        assert len(items) == 12 and any(f is not None and r.any() for f, r, _ in items)
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["metrics"]["expressions"] == 24 and card["metrics"]["right_chosen"] <= card["metrics"]["oracle"]
    w = choice_weights(str(out))
    assert list(w) == list(FEATURES) and all(np.isfinite(list(w.values())))
    (run / "fold0-structure.safetensors").unlink()  # a second run reuses the candidates: no model is trained
    assert train_layout_choice.main(args) == 0
    assert not (run / "fold0-structure.safetensors").exists()
