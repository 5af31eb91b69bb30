"""Layers with hand-written forward and backward passes, NumPy only, NCHW like torch.

Every layer keeps what its backward pass needs from the last ``forward`` call, so the contract is:

    y = layer.forward(x, train=True)   # caches inputs / masks
    dx = layer.backward(dy)            # fills layer.grads[name] (same shape as layer.params[name]), returns dL/dx

Parameters use torch's shapes (Linear weight (out, in), Conv2d weight (out, in, k, k)) so torch state dicts load
without reshaping. Convolution is im2col: a strided view of the padded input becomes one matrix, the layer is one
matmul, and the backward pass scatters the column gradients back with a loop over the k*k kernel offsets (never
over pixels).
"""

from __future__ import annotations

import numpy as np

from inkmath.errors import InkmathError

DTYPE = np.float32

_GRAD_ENABLED = [True]


class no_grad:
    """Context in which forward passes keep nothing for backward (like torch.no_grad): inference holds no im2col
    matrices or masks between calls. ``Sequential.predict`` runs inside it."""

    def __enter__(self):
        self._prev = _GRAD_ENABLED[0]
        _GRAD_ENABLED[0] = False
        return self

    def __exit__(self, *exc):
        _GRAD_ENABLED[0] = self._prev
        return False


def grad_enabled() -> bool:
    return _GRAD_ENABLED[0]


def _cached(cache, layer):
    if cache is None:
        raise InkmathError(f"{type(layer).__name__}.backward() needs a forward() with gradients enabled first "
                           "(not inside no_grad() or predict())")
    return cache


