"""Choosing a line's layout among candidate trees, scored with the structure model and the LaTeX language model.

The candidates of one line of atoms are the rules' tree (``layout_rules.rule_layout()``, with the relation model),
the rules' tree without the relation model, and the structure model's ``K`` best trees (``StructureModel.nbest``).
Candidates that write the same LaTeX are one candidate. Each gets the features ``FEATURES``:

- ``d_struct``, ``d_lm``, ``d_ntok``: its structure log-probability, its LaTeX LM log-probability and its number of
  LaTeX tokens, each less the rules' tree's;
- ``is_rules``, ``is_alone``, ``is_m0``: whether it is the rules' tree, the rules-alone tree, the model's best;
- ``min_rank``: its best rank among the model's K trees (K when none), over K;
- ``votes``: the share of the K + 2 trees that write it;
- ``d_m0``: its structure log-probability less the model's best tree's.

The candidates' structure scores are the mean of ``CHOOSER_MODELS`` (``StructureEnsemble``), and they are made only
for a line whose rules' tree the first model might beat by exp(``GATE``) or whose two rule readers disagree (else
the rules' tree is read). The reader
reads every hypothesis with the cheaper margin layout and its first reading once more with this one
(``parse.chosen_parse``, ``decode``'s ``final_layout``).

The line's tree is the candidate of highest ``WEIGHTS`` · features. The weights are fitted on the validation
(the 2011-2013 test ink read from its true symbols) by ``benchmarks/layout_choice.py --fit``; see
docs/decisions/layout-choice.md. A rules' tree the structure model cannot score (not a tree over exactly
the line's symbols) is kept, as ``structure_model.rescored_layout`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from inkmath.equation.core.latex import to_latex
from inkmath.equation.core.metrics import normalize_latex
from inkmath.equation.core.registry import ensemble
from inkmath.equation.reader.latex_lm import load_latex_lm
from inkmath.equation.reader.layout_rules import rule_layout
from inkmath.equation.reader.structure_model import (BOUND_SLACK, layout_log_prob, load_structure_model, nbest_trees,
                                                     StructureModel, tree_bound)
from inkmath.equation.reader.structure_tree import node_layout

FEATURES = ("d_struct", "d_lm", "d_ntok", "is_rules", "is_alone", "is_m0", "min_rank", "votes", "d_m0")
# the structure model's trees among the candidates; choice fitted and scored in 5-fold cross-validation on the
# validation (true symbols, 1,504 expressions): K = 2 / 3 / 5 read 1,384 / 1,387 / 1,386 (the rules checked by the
# model at a margin, before: 1,372); docs/decisions/layout-choice.md
K = 3
# fitted by ``python benchmarks/layout_choice.py val --fit`` (a listwise softmax over each one-line expression's
# candidates, L2 0.01): in-sample 1,390 of 1,504, 5-fold cross-validated 1,387. Refitted with the candidates scored
# by ``CHOOSER_MODELS`` (``layout_choice.py val --fit --ensemble ...``): in-sample 1,396, cross-validated 1,395,
# against 1,398 with these weights: kept
WEIGHTS = {"d_struct": 0.155, "d_lm": 0.248, "d_ntok": 0.248, "is_rules": 0.777, "is_alone": 0.843, "is_m0": 0.18,
           "min_rank": 0.124, "votes": 0.161, "d_m0": 0.155}
# the candidates are made only for a line where some tree might beat the rules' by exp(GATE) by the structure model
# (its bound, ``structure_model.tree_bound``), else the rules' tree is read. Layout from the true symbols on the
# validation (``layout_truth.py val --layout default,choice:none,choice:0.1,...``), of 1,504, the candidates scored by
# ``CHOOSER_MODELS``: no gate 1,398; gate 0.1 / 0.5: 1,395; 1 / 1.5: 1,394 (by the first model alone: no gate 1,390,
# 0.1-1.5 1,389, 2 1,386; margin 1,372). The reader reads its first reading again with the choice: CPU side by side
# against without (``bench_decoder.py --vs-layout``) 1.11x / 1.03x (synthetic / CROHME 10-symbol) at gate 1, 1.18x /
# 1.13x with no gate; docs/decisions/layout-choice.md. They are also made for a line whose two rule readers disagree
# (the rules-alone tree writes other LaTeX than the rules' tree), whatever the bound says: at gate 1, 1,397 of 1,504
GATE = 1.0
# the structure models whose mean (``StructureEnsemble``) scores the candidates of a line past the gate; the first is
# the one the gate reads. On the validation from true symbols (``layout_truth.py val --layout single,default``),
# of 1,504: the first alone 1,389; with `structure-input` 1,394; docs/decisions/layout-choice.md
CHOOSER_MODELS = ("structure", "structure-input")


@dataclass
class LineCandidate:
    """One distinct reading of a line: its tree, LaTeX tokens, scores and which readers gave it."""

    tree: object
    norm: tuple[str, ...]
    struct: float
    lm: float
    kinds: set[str] = field(default_factory=set)
    ranks: list[int] = field(default_factory=list)
    count: int = 0


def line_candidates(atoms, model, rules, alone, lm, k: int = K, memo: dict | None = None, read=None):
    """(the candidates of one line of atoms, the number of trees they came from, the rules' tree's struct score or
    None when the model cannot score it). ``read``: the line's ``rules_reading`` when already made."""
    boxes, tokens, sources = [a.box for a in atoms], [a.token for a in atoms], [a.source for a in atoms]
    tree, rules_score, lp = read if read is not None else rules_reading(atoms, model, rules, memo)
    if rules_score is None:
        return [], 0, None
    trees: list[tuple[str, object, float]] = [("rules", tree, rules_score)] if np.isfinite(rules_score) else []
    t = alone(atoms)
    lay = node_layout(t, sources)
    s = layout_log_prob(lp, tokens, *lay) if lay is not None else -np.inf
    if np.isfinite(s):
        trees.append(("alone", t, s))
    for i, r in enumerate(nbest_trees(lp, boxes, tokens, k, sources)):
        trees.append((f"model{i}", r.tree, r.log_prob))
    by_norm: dict[tuple[str, ...], LineCandidate] = {}
    for kind, t, s in trees:
        norm = tuple(normalize_latex(to_latex(t)))
        c = by_norm.get(norm)
        if c is None:
            c = by_norm[norm] = LineCandidate(t, norm, s, float(lm.logprob(list(norm))))
        elif s > c.struct:
            c.tree, c.struct = t, s
        c.kinds.add(kind)
        if kind.startswith("model"):
            c.ranks.append(int(kind[5:]))
        c.count += 1
    return list(by_norm.values()), len(trees), rules_score


