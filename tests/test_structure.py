"""The structure model's parts: the layout truth from InkML, the tree decoder (no model), a small training run."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from inkmath.equation.core.latex import to_latex
from inkmath.equation.reader.structure_tree import RELATIONS, make_layout, max_arborescence, to_node
from inkmath.equation.core.tree import Box

# x^2 + \frac{1}{y}: strokes 0 'x', 1 '2', 2-3 '+', 4 the bar, 5 '1', 6 'y'
INKML = """<ink xmlns="http://www.w3.org/2003/InkML">
<annotation type="truth">$x^2+\\frac{1}{y}$</annotation>
<annotationXML type="truth" encoding="Content-MathML">
<math xmlns='http://www.w3.org/1998/Math/MathML'><mrow>
 <msup><mi xml:id="x_1">x</mi><mn xml:id="2_1">2</mn></msup>
 <mrow><mo xml:id="+_1">+</mo>
  <mfrac xml:id="-_1"><mn xml:id="1_1">1</mn><mi xml:id="y_1">y</mi></mfrac></mrow>
</mrow></math>
</annotationXML>
<trace id="0">0 10, 10 20</trace>
<trace id="1">12 0, 16 6</trace>
<trace id="2">20 15, 30 15</trace>
<trace id="3">25 10, 25 20</trace>
<trace id="4">35 15, 50 15</trace>
<trace id="5">42 5, 43 12</trace>
<trace id="6">40 18, 46 28</trace>
<traceGroup xml:id="g"><annotation type="truth">Segmentation</annotation>
<traceGroup xml:id="g1"><annotation type="truth">x</annotation><traceView traceDataRef="0"/>
 <annotationXML href="x_1"/></traceGroup>
<traceGroup xml:id="g2"><annotation type="truth">2</annotation><traceView traceDataRef="1"/>
 <annotationXML href="2_1"/></traceGroup>
<traceGroup xml:id="g3"><annotation type="truth">+</annotation><traceView traceDataRef="2"/>
 <traceView traceDataRef="3"/><annotationXML href="+_1"/></traceGroup>
<traceGroup xml:id="g4"><annotation type="truth">-</annotation><traceView traceDataRef="4"/>
 <annotationXML href="-_1"/></traceGroup>
<traceGroup xml:id="g5"><annotation type="truth">1</annotation><traceView traceDataRef="5"/>
 <annotationXML href="1_1"/></traceGroup>
<traceGroup xml:id="g6"><annotation type="truth">y</annotation><traceView traceDataRef="6"/>
 <annotationXML href="y_1"/></traceGroup>
