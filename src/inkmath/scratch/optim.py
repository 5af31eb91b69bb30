"""SGD with momentum and Adam, updating a Sequential's parameters in place from the layers' ``grads``.

Both follow torch's update rules (torch.optim.SGD / torch.optim.Adam with L2 ``weight_decay`` added to the
gradient), so a scratch run and a torch run with the same hyper-parameters mean the same thing.
"""

from __future__ import annotations

import numpy as np

from inkmath.errors import InkmathError
from inkmath.scratch.model import Sequential


class Optimizer:
    def __init__(self, model: Sequential, lr: float, weight_decay: float = 0.0, decay_1d: bool = True) -> None:
        if lr <= 0:
            raise InkmathError(f"Learning rate must be positive, got {lr}")
        self.slots = list(model.parameters())  # (key, layer, name)
        self.lr, self.weight_decay = lr, weight_decay
        # decay_1d=False spares biases and BatchNorm scales, as the torch trainer does
        self.decay_1d = decay_1d
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def _decay(self, layer, name) -> float:
        return self.weight_decay if (self.decay_1d or layer.params[name].ndim > 1) else 0.0

    def _grad(self, layer, name, l2: bool = True) -> np.ndarray:
        g = layer.grads.get(name)
        if g is None:
            raise InkmathError(f"No gradient for {name!r} of {layer!r}: call backward() before step()")
        wd = self._decay(layer, name)
        if l2 and wd:
            g = g + wd * layer.params[name]
        return g

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """v = momentum * v + g; p -= lr * v (torch's form, dampening 0; nesterov optional)."""

    def __init__(self, model: Sequential, lr: float = 0.01, momentum: float = 0.9, weight_decay: float = 0.0,
                 nesterov: bool = False, decay_1d: bool = True) -> None:
        super().__init__(model, lr, weight_decay, decay_1d)
        self.momentum, self.nesterov = momentum, nesterov

    def step(self) -> None:
        for key, layer, name in self.slots:
            g = self._grad(layer, name)
            if self.momentum:
                st = self.state.setdefault(key, {})
                v = st.get("v")
                v = g.copy() if v is None else self.momentum * v + g
                st["v"] = v
                g = g + self.momentum * v if self.nesterov else v
            layer.params[name] -= (self.lr * g).astype(layer.params[name].dtype)


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction: m and v are running means of g and g^2.

    ``decoupled=True`` is AdamW (Loshchilov & Hutter): weight decay shrinks the weights directly,
    p -= lr * wd * p, instead of entering the gradient (where Adam's scaling would weaken it).
    """

    def __init__(self, model: Sequential, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, decoupled: bool = False,
                 decay_1d: bool = True) -> None:
        super().__init__(model, lr, weight_decay, decay_1d)
        self.decoupled = decoupled
        self.b1, self.b2 = betas
        self.eps = eps
        self.t = 0

    def step(self) -> None:
        self.t += 1
        c1 = 1.0 - self.b1 ** self.t
        c2 = 1.0 - self.b2 ** self.t
        for key, layer, name in self.slots:
            g = self._grad(layer, name, l2=not self.decoupled)
            wd = self._decay(layer, name)
            if self.decoupled and wd:
                layer.params[name] *= layer.params[name].dtype.type(1.0 - self.lr * wd)
            st = self.state.setdefault(key, {})
            if "m" not in st:
                st["m"] = np.zeros_like(g)
                st["v"] = np.zeros_like(g)
            m, v = st["m"], st["v"]
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            update = (self.lr / c1) * m / (np.sqrt(v / c2) + self.eps)
            layer.params[name] -= update.astype(layer.params[name].dtype)


def make_optimizer(name: str, model: Sequential, lr: float, weight_decay: float = 0.0, momentum: float = 0.9,
                   decay_1d: bool = False) -> Optimizer:
    """By name: "adam" (L2 in the gradient), "adamw" (decoupled decay) or "sgd" (momentum)."""
    if name == "adam":
        return Adam(model, lr=lr, weight_decay=weight_decay, decay_1d=decay_1d)
    if name == "adamw":
        return Adam(model, lr=lr, weight_decay=weight_decay, decoupled=True, decay_1d=decay_1d)
    if name == "sgd":
        return SGD(model, lr=lr, momentum=momentum, weight_decay=weight_decay, decay_1d=decay_1d)
    raise InkmathError(f"Unknown optimizer {name!r}; choose 'adam', 'adamw' or 'sgd'")
