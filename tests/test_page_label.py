"""The page's question numbers (page_label.py): candidates, what the page shows, and the model's training rows."""

from types import SimpleNamespace as NS

import numpy as np
import pytest

from inkmath.equation.page import label as page_label
from inkmath.equation.core.mlp import BinaryMLP
from inkmath.equation.page.label import (CANDIDATE_FEATURES, N_FEATURES, PAGE_FEATURES, PageLabelModel, PageLabels,
                                         label_candidates)
from inkmath.equation.core.tree import Box


def rec(*items, y0=0, y1=40):
    """A reading of symbols (token, x0, x1[, [(token, prob), ...]]): the first reading is the token."""
    syms = []
    for it in items:
        t, x0, x1 = it[:3]
        cands = [NS(token=c, prob=p) for c, p in (it[3] if len(it) > 3 else [(t, 0.9)])]
        syms.append(NS(box=Box(x0, y0, x1, y1), candidates=cands))
    return NS(tokens=[it[0] for it in items], symbols=syms)


def feature(c, name):
    return float(c.features[CANDIDATE_FEATURES.index(name)])


def test_candidates_measure_the_gap_and_how_surely_the_start_reads_as_a_number_and_a_mark():
    r = rec(("1", 0, 20), (")", 25, 35), ("x", 80, 110), ("+", 120, 140), ("2", 150, 170))
    cands = label_candidates(r, unit=40.0)
    assert [(c.k, feature(c, "bare")) for c in cands] == [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (4, 0), (4, 1)]
    one, two, three = cands[0], cands[1], cands[3]
    assert two.text == "1)" and two.char == "1" and two.cut_x == pytest.approx((35 + 80) / 2)
    assert feature(two, "gap") == pytest.approx(45 / 40) and feature(one, "gap") == pytest.approx(5 / 40)
    assert feature(two, "char") == 1.0 and feature(two, "mark") == pytest.approx(0.9) and feature(two, "digits") == 1
    assert feature(one, "one") == 1 and feature(three, "three") == 1 and feature(three, "char") == 0.0  # ")" no char
    assert two.box == (0, 0, 35, 40) and two.features.shape == (len(CANDIDATE_FEATURES),)
    # a mark the first reading missed counts with its probability among the symbol's readings; "y = 2x" is no label
    r = rec(("a", 0, 20), ("1", 25, 30, [("1", 0.6), (".", 0.3)]), ("x", 80, 110), ("+", 120, 140))
    marked = label_candidates(r, 40.0)[1]
    assert marked.text == "a." and feature(marked, "mark") == pytest.approx(0.3)
    eq = label_candidates(rec(("y", 0, 20), ("=", 70, 100), ("2", 110, 130)), 40.0)
    assert feature(eq[0], "rest_relation") == 1 and feature(eq[0], "char") == 1.0
    # two or more symbols bare as well: "13" whose "." was lost
    bare = label_candidates(rec(("1", 0, 20), ("3", 22, 40), ("x", 90, 110), ("+", 120, 140)), 40.0)[2]
    assert bare.text == "13" and bare.char == "13" and feature(bare, "digits") == 1 and feature(bare, "mark") == 0
    # in brackets: "(a)", its character the one after the bracket
    bracketed = label_candidates(rec(("(", 0, 10), ("a", 12, 30), (")", 32, 40), ("x", 90, 110), ("+", 120, 140)), 40.0)
    assert bracketed[3].text == "(a)" and bracketed[3].char == "a" and feature(bracketed[3], "open") == 1.0
    assert feature(bracketed[1], "open") == 0.0 and bracketed[1].char == "?"  # "(a" is no label of two symbols
    # nothing left after it, or a rest that starts left of the label: no candidate
    assert label_candidates(rec(("1", 0, 20)), 40.0) == []
    assert label_candidates(rec(("1", 30, 50), ("x", 0, 20)), 40.0) == []


def one_unit_model(n_features: int, weights: dict[int, float], bias: float = -2.0) -> BinaryMLP:
    """A hand-set perceptron of one unit: p is about 1 when the weighted sum of the features is over -bias."""
    w1 = np.zeros((n_features, 1), np.float32)
    for index, weight in weights.items():
        w1[index, 0] = weight
    return BinaryMLP(mean=np.zeros(n_features, np.float32), std=np.ones(n_features, np.float32), w1=w1,
                     b1=np.full(1, bias, np.float32), w2=np.full((1, 1), 12.0, np.float32), b2=np.zeros(1, np.float32))


def dotted(char, gap=40):
    return label_candidates(rec((char, 0, 20), (".", 22, 26), ("x", 26 + gap, 50 + gap), ("+", 60 + gap, 80 + gap)),
                            40.0)