def rules_reading(atoms, model, rules, memo: dict | None = None):
    """(the rules' tree of a line of atoms, its structure log-probability or None when the model cannot score it,
    the model's ``log_probs`` of the line)."""
    boxes, tokens, sources = [a.box for a in atoms], [a.token for a in atoms], [a.source for a in atoms]
    tree = rules(atoms)
    lay = node_layout(tree, sources)
    if lay is None:
        return tree, None, None
    lp = model.log_probs(boxes, tokens, memo)
    return tree, layout_log_prob(lp, tokens, *lay), lp


def features(cands: list[LineCandidate], n_trees: int, k: int = K) -> np.ndarray:
    """float (len(cands), len(FEATURES)), in ``FEATURES`` order (the module docstring)."""
    rules = next(c for c in cands if "rules" in c.kinds)
    m0 = next(c for c in cands if "model0" in c.kinds)
    return np.asarray([[c.struct - rules.struct, c.lm - rules.lm, len(c.norm) - len(rules.norm), "rules" in c.kinds,
                        "alone" in c.kinds, "model0" in c.kinds, (min(c.ranks) if c.ranks else k) / k,
                        c.count / n_trees, c.struct - m0.struct] for c in cands], np.float64)


def chosen_layout(model=None, rules=None, alone=None, lm=None, weights: dict | None = None, k: int = K,
                  scores: list[float] | None = None, other: bool = False, memo: dict | None = None,
                  gate: float | None = GATE, chooser=None):
    """A reader of one line of atoms (for ``parse(..., layout=...)``): the candidate of highest score (the module
    docstring). ``scores`` gets, per line read, the structure model's log-probability of the tree chosen (-inf for
    a rules' tree it cannot score); ``other``: the second-best candidate instead (the best when there is one);
    ``gate``: the candidates are made only for a line whose rules' tree some tree may beat by the structure model
    by exp(``gate``) (``structure_model.tree_bound``) or whose rules-alone tree writes other LaTeX than the rules'
    tree, else the rules' tree is read (``gate`` None: always made);
    ``chooser``: the structure model (or ``StructureEnsemble``) that scores the candidates of a line past the gate
    (default: ``default_chooser()`` when ``model`` is the shipped one, else ``model``);
    ``memo``: kept between the calls for one input (``StructureModel.log_probs``). Defaults: the shipped models."""
    m = model if model is not None else load_structure_model()
    if chooser is None and model is None:
        chooser = default_chooser()
    rules = rules if rules is not None else rule_layout()
    alone = alone if alone is not None else rule_layout(relation_model=None)
    lm = lm if lm is not None else load_latex_lm()
    w = np.asarray([(weights or WEIGHTS)[f] for f in FEATURES], np.float64)

    def read(atoms):
        if not atoms:
            if scores is not None:
                scores.append(0.0)
            return rules(atoms)
        reading = rules_reading(atoms, m, rules, memo)
        tree, own, lp = reading
        if own is None:  # the rules' tree is not one the model can score: kept
            if scores is not None:
                scores.append(-np.inf)
            return tree
        read_alone = alone
        if not other and gate is not None and tree_bound(lp) < own + gate - BOUND_SLACK:
            # no tree of the model's beats the rules' by exp(gate): the candidates are not needed unless the rule
            # readers disagree
            alone_tree = alone(atoms)
            if to_latex(alone_tree) == to_latex(tree):
                if scores is not None:
                    scores.append(float(own))
                return tree
            read_alone = lambda _atoms: alone_tree  # noqa: E731 - read once, for the candidates
        boxes, tokens, sources = [a.box for a in atoms], [a.token for a in atoms], [a.source for a in atoms]
        if chooser is not None:  # the rules' tree scored again by the chooser (an ensemble reuses ``lp``)
            known = {"known": {m: lp}} if isinstance(chooser, StructureEnsemble) else {}
            own_lp = chooser.log_probs(boxes, tokens, memo, **known)
            reading = (tree, layout_log_prob(own_lp, tokens, *node_layout(tree, sources)), own_lp)
        cands, n_trees, _ = line_candidates(atoms, chooser or m, rules, read_alone, lm, k, memo, read=reading)
        s = features(cands, n_trees, k) @ w
        order = np.argsort(-s, kind="stable")
        chosen = cands[int(order[1 if other and len(order) > 1 else 0])]
        if scores is not None:  # by the gate's model, as the lines that do not pass it
            lay = node_layout(chosen.tree, sources) if chooser is not None else None
            scores.append(float(chosen.struct) if lay is None else layout_log_prob(lp, tokens, *lay))
        return chosen.tree

    return read