</traceGroup>
</ink>"""


def test_layout_truth_from_a_hand_made_inkml():
    from inkmath.data.crohme import read_inkml
    from inkmath.equation.synth.structure_truth import symbol_layout

    lay = symbol_layout(read_inkml(INKML.encode(), "hand.inkml"))
    tokens = [h.candidates[0].token for h in lay.hyps]
    assert tokens == ["x", "2", "+", "-", "y", "1"]  # by x: the 'y' starts left of the '1'
    edges = {tokens[c]: (None if p is None else tokens[p], r) for c, (p, r) in enumerate(zip(lay.parents,
                                                                                           lay.relations))}
    assert edges == {"x": (None, None), "2": ("x", "sup"), "+": ("x", "right"), "-": ("+", "right"),
                     "1": ("-", "above"), "y": ("-", "below")}
    assert to_latex(to_node(tokens, lay.parents, lay.relations)).replace(" ", "") == "x^{2}+\\frac{1}{y}"


def test_unlabelled_inkml_says_why():
    from inkmath.data.crohme import read_inkml
    from inkmath.equation.synth.structure_truth import Unlabelled, symbol_layout

    broken = INKML.replace('<annotationXML href="y_1"/>', '<annotationXML href="z_9"/>')
    with pytest.raises(Unlabelled, match="z_9"):
        symbol_layout(read_inkml(broken.encode(), "hand.inkml"))


def _brute_force(score: np.ndarray) -> float:
    """The best total score of any arborescence rooted at node 0, by trying every parent assignment."""
    n = score.shape[0]
    best = -np.inf
    for parents in itertools.product(range(n), repeat=n - 1):
        par = (-1,) + parents
        if any(par[v] == v for v in range(1, n)):
            continue
        ok = True
        for v in range(1, n):  # every node reaches the root
            seen, u = set(), v
            while u != 0 and u not in seen:
                seen.add(u)
                u = par[u]
            ok &= u == 0
        if ok:
            best = max(best, sum(score[par[v], v] for v in range(1, n)))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_max_arborescence_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 5
    score = rng.normal(size=(n, n))
    parent = max_arborescence(score)
    assert parent[0] == -1
    total = sum(score[parent[v], v] for v in range(1, n))
    assert total == pytest.approx(_brute_force(score))


def test_max_arborescence_breaks_a_cycle():
    # 1 and 2 prefer each other; the root's edges are weak: the cycle must be broken at its cheapest entry
    s = np.full((3, 3), -np.inf)
    s[1, 2], s[2, 1] = 5.0, 4.0
    s[0, 1], s[0, 2] = 1.0, -3.0
    assert max_arborescence(s) == [-1, 0, 1]


def B(x0, y0, x1, y1):
    return Box(x0, y0, x1, y1)


def test_make_layout_chains_crowded_children_and_first_symbols():
    # 'a b c' where the decoder made b and c both right of a, and 'd' a second first symbol
    boxes = [B(0, 0, 10, 10), B(12, 0, 22, 10), B(24, 0, 34, 10), B(36, 0, 46, 10)]
    parents, relations = make_layout(boxes, [None, 0, 0, None], [None, "right", "right", None])
    assert parents == [None, 0, 1, 2] and relations == [None, "right", "right", "right"]


def test_decoder_on_hand_built_scores():
    from inkmath.equation.reader.structure_model import _decode

    # 'x ^ 2': the scores put '2' as x's superscript, x first
    boxes, tokens = [B(0, 10, 10, 20), B(11, 2, 16, 9)], ["x", "2"]
    lp = np.full((3, 2, len(RELATIONS)), -np.inf)
    lp[0, 0, 0] = np.log(0.9)  # x first
    lp[2, 0, 0] = np.log(0.1)  # x right of 2
    lp[1, 1, RELATIONS.index("sup")] = np.log(0.7)
    lp[1, 1, RELATIONS.index("right")] = np.log(0.2)
    lp[0, 1, 0] = np.log(0.1)
    r = _decode(lp, boxes, tokens, None)
    assert to_latex(r.tree).replace(" ", "") == "x^{2}"
    assert r.log_prob == pytest.approx(np.log(0.9) + np.log(0.7))


def test_to_node_builds_roots_big_operators_and_fractions():
    # \sqrt[3]{a} + \sum_{i}^{n} \frac{b}{c}
    tokens = ["\\sqrt", "3", "a", "+", "\\sum", "i", "n", "-", "b", "c"]
    parents = [None, 0, 0, 0, 3, 4, 4, 4, 7, 7]
    relations = [None, "above", "inside", "right", "right", "below", "above", "right", "above", "below"]
    tex = to_latex(to_node(tokens, parents, relations)).replace(" ", "")
    assert tex == "\\sqrt[3]{a}+\\sum_{i}^{n}\\frac{b}{c}"


def _synthetic(rng, n_expr: int):
    """'a b^c d' style rows: each symbol right of the one before, or (one in three) a small raised superscript."""
    data = []
    for _ in range(n_expr):
        boxes, tokens, parents, relations = [], [], [], []
        x, base = 0.0, None
        for k in range(int(rng.integers(2, 6))):
            if base is not None and rng.random() < 0.33 and relations[-1] != "sup":
                b = boxes[base]
                boxes.append(Box(b.x1 + 1, b.y0 - 6, b.x1 + 7, b.y0 + 2))
                tokens.append(str(rng.integers(0, 10)))
                parents.append(base)
                relations.append("sup")
                x = boxes[-1].x1 + 2
                continue
            boxes.append(Box(x, 0, x + 10, 10))
            tokens.append("abc"[int(rng.integers(0, 3))])
            parents.append(base)
            relations.append(None if base is None else "right")
            base = len(boxes) - 1
            x += 12
        data.append((boxes, tokens, parents, relations))
    return data


def _learns_and_resumes_exactly(train, val, cfg, tmp_path):
    """Trains ``cfg`` for its epochs, checks it learnt the validation trees, then trains it again interrupted after
    2 epochs and resumed: the same history and tensors. Returns the model."""
    from inkmath.training.recipes.structure import evaluate, fit

    model, history = fit(train, val, cfg, tmp_path / "a", log=lambda m: None)
    assert evaluate(model, val)["tree_accuracy"] > 0.9
    fit(train, val, cfg, tmp_path / "b", log=lambda m: None, stop_after=2)
    resumed, history_b = fit(train, val, cfg, tmp_path / "b", log=lambda m: None)
    assert history_b == history
    for k in model.t:
        np.testing.assert_array_equal(model.t[k], resumed.t[k])
    return model


def test_training_learns_superscripts_and_resumes_exactly(tmp_path):
    from inkmath.training.recipes.structure import DEFAULTS

    rng = np.random.default_rng(0)
    train, val = _synthetic(rng, 200), _synthetic(rng, 40)
    cfg = dict(DEFAULTS, epochs=4, batch=16, hidden=32, hidden2=16, embed=4, threads=1, min_token_count=1)
    _learns_and_resumes_exactly(train, val, cfg, tmp_path)


def test_each_recipe_trains_in_its_own_run_folder():
    """structure and structure-input are trained one after the other in one tree (train_budget.py): the second must
    not resume from the first's checkpoint (it did, and stopped: 'trained on other data or another recipe')."""
    from pathlib import Path

    from inkmath.training.recipes.structure import run_folder

    assert run_folder(Path("configs/structure.yaml")) == Path("runs/structure")
    assert run_folder(Path("configs/structure-input.yaml")) == Path("runs/structure-input")
    assert run_folder(None) == Path("runs/structure")


