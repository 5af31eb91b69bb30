"""Joining two groups page-merge left apart when they read as one (page_regroup.join_read_pairs, the page-join
model): which pairs are read, the decision, the traces and the recipe."""

import json
from types import SimpleNamespace as NS

import numpy as np
import pytest

from inkmath.equation.page import cut as page_cut
from inkmath.equation.photo import merge as page_merge
from inkmath.equation.page import regroup as page_regroup
from inkmath.equation.page import split as page_split
from inkmath.equation.page.cut import JOIN_FEATURES, Cut, join_features, join_record
from inkmath.equation.photo.find import FoundExpressions
from inkmath.equation.page.split import part_group
from inkmath.equation.synth.page_traces import join_trace

UNIT = 30.0


def reading(conf, n=3, latex="x+1", box=(0, 0, 100, 30)):
    return NS(confidence=conf, latex=latex, symbols=[{}] * n, box=list(box), label=None)


class Fixed:
    """A stand-in page-merge or page-split model: the same probability for every row."""

    def __init__(self, p):
        self.p = p

    def prob(self, f):
        return np.full(len(np.atleast_2d(f)), self.p)


class Scores:
    """A stand-in page-join model: two expressions whenever the rule given says so."""

    def __init__(self, rule):
        self.rule = rule

    def prob(self, f):
        return np.array([1.0 if self.rule(dict(zip(JOIN_FEATURES, f))) else 0.0])