class StructureEnsemble:
    """Several structure models read as one: each child's log P(parent, relation) is the mean of the members',
    renormalised over the child's (parent, relation) (a normalised product of their probabilities). Offers
    ``log_probs`` as a ``structure_model.StructureModel`` does; each member keeps its own part of ``memo``."""

    def __init__(self, members: list):
        self.members = list(members)

    def log_probs(self, boxes, tokens, memo: dict | None = None, known: dict | None = None) -> np.ndarray:
        """``known``: {member: its log_probs of these boxes and tokens} already computed."""
        known = known or {}
        parts = [known[m] if m in known else
                 m.log_probs(boxes, tokens, None if memo is None else memo.setdefault(("member", i), {}))
                 for i, m in enumerate(self.members)]
        mean = np.mean(parts, axis=0)
        n = mean.shape[1]
        flat = mean.transpose(1, 0, 2).reshape(n, -1)
        top = flat.max(axis=1, keepdims=True)
        flat = flat - top - np.log(np.exp(flat - top).sum(axis=1, keepdims=True))
        return flat.reshape(n, n + 1, -1).transpose(1, 0, 2)


def default_chooser() -> StructureEnsemble:
    """The shipped ``CHOOSER_MODELS`` as one ``StructureEnsemble`` (the first: the shipped structure model), made
    once per process (``registry.ensemble``)."""
    return ensemble(CHOOSER_MODELS, StructureModel.KIND, StructureEnsemble)