@pytest.mark.parametrize("token_input", ["input", "after"])
def test_encoder_model_learns_resumes_exactly_and_numpy_matches_torch(tmp_path, token_input):
    import torch

    from inkmath.equation.reader.structure_model import pair_features, relation_mask
    from inkmath.training.recipes.structure import DEFAULTS, Net, collate, encode

    rng = np.random.default_rng(1)
    train, val = _synthetic(rng, 200), _synthetic(rng, 40)
    cfg = dict(DEFAULTS, epochs=4, batch=16, hidden=32, hidden2=16, threads=1, min_token_count=1,
               encoder={"dim": 16, "layers": 1, "heads": 2, "ff": 32, "tokens": token_input}, dropout=0.1, jitter=0.05,
               stretch=0.1)
    model = _learns_and_resumes_exactly(train, val, cfg, tmp_path)
    assert model.architecture == {"encoder": cfg["encoder"]} and "blocks.0.qkv.weight" in model.t
    # the NumPy inference computes what the torch net trained: load the tensors into a fresh net and compare
    boxes, tokens, parents, relations = val[0]
    net = Net(len(model.tokens), cfg)
    for name, module in net.modules.items():
        if name == "root":
            net.root.data = torch.from_numpy(model.t["root"])
            continue
        if name in ("embed",):
            module.weight.data = torch.from_numpy(model.t["embed"])
            continue
        if name in ("l1", "l2", "l3"):
            k = name[1]
            module.weight.data = torch.from_numpy(model.t[f"w{k}"].T.copy())
            module.bias.data = torch.from_numpy(model.t[f"b{k}"])
            continue
        module.load_state_dict({key: torch.from_numpy(model.t[f"{name}.{key}"]) for key in module.state_dict()})
    net.train(False)
    index = {t: i for i, t in enumerate(model.tokens)}
    feats, pid, cid, mask, tgt, geo, pair, present = collate(encode([val[0]], index), [0], index["<first>"])
    z = net.logits(feats, pid, cid, mask, torch.from_numpy(model.t["mean"]), torch.from_numpy(model.t["std"]),
                   geo, pair, present)
    ref = torch.log_softmax(z[0], dim=-1).detach().numpy()  # (n, (n + 1) * R)
    lp = model.log_probs(boxes, tokens)
    memo: dict = {}
    for _ in range(2):  # what the memo keeps between readings of one input changes nothing
        np.testing.assert_array_equal(model.log_probs(boxes, tokens, memo), lp)
    n = len(boxes)
    ours = lp.transpose(1, 0, 2).reshape(n, -1)
    ok = np.isfinite(ours)
    assert ok.sum() > n and relation_mask(tokens).sum() == ok.sum() and pair_features(boxes, tokens).shape[0] == n + 1
    np.testing.assert_allclose(ours[ok], ref[ok], atol=1e-4)


