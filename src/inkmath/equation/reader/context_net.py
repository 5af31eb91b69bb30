"""The symbol context model's network in torch: what its recipe trains, its ONNX graph is exported from and
distillation reads a teacher with. Inference runs on NumPy or ONNX Runtime (``context_model``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inkmath.equation.core.transformer import torch_blocks

GEO_FEATURES = 22  # a symbol's geometry features (``context_model.expression_features``)
PAIR_FEATURES = 5  # a pair of symbols' features


@dataclass
class ContextArchitecture:
    """The transformer's size: a recipe's ``architecture``, written into the card and read back from it."""

    dim: int
    layers: int
    heads: int
    ff: int
    dropout: float
    crop: int = 0  # width of the crop embedding (the classifier's classes); 0: the model takes none
    writer: int = 0  # WRITER_FEATURES: the model takes ``writer_features`` after the geometry; 0: it does not


def build_net(num_classes: int, cfg: ContextArchitecture):
    """The context model's training network (torch) of ``cfg``'s size over ``num_classes`` classes (+ junk)."""
    import torch
    from torch import nn

    class ContextNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.cls_in = nn.Linear(2 * num_classes, cfg.dim)
            self.geo_in = nn.Linear(GEO_FEATURES + cfg.writer, cfg.dim)
            if cfg.crop:
                self.crop_in = nn.Linear(cfg.crop + 1, cfg.dim)
            self.pair1 = nn.Linear(PAIR_FEATURES, 16)
            self.pair2 = nn.Linear(16, cfg.layers * cfg.heads)
            self.blocks = torch_blocks(cfg.dim, cfg.layers, cfg.heads, cfg.ff, cfg.dropout)
            self.ln_out = nn.LayerNorm(cfg.dim)
            self.out = nn.Linear(cfg.dim, num_classes + 1)
            self.alpha = nn.Parameter(torch.tensor(1.0))

        def forward(self, cls, geo, pair, mask, crop=None):
            x = self.cls_in(cls) + self.geo_in(geo)
            if cfg.crop:
                x = x + self.crop_in(crop)
            hb = self.pair2(torch.relu(self.pair1(pair)))  # (B, n, n, L*H)
            for li, blk in enumerate(self.blocks):
                x = blk(x, hb[..., li * cfg.heads:(li + 1) * cfg.heads].permute(0, 3, 1, 2), mask)
            out = self.out(self.ln_out(x))
            logp = cls[..., num_classes:] * -math.log(1e-3)
            return torch.cat([out[..., :num_classes] + self.alpha * logp, out[..., num_classes:]], dim=-1)

    return ContextNet()


def net_of(model) -> "torch.nn.Module":
    """The training network of a shipped context model (``context_model.ContextModel``), its weights loaded in
    float32: what its ONNX graph is exported from and what distillation reads a teacher with."""
    import torch

    net = build_net(model.num_classes, model.architecture)
    net.load_state_dict({k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in model.tensors.items()})
    return net


def export_members(members: list, opset: int) -> bytes:
    """The ONNX graph of ``context_model.onnx_session``: the members' networks (``net_of``) run side by side on one
    batch (needs torch, as the classifiers' export does)."""
    import torch

    from inkmath.onnx_export import module_bytes

    nets = [net_of(m).eval() for m in members]

    class Members(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.nets = torch.nn.ModuleList(nets)

        def forward(self, cls, geo, pair, mask):
            return torch.stack([net(cls, geo, pair, mask) for net in self.nets])

    n, c = 3, members[0].num_classes
    example = (torch.zeros(2, n, 2 * c), torch.zeros(2, n, GEO_FEATURES), torch.zeros(2, n, n, PAIR_FEATURES),
               torch.ones(2, n, dtype=torch.bool))
    return module_bytes(Members(), example, ["cls", "geo", "pair", "mask"], ["logits"],
                        {"cls": {0: "b", 1: "n"}, "geo": {0: "b", 1: "n"}, "pair": {0: "b", 1: "n", 2: "n"},
                         "mask": {0: "b", 1: "n"}, "logits": {1: "b", 2: "n"}}, opset)