class Layer:
    """Base class: ``params``/``grads`` hold trainable arrays, ``buffers`` hold state that is saved but not trained."""

    _cache = None

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        # The first layer of a model does not need dL/dx; Sequential clears this to skip that work.
        self.need_input_grad = True

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def children(self) -> list[tuple[str, "Layer"]]:
        """Named sub-layers (for nested blocks); their state keys are ``name.param``."""
        return []

    def astype(self, dtype) -> "Layer":
        """Cast parameters and buffers (float64 for gradient checks)."""
        for d in (self.params, self.buffers):
            for k, v in d.items():
                if np.issubdtype(v.dtype, np.floating):
                    d[k] = v.astype(dtype)
        for _, child in self.children():
            child.astype(dtype)
        return self

    def __call__(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        return self.forward(x, train)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={tuple(v.shape)}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"


# ---------------------------------------------------------------------------------------------- init
def glorot_uniform(shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """Glorot/Xavier: keeps the variance of activations and gradients equal for tanh-like layers."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(DTYPE)


def he_normal(shape: tuple[int, ...], fan_in: int, rng: np.random.Generator) -> np.ndarray:
    """He/Kaiming: variance 2/fan_in, because ReLU zeroes half of the signal."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(DTYPE)


def _init(shape: tuple[int, ...], fan_in: int, fan_out: int, init: str, rng: np.random.Generator | None) -> np.ndarray:
    rng = rng if rng is not None else np.random.default_rng()
    if init == "glorot":
        return glorot_uniform(shape, fan_in, fan_out, rng)
    if init == "he":
        return he_normal(shape, fan_in, rng)
    raise InkmathError(f"Unknown init {init!r}; choose 'glorot' or 'he'")


# ---------------------------------------------------------------------------------------------- dense
class Dense(Layer):
    """y = x W^T + b with W (out, in), like torch.nn.Linear."""

    def __init__(self, fan_in: int, fan_out: int, bias: bool = True, init: str = "glorot",
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.params["weight"] = _init((fan_out, fan_in), fan_in, fan_out, init, rng)
        if bias:
            self.params["bias"] = np.zeros(fan_out, DTYPE)

    def forward(self, x, train=False):
        if x.ndim != 2 or x.shape[1] != self.params["weight"].shape[1]:
            raise InkmathError(f"Dense expects (N, {self.params['weight'].shape[1]}), got {x.shape}")
        self._cache = x if grad_enabled() else None
        y = x @ self.params["weight"].T  # (N, out)
        if "bias" in self.params:
            y += self.params["bias"]
        return y

    def backward(self, dy):
        self.grads["weight"] = dy.T @ _cached(self._cache, self)  # (out, in)
        if "bias" in self.params:
            self.grads["bias"] = dy.sum(axis=0)
        return dy @ self.params["weight"] if self.need_input_grad else None


# ---------------------------------------------------------------------------------------------- conv
def _windows(xp: np.ndarray, k: int, stride: int, ho: int, wo: int) -> np.ndarray:
    """A (C, k, k, N, Ho, Wo) strided *view* of padded input (N, C, Hp, Wp): no copy yet."""
    n, c, _, _ = xp.shape
    sn, sc, sh, sw = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, shape=(c, k, k, n, ho, wo), strides=(sc, sh, sw, sn, sh * stride, sw * stride), writeable=False)


def _out_size(size: int, k: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - k) // stride + 1


class Conv2D(Layer):
    """2-D convolution (cross-correlation, like torch) with stride and zero padding; weight (out, in, k, k).

    Forward: cols = (C*k*k, N*Ho*Wo) copied once from a strided view; y = W (out, C*k*k) @ cols. The result is
    computed channel-first and returned as an (N, out, Ho, Wo) view, so no transpose copy is made.
    Backward: dW = dy @ cols^T; dL/dx either as dcols = W^T @ dy added back into the padded input with k*k slice
    additions, or (stride-1 "same" convolutions) as a full convolution of dy with the flipped kernel.
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0, bias: bool = True,
                 init: str = "he", rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if kernel < 1 or stride < 1 or padding < 0:
            raise InkmathError(f"Conv2D needs kernel >= 1, stride >= 1, padding >= 0; "
                               f"got {kernel}, {stride}, {padding}")
        self.k, self.stride, self.padding = kernel, stride, padding
        # dL/dx route: a full convolution (one im2col + matmul) for stride-1 "same" convolutions, where it costs
        # no more than the forward pass; the k*k scatter-adds elsewhere (valid convolutions, strides), where the
        # full convolution would mostly multiply padding zeros. Both are exact; tests force each one.
        self.full_conv_backward = stride == 1 and 2 * padding == kernel - 1
        fan_in, fan_out = cin * kernel * kernel, cout * kernel * kernel
        self.params["weight"] = _init((cout, cin, kernel, kernel), fan_in, fan_out, init, rng)
        if bias:
            self.params["bias"] = np.zeros(cout, DTYPE)

    def forward(self, x, train=False):
        w = self.params["weight"]
        cout, cin, k, _ = w.shape
        if x.ndim != 4 or x.shape[1] != cin:
            raise InkmathError(f"Conv2D expects (N, {cin}, H, W), got {x.shape}")
        n, _, h, wd = x.shape
        p, s = self.padding, self.stride
        ho, wo = _out_size(h, k, s, p), _out_size(wd, k, s, p)
        if ho < 1 or wo < 1:
            raise InkmathError(f"Conv2D kernel {k} does not fit input {h}x{wd} with padding {p}; use larger images")
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        cols = np.ascontiguousarray(_windows(xp, k, s, ho, wo)).reshape(cin * k * k, n * ho * wo)
        y = w.reshape(cout, -1) @ cols  # (out, N*Ho*Wo)
        if "bias" in self.params:
            y += self.params["bias"][:, None]
        self._cache = (cols, x.shape, xp.shape, ho, wo) if grad_enabled() else None
        return y.reshape(cout, n, ho, wo).transpose(1, 0, 2, 3)  # (N, out, Ho, Wo), a view

    def backward(self, dy):
        cols, xshape, xpshape, ho, wo = _cached(self._cache, self)
        w = self.params["weight"]
        cout, cin, k, _ = w.shape
        n = xshape[0]
        dy2 = np.ascontiguousarray(dy.transpose(1, 0, 2, 3)).reshape(cout, n * ho * wo)
        self.grads["weight"] = (dy2 @ cols.T).reshape(w.shape)
        if "bias" in self.params:
            self.grads["bias"] = dy2.sum(axis=1)
        if not self.need_input_grad:
            return None
        s, p = self.stride, self.padding
        if s == 1 and p < k and self.full_conv_backward:
            # dL/dx of a stride-1 conv is a full convolution of dy with the flipped, transposed kernel: one more
            # im2col and matmul, which beats k*k scatter-adds of the column gradients.
            q = k - 1 - p
            dyp = np.pad(dy2.reshape(cout, n, ho, wo), ((0, 0), (0, 0), (q, q), (q, q)))  # (out, N, H+2q, W+2q)
            h, wd = xshape[2], xshape[3]
            cs, ns, hs, ws = dyp.strides
            win = np.lib.stride_tricks.as_strided(dyp, shape=(cout, k, k, n, h, wd),
                                                  strides=(cs, hs, ws, ns, hs, ws), writeable=False)
            dcols_t = np.ascontiguousarray(win).reshape(cout * k * k, n * h * wd)
            wflip = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(cin, cout * k * k)  # (in, out*k*k)
            return (wflip @ dcols_t).reshape(cin, n, h, wd).transpose(1, 0, 2, 3)  # (N, in, H, W), a view
        dcols = (w.reshape(cout, -1).T @ dy2).reshape(cin, k, k, n, ho, wo)
        dxp = np.zeros((cin, n, xpshape[2], xpshape[3]), dy.dtype)  # channel-first so dcols slices add directly
        for i in range(k):
            for j in range(k):
                dxp[:, :, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s] += dcols[:, i, j]
        dx = dxp.transpose(1, 0, 2, 3)  # (N, in, Hp, Wp), a view
        return dx[:, :, p:p + xshape[2], p:p + xshape[3]] if p else dx


# ---------------------------------------------------------------------------------------------- pooling
class MaxPool2D(Layer):
    """Max over k x k windows (stride defaults to k, floor mode, like torch); ties go to the first maximum.

    Both passes loop over the k*k window offsets with whole-array operations. The forward pass is only
    ``np.maximum`` (cheap for inference); the backward pass finds, per offset, the outputs whose maximum came from
    that offset (first hit wins) and routes their gradient there.
    """

    def __init__(self, kernel: int = 2, stride: int | None = None) -> None:
        super().__init__()
        if kernel < 1 or (stride is not None and stride < 1):
            raise InkmathError(f"MaxPool2D needs kernel >= 1 and stride >= 1, got {kernel}, {stride}")
        self.k, self.stride = kernel, stride or kernel

    def _slice(self, o: int, ho: int, wo: int):
        s, (i, j) = self.stride, divmod(o, self.k)
        return (slice(None), slice(None), slice(i, i + s * (ho - 1) + 1, s), slice(j, j + s * (wo - 1) + 1, s))

    def forward(self, x, train=False):
        if x.ndim != 4:
            raise InkmathError(f"MaxPool2D expects (N, C, H, W), got {x.shape}")
        n, c, h, w = x.shape
        k, s = self.k, self.stride
        ho, wo = _out_size(h, k, s, 0), _out_size(w, k, s, 0)
        if ho < 1 or wo < 1:
            raise InkmathError(f"MaxPool2D({k}) does not fit input {h}x{w}")
        out = np.ascontiguousarray(x[self._slice(0, ho, wo)])
        for o in range(1, k * k):
            np.maximum(out, x[self._slice(o, ho, wo)], out=out)
        self._cache = (x, out) if grad_enabled() else None
        return out

    def backward(self, dy):
        x, out = _cached(self._cache, self)
        ho, wo = out.shape[2:]
        dx = np.zeros(x.shape, dy.dtype)
        taken = np.zeros(out.shape, bool)
        last = self.k * self.k - 1
        for o in range(last + 1):
            sl = self._slice(o, ho, wo)
            hit = x[sl] == out
            if o:
                hit &= ~taken  # an earlier offset already took this maximum (ties go to the first, as in torch)
            if o < last:
                taken |= hit
            if self.stride >= self.k:  # windows do not overlap: each input position gets at most one gradient
                np.multiply(dy, hit, out=dx[sl])
            else:
                dx[sl] += dy * hit
        return dx


class GlobalAvgPool(Layer):
    """(N, C, H, W) -> (N, C), the mean over the spatial positions."""

    def forward(self, x, train=False):
        self._shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dy):
        n, c, h, w = self._shape
        return np.broadcast_to((dy / (h * w))[:, :, None, None], self._shape).copy()


# ---------------------------------------------------------------------------------------------- simple
class ReLU(Layer):
    def forward(self, x, train=False):
        if not grad_enabled():
            self._cache = None
            return np.maximum(x, 0)
        self._cache = x > 0
        return x * self._cache

    def backward(self, dy):
        return dy * _cached(self._cache, self)


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W) in C order, the same order as torch.flatten on NCHW."""

    def forward(self, x, train=False):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape(self._shape)


class Dropout(Layer):
    """Inverted dropout: scales kept units by 1/(1-p) in training, so evaluation is the identity."""

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise InkmathError(f"Dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.rng = rng if rng is not None else np.random.default_rng()
        self._mask = None

    def forward(self, x, train=False):
        if not train or self.p == 0.0:
            self._mask = None
            return x
        self._mask = (self.rng.random(x.shape) >= self.p).astype(x.dtype) / (1.0 - self.p)
        return x * self._mask

    def backward(self, dy):
        return dy if self._mask is None else dy * self._mask


class BatchNorm(Layer):
    """Batch normalisation over N (and H, W for 4-D input), with torch's semantics.

    Training normalises with the batch mean and biased variance and updates the running statistics with the
    *unbiased* variance: running = (1 - momentum) * running + momentum * batch. Evaluation uses the running ones.
    """

    def __init__(self, channels: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.params["weight"] = np.ones(channels, DTYPE)
        self.params["bias"] = np.zeros(channels, DTYPE)
        self.buffers["running_mean"] = np.zeros(channels, DTYPE)
        self.buffers["running_var"] = np.ones(channels, DTYPE)
        self.buffers["num_batches_tracked"] = np.zeros((), np.int64)

    def _axes_shape(self, x):
        if x.ndim == 4:
            return (0, 2, 3), (1, -1, 1, 1)
        if x.ndim == 2:
            return (0,), (1, -1)
        raise InkmathError(f"BatchNorm expects (N, C) or (N, C, H, W), got {x.shape}")

    def forward(self, x, train=False):
        axes, shape = self._axes_shape(x)
        gamma, beta = self.params["weight"], self.params["bias"]
        if train:
            m = x.size // x.shape[1]
            sub = "nchw" if x.ndim == 4 else "nc"
            mean = np.einsum(f"{sub}->c", x) / m  # einsum reduces per channel in one pass, faster than sum(axes)
            xhat = x - mean.reshape(shape)
            var = np.einsum(f"{sub},{sub}->c", xhat, xhat) / m  # biased, used to normalise
            inv = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)
            xhat *= inv.reshape(shape)
            mom = self.momentum
            b = self.buffers
            b["running_mean"] = ((1 - mom) * b["running_mean"] + mom * mean).astype(b["running_mean"].dtype)
            unbiased = var * (m / max(m - 1, 1))
            b["running_var"] = ((1 - mom) * b["running_var"] + mom * unbiased).astype(b["running_var"].dtype)
            b["num_batches_tracked"] = b["num_batches_tracked"] + 1
            self._cache = ("train", xhat, inv, shape)
            out = xhat * gamma.reshape(shape)
            out += beta.reshape(shape)
            return out
        # eval: fold the statistics into one scale and shift
        scale = (gamma / np.sqrt(self.buffers["running_var"] + self.eps)).astype(x.dtype)
        shift = (beta - self.buffers["running_mean"] * scale).astype(x.dtype)
        self._cache = ("eval", x, scale.reshape(shape), axes, shape) if grad_enabled() else None
        out = x * scale.reshape(shape)
        out += shift.reshape(shape)
        return out

    def backward(self, dy):
        cache = _cached(self._cache, self)
        if cache[0] == "eval":  # eval mode: a fixed affine map (fine-tuning with frozen statistics)
            _, x, scale, axes, shape = cache
            inv = 1.0 / np.sqrt(self.buffers["running_var"] + self.eps)
            xhat = (x - self.buffers["running_mean"].reshape(shape)) * inv.reshape(shape)
            self.grads["weight"] = (dy * xhat).sum(axis=axes).astype(self.params["weight"].dtype)
            self.grads["bias"] = dy.sum(axis=axes).astype(self.params["bias"].dtype)
            return dy * scale.astype(dy.dtype)
        _, xhat, inv, shape = cache
        m = dy.size // dy.shape[1]
        sub = "nchw" if dy.ndim == 4 else "nc"
        dbeta = np.einsum(f"{sub}->c", dy)
        dgamma = np.einsum(f"{sub},{sub}->c", dy, xhat)
        self.grads["weight"], self.grads["bias"] = dgamma, dbeta
        # dx = gamma/std * (dy - mean(dy) - xhat * mean(dy * xhat)), with the per-channel factors folded
        a = self.params["weight"] * inv
        dx = dy * a.reshape(shape)
        dx -= xhat * (a * dgamma / m).reshape(shape)
        dx -= (a * dbeta / m).reshape(shape)
        return dx


# ---------------------------------------------------------------------------------------------- residual
def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Stable: subtract the row maximum before exponentiating, so exp never overflows."""
    z = logits - logits.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(logits))


class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(logits) against integer labels, with torch's label smoothing:
    target = (1 - eps) * one_hot + eps / C. ``forward`` returns the loss, ``backward`` dL/dlogits."""

    def __init__(self, label_smoothing: float = 0.0) -> None:
        if not 0.0 <= label_smoothing < 1.0:
            raise InkmathError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        n, c = logits.shape
        labels = np.asarray(labels)
        if labels.shape != (n,) or labels.min(initial=0) < 0 or labels.max(initial=0) >= c:
            raise InkmathError(f"labels must be {n} integers in [0, {c}), got shape {labels.shape}")
        logp = log_softmax(logits)
        target = np.full((n, c), self.label_smoothing / c, logits.dtype)
        target[np.arange(n), labels] += 1.0 - self.label_smoothing
        self._cache = (np.exp(logp), target)
        return float(-(target * logp).sum() / n)

    def backward(self) -> np.ndarray:
        p, target = self._cache
        return (p - target) / p.shape[0]

    __call__ = forward