def test_node_layout_inverts_to_node():
    from inkmath.equation.reader.structure_tree import node_layout

    tokens = ["\\sqrt", "3", "a", "+", "\\sum", "i", "n", "-", "b", "c", "x", "2"]
    parents = [None, 0, 0, 0, 3, 4, 4, 4, 7, 7, 7, 10]
    relations = [None, "above", "inside", "right", "right", "below", "above", "right", "above", "below", "right",
                 "sup"]
    tree = to_node(tokens, parents, relations, sources=[10 + k for k in range(len(tokens))])
    assert node_layout(tree, [10 + k for k in range(len(tokens))]) == (parents, relations)
    assert node_layout(tree, [10 + k for k in range(len(tokens) - 1)]) is None  # a symbol not among them


def test_parse_scored_gives_the_reading_and_its_structure_log_probability():
    from inkmath.equation.reader.parse import parse, parse_scored
    from inkmath.equation.core.tree import Candidate, SymbolHyp

    def S(t, x0, y0, x1, y1):
        return SymbolHyp(Box(x0, y0, x1, y1), [Candidate(t, 1.0)])

    hyps = [S("x", 0, 10, 10, 20), S("2", 11, 2, 16, 9), S("+", 20, 12, 28, 18), S("1", 31, 9, 36, 20)]
    tree, logp = parse_scored(hyps, [h.token for h in hyps])
    assert to_latex(tree).replace(" ", "") == to_latex(parse(hyps, [h.token for h in hyps])).replace(" ", "")
    assert to_latex(tree).replace(" ", "") == "x^{2}+1"
    assert -20 < logp <= 0


def test_shipped_model_nbest_is_sorted_and_starts_with_the_best_reading():
    from inkmath.equation.reader.structure_model import load_structure_model

    m = load_structure_model()
    boxes = [B(0, 10, 10, 20), B(11, 2, 16, 9), B(20, 12, 28, 18), B(31, 9, 36, 20)]
    tokens = ["x", "2", "+", "1"]
    best = m.read(boxes, tokens)
    alts = m.nbest(boxes, tokens, k=4)
    assert to_latex(alts[0].tree) == to_latex(best.tree)
    assert [a.log_prob for a in alts] == sorted((a.log_prob for a in alts), reverse=True)
    assert len({(tuple(a.parents), tuple(a.relations)) for a in alts}) == len(alts) > 1
    # each reading's score is the model's score of its layout
    for a in alts:
        assert m.score(boxes, tokens, a.parents, a.relations) == pytest.approx(a.log_prob)


