"""The symbol context model: features, a small training run that must learn a context rule, exact resume, and the
NumPy inference agreeing with the torch network it was trained as."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inkmath.equation.reader.context_model import (ContextArchitecture, ContextModel, crop_features, expression_features,
                                            geometry_features)

torch = pytest.importorskip("torch")

from inkmath.equation.reader.context_net import build_net  # noqa: E402
from inkmath.training.recipes.context import ContextConfig, Sequences, accuracy, fit, predict  # noqa: E402

C = 4  # classes: 0 "x", 1 "\\times", 2 "2", 3 "a"; 4 is junk
TOY = ContextArchitecture(dim=16, layers=1, heads=2, ff=32, dropout=0.0)


def _toy(n_expr: int, seed: int) -> Sequences:
    """Expressions 'd ? d' or 'a ? a': the middle cross is read 50/50 by the 'classifier'; its truth is a times sign
    between digits and an 'x' between letters -- only the neighbours tell."""
    rng = np.random.default_rng(seed)
    seqs = Sequences([], [], [], [], [])
    for _ in range(n_expr):
        digits = rng.random() < 0.5
        side = 2 if digits else 3
        boxes = np.array([[0, 0, 1, 1], [1.3, 0.2, 2.0, 0.9], [2.3, 0, 3.3, 1]], float) + rng.normal(0, 0.05, (3, 4))
        idx = np.array([[side, 0, 1, 3, 2], [0, 1, 2, 3, 2], [side, 0, 1, 3, 2]])
        mid = rng.uniform(0.45, 0.55)
        prob = np.array([[0.9, 0.04, 0.03, 0.02, 0.0], [mid, 1 - mid - 0.02, 0.01, 0.01, 0.0],
                         [0.9, 0.04, 0.03, 0.02, 0.0]])
        c, g, p = expression_features(boxes, idx, prob, C)
        seqs.cls.append(c)
        seqs.geo.append(g)
        seqs.pair.append(p)
        seqs.label.append(np.array([side, 1 if digits else 0, side]))
        seqs.kind.append("truth")
    return seqs


def _cfg(**kw) -> ContextConfig:
    return ContextConfig(architecture=kw.pop("architecture", TOY), epochs=kw.pop("epochs", 6), batch_size=16, lr=0.01,
                         **kw)


TOY_CROP = ContextArchitecture(dim=16, layers=1, heads=2, ff=32, dropout=0.0, crop=C)


def _toy_crops(n_expr: int, seed: int) -> Sequences:
    """One-symbol expressions whose top-5 is a coin toss between 'x' and a times sign; only the crop embedding (the
    classifier's full logits, where a third class's logit differs by the truth) tells them apart."""
    rng = np.random.default_rng(seed)
    seqs = Sequences([], [], [], [], [])
    for _ in range(n_expr):
        times = rng.random() < 0.5
        idx = np.array([[0, 1, 2, 3, 0]])
        prob = np.array([[0.48, 0.48, 0.02, 0.02, 0.0]])
        logits = np.array([[2.0, 2.0, 1.0 if times else -1.0, -2.0]]) + rng.normal(0, 0.2, (1, C))
        c, g, p = expression_features(np.array([[0, 0, 1, 1]], float), idx, prob, C)
        seqs.cls.append(c)
        seqs.geo.append(g)
        seqs.pair.append(p)
        seqs.label.append(np.array([1 if times else 0]))
        seqs.kind.append("truth")
        seqs.crop.append(crop_features(logits, 1, C))
    return seqs


def test_crop_features_mark_the_symbols_that_have_one():
    f = crop_features([np.array([0.0, 1.0, 2.0, -50.0]), None], 2, C)
    assert f.shape == (2, C + 1)
    assert f[0, C] == 1.0 and f[1, C] == 0.0 and not f[1].any()
    assert f[0, 2] == pytest.approx(-np.log(np.exp(np.array([0.0, 1.0, 2.0, -50.0]) - 2.0).sum()) / 20.0, abs=1e-6)
    assert f[0, 3] == -1.0  # clipped at the floor
    assert not crop_features(None, 3, C).any()


def test_the_model_learns_from_the_crop_embedding_and_reads_without_it(tmp_path):
    train, val = _toy_crops(400, 4), _toy_crops(100, 5)
    classes = ["x", "\\times", "2", "a"]
    cfg = _cfg(architecture=TOY_CROP, crop_dropout=0.2)
    fit(cfg, train, val, classes, tmp_path, log=lambda *_: None)
    net = build_net(C, cfg.architecture)
    net.load_state_dict(torch.load(tmp_path / "best.pt", weights_only=True))
    assert accuracy(predict(net, val), val, "truth", C)["model"] > 0.95
    # the NumPy inference reproduces the torch network, with and without crop embeddings
    m = ContextModel({k: v.numpy().astype(np.float64) for k, v in net.state_dict().items()}, classes, TOY_CROP, {})
    ref = predict(net, val)
    for i in range(5):
        z = m.logits(val.cls[i].astype(np.float64), val.geo[i].astype(np.float64), val.pair[i].astype(np.float64),
                     val.crop[i].astype(np.float64))
        z = np.exp(z - z.max(1, keepdims=True))
        np.testing.assert_allclose(z / z.sum(1, keepdims=True), ref[i], atol=1e-4)
    p = m.probs(np.array([[0, 0, 1, 1]], float), np.array([[0, 1, 2, 3, 0]]), np.array([[0.48, 0.48, 0.02, 0.02, 0]]))
    assert p.shape == (1, C + 1) and abs(p.sum() - 1) < 1e-5  # no crop embedding (an image's symbol): still a reading


def test_geometry_features_are_scale_free():
    boxes = np.array([[0, 0, 10, 10], [12, 2, 18, 9], [20, -5, 24, 2]], float)
    g1, p1 = geometry_features(boxes)
    g2, p2 = geometry_features(boxes * 7.5 + 100)
    assert g1.shape == (3, 22) and p1.shape == (3, 3, 5)
    np.testing.assert_allclose(g1, g2, atol=1e-4)
    np.testing.assert_allclose(p1, p2, atol=1e-4)


def test_training_learns_the_context_and_numpy_agrees(tmp_path):
    train, val = _toy(400, 0), _toy(100, 1)
    res = fit(_cfg(), train, val, ["x", "\\times", "2", "a"], tmp_path, log=lambda *_: None)
    acc = accuracy(predict(_net(tmp_path), val), val, "truth", C)
    assert acc["classifier"] < 0.85  # the middle symbol is a coin toss for the classifier alone
    assert acc["model"] > 0.97, acc
    assert res["best"]["acc"] > 0.97
    # the NumPy inference reproduces the torch network
    net = _net(tmp_path)
    tensors = {k: v.numpy().astype(np.float64) for k, v in net.state_dict().items()}
    m = ContextModel(tensors, ["x", "\\times", "2", "a"], TOY, card={})
    ref = predict(net, val)
    for i in range(5):
        z = m.logits(val.cls[i].astype(np.float64), val.geo[i].astype(np.float64), val.pair[i].astype(np.float64))
        z = np.exp(z - z.max(1, keepdims=True))
        np.testing.assert_allclose(z / z.sum(1, keepdims=True), ref[i], atol=1e-4)


def _net(out):
    net = build_net(C, _cfg().architecture)
    net.load_state_dict(torch.load(out / "best.pt", weights_only=True))
    return net


def test_resume_gives_the_same_weights(tmp_path):
    train, val = _toy(120, 2), _toy(30, 3)
    classes = ["x", "\\times", "2", "a"]
    fit(_cfg(epochs=4), train, val, classes, tmp_path / "a", log=lambda *_: None)
    # the same recipe interrupted after 2 epochs, then resumed to the end
    fit(_cfg(epochs=4), train, val, classes, tmp_path / "c", log=lambda *_: None, stop_after=2)
    assert torch.load(tmp_path / "c" / "checkpoint.pt", weights_only=True)["epoch"] == 2
    fit(_cfg(epochs=4), train, val, classes, tmp_path / "c", resume=True, log=lambda *_: None)
    a = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    c = torch.load(tmp_path / "c" / "checkpoint.pt", weights_only=True)
    for k in a["model"]:
        assert torch.equal(a["model"][k], c["model"][k]), k
    assert json.loads(a["history"])[-1]["loss"] == json.loads(c["history"])[-1]["loss"]


def test_a_student_learns_from_its_teachers_probabilities_what_its_labels_do_not_say(tmp_path, monkeypatch):
    """Distillation (the recipe's ``teachers`` / ``distill``): the students' training expressions have the middle
    cross unlabelled (ignored by the labels' loss), so only the teacher's probabilities tell a times sign between
    digits from an 'x' between letters."""
    from inkmath.equation.core import registry
    from inkmath.training.recipes.context import teacher_probs

    classes = ["x", "\\times", "2", "a"]
    fit(_cfg(), _toy(400, 0), _toy(100, 1), classes, tmp_path / "teacher", log=lambda *_: None)
    tensors = {k: v.numpy().astype(np.float64) for k, v in _net(tmp_path / "teacher").state_dict().items()}
    monkeypatch.setitem(registry._CACHE, registry.weights_path("toy-teacher"),  # as if shipped, and loaded
                        ContextModel(tensors, classes, TOY, card={}))
    train, val = _toy(400, 4), _toy(100, 5)
    for lab in train.label:
        lab[1] = -100
    read = {}
    for distill in (0.0, 1.0):
        cfg = _cfg(teachers=["toy-teacher"] if distill else [], distill=distill)
        train.soft = teacher_probs(cfg.teachers, train, cfg, classes) if distill else []
        fit(cfg, train, val, classes, tmp_path / str(distill), log=lambda *_: None)
        read[distill] = accuracy(predict(_net(tmp_path / str(distill)), val), val, "truth", C)["model"]
    assert read[0.0] < 0.85 < 0.97 < read[1.0], read
    with pytest.raises(Exception, match="other classes"):
        teacher_probs(["toy-teacher"], train, _cfg(), ["x", "\\times", "2", "b"])


def test_the_shipped_model_reads_a_cross_between_digits_as_a_times_sign():
    """The reader's symbol model in context: the classifier alone prefers 'x' for the cross of '2 x 3'; between two
    digits on the line the context model makes it a times sign (what a hand-written rule did before)."""
    from inkmath.equation.recognize import model_candidates
    from inkmath.equation.core.tree import Box, Candidate, SymbolHyp

    hyps = [SymbolHyp(Box(0, 0, 6, 10), [Candidate("2", 0.6)]),
            SymbolHyp(Box(9, 3, 15, 9), [Candidate("x", 0.6), Candidate("\\times", 0.35)]),
            SymbolHyp(Box(18, 0, 24, 10), [Candidate("3", 0.6)])]
    cands = model_candidates(hyps)
    assert [c[0].token for c in cands] == ["2", "\\times", "3"]
    assert all(sum(c.prob for c in cs) <= 1.0 + 1e-6 for cs in cands)  # the junk share is left out


def test_the_classifier_gives_its_logits_with_its_predictions_and_segmentation_keeps_them():
    """The crop embedding comes from the same pass as the readings: ``predict_with_logits`` agrees with ``predict``,
    and every stroke hypothesis carries its crop's logits."""
    from inkmath.equation.recognize import get_predictor
    from inkmath.equation.strokes.segment import segment_strokes

    pred = get_predictor()
    crops = [np.pad(np.eye(20) * 255, 6).astype(np.uint8), np.pad(np.ones((4, 20)) * 255, 14).astype(np.uint8)]
    got, logits = pred.predict_with_logits(crops, ink="white", top=3)
    assert logits.shape == (2, len(pred.vocab.names)) and logits.dtype == np.float32
    assert [[p.label for p in r] for r in got] == [[p.label for p in r] for r in pred.predict(crops, ink="white", top=3)]
    assert [pred.vocab.names[int(k)] for k in logits.argmax(1)] == [r[0].label for r in got]
    strokes = [np.array([[0, 0], [10, 10]], float), np.array([[0, 10], [10, 0]], float),
               np.array([[20, 5], [30, 5]], float)]
    hyps = segment_strokes(strokes, pred)
    assert all(h.logits is not None and h.logits.shape == (len(pred.vocab.names),) for h in hyps)


def test_the_reader_reads_with_the_classifier_its_context_model_learnt():
    """The shipped context models re-read one classifier's top-5: the reader must use that classifier."""
    from inkmath.equation.reader.context_model import load_context_model
    from inkmath.equation.recognize import DEFAULT_WEIGHTS
    from inkmath.equation.reader.symbols import READER_CONTEXT_MODELS, get_context_model

    assert get_context_model().card.get("classifier", "crohme") == DEFAULT_WEIGHTS
    for name in READER_CONTEXT_MODELS:
        assert load_context_model(name).card.get("classifier", "crohme") == DEFAULT_WEIGHTS, name


def _two_toy_members() -> list:
    """Two toy context models (seeds 0 and 1) of one architecture over four classes."""
    members = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        net = build_net(C, _cfg().architecture)
        members.append(ContextModel({k: v.detach().numpy().astype(np.float64) for k, v in net.state_dict().items()},
                                    ["x", "\\times", "2", "a"], TOY, {}))
    return members


def test_an_ensemble_reads_the_mean_of_its_members():
    from inkmath import InkmathError
    from inkmath.equation.reader.context_model import ContextEnsemble
    from inkmath.equation.reader.symbols import READER_CONTEXT_MODELS, get_context_model

    members = _two_toy_members()
    boxes = np.array([[0, 0, 1, 1], [1.3, 0.2, 2.0, 0.9], [2.3, 0, 3.3, 1]], float)
    idx = np.array([[2, 0, 1, 3, 2], [0, 1, 2, 3, 2], [2, 0, 1, 3, 2]])
    prob = np.array([[0.9, 0.04, 0.03, 0.02, 0.0], [0.5, 0.48, 0.01, 0.01, 0.0], [0.9, 0.04, 0.03, 0.02, 0.0]])
    a, b = (m.probs(boxes, idx, prob) for m in members)
    assert not np.allclose(a, b)
    np.testing.assert_allclose(ContextEnsemble(members).probs(boxes, idx, prob), (a + b) / 2, atol=1e-6)
    with pytest.raises(InkmathError, match="same classifier"):
        ContextEnsemble([members[0], ContextModel(members[1].tensors, ["x", "X", "2", "a"], TOY, {})])
    # the reader's model is the mean of the shipped members named in READER_CONTEXT_MODELS
    reader = get_context_model()
    assert [m.card["name"] for m in reader.members] == list(READER_CONTEXT_MODELS)


def test_one_model_reads_as_an_ensemble_of_one_on_onnx_runtime(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    """A reader with one context model runs it on ONNX Runtime as the ensembles do, with the model's own
    probabilities (its NumPy arithmetic, to float32's rounding)."""
    from inkmath.equation.core import registry
    from inkmath.equation.reader import context_model
    from inkmath.equation.reader import symbols

    monkeypatch.setenv("INKMATH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(registry, "_CACHE", {})  # the ensemble made anew, its session in this cache
    one = symbols.get_context_model("symbol-context")
    assert [m.card["name"] for m in one.members] == ["symbol-context"] and one._session() is not None
    rng = np.random.default_rng(3)
    for n in (1, 6):
        boxes, idx, prob = _random_readings(rng, n, one.num_classes)
        got = one.probs_many([(boxes, idx, prob, None)])[0]
        np.testing.assert_allclose(got, one.members[0].probs(boxes, idx, prob), rtol=0, atol=2e-6)
    in_numpy = context_model.ContextEnsemble(one.members, onnx=False)
    np.testing.assert_allclose(in_numpy.probs(boxes, idx, prob), one.members[0].probs(boxes, idx, prob), atol=1e-7)


def test_writer_features_measure_a_symbol_against_the_writers_own_letters():
    from inkmath.equation.reader.context_model import WRITER_FEATURES, writer_features

    classes = ["P", "p", "a", "2"]
    # 'a' (sure) is 1 tall with its bottom at 1; the symbol before it is 2 tall with the same top
    boxes = np.array([[0, 0, 1, 2], [1.5, 0, 2.5, 1], [3, -1, 4, 1]], float)
    idx = np.array([[0, 1, 2, 3, 0], [2, 0, 1, 3, 0], [3, 0, 1, 2, 0]])
    prob = np.array([[0.5, 0.45, 0.03, 0.02, 0], [0.9, 0.05, 0.03, 0.02, 0], [0.9, 0.05, 0.03, 0.02, 0]])
    f = writer_features(boxes, idx, prob, classes)
    assert f.shape == (3, WRITER_FEATURES)
    assert f[0, 0] == 1.0 and f[0, 1] == pytest.approx(np.log(2)) and f[0, 2] == 0.0 and f[0, 3] == pytest.approx(1.0)
    assert f[1, 0] == 0.0 and f[1, 5] == 1.0  # the 'a' has no other x-height letter to go by; the sure '2' is tall
    assert f[1, 6] == pytest.approx(np.log(0.5)) and f[0, 6] == pytest.approx(0.0)
    np.testing.assert_allclose(writer_features(boxes * 3.2 - 40, idx, prob, classes), f, atol=1e-5)
    # unsure readings are no reference
    assert not writer_features(boxes, idx, prob * np.array([[1], [0.4], [0.4]]), classes).any()


def _toy_expression(rng: np.random.Generator):
    """One 'P a 2' or 'p a 2' drawing: (capital?, boxes, candidate indices, candidate probabilities)."""
    cap = rng.random() < 0.5
    s = rng.uniform(0.5, 3.0)
    first = [0, -0.7, 0.8, 1] if cap else [0, 0, 0.8, 1.7]
    boxes = np.array([first, [1.2, 0, 2.0, 1], [2.4, -0.5, 3.2, rng.uniform(0.8, 1.2)]], float) * s
    idx = np.array([[0, 1, 2, 3, 0], [2, 0, 1, 3, 0], [3, 2, 1, 0, 0]])
    mid = rng.uniform(0.45, 0.55)
    prob = np.array([[mid, 0.98 - mid, 0.01, 0.01, 0], [0.9, 0.05, 0.03, 0.02, 0], [0.9, 0.05, 0.03, 0.02, 0]])
    return cap, boxes, idx, prob


def _toy_writer(n_expr: int, seed: int) -> Sequences:
    """'P a' or 'p a' at a random size: the first symbol is a coin toss for the classifier; a capital P stands on the
    line and is taller than the writer's 'a', a small p hangs below it."""
    rng = np.random.default_rng(seed)
    classes = ["P", "p", "a", "2"]
    seqs = Sequences([], [], [], [], [])
    for _ in range(n_expr):
        cap, boxes, idx, prob = _toy_expression(rng)
        c, g, p = expression_features(boxes, idx, prob, C, classes)
        seqs.cls.append(c)
        seqs.geo.append(g)
        seqs.pair.append(p)
        seqs.label.append(np.array([0 if cap else 1, 2, 3]))
        seqs.kind.append("truth")
    return seqs


def test_a_model_with_writer_features_learns_and_numpy_computes_them_as_training_did(tmp_path):
    from inkmath.equation.reader.context_model import WRITER_FEATURES

    arch = ContextArchitecture(dim=16, layers=1, heads=2, ff=32, dropout=0.0, writer=WRITER_FEATURES)
    classes = ["P", "p", "a", "2"]
    train, val = _toy_writer(400, 6), _toy_writer(100, 7)
    assert train.geo[0].shape == (3, 22 + WRITER_FEATURES)
    cfg = _cfg(architecture=arch)
    fit(cfg, train, val, classes, tmp_path, log=lambda *_: None)
    net = build_net(C, cfg.architecture)
    net.load_state_dict(torch.load(tmp_path / "best.pt", weights_only=True))
    acc = accuracy(predict(net, val), val, "truth", C)
    assert acc["classifier"] < 0.9 and acc["model"] > 0.97, acc
    # ContextModel.probs builds the features itself (writer ones included, from the class names): same readings
    m = ContextModel({k: v.numpy().astype(np.float64) for k, v in net.state_dict().items()}, classes, arch, {})
    rng = np.random.default_rng(7)
    ref = predict(net, val)
    for i in range(3):
        _, boxes, idx, prob = _toy_expression(rng)
        np.testing.assert_allclose(m.probs(boxes, idx, prob), ref[i], atol=1e-4)


def test_an_ensemble_of_one_architecture_runs_its_members_as_one_stack_with_the_same_bits():
    from inkmath.equation.reader.context_model import ContextEnsemble

    members = _two_toy_members()
    rng = np.random.default_rng(3)
    stacked = ContextEnsemble(members, onnx=False)  # the NumPy stack
    assert stacked.stacked is not None
    one_by_one = ContextEnsemble(members, onnx=False)
    one_by_one.stacked = None  # the members' own probs, averaged
    for n in (1, 2, 7):
        xy = rng.uniform(0, 5, (n, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(0.3, 1.5, (n, 2))], axis=1)
        idx = np.stack([rng.permutation(C) for _ in range(n)])
        prob = rng.dirichlet(np.ones(C), n)
        got, want = stacked.probs(boxes, idx, prob), one_by_one.probs(boxes, idx, prob)
        assert got.dtype == want.dtype and np.array_equal(got, want)  # bit for bit, not merely close
        assert not np.array_equal(got, members[0].probs(boxes, idx, prob))
    assert stacked.probs(np.zeros((0, 4)), np.zeros((0, C), int), np.zeros((0, C))).shape == (0, C + 1)


def _random_readings(rng, n: int, C: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n symbols' boxes (n, 4), the classifier's top 5 class indices (n, 5) and their probabilities, best first."""
    xy = rng.uniform(0, 400, (n, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(10, 60, (n, 2))], axis=1).reshape(-1, 4)
    idx = np.array([rng.choice(C, 5, replace=False) for _ in range(n)], int).reshape(-1, 5)
    prob = np.sort(rng.dirichlet(np.ones(5), n), axis=1)[:, ::-1].reshape(-1, 5)
    return boxes, idx, prob


@pytest.fixture
def fresh_reader(tmp_path, monkeypatch):
    """The reader's context ensemble, its ONNX graph exported again into an empty cache."""
    pytest.importorskip("onnxruntime")
    from inkmath.equation.reader.symbols import get_context_model

    monkeypatch.setenv("INKMATH_CACHE", str(tmp_path / "cache"))
    reader = get_context_model()
    monkeypatch.setattr(reader, "_ort", None)
    return reader


def test_the_reader_ensemble_on_onnx_runtime_reads_as_its_numpy_stack(fresh_reader, tmp_path):
    from inkmath.equation.reader.context_model import ContextEnsemble

    reader = fresh_reader
    in_numpy = ContextEnsemble(reader.members, onnx=False)
    rng = np.random.default_rng(5)
    C = reader.num_classes
    for n in (1, 4, 13):
        boxes, idx, prob = _random_readings(rng, n, C)
        got = reader.probs(boxes, idx, prob)
        want = in_numpy.probs(boxes, idx, prob)
        assert got.shape == want.shape == (n, C + 1) and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)
        assert not np.array_equal(got, reader.members[0].probs(boxes, idx, prob))  # the mean, not one member
    assert list((tmp_path / "cache" / "onnx").glob("context-*.onnx"))  # exported once into the cache


def test_the_reader_ensembles_read_several_expressions_in_one_run_with_the_bits_of_one_run_each(fresh_reader,
                                                                                                 monkeypatch):
    """``probs_many`` (the decoder's groupings at once, padded and masked) gives each expression the floats of its
    own run."""
    reader = fresh_reader
    rng = np.random.default_rng(11)
    C = reader.num_classes
    expressions = []
    for n in (3, 1, 0, 13, 12, 7):
        expressions.append((*_random_readings(rng, n, C), None))
    runs = []
    session = reader._session()
    monkeypatch.setattr(reader, "_ort", type("Counted", (), {"run": lambda self, *a: runs.append(1) or
                                                                     session.run(*a)})())
    got = reader.probs_many(expressions)
    assert len(runs) == 1
    want = [reader.probs(*e) for e in expressions]
    assert len(runs) == 1 + 5  # one each, but for the empty expression
    for g, w, e in zip(got, want, expressions):
        assert g.shape == w.shape == (len(e[0]), C + 1) and g.dtype == w.dtype
        assert np.array_equal(g, w)  # bit for bit, not merely close


def test_shared_geometry_makes_a_set_of_boxes_features_once_for_one_input_only(monkeypatch):
    from inkmath.equation.reader import context_model

    boxes = np.array([[0, 0, 10, 20], [12, 0, 20, 18], [22, 5, 30, 12]], np.float64)
    made = []
    real = context_model._geometry_features
    monkeypatch.setattr(context_model, "_geometry_features", lambda b: made.append(1) or real(b))
    alone = context_model.geometry_features(boxes)
    with context_model.shared_geometry():
        first = context_model.geometry_features(boxes)
        again = context_model.geometry_features(boxes.tolist())  # the same boxes, given as a list
        first[0][:] = 99.0  # a caller's change does not reach the next one
        other = context_model.geometry_features(boxes[:2])
        with context_model.shared_geometry():  # a nested one shares the outer's
            third = context_model.geometry_features(boxes)
    assert len(made) == 3  # alone, the boxes once, the two boxes
    for got in (again, third):
        assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(got, alone))
    assert other[0].shape == (2, alone[0].shape[1])
    context_model.geometry_features(boxes)
    assert len(made) == 4  # after the input: made again


def test_masked_medians_are_each_rows_median():
    from inkmath.equation.reader.context_model import _masked_medians, _median

    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 20))
        values = rng.uniform(-5, 5, n)
        if rng.random() < 0.3:
            values = np.round(values)  # ties
        mask = rng.random((int(rng.integers(1, 6)), n)) < 0.5
        mask[np.arange(len(mask)), rng.integers(0, n, len(mask))] = True  # each row holds one value or more
        got = _masked_medians(values, mask)
        assert got.tolist() == [_median(values[m]) for m in mask]  # the same floats