def test_the_page_tells_labels_that_count_up_on_most_lines():
    """The page features read the line model's scores of the other lines: how many look labelled, and whether this
    candidate's number continues its neighbours' (a line model that wants a gap of half a unit or more)."""
    gap_model = one_unit_model(len(CANDIDATE_FEATURES), {CANDIDATE_FEATURES.index("gap"): 4.0})
    model = PageLabelModel(gap_model, gap_model)
    lines = [dotted("1"), dotted("2"), dotted("3"), []]
    labels = PageLabels(model, lines)
    two = lines[1][1]  # "2."
    f = labels.features(1, lines[1])[1][len(CANDIDATE_FEATURES):]
    assert f[0] == pytest.approx(2 / 3, abs=0.01) and f[1] == 1.0  # two of three other lines look labelled; 1 -> 2
    assert labels.page_features(1, two)[2] == pytest.approx(np.log(5))
    assert labels.page_features(1, lines[1][0])[1] == 1.0  # "2" follows "1" whichever candidate
    lone = PageLabels(model, [dotted("7"), [], []])
    assert lone.features(0, lone.lines[0])[1][len(CANDIDATE_FEATURES):2 + len(CANDIDATE_FEATURES)].tolist() == [0, 0]
    assert labels.features(1, lines[1]).shape == (len(lines[1]), N_FEATURES)
    assert PageLabels(None, lines).choose(1) is None  # no model: no question number


def test_a_model_that_wants_the_count_keeps_the_candidate_the_page_supports(monkeypatch):
    """``choose`` keeps a line's likeliest candidate at ``LABEL_KEEP``: a page model wanting the sequence and a gap."""
    line = one_unit_model(len(CANDIDATE_FEATURES), {CANDIDATE_FEATURES.index("gap"): 4.0})
    page = one_unit_model(N_FEATURES, {len(CANDIDATE_FEATURES) + PAGE_FEATURES.index("sequence"): 4.0,
                                       CANDIDATE_FEATURES.index("gap"): 2.0}, bias=-5.0)
    labels = PageLabels(PageLabelModel(line, page), [dotted("a"), dotted("b"), dotted("k")])
    assert labels.choose(0).text == "a." and labels.choose(1).text == "b."
    assert labels.choose(2) is None  # "k" does not continue "b"
    assert labels.choose(None, dotted("c")) is None  # a line read later (joined) has no neighbours: no sequence
    monkeypatch.setattr(page_label, "LABEL_KEEP", 1.01)
    assert labels.choose(0) is None


def test_training_rows_mark_the_candidate_whose_symbols_are_the_written_label():
    from inkmath.training.recipes.page_label import page_rows

    truth = [{"box": [100, 0, 300, 40], "label": "1.", "label_box": [0, 0, 30, 40]},
             {"box": [100, 100, 300, 140]}]
    f = [0.0] * len(CANDIDATE_FEATURES)
    trace = [{"k": [1, 2, 3], "features": [f] * 3, "chars": ["1", "1", "1?"], "box": [0, 0, 300, 40],
              "symbols": [[0, 0, 20, 40], [24, 32, 28, 38], [100, 0, 140, 40], [150, 0, 190, 40]]},
             {"k": [1], "features": [f], "chars": ["x"], "box": [0, 100, 300, 140],
              "symbols": [[0, 100, 20, 140], [100, 100, 140, 140]]},
             {"k": [], "features": [], "chars": [], "box": None, "symbols": []}]
    lines = page_rows(trace, truth)
    assert [ln["y"] for ln in lines] == [[0.0, 1.0, 0.0], [0.0], []]  # "1" alone leaves its "." behind
    assert lines[0]["chars"] == ["1", "1", "1?"] and len(lines[0]["X"]) == 3
    # read bare (its mark taken as lost) only when its symbols are the label's characters: "1" and "." are not "1."'s
    bare = list(f)
    bare[CANDIDATE_FEATURES.index("bare")] = 1.0
    trace[0]["features"], trace[0]["k"] = [f, f, bare], [1, 2, 2]
    assert page_rows(trace, truth)[0]["y"] == [0.0, 1.0, 0.0]
    truth[0]["label"] = "13."  # ... but "1" and "3" are "13."'s, its "." lost
    assert page_rows(trace, truth)[0]["y"] == [0.0, 1.0, 1.0]


def test_the_label_trace_records_each_lines_candidates_and_splits_no_question_number_off():
    """``page_traces.label_trace``: read_page's ``labels`` hook that records each line of the first reading (its
    candidates' inputs, its box, its symbols' boxes) as ``page_rows`` reads them, and chooses no label."""
    from inkmath.equation.synth.page_traces import label_trace

    trace: list = []
    f = np.arange(len(CANDIDATE_FEATURES), dtype=np.float32)
    cands = [NS(features=f, char="1", k=1), NS(features=f + 1, char="1.", k=2)]
    e = NS(box=[0, 0, 300, 40], symbols=[{"box": [0, 0, 20, 40]}, {"box": [24, 32, 28, 38]}])
    labels = label_trace(trace)["labels"]([(None, e), (None, None)], [cands, []])
    assert isinstance(labels, PageLabels) and labels.choose(0) is None and labels.choose(1) is None
    assert trace == [{"features": [f.tolist(), (f + 1).tolist()], "chars": ["1", "1."], "k": [1, 2],
                      "box": [0, 0, 300, 40], "symbols": [[0, 0, 20, 40], [24, 32, 28, 38]]},
                     {"features": [], "chars": [], "k": [], "box": None, "symbols": []}]