def test_nbest_of_a_scribbled_line_makes_a_bounded_number_of_trees(monkeypatch):
    """150 scattered scribbles read as one line: the k best trees are searched among at most ``NBEST_WORK`` / n
    trees without one edge of the best, not among one per symbol (the bound on such a tree stays far above what the
    tree scores once made a layout, so the search never stopped early on clutter)."""
    from inkmath.equation.reader import structure_model as sm

    m = sm.load_structure_model()
    rng = np.random.default_rng(0)
    n = 150
    x, y = rng.uniform(0, 1000, n), rng.uniform(0, 300, n)
    w, h = rng.uniform(2, 20, n), rng.uniform(2, 20, n)
    boxes = [B(float(a), float(b), float(a + c), float(b + d)) for a, b, c, d in zip(x, y, w, h)]
    tokens = [str(t) for t in rng.choice(["-", "1", "x", "(", "2", ".", "a", "\\sqrt"], n)]
    made = []
    decode = sm._decode
    monkeypatch.setattr(sm, "_decode", lambda *a, **kw: made.append(1) or decode(*a, **kw))
    trees = m.nbest(boxes, tokens, k=3)
    assert len(made) <= 1 + sm.NBEST_WORK // n
    assert len(trees) == 3
    assert [t.log_prob for t in trees] == sorted((t.log_prob for t in trees), reverse=True)


def test_pair_scores_of_changed_tokens_match_a_full_computation():
    """Readings of one input share a memo: a reading whose tokens differ from the last one's in a few symbols
    recomputes only their rows and columns, and gets the log-probabilities a fresh computation gives."""
    from inkmath.equation.reader.structure_model import load_structure_model

    m = load_structure_model()
    boxes = [B(0, 10, 10, 20), B(11, 2, 16, 9), B(20, 12, 28, 18), B(31, 9, 36, 20), B(40, 10, 50, 20),
             B(52, 12, 60, 18), B(62, 9, 68, 20)]
    readings = [["x", "2", "+", "1", "y", "-", "3"], ["x", "z", "+", "1", "y", "-", "3"],
                ["x", "z", "+", "l", "y", "-", "3"], ["X", "2", "t", "1", "y", "=", "3"]]
    memo: dict = {}
    for tokens in readings:
        shared = m.log_probs(boxes, tokens, memo)
        fresh = m.log_probs(boxes, tokens)
        assert np.array_equal(np.isfinite(shared), np.isfinite(fresh))
        assert np.allclose(shared[np.isfinite(fresh)], fresh[np.isfinite(fresh)], atol=1e-5)
    assert any(k[0] == "pair scores" for k in memo if isinstance(k, tuple) and k and isinstance(k[0], str))


def test_rescored_layout_skips_the_model_tree_only_when_it_cannot_win():
    """The bound on any tree's log-probability (each child's best edge) is never below the model's best tree, so
    skipping the tree decode when the bound is under the rules' tree + margin chooses what the full rule chooses."""
    from inkmath.equation.reader.atoms import _Atom
    from inkmath.equation.reader.layout_rules import rule_layout
    from inkmath.equation.reader.structure_model import _decode, load_structure_model, rescored_layout, tree_bound
    from inkmath.equation.core.tree import Candidate

    m = load_structure_model()
    rng = np.random.default_rng(0)
    for margin in (0.0, 4.0, 50.0):
        for _ in range(12):
            n = int(rng.integers(2, 7))
            toks = list(rng.choice(["x", "2", "+", "1", "y", "-", "a", "="], n))
            x0 = np.cumsum(rng.uniform(8, 14, n))
            y0 = rng.uniform(0, 12, n)
            boxes = [B(float(a), float(b), float(a) + 8, float(b) + rng.uniform(5, 12)) for a, b in zip(x0, y0)]
            atoms = [_Atom(b, t, i, [Candidate(t, 1.0)]) for i, (b, t) in enumerate(zip(boxes, toks))]
            lp = m.log_probs(boxes, toks)
            best = _decode(lp, boxes, toks, list(range(n)))
            assert best.log_prob <= tree_bound(lp) + 1e-9
            scores: list[float] = []
            chosen = rescored_layout(m, rule_layout(), margin, scores)(atoms)
            theirs = rule_layout()(atoms)
            from inkmath.equation.reader.structure_model import layout_log_prob
            from inkmath.equation.reader.structure_tree import node_layout

            lay = node_layout(theirs, list(range(n)))
            own = layout_log_prob(lp, toks, *lay) if lay is not None else -np.inf
            expect = best if lay is not None and best.log_prob >= own + margin else None
            assert to_latex(chosen) == to_latex(expect.tree if expect else theirs)
            assert scores == [pytest.approx(expect.log_prob if expect else own)]


