"""The layout chosen among candidate trees with the structure model and the LaTeX LM (``equation.layout_choice``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from inkmath.equation.core.latex import to_latex
from inkmath.equation.core.tree import Box, Candidate, SymbolHyp


def S(t, x0, y0, x1, y1):
    return SymbolHyp(Box(x0, y0, x1, y1), [Candidate(t, 1.0)])


X2 = [S("x", 0, 10, 10, 20), S("2", 11, 2, 16, 9), S("+", 20, 12, 28, 18), S("1", 31, 9, 36, 20)]


def _atoms(hyps):
    from inkmath.equation.reader.atoms import _Atom

    return [_Atom(h.box, h.candidates[0].token, i, list(h.candidates)) for i, h in enumerate(hyps)]


def test_candidates_are_distinct_readings_with_the_rules_and_the_models_best_among_them():
    from inkmath.equation.reader.latex_lm import load_latex_lm
    from inkmath.equation.reader.layout_choice import FEATURES, features, line_candidates
    from inkmath.equation.reader.layout_rules import rule_layout
    from inkmath.equation.reader.structure_model import load_structure_model

    cands, n_trees, rules_score = line_candidates(_atoms(X2), load_structure_model(), rule_layout(),
                                                  rule_layout(relation_model=None), load_latex_lm(), k=3)
    assert n_trees == 5 and rules_score is not None and rules_score <= 0
    norms = [c.norm for c in cands]
    assert len(set(norms)) == len(norms) >= 2  # the same LaTeX twice is one candidate
    assert sum(c.count for c in cands) == n_trees
    f = features(cands, n_trees, k=3)
    assert f.shape == (len(cands), len(FEATURES))
    rules = next(i for i, c in enumerate(cands) if "rules" in c.kinds)
    assert f[rules, FEATURES.index("d_struct")] == 0 and f[rules, FEATURES.index("d_lm")] == 0
    assert f[rules, FEATURES.index("is_rules")] == 1
    assert (f[:, FEATURES.index("d_m0")] <= 1e-9).all()  # no tree beats the model's best by its own score
    assert "".join(next(c for c in cands if "rules" in c.kinds).norm) == "x^{2}+1"


def test_chosen_layout_reads_the_line_and_its_second_reading_differs():
    from inkmath.equation.reader.layout_choice import chosen_layout
    from inkmath.equation.reader.parse import chosen_parse, parse

    tokens = [h.candidates[0].token for h in X2]
    scores: list[float] = []
    assert to_latex(parse(X2, tokens, layout=chosen_layout(scores=scores))).replace(" ", "") == "x^{2}+1"
    assert len(scores) == 1 and -20 < scores[0] <= 0
    other_scores: list[float] = []
    other = parse(X2, tokens, layout=chosen_layout(scores=other_scores, other=True))
    assert to_latex(other).replace(" ", "") != "x^{2}+1" and other_scores[0] < scores[0]
    tree, logp = chosen_parse(X2, tokens)  # the decoder's re-read of its first reading
    assert to_latex(tree).replace(" ", "") == "x^{2}+1" and np.isclose(logp, scores[0])


def test_weights_decide_which_candidate_is_read():
    """All weight on the LaTeX LM's score: the candidate the LM likes best is read, whatever the rules say."""
    from inkmath.equation.reader.latex_lm import load_latex_lm
    from inkmath.equation.reader.layout_choice import FEATURES, chosen_layout, line_candidates
    from inkmath.equation.reader.layout_rules import rule_layout
    from inkmath.equation.reader.structure_model import load_structure_model

    lm = load_latex_lm()
    cands, _, _ = line_candidates(_atoms(X2), load_structure_model(), rule_layout(), rule_layout(relation_model=None),
                                  lm, k=3)
    liked = max(cands, key=lambda c: c.lm)
    read = chosen_layout(weights={f: float(f == "d_lm") for f in FEATURES}, k=3)(_atoms(X2))
    assert to_latex(read) == to_latex(liked.tree)


