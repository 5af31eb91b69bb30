"""The NumPy engine: every layer's gradients against finite differences (float64) and torch.autograd, optimizers
against torch.optim, torch registry weights running without torch, and a small end-to-end training run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from inkmath import InkmathError
from inkmath.scratch import layers as L
from inkmath.scratch.interop import from_torch_state, load_weights_numpy
from inkmath.scratch.model import ResidualBlock, Sequential
from inkmath.scratch.optim import SGD, Adam
from inkmath.scratch.registry import create_numpy_model, list_numpy_models

torch = pytest.importorskip("torch")
nn = torch.nn
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------- helpers
def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _randomise_bn(layer: L.Layer, rng: np.random.Generator) -> None:
    """Non-trivial BN parameters and running statistics, so eval mode is tested for real."""
    if isinstance(layer, L.BatchNorm):
        c = layer.params["weight"].shape[0]
        layer.params["weight"] = rng.uniform(0.5, 1.5, c).astype(layer.params["weight"].dtype)
        layer.params["bias"] = rng.normal(0, 0.3, c).astype(layer.params["bias"].dtype)
        layer.buffers["running_mean"] = rng.normal(0, 0.3, c).astype(layer.buffers["running_mean"].dtype)
        layer.buffers["running_var"] = rng.uniform(0.5, 2.0, c).astype(layer.buffers["running_var"].dtype)
    for _, child in layer.children():
        _randomise_bn(child, rng)


def _fresh_dropout_rng(layer: L.Layer) -> None:
    """Dropout draws a new mask per forward; reseed it so finite differences see one fixed function."""
    if isinstance(layer, L.Dropout):
        layer.rng = np.random.default_rng(123)
    for _, child in layer.children():
        _fresh_dropout_rng(child)


def _numeric_grad(f, arr: np.ndarray, n_checks: int, rng: np.random.Generator, eps: float = 1e-6):
    """Central differences of scalar f() w.r.t. up to n_checks random entries of arr (modified in place)."""
    flat = arr.reshape(-1)
    idx = rng.choice(flat.size, size=min(n_checks, flat.size), replace=False)
    out = []
    for i in idx:
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        out.append((fp - fm) / (2 * eps))
    return idx, np.array(out)


def _check_layer_fd(layer: L.Layer, x: np.ndarray, train: bool = True, n_checks: int = 25) -> None:
    """dL/dx and dL/dparam of L = sum(layer(x) * R) against finite differences, in float64."""
    layer.astype(np.float64)
    x = x.astype(np.float64)
    rng = _rng(1)

    def run(inp):
        _fresh_dropout_rng(layer)
        return layer.forward(inp, train)

    r = rng.standard_normal(run(x).shape)

    def loss() -> float:
        # BatchNorm's running statistics change on every training forward; they do not affect the training output.
        return float((run(x) * r).sum())

    run(x)
    layer.need_input_grad = True
    dx = layer.backward(r)
    analytic = {key: lay.grads[name].copy() for key, lay, name in Sequential([("m", layer)]).parameters()}
    idx, num = _numeric_grad(loss, x, n_checks, rng)
    np.testing.assert_allclose(dx.reshape(-1)[idx], num, rtol=1e-5, atol=1e-7, err_msg="input gradient")
    for key, lay, name in Sequential([("m", layer)]).parameters():
        idx, num = _numeric_grad(loss, lay.params[name], n_checks, rng)
        np.testing.assert_allclose(analytic[key].reshape(-1)[idx], num, rtol=1e-5, atol=1e-7, err_msg=key)


def _conv_path(layer: L.Conv2D, full: bool) -> L.Conv2D:
    layer.full_conv_backward = full  # both dL/dx routes must be exact, whichever the layer picks by default
    return layer


def _layer_cases():
    """(id, scratch layer factory, torch module factory or None, input shape, train mode)."""
    return [
        ("dense", lambda: L.Dense(7, 5, rng=_rng()), lambda: nn.Linear(7, 5), (4, 7), True),
        ("dense-nobias", lambda: L.Dense(7, 5, bias=False, rng=_rng()), lambda: nn.Linear(7, 5, bias=False),
         (4, 7), True),
        ("conv", lambda: L.Conv2D(3, 4, 3, rng=_rng()), lambda: nn.Conv2d(3, 4, 3), (2, 3, 7, 6), True),
        ("conv-stride2-pad1", lambda: L.Conv2D(3, 4, 3, stride=2, padding=1, rng=_rng()),
         lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 9, 8), True),
        ("conv-5x5-pad2-nobias", lambda: L.Conv2D(2, 3, 5, padding=2, bias=False, rng=_rng()),
         lambda: nn.Conv2d(2, 3, 5, padding=2, bias=False), (2, 2, 6, 7), True),
        ("conv-valid-fullconv-route", lambda: _conv_path(L.Conv2D(3, 4, 3, rng=_rng()), True),
         lambda: nn.Conv2d(3, 4, 3), (2, 3, 7, 6), True),
        ("conv-same-scatter-route", lambda: _conv_path(L.Conv2D(3, 4, 3, padding=1, rng=_rng()), False),
         lambda: nn.Conv2d(3, 4, 3, padding=1), (2, 3, 7, 6), True),
        ("conv-1x1-stride2", lambda: L.Conv2D(3, 4, 1, stride=2, bias=False, rng=_rng()),
         lambda: nn.Conv2d(3, 4, 1, stride=2, bias=False), (2, 3, 7, 7), True),
        ("maxpool2", lambda: L.MaxPool2D(2), lambda: nn.MaxPool2d(2), (2, 3, 7, 6), True),
        ("maxpool3-stride2", lambda: L.MaxPool2D(3, 2), lambda: nn.MaxPool2d(3, 2), (2, 2, 9, 8), True),
        ("relu", lambda: L.ReLU(), lambda: nn.ReLU(), (3, 4, 5, 5), True),
        ("flatten", lambda: L.Flatten(), lambda: nn.Flatten(), (2, 3, 4, 5), True),
        ("globalavgpool", lambda: L.GlobalAvgPool(), None, (2, 3, 4, 5), True),
        ("batchnorm2d-train", lambda: L.BatchNorm(3), lambda: nn.BatchNorm2d(3), (4, 3, 5, 5), True),
        ("batchnorm2d-eval", lambda: L.BatchNorm(3), lambda: nn.BatchNorm2d(3), (4, 3, 5, 5), False),
        ("batchnorm1d-train", lambda: L.BatchNorm(6), lambda: nn.BatchNorm1d(6), (8, 6), True),
        ("dropout-eval", lambda: L.Dropout(0.5), lambda: nn.Dropout(0.5), (4, 6), False),
        ("residual-identity", lambda: ResidualBlock(4, 4, 1, rng=_rng()), None, (2, 4, 6, 6), True),
        ("residual-projection", lambda: ResidualBlock(3, 5, 2, rng=_rng()), None, (2, 3, 7, 7), True),
        ("residual-eval", lambda: ResidualBlock(3, 5, 2, rng=_rng()), None, (2, 3, 7, 7), False),
    ]


CASES = _layer_cases()


@pytest.mark.parametrize("case", CASES + [("dropout-train", lambda: L.Dropout(0.4), None, (4, 6), True)],
                         ids=lambda c: c[0])
def test_layer_gradients_match_finite_differences(case):
    _, make, _, shape, train = case
    layer = make()
    _randomise_bn(layer, _rng(5))
    _check_layer_fd(layer, _rng(2).standard_normal(shape), train)


def _torch_twin(layer: L.Layer, make_torch) -> "nn.Module":
    if make_torch is not None:
        tm = make_torch()
    elif isinstance(layer, ResidualBlock):
        from inkmath.models.cnn import BasicBlock

        tm = BasicBlock(layer.conv1.params["weight"].shape[1], layer.conv1.params["weight"].shape[0],
                        layer.conv1.stride)
    elif isinstance(layer, L.GlobalAvgPool):
        class GAP(nn.Module):
            def forward(self, x):
                return x.mean(dim=(2, 3))

        tm = GAP()
    else:
        raise AssertionError(f"no torch twin for {layer!r}")
    state = Sequential([("m", layer)]).state_dict()
    tm.load_state_dict({k[2:]: torch.from_numpy(np.array(v)) for k, v in state.items()}, strict=True)
    return tm.double()


@pytest.mark.parametrize("case", [c for c in CASES], ids=lambda c: c[0])
def test_layer_matches_torch_autograd(case):
    name, make, make_torch, shape, train = case
    layer = make()
    _randomise_bn(layer, _rng(5))
    layer.astype(np.float64)
    tm = _torch_twin(layer, make_torch)
    tm.train(train)
    x = _rng(3).standard_normal(shape)
    r = _rng(4).standard_normal
    y = layer.forward(x, train)
    dy = r(y.shape)
    layer.need_input_grad = True
    dx = layer.backward(dy)
    xt = torch.from_numpy(x.copy()).requires_grad_()
    yt = tm(xt)
    yt.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-9, atol=1e-10, err_msg="forward")
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-8, atol=1e-10, err_msg="input gradient")
    tparams = dict(tm.named_parameters())
    for key, lay, pname in Sequential([("m", layer)]).parameters():
        np.testing.assert_allclose(lay.grads[pname], tparams[key[2:]].grad.numpy(), rtol=1e-8, atol=1e-10,
                                   err_msg=key)
    # running statistics follow torch's update (unbiased variance, momentum 0.1)
    tbuf = dict(tm.named_buffers())
    for key, value in Sequential([("m", layer)]).state_dict().items():
        if key[2:] in tbuf:
            np.testing.assert_allclose(value, tbuf[key[2:]].numpy(), rtol=1e-9, atol=1e-12, err_msg=key)


def test_float32_forward_matches_torch_and_stays_float32():
    conv = L.Conv2D(3, 8, 3, stride=2, padding=1, rng=_rng())
    x = _rng(1).random((4, 3, 16, 16), dtype=np.float32)
    y = conv.forward(x, train=True)
    assert y.dtype == np.float32
    assert conv.backward(np.ones_like(y)).dtype == np.float32
    tconv = nn.Conv2d(3, 8, 3, 2, 1)
    tconv.load_state_dict({k: torch.from_numpy(v) for k, v in conv.params.items()})
    np.testing.assert_allclose(y, tconv(torch.from_numpy(x)).detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_softmax_cross_entropy_matches_torch_and_is_stable(smoothing):
    rng = _rng(7)
    logits = rng.standard_normal((6, 5)) * 3
    logits[0] += 1000.0  # a huge logit must not overflow
    labels = rng.integers(0, 5, 6)
    ce = L.SoftmaxCrossEntropy(smoothing)
    loss = ce(logits, labels)
    lt = torch.from_numpy(logits).requires_grad_()
    ref = nn.functional.cross_entropy(lt, torch.from_numpy(labels), label_smoothing=smoothing)
    ref.backward()
    assert np.isfinite(loss)
    assert loss == pytest.approx(ref.item(), rel=1e-10)
    np.testing.assert_allclose(ce.backward(), lt.grad.numpy(), rtol=1e-9, atol=1e-12)
    # and against finite differences
    g = ce.backward()
    idx, num = _numeric_grad(lambda: L.SoftmaxCrossEntropy(smoothing)(logits, labels), logits, 10, rng)
    np.testing.assert_allclose(g.reshape(-1)[idx], num, rtol=1e-5, atol=1e-8)
    with pytest.raises(InkmathError):
        ce(logits, np.array([0, 1, 2, 3, 4, 5]))  # label 5 out of range


@pytest.mark.parametrize("opt_name", ["sgd", "sgd-nesterov", "adam", "adamw"])
def test_optimizers_match_torch(opt_name):
    model = Sequential([L.Dense(6, 4, rng=_rng()), L.ReLU(), L.Dense(4, 3, rng=_rng(1))]).astype(np.float64)
    tm = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3)).double()
    tm.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    if opt_name.startswith("sgd"):
        nesterov = opt_name.endswith("nesterov")
        opt = SGD(model, lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=nesterov)
        topt = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=nesterov)
    elif opt_name == "adam":
        opt = Adam(model, lr=0.01, weight_decay=1e-2)
        topt = torch.optim.Adam(tm.parameters(), lr=0.01, weight_decay=1e-2)
    else:
        opt = Adam(model, lr=0.01, weight_decay=0.1, decoupled=True)
        topt = torch.optim.AdamW(tm.parameters(), lr=0.01, weight_decay=0.1)
    rng = _rng(9)
    ce = L.SoftmaxCrossEntropy()
    for _ in range(5):
        x, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
        ce(model.forward(x, train=True), y)
        model.backward(ce.backward())
        opt.step()
        topt.zero_grad()
        nn.functional.cross_entropy(tm(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        topt.step()
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[k], v.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


def test_init_statistics():
    w = L.he_normal((256, 512), 512, _rng())
    assert w.dtype == np.float32 and w.std() == pytest.approx(np.sqrt(2 / 512), rel=0.05)
    g = L.glorot_uniform((256, 512), 512, 256, _rng())
    limit = np.sqrt(6 / 768)
    assert np.abs(g).max() <= limit and g.std() == pytest.approx(limit / np.sqrt(3), rel=0.05)


# ---------------------------------------------------------------------------------------------- models
@pytest.mark.parametrize("name", sorted(list_numpy_models()))
def test_every_numpy_model_trains_a_step(name):
    size = 28
    model = create_numpy_model(name, 5, size, seed=0)
    x = _rng(1).random((4, 1, size, size), dtype=np.float32)
    y = np.array([0, 1, 2, 3])
    logits = model.forward(x, train=True)
    assert logits.shape == (4, 5) and logits.dtype == np.float32 and np.isfinite(logits).all()
    ce = L.SoftmaxCrossEntropy()
    ce(logits, y)
    assert model.backward(ce.backward()) is None  # the first layer skips dL/dx
    before = {k: v.copy() for k, v in model.state_dict().items()}
    Adam(model, lr=1e-3).step()
    for key, layer, pname in model.parameters():
        assert np.isfinite(layer.grads[pname]).all(), key
        assert not np.array_equal(before[key], layer.params[pname]), f"{key} did not change"


def test_predict_keeps_no_backward_state():
    """Inference must not hold im2col matrices between calls; backward after it says what went wrong."""
    model = create_numpy_model("mnist-cnn", 4, 28)
    x = _rng(0).random((3, 1, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(model.predict(x), model.forward(x, train=False), rtol=1e-6)
    model.predict(x)
    assert all(layer._cache is None for _, layer in model.layers)
    with pytest.raises(InkmathError, match="gradients enabled"):
        model.backward(np.ones((3, 4), np.float32))


def test_save_load_roundtrip(tmp_path):
    model = create_numpy_model("inkres", 7, 32, seed=1)
    _randomise_bn(model, _rng(2))
    path = model.save(tmp_path / "m.safetensors")
    other = create_numpy_model("inkres", 7, 32, seed=99).load(path)
    x = _rng(3).random((2, 1, 32, 32), dtype=np.float32)
    np.testing.assert_array_equal(model.predict(x), other.predict(x))
    with pytest.raises(InkmathError, match="Shape mismatch"):
        create_numpy_model("inkres", 8, 32).load(path)
    with pytest.raises(InkmathError, match="does not fit"):
        create_numpy_model("seed-cnn", 7, 32).load(path)


@pytest.mark.parametrize("name", sorted(__import__("inkmath.models", fromlist=["list_models"]).list_models()))
def test_torch_registry_model_runs_in_numpy(name):
    """Every torch registry model: its state dict rebuilds a numpy model whose logits equal torch's (eval)."""
    from inkmath.models import create_model

    num_classes, size = 11, 32
    torch.manual_seed(0)
    tm = create_model(name, num_classes=num_classes, in_size=size)
    gen = torch.Generator().manual_seed(1)
    for mod in tm.modules():  # trained-looking BN statistics
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.copy_(torch.randn(mod.num_features, generator=gen) * 0.2)
            mod.running_var.copy_(torch.rand(mod.num_features, generator=gen) + 0.5)
            mod.weight.data.copy_(torch.rand(mod.num_features, generator=gen) + 0.5)
            mod.bias.data.copy_(torch.randn(mod.num_features, generator=gen) * 0.2)
    tm.eval()
    x = torch.rand(6, 1, size, size, generator=gen)
    with torch.no_grad():
        ref = tm(x).numpy()
    state = {k: v.numpy() for k, v in tm.state_dict().items()}
    model = from_torch_state(name, state, num_classes, size)  # an unknown model fails loudly here
    out = model.predict(x.numpy())
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref, atol=1e-4, rtol=1e-4)


