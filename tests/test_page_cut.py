"""Cutting a group that holds two expressions (page_cut.py, page_regroup.cut_joined): the best band, the decision over
readings, the training targets and the recipe."""

import json
from types import SimpleNamespace as NS

import numpy as np
import pytest

from inkmath.equation.page import cut as page_cut
from inkmath.equation.page import regroup as page_regroup
from inkmath.equation.page.cut import (CUT_FEATURES, MODEL_FEATURES, N_FEATURES, Cut, best_cut, cut_features,
                                       cut_model_features, cut_record)
from inkmath.equation.photo.find import FoundExpressions
from inkmath.equation.page.split import part_group
from inkmath.equation.synth.page_traces import cut_trace
from inkmath.training.recipes.page_cut import cut_target

UNIT = 30.0


def two_lines():
    """Component stats (x, y, w, h, area) of two lines of three symbols, 30 px (one unit) apart, placed so that no
    vertical band crosses both; the first row is the background's."""
    boxes = [(0, 0, 40, 30), (50, 0, 40, 30), (100, 0, 40, 30), (20, 60, 40, 30), (70, 60, 40, 30), (120, 60, 40, 30)]
    comp = np.array([(0, 0, 500, 500, 0)] + [(x, y, w, h, w * h // 4) for x, y, w, h in boxes], np.int32)
    return comp, [part_group(list(range(1, 7)), comp)]


def test_the_best_cut_of_two_lines_is_the_band_between_them():
    comp, groups = two_lines()
    cut = best_cut(groups, 0, comp, UNIT)
    assert cut.axis == 1
    assert sorted(cut.parts[0]) == [1, 2, 3] and sorted(cut.parts[1]) == [4, 5, 6]
    assert cut.band == pytest.approx(1.0)
    assert 0.0 <= cut.prob <= 1.0


def test_a_group_no_band_crosses_has_no_cut():
    comp = np.array([(0, 0, 500, 500, 0), (0, 0, 40, 30, 300), (30, 10, 40, 30, 300)], np.int32)
    assert best_cut([part_group([1, 2], comp)], 0, comp, UNIT) is None


def reading(conf, n=3, latex="x+1", box=(0, 0, 100, 30)):
    return NS(confidence=conf, latex=latex, symbols=[{}] * n, box=list(box), label=None)


def test_features_weigh_how_surely_the_whole_and_the_parts_read():
    cut = Cut(0.9, 1, ([1], [2]), 1.5)
    record = cut_record(cut, reading(0.1, 6, "\\frac{a}{b}"), [reading(0.8), reading(0.5, 2)], 1.5)
    assert json.loads(json.dumps(record)) == record  # a trace's row
    f = dict(zip(MODEL_FEATURES, cut_model_features(record)))
    assert len(f) == N_FEATURES == len(CUT_FEATURES) + 1 and f["line_gap"] == 1.5
    assert f["split_logit"] == pytest.approx(np.log(9), rel=1e-5)
    assert f["across"] == 1.0 and f["band"] == 1.5 and f["fraction"] == 1.0 and f["rows"] == 0.0
    assert f["whole_conf"] == pytest.approx(np.log(0.1), rel=1e-5)
    assert f["parts_conf"] == pytest.approx(np.log(0.4), rel=1e-5)
    assert f["worst_part_conf"] == pytest.approx(np.log(0.5), rel=1e-5)
    assert f["fewest_part_symbols"] == pytest.approx(np.log(3))
    assert f["first_operator"] == f["second_arrow"] == f["part_empty_slot"] == f["whole_operator_limits"] == 0.0


def test_features_see_a_limit_cut_from_its_subscript_and_a_part_with_an_empty_slot():
    cut = Cut(0.9, 1, ([1], [2]), 0.5)
    f = dict(zip(CUT_FEATURES, cut_features(cut_record(cut, reading(0.3, 7, "\\lim_{x\\rightarrow 0}x"),
                                                         [reading(0.5, 3, "\\lim x"),
                                                          reading(0.5, 3, "x\\rightarrow 0")], 1.5))))
    assert f["first_operator"] == f["second_arrow"] == f["whole_operator_limits"] == 1.0
    f = dict(zip(CUT_FEATURES, cut_features(cut_record(cut, reading(0.3, 4, "\\frac{n+2}{2}"),
                                                         [reading(0.5, 3, "n+2"), reading(0.5, 2, "\\frac{}{2}")],
                                                         1.5))))
    assert f["part_empty_slot"] == 1.0 and f["first_operator"] == 0.0


def test_features_count_the_scripts_a_cut_takes_away():
    cut = Cut(0.9, 1, ([1], [2]), 0.5)
    tower = cut_record(cut, reading(0.3, 5, "2^{2^{k}}+1"), [reading(0.5, 2, "2^{k}"), reading(0.5, 3, "2+1")], 1.5)
    f = dict(zip(CUT_FEATURES, cut_features(tower)))
    assert f["superscripts_lost"] == 1.0 and f["subscripts_lost"] == 0.0
    join = cut_record(cut, reading(0.3, 9, "x^{i}s_{n=x_{1}}"),
                      [reading(0.5, 2, "x^{i}"), reading(0.5, 3, "s_{n}=x_{1}")], 1.5)
    f = dict(zip(CUT_FEATURES, cut_features(join)))
    assert f["superscripts_lost"] == 0.0 and f["subscripts_lost"] == 0.0


def test_features_see_how_the_parts_sit():
    cut = Cut(0.9, 1, ([1], [2]), 0.5)
    lines = cut_record(cut, reading(0.3, 9), [reading(0.5, 5, box=(10, 0, 210, 40)),
                                              reading(0.5, 4, box=(0, 60, 100, 100))], 1.5)
    f = dict(zip(CUT_FEATURES, cut_features(lines)))
    assert f["width_ratio"] == pytest.approx(np.log(0.5))
    assert f["start_offset"] == pytest.approx(-0.25) and f["middle_offset"] == pytest.approx(1.5)


class Scores:
    """A stand-in page-cut model: cuts whatever the rule given says."""

    def __init__(self, rule):
        self.rule = rule

    def prob(self, f):
        return np.array([1.0 if self.rule(dict(zip(MODEL_FEATURES, f))) else 0.0])


def run_cut(monkeypatch, model, split_prob, trace=None):
    comp, groups = two_lines()
    found = FoundExpressions(groups, np.zeros((1, 1), np.int32), UNIT, stats=comp)
    reads = []

    def fake_read(g):
        reads.append(sorted(g.components))
        return reading(0.9 if len(g.components) == 3 else 0.2)

    monkeypatch.setattr(page_cut, "load_page_cut_model", lambda: model)
    real = page_cut.best_cut
    monkeypatch.setattr(page_cut, "best_cut", lambda *a: Cut(split_prob, *list(vars(real(*a)).values())[1:]))
    cut = page_regroup.model_cut if trace is None else cut_trace(trace)["regrouping"].cut
    out = page_regroup.cut_joined(found, [(groups[0], reading(0.2, 6))], fake_read, cut)
    return [sorted(g.components) for g, _ in out], reads


def test_a_group_is_cut_when_the_model_says_the_parts_are_two_expressions(monkeypatch):
    surer = Scores(lambda f: f["parts_conf"] > f["whole_conf"])
    assert run_cut(monkeypatch, surer, 0.5)[0] == [[1, 2, 3], [4, 5, 6]]
    assert run_cut(monkeypatch, Scores(lambda f: False), 0.5)[0] == [[1, 2, 3, 4, 5, 6]]


def test_a_cut_page_split_scores_under_the_gate_is_not_even_read(monkeypatch):
    groups, reads = run_cut(monkeypatch, Scores(lambda f: True), page_cut.CUT_CONSIDER / 2)
    assert groups == [[1, 2, 3, 4, 5, 6]] and reads == []


def test_tracing_records_the_cuts_read_and_cuts_nothing(monkeypatch):
    trace = []
    groups, reads = run_cut(monkeypatch, None, page_cut.CUT_CONSIDER, trace)
    assert groups == [[1, 2, 3, 4, 5, 6]] and len(reads) == 2
    assert len(trace) == 1 and len(cut_model_features(trace[0])) == N_FEATURES and len(trace[0]["parts"]) == 2


def test_targets_two_written_expressions_one_or_neither():
    truth = [{"box": [0, 0, 100, 30]}, {"box": [0, 60, 100, 90]}]
    both = {"box": [0, 0, 100, 90], "parts": [[0, 0, 100, 30], [0, 60, 100, 90]]}
    assert cut_target(both, truth) == 1.0
    one = {"box": [0, 0, 100, 30], "parts": [[0, 0, 40, 30], [60, 0, 100, 30]]}
    assert cut_target(one, truth) == 0.0
    neither = {"box": [0, 0, 300, 300], "parts": [[0, 0, 300, 100], [0, 200, 300, 300]]}
    assert cut_target(neither, truth) is None


def test_the_recipe_trains_on_cached_traces_and_writes_a_card(tmp_path, write_traced_pages):
    """The recipe end to end on cached page traces (no page read): targets from each page's truth, a card with
    held-out figures, a model that separates the two kinds."""
    from inkmath.training.recipes import page_cut as train_page_cut

    def row(rng):
        cut = Cut(float(rng.uniform(0.01, 1)), 1, ([1], [2]), float(rng.uniform(0, 2)))
        whole = reading(float(rng.uniform(0.05, 0.3)), 6)
        if rng.random() < 0.3:  # a join: the parts read surely, the whole does not
            parts = [reading(float(rng.uniform(0.6, 1.0))), reading(float(rng.uniform(0.6, 1.0)))]
            return {**cut_record(cut, whole, parts, 1.5), "box": [0, 0, 100, 90],
                "parts": [[0, 0, 100, 30], [0, 60, 100, 90]]}
        parts = [reading(float(rng.uniform(0.01, 0.1))), reading(float(rng.uniform(0.01, 0.1)))]
        return {**cut_record(cut, whole, parts, 1.5), "box": [0, 0, 100, 30],
                "parts": [[0, 0, 40, 30], [60, 0, 100, 30]]}

    recipe_cache = tmp_path / "cache"
    write_traced_pages([train_page_cut._folder(recipe_cache / "seed41", s) for s in range(2)],
                       [{"box": [0, 0, 100, 30]}, {"box": [0, 60, 100, 90]}], row)
    cfg = tmp_path / "r.yaml"
    cfg.write_text("name: page-cut-test\nstreams: 2\npages: 40\nepochs: 300\nhidden: 4\n")
    out = tmp_path / "w.safetensors"
    assert train_page_cut.main(["--config", str(cfg), "--cache", str(recipe_cache), "--out", str(out)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["metrics"]["heldout_cut_accuracy"] > 0.9
    assert card["inputs"] == "page_cut.cut_model_features"
    model = page_cut.load_page_cut_model(str(out))
    cut = Cut(0.5, 1, ([1], [2]), 1.0)
    join = cut_model_features(cut_record(cut, reading(0.2, 6), [reading(0.9), reading(0.9)], 1.5))
    apart = cut_model_features(cut_record(cut, reading(0.2, 6), [reading(0.03), reading(0.03)], 1.5))
    assert model.prob(join)[0] > 0.5 > model.prob(apart)[0]


def test_the_model_learns_that_a_cut_the_geometry_doubts_is_two_lines_only_on_a_crowded_page(tmp_path,
                                                                                          write_traced_pages):
    """The page's line gap is an input: on generated traces where a cut page-split scores low is between two lines
    on crowded pages (lines under a unit apart) and inside one expression on plain ones, with the same readings and
    boxes, the model learns which is which from the gap alone."""
    from inkmath.training.recipes import page_cut as train_page_cut

    def rows(crowded: bool):
        def row(rng):
            cut = Cut(float(rng.uniform(0.02, 0.2)), 1, ([1], [2]), float(rng.uniform(0.1, 0.6)))
            gap = float(rng.uniform(0.3, 0.9) if crowded else rng.uniform(1.3, 2.5))
            parts = [reading(float(rng.uniform(0.3, 0.9))), reading(float(rng.uniform(0.3, 0.9)))]
            return {**cut_record(cut, reading(float(rng.uniform(0.01, 0.1)), 6), parts, gap),
                    "box": [0, 0, 100, 90], "parts": [[0, 0, 100, 30], [0, 60, 100, 90]]}
        return row

    cache = tmp_path / "cache"
    lines = [{"box": [0, 0, 100, 30]}, {"box": [0, 60, 100, 90]}]  # crowded: the parts are two expressions
    write_traced_pages([train_page_cut._folder(cache / "seed41", 0)], lines, rows(True))
    write_traced_pages([train_page_cut._folder(cache / "seed41", 1)], [{"box": [0, 0, 100, 90]}], rows(False))
    cfg = tmp_path / "r.yaml"
    cfg.write_text("name: page-cut-test\nstreams: 2\npages: 40\nepochs: 300\nhidden: 4\n")
    out = tmp_path / "w.safetensors"
    assert train_page_cut.main(["--config", str(cfg), "--cache", str(cache), "--out", str(out)]) == 0
    model = page_cut.load_page_cut_model(str(out))
    cut = Cut(0.1, 1, ([1], [2]), 0.3)
    doubted = [cut_model_features({**cut_record(cut, reading(0.05, 6), [reading(0.6), reading(0.6)], gap),
                                   "parts": [[0, 0, 100, 30], [0, 60, 100, 90]]}) for gap in (0.6, 1.9)]
    assert model.prob(doubted[0])[0] > 0.5 > model.prob(doubted[1])[0]