def test_fitting_learns_the_feature_that_marks_the_right_candidate():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from layout_choice import fit, right_with

    from inkmath.equation.reader.layout_choice import FEATURES

    rng = np.random.default_rng(0)
    items = []
    for _ in range(60):
        f = rng.normal(size=(4, len(FEATURES)))
        right = np.zeros(4, bool)
        right[int(np.argmax(f[:, FEATURES.index("d_lm")]))] = True  # the LM's favourite is right
        items.append((f, right))
    w = fit(items, l2=0.001)
    assert int(np.argmax(w)) == FEATURES.index("d_lm")
    assert right_with(items, w) >= 55
    assert right_with(items, -w) <= 10


def test_bounded_nbest_finds_the_same_trees_as_trying_every_edge():
    from inkmath.equation.reader.structure_model import _decode, _key, nbest_trees, relation_mask
    from inkmath.equation.reader.structure_tree import RELATIONS

    rng = np.random.default_rng(1)
    tokens = ["x", "2", "+", "\\sum", "i", "n", "y"]
    boxes = [Box(10 * i, 0, 10 * i + 8, 10) for i in range(len(tokens))]
    for _ in range(20):
        z = np.where(relation_mask(tokens), rng.normal(scale=1, size=(8, 7, len(RELATIONS))), -np.inf)
        # the sum's limits likely as 'sub' and as 'below' (a tree scores a limit by the better of the two)
        for child, rels in ((4, ("sub", "below")), (5, ("sup", "above"))):
            z[4, child, [RELATIONS.index(r) for r in rels]] = [9.0, 5.0]
        flat = z.transpose(1, 0, 2).reshape(7, -1)
        top = flat.max(axis=1, keepdims=True)
        flat = flat - top - np.log(np.exp(flat - top).sum(axis=1, keepdims=True))
        lp = flat.reshape(7, 8, len(RELATIONS)).transpose(1, 0, 2)
        best = _decode(lp, boxes, tokens, None)
        every = {_key(best): best}
        for c, (p, rel) in enumerate(zip(best.parents, best.relations)):
            banned = lp.copy()
            banned[0 if p is None else p + 1, c, RELATIONS.index(rel or "right")] = -np.inf
            if np.isfinite(banned[:, c]).any():
                alt = _decode(banned, boxes, tokens, None, score=lp)
                every.setdefault(_key(alt), alt)
        for k in (2, 3, 5):
            want = [_key(r) for r in sorted(every.values(), key=lambda r: -r.log_prob)[:k]]
            got = nbest_trees(lp, boxes, tokens, k)
            assert [_key(r) for r in got] == want
            assert all(r.tree is not None for r in got)


def test_gate_keeps_the_rules_tree_where_no_tree_can_beat_it_and_reads_as_without_it_elsewhere():
    from inkmath.equation.reader.layout_choice import chosen_layout
    from inkmath.equation.reader.layout_rules import rule_layout

    atoms = _atoms(X2)
    rules_tree = to_latex(rule_layout()(atoms))
    from inkmath.equation.reader.layout_choice import FEATURES

    not_rules = {f: -float(f == "is_rules") for f in FEATURES}
    ungated = to_latex(chosen_layout(weights=not_rules, gate=None)(atoms))
    assert ungated != rules_tree  # any tree but the rules' is read
    # a gate no tree can pass: the rules' tree, scored as the rules' tree
    scores: list[float] = []
    assert to_latex(chosen_layout(weights=not_rules, gate=1e9, scores=scores)(atoms)) == rules_tree
    assert len(scores) == 1 and -20 < scores[0] <= 0
    # a gate every line passes (the bound is never below the rules' tree's score): as without a gate
    assert to_latex(chosen_layout(weights=not_rules, gate=-1e9)(atoms)) == ungated


def test_gate_makes_the_candidates_where_the_rule_readers_disagree():
    from inkmath.equation.reader.layout_choice import FEATURES, chosen_layout
    from inkmath.equation.reader.layout_rules import rule_layout

    atoms = _atoms(X2)
    rules = rule_layout()
    rules_tree = to_latex(rules(atoms))
    not_rules = {f: -float(f == "is_rules") for f in FEATURES}
    other = lambda line: rules(line[:-1])  # noqa: E731 - a rules-alone reader that writes other LaTeX
    # a gate no bound passes: the candidates are made only when the rule readers disagree
    assert to_latex(chosen_layout(weights=not_rules, gate=1e9, alone=other)(atoms)) != rules_tree
    assert to_latex(chosen_layout(weights=not_rules, gate=1e9, alone=rules)(atoms)) == rules_tree


