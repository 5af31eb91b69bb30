"""The image reader's hypothesis tables (``image_hypotheses``): the truth segmentation and the reader's own groupings
of WAP-like renderings, labelled by pixels, cached apart from the stroke tables, and a context model trained on them
by the recipe's own code (``train_context.train``)."""

from __future__ import annotations

import numpy as np
import pytest

from inkmath.equation.synth import image_hypotheses
from inkmath.equation.synth.hypotheses import cache_path, hypothesis_tables
from inkmath.equation.recognize import get_predictor
from test_crohme import data_dir  # noqa: F401  (the fixture: a CROHME folder of small InkML files)


def _archive(data_dir):
    return data_dir / "crohme" / "crohme2014_test_inkml.tar.xz"


def test_image_tables_label_the_truth_and_the_readers_groupings(data_dir):
    pred = get_predictor()
    index = {n: k for k, n in enumerate(pred.vocab.names)}
    t = hypothesis_tables(_archive(data_dir), pred, kind="image")
    assert t["ids"]["ids"].tolist() == ["a", "b"]
    truth, pipe = t["truth"], t["pipeline"]
    # a: x^2=1 (x, 2, =, 1: left to right), b: a < b and a symbol with no CROHME class (context only)
    a = truth["label"][truth["expr"] == 0].tolist()
    assert sorted(a) == sorted(index[c] for c in ("x", "2", "=", "1"))
    b = truth["label"][truth["expr"] == 1].tolist()
    assert image_hypotheses.IGNORE in b and {index["a"], index["\\lt"], index["b"]} <= set(b)
    assert truth["box"].shape == (len(truth["label"]), 4) and truth["topk_idx"].shape[1] == 5
    # the reader's groupings: grouping 0 first, each symbol a truth symbol's class or junk
    assert "grouping" in pipe and pipe["grouping"][pipe["expr"] == 0][0] == 0
    junk = len(pred.vocab.names)
    for e in (0, 1):
        mine = pipe["label"][pipe["expr"] == e]
        assert set(mine.tolist()) <= set(truth["label"][truth["expr"] == e].tolist()) | {junk}
    # cached apart from the stroke tables of the same archive
    img_path = cache_path(_archive(data_dir), pred, 0.0, 0, None, None, True, (0, 1), "image")
    assert img_path.exists() and "-image-" in img_path.name
    assert cache_path(_archive(data_dir), pred, 0.0, 0, None, None, True, (0, 1)) != img_path


def test_a_grouping_that_joins_two_symbols_is_junk(data_dir, monkeypatch):
    """A grouping whose first symbol holds two truth symbols' pixels: that symbol is junk, the others keep their
    classes."""
    from inkmath.data.crohme import iter_inkml
    from inkmath.equation.image import segmentation as image_segmentation
    from inkmath.equation.core.tree import SymbolHyp

    real = image_segmentation.segment_image_nbest

    def with_a_join(image, classifier, k=3, top=5, ink="auto", observe=None):
        found = real(image, classifier, 1, top, ink, observe)
        hyps = found[0][0]
        a, b = hyps[0], hyps[1]
        joined = SymbolHyp(a.box.union(b.box), a.candidates, sorted(a.strokes + b.strokes))
        return found + [([joined] + hyps[2:], -2.0)]

    monkeypatch.setattr(image_segmentation, "segment_image_nbest", with_a_join)
    pred = get_predictor()
    expr = next(iter_inkml(_archive(data_dir)))
    rows = image_hypotheses.expression_rows(expr, pred, np.random.default_rng(0))
    junk = len(pred.vocab.names)
    first = [r[3] for r in rows["pipeline"] if r[5] == 0]
    second = [r[3] for r in rows["pipeline"] if r[5] == 1]
    assert junk not in first and len(first) == 4
    assert second[0] == junk and second[1:] == first[2:]


def test_a_context_model_trains_on_image_tables_with_one_sequence_per_grouping(data_dir, tmp_path):
    from inkmath.equation.reader.context_model import ContextArchitecture
    from inkmath.training.recipes.context import ContextConfig, sequences_from, train

    pytest.importorskip("torch")
    pred = get_predictor()
    t = hypothesis_tables(_archive(data_dir), pred, kind="image")
    C = len(pred.vocab.names)
    seqs = sequences_from(t, C, ("pipeline",))
    groupings = {(e, g) for e, g in zip(t["pipeline"]["expr"], t["pipeline"]["grouping"])}
    assert len(seqs.label) == len(groupings) >= 2
    with_junk = sequences_from(t, C, ("pipeline",), junk_only=True)
    assert len(with_junk.label) == sum((lab == C).any() for lab in seqs.label)
    cfg = ContextConfig(classifier=pred.card["name"], train=str(_archive(data_dir)), val=str(_archive(data_dir)),
                        strength=0.0, use_truth_shards=[], use_val_truth_shards=[], use_val_pipeline_shards=[],
                        image_shards=1, use_image_truth_shards=[0], use_image_pipeline_shards=[0], val_image_shards=1,
                        use_val_image_truth_shards=[0], epochs=2, batch_size=4,
                        architecture=ContextArchitecture(dim=16, layers=1, heads=2, ff=32, dropout=0.0))
    res = train(cfg, tmp_path / "run", log=lambda *_: None)
    assert res["train_sequences"] == 2 + len(groupings) and res["val_sequences"] == 2
    assert [r["epoch"] for r in res["history"]] == [1, 2]
    # the validation symbols are the truth symbols with a class (the one with none is context only)
    labelled = (t["truth"]["label"] >= 0) & (t["truth"]["label"] < C)
    assert res["history"][0]["val_truth"]["symbols"] == int(labelled.sum())
    assert (tmp_path / "run" / "best.pt").exists()


def test_each_reader_reads_a_context_model_trained_on_what_that_reader_produces():
    from inkmath.equation.recognize import DEFAULT_WEIGHTS
    from inkmath.equation.reader.symbols import IMAGE_CONTEXT_MODELS, READER_CONTEXT_MODELS, get_context_model

    image, strokes = get_context_model(image=True), get_context_model()
    assert [m.card["name"] for m in strokes.members] == list(READER_CONTEXT_MODELS)
    assert [m.card["name"] for m in image.members] == list(IMAGE_CONTEXT_MODELS or READER_CONTEXT_MODELS)
    for reader, table in ((image, "use_image_pipeline_shards"), (strokes, "use_truth_shards")):
        recipes = [m.card["recipe"] for m in reader.members]
        assert all(m.card["classifier"] == DEFAULT_WEIGHTS for m in reader.members)
        # the image reader's own hypotheses, the stroke reader's truth tables (``None``: every part)
        assert any(r[table] or (table == "use_truth_shards" and r[table] is None) for r in recipes), table


def test_the_training_plan_builds_the_image_tables_before_the_image_readers_own_models():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import train_budget
    from inkmath.equation.reader.symbols import IMAGE_CONTEXT_MODELS, READER_CONTEXT_MODELS

    by_name = {s.name: s for s in train_budget.reader_plan()}
    for name in IMAGE_CONTEXT_MODELS or READER_CONTEXT_MODELS:
        assert name in by_name
        waits = set(by_name[name].after)
        assert (set(train_budget.IMAGE_TABLES) <= waits) == bool(train_budget.image_parts(
            train_budget.context_recipe(name))), name
