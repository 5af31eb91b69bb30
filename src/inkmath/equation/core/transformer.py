"""The small pre-norm transformer the reader's models share: a torch block for training, the same arithmetic in
NumPy for inference.

A block mixes the symbols of one expression: self-attention whose logits get a per-head bias from the symbols'
pairwise geometry (given by the caller), then a GELU feed-forward layer, each with a residual. The parameter names
(``blocks.{i}.ln1.weight``, ``qkv``, ``proj``, ``ln2``, ``ff1``, ``ff2``) are the torch modules' ``state_dict`` names,
so the NumPy side reads the saved tensors as they are.

    blocks = torch_blocks(dim=64, layers=2, heads=4, ff=128, dropout=0.1)   # nn.ModuleList (training)
    x = numpy_blocks(x, bias, tensors, layers=2, heads=4)                   # (n, dim) (inference)
"""

from __future__ import annotations

import math

import numpy as np


def layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-5) * g + b


def gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))


def numpy_blocks(x: np.ndarray, bias: np.ndarray, t: dict[str, np.ndarray], layers: int, heads: int,
                 prefix: str = "blocks.") -> np.ndarray:
    """(n, d) -> (n, d) through ``layers`` blocks; ``bias`` (n, n, layers * heads): the attention bias of each
    layer's heads, in that order.

    Stacked models (``stack_tensors``: M models of one architecture, their tensors stacked on a first axis, biases
    as (M, 1, out)) read as one: x (M, n, d) and bias (M, n, n, layers * heads) -> (M, n, d), model m's rows the
    same arithmetic as ``numpy_blocks`` on model m alone."""
    *lead, n, d = x.shape
    dh = d // heads
    for li in range(layers):
        p = f"{prefix}{li}."
        h = layer_norm(x, t[p + "ln1.weight"], t[p + "ln1.bias"])
        qkv = h @ _t(t[p + "qkv.weight"]) + t[p + "qkv.bias"]
        # (..., heads, n, dh) per query, key and value
        q, k, v = (np.swapaxes(qkv[..., i * d:(i + 1) * d].reshape(*lead, n, heads, dh), -2, -3) for i in range(3))
        att = q @ np.swapaxes(k, -1, -2) / math.sqrt(dh) + np.moveaxis(bias[..., li * heads:(li + 1) * heads], -1, -3)
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = np.swapaxes(att @ v, -2, -3).reshape(*lead, n, d)
        x = x + o @ _t(t[p + "proj.weight"]) + t[p + "proj.bias"]
        h = layer_norm(x, t[p + "ln2.weight"], t[p + "ln2.bias"])
        x = x + gelu(h @ _t(t[p + "ff1.weight"]) + t[p + "ff1.bias"]) @ _t(t[p + "ff2.weight"]) + t[p + "ff2.bias"]
    return x


def _t(w: np.ndarray) -> np.ndarray:
    """A weight matrix (out, in), or a stack of them (M, out, in), transposed for ``x @``."""
    return w.T if w.ndim == 2 else np.swapaxes(w, -1, -2)


def stack_tensors(models: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The tensors of several models of one architecture as one stack for ``numpy_blocks``: each name's tensors
    stacked on a new first axis, a vector (a bias, a layer norm's gain) as (M, 1, size) so that it broadcasts over
    each model's rows."""
    out = {}
    for name in models[0]:
        s = np.stack([m[name] for m in models])
        out[name] = s[:, None, :] if s.ndim == 2 else s
    return out


def torch_blocks(dim: int, layers: int, heads: int, ff: int, dropout: float):
    """``nn.ModuleList`` of ``layers`` blocks; each is called as ``block(x, bias, mask)`` with x (B, n, dim), bias
    (B, heads, n, n) and mask (B, n) True for real symbols."""
    import torch  # noqa: F401 (the modules below need it loaded)
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
            self.qkv = nn.Linear(dim, 3 * dim)
            self.proj = nn.Linear(dim, dim)
            self.ff1, self.ff2 = nn.Linear(dim, ff), nn.Linear(ff, dim)
            self.drop = nn.Dropout(dropout)

        def forward(self, x, bias, mask):
            b, n, d = x.shape
            dh = d // heads
            h = self.ln1(x)
            q, k, v = self.qkv(h).split(d, dim=-1)
            q, k, v = (t.view(b, n, heads, dh).transpose(1, 2) for t in (q, k, v))
            att = q @ k.transpose(-1, -2) / math.sqrt(dh) + bias
            att = att.masked_fill(~mask[:, None, None, :], -1e9).softmax(-1)
            o = (att @ v).transpose(1, 2).reshape(b, n, d)
            x = x + self.drop(self.proj(o))
            h = self.ln2(x)
            return x + self.drop(self.ff2(nn.functional.gelu(self.ff1(h), approximate="tanh")))

    return nn.ModuleList(Block() for _ in range(layers))