def test_from_torch_state_rejects_wrong_state():
    state = create_numpy_model("seed-cnn", 5, 32).state_dict()
    with pytest.raises(InkmathError, match="cannot run model"):
        from_torch_state("no-such-model", state, 5, 32)
    with pytest.raises(InkmathError, match="does not fit"):
        from_torch_state("seed-cnn", {k: v for k, v in state.items() if k != "6.bias"}, 5, 32)


def _torch_weights(tmp_path: Path, name: str = "inkres", num_classes: int = 6, size: int = 32):
    from safetensors.torch import save_file

    from inkmath.models import create_model

    torch.manual_seed(0)
    tm = create_model(name, num_classes=num_classes, in_size=size).eval()
    path = tmp_path / "weights.safetensors"
    save_file({k: v.contiguous() for k, v in tm.state_dict().items()}, str(path))
    card = {"name": "t", "model": name, "num_classes": num_classes, "in_size": size, "preset": "symbol32",
            "classes": {"names": [f"c{i}" for i in range(num_classes)], "latex": [f"c{i}" for i in range(num_classes)]}}
    (tmp_path / "weights.json").write_text(json.dumps(card))
    return tm, path, card


def test_load_weights_numpy(tmp_path):
    tm, path, card = _torch_weights(tmp_path)
    run = load_weights_numpy(path, card)
    x = _rng(0).random((3, 1, 32, 32), dtype=np.float32)
    with torch.no_grad():
        ref = tm(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(run(x), ref, atol=1e-4)
    assert run(x[:0]).shape == (0, 6)
    with pytest.raises(InkmathError, match="expects images"):
        run(x[:, :, :28, :28])
    with pytest.raises(InkmathError, match="lacks"):
        load_weights_numpy(path, {"model": "inkres"})
    with pytest.raises(InkmathError, match="not found"):
        load_weights_numpy(tmp_path / "missing.safetensors", card)


def test_numpy_engine_works_when_torch_cannot_import(tmp_path):
    """A fresh interpreter where ``import torch`` raises: load registry weights, preprocess, predict."""
    tm, path, card = _torch_weights(tmp_path)
    img = np.zeros((40, 30), np.uint8)
    img[5:35, 12:16] = 255  # a white vertical bar on black
    np.save(tmp_path / "img.npy", img)
    from inkmath.preprocess import prepare_batch

    with torch.no_grad():
        ref = tm(torch.from_numpy(prepare_batch([img], "symbol32", "white"))).numpy()
    code = textwrap.dedent(f"""
        import sys
        sys.modules["torch"] = None  # any "import torch" now raises ImportError
        import numpy as np
        try:
            import torch
        except ImportError:
            pass
        else:
            raise SystemExit("torch imported")
        import inkmath, inkmath.scratch
        from inkmath.preprocess import prepare_batch
        from inkmath.scratch import load_weights_numpy
        import json
        card = json.loads(open({str(tmp_path / 'weights.json')!r}).read())
        run = load_weights_numpy({str(path)!r}, card)
        x = prepare_batch([np.load({str(tmp_path / 'img.npy')!r})], card["preset"], "white")
        np.save({str(tmp_path / 'out.npy')!r}, run(x))
        assert sys.modules.get("torch") is None
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), ref, atol=1e-4)


# ---------------------------------------------------------------------------------------------- training
def _bars_dataset(n: int, seed: int, name: str = "bars"):
    """Two classes drawn on 28 px: a vertical or a horizontal bar at a random place (white ink on black)."""
    from inkmath.data import SymbolDataset
    from inkmath.vocab import Vocabulary

    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    labels = rng.integers(0, 2, n)
    for i, lab in enumerate(labels):
        a, b = rng.integers(2, 20, 2)
        length = rng.integers(10, 24)
        if lab == 0:
            images[i, b:b + length, a:a + 3] = 255
        else:
            images[i, a:a + 3, b:b + length] = 255
    return SymbolDataset(images, labels.astype(np.int64), Vocabulary.from_names(["one", "minus"]), name, "white")


def test_train_numpy_writes_run_folder(tmp_path):
    from inkmath.scratch import train_numpy

    train, test = _bars_dataset(192, 0), _bars_dataset(64, 1)
    out = tmp_path / "run"
    metrics = train_numpy(train, test, "seed003-m3", epochs=2, lr=3e-3, batch_size=32, seed=0, out_dir=out,
                          progress=False, preset="mnist")
    assert metrics["test_acc"] >= 0.9  # the bars' orientation is trivial to learn
    rows = (out / "metrics.csv").read_text().strip().splitlines()
    assert rows[0].startswith("epoch,") and len(rows) == 3
    card = json.loads((out / "weights.json").read_text())
    assert card["model"] == "seed003-m3" and card["engine"] == "numpy" and card["in_size"] == 28
    assert card["classes"]["names"] == ["one", "minus"] and card["preset"] == "mnist"
    assert card["metrics"]["test"]["top1"] == metrics["test_acc"] and card["metrics"]["epochs_done"] == 2
    assert metrics["cpu_seconds"] >= 0 and metrics["epochs"] == 2
    # the saved weights reproduce the reported accuracy through the inference path
    from inkmath.preprocess import prepare_batch

    run = load_weights_numpy(out / "weights.safetensors", card)
    acc = float((run(prepare_batch(test.images, "mnist", "white")).argmax(1) == test.labels).mean())
    assert acc == pytest.approx(metrics["test_acc"])
    with pytest.raises(InkmathError):
        train_numpy(train, test, "seed003-m9", 1, 1e-3, 32, 0, tmp_path / "bad", progress=False)


@pytest.mark.slow
def test_train_from_config_on_real_mnist_subset(tmp_path, capsys):
    """What ``inkmath train mnist:train --engine numpy --model seed003-m4`` runs, on 3000 real digits."""
    from inkmath.data import load_dataset
    from inkmath.training.numpy_engine import train_from_config
    from inkmath.training.config import make_config

    try:
        load_dataset("mnist:test")
    except InkmathError as e:
        pytest.skip(f"MNIST not available: {e}")
    cfg = make_config(None, {"dataset": "mnist:train", "model": "seed003-m4", "engine": "numpy", "limit": 3000,
                             "epochs": 1, "batch_size": 64, "lr": 3e-3, "out": str(tmp_path / "run")})
    result = train_from_config(cfg)
    assert result["metrics"]["test_acc"] > 0.8, result
    card = json.loads((tmp_path / "run" / "weights.json").read_text())
    assert card["preset"] == "mnist" and card["data"]["test"].startswith("mnist:train (held-out")
    assert (tmp_path / "run" / "config.yaml").exists()
    with pytest.raises(InkmathError, match="does not support"):
        train_from_config(make_config(None, {"engine": "numpy", "model": "seed003-m4", "augment": "light"}))
    with pytest.raises(InkmathError, match="has no model"):
        train_from_config(make_config(None, {"engine": "numpy", "model": "no-such"}))


def test_predictor_numpy_engine_on_a_numpy_trained_run(tmp_path):
    """The run folder train_numpy writes is what ``Predictor.load(..., engine="numpy")`` reads."""
    from inkmath.predict import Predictor
    from inkmath.scratch import train_numpy

    train, test = _bars_dataset(192, 0), _bars_dataset(32, 1)
    train_numpy(train, test, "seed003-m3", epochs=2, lr=3e-3, batch_size=32, seed=0, out_dir=tmp_path,
                progress=False, preset="mnist")
    p = Predictor.load(str(tmp_path), engine="numpy")
    preds = p.predict(list(test.images), ink="white", top=2)
    labels = [p.vocab.index(row[0].label) for row in preds]
    assert np.mean(np.array(labels) == test.labels) >= 0.9
    assert abs(sum(pr.prob for pr in preds[0]) - 1.0) < 1e-5