def test_the_recipe_trains_both_models_and_writes_a_card(tmp_path):
    """The recipe end to end on cached page readings (no page read): the worksheet streams' and the real-looking
    crops' pages, the targets made from each page's truth, both models' tensors, a card with held-out figures."""
    import json

    from inkmath.training.recipes import page_label as train_page_label

    rng = np.random.default_rng(0)
    for name, pages in (("stream-0", 40), ("stream-1", 40), ("real-crop-seed7", 10)):
        folder = tmp_path / "cache" / name
        folder.mkdir(parents=True)
        for p in range(pages):
            trace, truth = [], []
            for line in range(4):
                y0 = 100.0 * line
                X = rng.normal(size=(3, len(CANDIDATE_FEATURES)))
                X[:, CANDIDATE_FEATURES.index("bare")] = 0.0
                t = {"box": [100, y0, 300, y0 + 40]}
                if rng.random() < 0.5:  # "1." written before it: its first two symbols, set apart by a wide gap
                    t.update(label="1.", label_box=[0, y0, 30, y0 + 40])
                    X[1, 0] += 3.0
                truth.append(t)
                trace.append({"features": X.tolist(), "chars": ["1", "1", "1?"], "k": [1, 2, 3],
                              "box": [0, y0, 300, y0 + 40],
                              "symbols": [[0, y0, 20, y0 + 40], [24, y0 + 32, 28, y0 + 38], [100, y0, 140, y0 + 40],
                                          [150, y0, 190, y0 + 40]]})
            (folder / f"page_{p:04d}.json").write_text(json.dumps({"trace": trace, "truth": truth}))
        (folder / "done").write_text("")
    cfg = tmp_path / "r.yaml"
    cfg.write_text("name: page-label-test\nstreams: 2\npages: 40\nepochs: 30\nhidden: 8\nreal_crops: 10\n")
    out = tmp_path / "w.safetensors"
    assert train_page_label.main(["--config", str(cfg), "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["metrics"]["heldout_candidate_accuracy"] > 0.8
    assert card["inputs"] == list(CANDIDATE_FEATURES + PAGE_FEATURES)
    assert card["data"]["pages"] == 81 and "10 crops" in card["data"]["train"]  # 90 % of the 90 pages
    model = page_label.load_page_label_model(str(out))
    assert model.line.prob(np.zeros((1, len(CANDIDATE_FEATURES)), np.float32)).shape == (1,)
    assert model.page.prob(np.zeros((1, N_FEATURES), np.float32)).shape == (1,)


def test_pages_read_with_other_inputs_are_cached_apart(monkeypatch):
    """The recipe's cache holds the traces of one set of candidate inputs: a change of the inputs reads the pages
    again instead of mixing old traces in."""
    from inkmath.training.recipes import page_label as train_page_label

    recipe = dict(train_page_label.DEFAULTS)
    name = train_page_label.cache_name(recipe)
    assert name.startswith(f"seed{recipe['page_seed']}-pages{recipe['pages']}-")
    monkeypatch.setattr(page_label, "CANDIDATE_FEATURES", CANDIDATE_FEATURES + ("another",))
    assert train_page_label.cache_name(recipe) != name



def test_a_question_numbers_bracket_is_not_the_expressions():
    from inkmath.equation.page.label import LabelledLineLM, without_label
    from inkmath.training.recipes.latex_lm import train_kn

    assert list(without_label("3 ) x + 1".split())) == "x + 1".split()
    assert list(without_label("1 2 ) y".split())) == ["y"]
    assert list(without_label("( a ) x".split())) == "( a ) x".split()  # matched already: left as it is
    assert list(without_label("x + 1 )".split())) == "x + 1 )".split()  # not at the start
    lm = train_kn([s.split() for s in ["( x + 1 )", "x + 1", "x + X"]], 2)
    line = LabelledLineLM(lm)
    assert lm.long_range_logprob("3 ) x + 1".split()) == lm.unmatched < 0
    assert line.long_range_logprob("3 ) x + 1".split()) == 0.0
    assert line.long_range_logprob("3 ) ( x + 1".split()) == lm.unmatched  # the expression's own bracket still counts
    assert line.logprob("3 ) x".split()) == lm.logprob("3 ) x".split())  # the n-grams read the line as it is
    one = line.for_one_input()
    assert isinstance(one, LabelledLineLM) and one.long_range_logprob("3 ) x + 1".split()) == 0.0