class _Fixed:
    def __init__(self, lp):
        self.lp = lp

    def log_probs(self, boxes, tokens, memo=None):
        if memo is not None:
            memo["seen"] = memo.get("seen", 0) + 1
        return self.lp


def _normalised(z):
    n = z.shape[1]
    flat = z.transpose(1, 0, 2).reshape(n, -1)
    flat = flat - np.log(np.exp(flat).sum(axis=1, keepdims=True))
    return flat.reshape(n, n + 1, -1).transpose(1, 0, 2)


def test_ensemble_is_the_normalised_product_of_its_members_and_keeps_their_memos_apart():
    from inkmath.equation.reader.layout_choice import StructureEnsemble

    rng = np.random.default_rng(2)
    a, b = _normalised(rng.normal(size=(4, 3, 6))), _normalised(rng.normal(size=(4, 3, 6)))
    memo: dict = {}
    got = StructureEnsemble([_Fixed(a), _Fixed(b)]).log_probs([], [], memo)
    assert np.allclose(np.exp(got).sum(axis=(0, 2)), 1.0)  # each child's (parent, relation) sums to 1
    want = _normalised((a + b) / 2)
    assert np.allclose(got, want)
    assert np.allclose(StructureEnsemble([_Fixed(a), _Fixed(a)]).log_probs([], []), a)
    assert memo[("member", 0)] == {"seen": 1} and memo[("member", 1)] == {"seen": 1}


def test_chooser_scores_the_candidates_but_the_reading_is_scored_by_the_gates_model():
    from inkmath.equation.reader.layout_choice import StructureEnsemble, chosen_layout
    from inkmath.equation.reader.structure_model import load_structure_model

    m = load_structure_model()
    plain, ens = [], []
    t1 = chosen_layout(m, scores=plain, gate=None)(_atoms(X2))
    t2 = chosen_layout(m, scores=ens, gate=None, chooser=StructureEnsemble([m, m]))(_atoms(X2))
    assert to_latex(t1) == to_latex(t2) and np.isclose(plain[0], ens[0])


def test_default_chooser_is_the_shipped_models_with_cards_and_recipes():
    import json

    from inkmath.equation.reader.layout_choice import CHOOSER_MODELS, default_chooser
    from inkmath.equation.reader.structure_model import WEIGHTS, load_structure_model

    e = default_chooser()
    assert len(e.members) == len(CHOOSER_MODELS) >= 2 and e.members[0] is load_structure_model()
    root = Path(__file__).resolve().parent.parent
    for name in CHOOSER_MODELS:
        card = json.loads(WEIGHTS.with_name(f"{name}.json").read_text())
        assert card["name"] == name and (root / card["config"]).is_file()
        assert f"model: {card['model']}" in (root / card["config"]).read_text()


def test_layout_truth_reads_the_gate_and_k_from_a_layout_name(monkeypatch):
    """benchmarks/layout_truth.py: ``choice:G:K`` and ``ensemble:A+B:G`` pass their gate and K to the choice."""
    from inkmath.equation.reader import layout_choice
    from inkmath.equation.reader.structure_model import WEIGHTS

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import layout_truth

    seen = []
    monkeypatch.setattr(layout_choice, "chosen_layout", lambda model=None, **kw: seen.append(kw))
    other = str(WEIGHTS.with_name("structure-input.safetensors"))
    for name in ("choice:none:5", "choice:0.5", f"ensemble:{other}", f"ensemble:{other}:none"):
        layout_truth.make_layout(name)
    assert seen[0] == {"gate": None, "k": 5} and seen[1] == {"gate": 0.5, "k": layout_choice.K}
    assert seen[2]["gate"] == layout_choice.GATE and seen[3]["gate"] is None
    assert [len(s["chooser"].members) for s in seen[2:]] == [2, 2]