def run_join(monkeypatch, merge_prob, model, trace=None, cut_model=None):
    """A numerator left over a group of a bar and a denominator (one unit apart), as page-merge left them: the groups
    after ``join_read_pairs`` and the groups it read. ``model`` stands in for page-join and, unless ``cut_model``
    is given, for page-cut too (the decision takes their mean)."""
    boxes = [(10, 0, 30, 30), (50, 0, 30, 30), (0, 60, 100, 4), (20, 70, 40, 30)]
    comp = np.array([(0, 0, 500, 500, 0)] + [(x, y, w, h, w * h // 4) for x, y, w, h in boxes], np.int32)
    groups = [part_group([1, 2], comp), part_group([3, 4], comp)]
    found = FoundExpressions(groups, np.zeros((1, 1), np.int32), UNIT, stats=comp)
    reads = []

    def fake_read(g):
        reads.append(sorted(g.components))
        return reading(0.8, len(g.components), "\\frac{a+b}{c}")

    monkeypatch.setattr(page_merge, "load_page_merge_model", lambda: Fixed(merge_prob))
    monkeypatch.setattr(page_split, "load_page_split_model", lambda: Fixed(0.1))
    monkeypatch.setattr(page_cut, "load_page_join_model", lambda: model)
    monkeypatch.setattr(page_cut, "load_page_cut_model", lambda: cut_model or model)
    read = [(groups[0], reading(0.8, 2, "a+b")), (groups[1], reading(0.9, 2, "\\frac{}{c}"))]
    decisions = page_regroup.Regrouping() if trace is None else join_trace(trace)["regrouping"]
    out = page_regroup.join_read_pairs(found, read, fake_read, decisions.join, decisions.join_from)
    return [sorted(g.components) for g, _ in out], reads


def test_a_pair_the_merge_left_apart_is_joined_when_page_join_reads_them_as_one(monkeypatch):
    one = Scores(lambda f: f["part_empty_slot"] == 0.0)  # a cut that leaves "\frac{}{c}" is not one to make
    groups, reads = run_join(monkeypatch, 0.3, one)
    assert groups == [[1, 2, 3, 4]] and reads == [[1, 2, 3, 4]]
    assert run_join(monkeypatch, 0.3, Scores(lambda f: True))[0] == [[1, 2], [3, 4]]


@pytest.mark.parametrize("join, cut, joined", [(0.0, 0.4, True), (0.0, 1.0, False), (0.3, 0.3, True),
                                               (0.8, 0.3, False)])
def test_the_decision_is_the_mean_of_page_join_and_page_cut(monkeypatch, join, cut, joined):
    groups = run_join(monkeypatch, 0.3, Fixed(join), cut_model=Fixed(cut))[0]
    assert groups == ([[1, 2, 3, 4]] if joined else [[1, 2], [3, 4]])


@pytest.mark.parametrize("merge_prob", [page_regroup.JOIN_CONSIDER / 2, 0.99])
def test_a_pair_the_merge_was_sure_of_either_way_is_not_read_again(monkeypatch, merge_prob):
    groups, reads = run_join(monkeypatch, merge_prob, Scores(lambda f: False))
    assert groups == [[1, 2], [3, 4]] and reads == []


def test_tracing_records_the_pairs_from_the_traces_floor_and_joins_nothing(monkeypatch):
    trace = []
    merge = 2 * page_regroup.TRACE_CONSIDER
    assert merge < page_regroup.JOIN_CONSIDER
    groups, reads = run_join(monkeypatch, merge, None, trace)
    assert groups == [[1, 2], [3, 4]] and reads == [[1, 2, 3, 4]]
    assert len(trace) == 1 and json.loads(json.dumps(trace[0])) == trace[0]
    assert trace[0]["merge"] == pytest.approx(merge) and trace[0]["part_readings"][1]["latex"] == "\\frac{}{c}"
    assert len(join_features(trace[0])) == len(JOIN_FEATURES)


def test_join_features_are_the_cuts_and_the_merges_logit():
    record = join_record(0.2, Cut(0.9, 1, ([1], [2]), 0.5), reading(0.5, 4), [reading(0.5), reading(0.5)], 1.5)
    f = join_features(record)
    assert np.allclose(f[:-1], page_cut.cut_features(record)) and f[-1] == pytest.approx(np.log(0.25))


def test_the_recipe_trains_on_cached_traces_and_writes_a_card(tmp_path, write_traced_pages):
    """The recipe end to end on cached page traces (no page read): targets from each page's truth, a card with
    held-out figures, a model that separates the two kinds."""
    from inkmath.training.recipes import page_join as train_page_join

    def row(rng):
        cut = Cut(float(rng.uniform(0.01, 1)), 1, ([1], [2]), float(rng.uniform(0, 2)))
        if rng.random() < 0.3:  # one expression: the whole reads surely, a part with an empty slot
            whole, parts = reading(0.9, 6), [reading(0.6), reading(0.6, 3, "\\frac{}{c}")]
            box, boxes = [0, 0, 100, 90], [[0, 0, 100, 30], [0, 60, 100, 90]]
        else:  # two: the parts read surely, the whole does not
            whole, parts = reading(0.1, 6), [reading(0.9), reading(0.9)]
            box, boxes = [0, 0, 100, 230], [[0, 0, 100, 90], [0, 200, 100, 230]]
        return {**join_record(float(rng.uniform(0.001, 0.6)), cut, whole, parts, 1.5), "box": box, "parts": boxes}

    cache = tmp_path / "cache"
    write_traced_pages([train_page_join._folder(cache / "seed51", s) for s in range(2)],
                       [{"box": [0, 0, 100, 90]}, {"box": [0, 200, 100, 230]}], row)
    cfg = tmp_path / "r.yaml"
    cfg.write_text("name: page-join-test\nstreams: 2\npages: 40\nepochs: 300\nhidden: 4\n")
    out = tmp_path / "w.safetensors"
    assert train_page_join.main(["--config", str(cfg), "--cache", str(cache), "--out", str(out)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["metrics"]["heldout_pair_accuracy"] > 0.9
    assert card["inputs"] == "page_cut.join_features"
    model = page_cut.load_page_join_model(str(out))
    cut = Cut(0.5, 1, ([1], [2]), 1.0)
    one = join_features({**join_record(0.2, cut, reading(0.9, 6), [reading(0.6), reading(0.6, 3, "\\frac{}{c}")], 1.5),
                         "parts": [[0, 0, 100, 30], [0, 60, 100, 90]]})
    two = join_features({**join_record(0.2, cut, reading(0.1, 6), [reading(0.9), reading(0.9)], 1.5),
                         "parts": [[0, 0, 100, 90], [0, 200, 100, 230]]})
    assert model.prob(two)[0] > 0.5 > model.prob(one)[0]