def test_pair_geometry_is_computed_again_for_each_input(monkeypatch):
    """The structure model keeps a reading's geometry for the other readings of the same input (its memo) and never
    for the next input: an input read twice costs the same both times (the web load test repeats its drawings, and
    a gain that only a repeated drawing sees is not a gain)."""
    from inkmath.equation.reader import structure_model
    from inkmath.equation.reader.parse import parse_scored

    computed = []
    real = structure_model.reference_height  # called once each time the pair geometry is computed
    monkeypatch.setattr(structure_model, "reference_height", lambda *a: computed.append(a) or real(*a))
    from inkmath.equation.core.tree import Candidate, SymbolHyp

    hyps = [SymbolHyp(Box(0, 10, 10, 20), [Candidate("x", 1.0)]), SymbolHyp(Box(11, 2, 16, 9), [Candidate("2", 1.0)]),
            SymbolHyp(Box(20, 12, 28, 18), [Candidate("+", 1.0)]), SymbolHyp(Box(31, 9, 36, 20), [Candidate("1", 1.0)])]
    counts = []
    for _ in range(2):
        read = parse_scored.for_one_input()  # one input's reader, as the decoder makes it
        before = len(computed)
        for tokens in (["x", "2", "+", "1"], ["x", "z", "+", "1"], ["x", "2", "t", "1"]):
            read(hyps, tokens)
        counts.append(len(computed) - before)
    assert counts[0] == counts[1] == 1  # once per input (the three readings share the boxes and the marks)


@pytest.mark.parametrize("name", ["structure", "structure-input"])
def test_encoder_on_onnx_runtime_matches_numpy(name):
    """The shipped structure models' encoders on ONNX Runtime (float32) give the log-probabilities of the NumPy
    blocks (float64) to within float32 rounding."""
    from inkmath.equation.reader import structure_model as sm

    # as the reader loads them (``layout_choice.default_chooser``): the loader keeps two models
    m = sm.load_structure_model() if name == "structure" else sm.load_structure_model(
        str(sm.WEIGHTS.with_name(f"{name}.safetensors")))
    assert m.architecture.get("encoder") and m._encoder_session() is not None
    boxes = [B(0, 10, 10, 20), B(11, 2, 16, 9), B(20, 12, 28, 18), B(31, 9, 36, 20), B(40, 10, 50, 20),
             B(52, 12, 60, 18), B(62, 9, 68, 20), B(70, 4, 80, 30)]
    tokens = ["x", "2", "+", "1", "y", "-", "3", "\\sqrt"]
    on_ort = m.log_probs(boxes, tokens)
    in_numpy = sm.StructureModel(m.t, m.tokens, m.architecture).log_probs(boxes, tokens)  # onnx False: NumPy
    ok = np.isfinite(in_numpy)
    assert np.array_equal(np.isfinite(on_ort), ok) and ok.sum() > len(boxes)
    np.testing.assert_allclose(on_ort[ok], in_numpy[ok], atol=1e-4)
    assert not np.array_equal(on_ort[ok], in_numpy[ok])  # two engines really ran
