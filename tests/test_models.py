"""Registry-driven: every registered model gets the same checks."""

import pytest
import torch

from inkmath import InkmathError
from inkmath.models import count_parameters, create_model, list_models, register_model


@pytest.mark.parametrize("name", sorted(list_models()))
@pytest.mark.parametrize("size", [28, 32])
def test_model_contract(name, size):
    torch.manual_seed(0)
    m = create_model(name, num_classes=7, in_size=size)
    x = torch.rand(3, 1, size, size)
    out = m(x)
    assert out.shape == (3, 7) and torch.isfinite(out).all()
    out.logsumexp(1).sum().backward()
    grads = [p.grad for p in m.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0
    assert count_parameters(m) > 0


def test_seed_cnn_is_exactly_the_seeds_baseline():
    m = create_model("seed-cnn", num_classes=10, in_size=32)
    kinds = [type(l).__name__ for l in m]
    assert kinds == ["Conv2d", "MaxPool2d", "ReLU", "Flatten", "Linear", "ReLU", "Linear"]
    assert m[0].out_channels == 16 and m[0].kernel_size == (3, 3) and m[0].padding == (1, 1)
    assert m[4].in_features == 16 * 16 * 16 and m[4].out_features == 64


def test_registry_errors():
    with pytest.raises(InkmathError, match="Unknown model 'nope'; choose one of"):
        create_model("nope", 10)
    with pytest.raises(ValueError, match="registered twice"):
        register_model("seed-cnn")(lambda **k: None)
    with pytest.raises(InkmathError, match="at least 2 classes"):
        create_model("seed-cnn", 1)
