"""The learned ink extractor: a small fully convolutional network that maps a cleaned sheet (its flattened darkness
and colour) to the probability that each pixel is the writer's ink, keeping faint pencil and dropping paper lines,
shadows, printed boxes and a teacher's red marks.

    model = load_ink_extractor()                     # weights/ink-extractor.safetensors (+ its card)
    prob = model.probability(flat, sheet_rgb)        # float32 (H, W) in [0, 1], same pixels as ``flat``

Inputs (``inputs``): darkness (255 - the flattened grey) / 255, and two colour differences of the sheet (red - green,
blue - green) / 255: a blue ruled line and a red mark differ from graphite and ballpoint in colour as much as in
darkness. The network is a three-level U-Net (``CHANNELS`` wide) whose deepest level sees about 90 px, wider than a
symbol at the working size, so that a long ruled line and a fraction bar are told apart by what lies round them.
It is trained on generated real-looking photos whose ink masks are known (``training.recipes.ink_extractor``).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import nn

from inkmath.equation.core.registry import load_model, register

CHANNELS = (8, 16, 24)
IN_CHANNELS = 3
TILE = 1024  # px: a larger sheet is read in tiles of this side (with ``OVERLAP`` px of context each side)
OVERLAP = 48
# a faint page (pencil): the median darkness (0-255) of its sure ink under FAINT_INK; its ink is then grown by
# hysteresis, from the card's threshold down to FAINT_LOW, so a faint stroke's pale stretches join its darker ones
# (the extractor's probability there falls to 0.1-0.5). On a page of darker ink the same growth joins paper lines and
# neighbours to the strokes. Both chosen on real-looking validation crops (docs/decisions/page-clean-up.md).
FAINT_INK = 100.0
FAINT_LOW = 0.1


def inputs(flat: np.ndarray, sheet_rgb: np.ndarray) -> np.ndarray:
    """float32 (3, H, W): darkness and two colour differences, each / 255."""
    dark = (255.0 - flat.astype(np.float32)) / 255.0
    rgb = sheet_rgb.astype(np.float32)
    return np.stack([dark, (rgb[..., 0] - rgb[..., 1]) / 255.0, (rgb[..., 2] - rgb[..., 1]) / 255.0])


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class InkNet(nn.Module):
    """U-Net of three levels: logits (N, 1, H, W) of ink for (N, 3, H, W) inputs, H and W multiples of 4."""

    def __init__(self, channels=CHANNELS):
        super().__init__()
        a, b, c = channels
        self.enc0, self.enc1, self.mid = _block(IN_CHANNELS, a), _block(a, b), _block(b, c)
        self.up1, self.dec1 = nn.ConvTranspose2d(c, b, 2, stride=2), _block(2 * b, b)
        self.up0, self.dec0 = nn.ConvTranspose2d(b, a, 2, stride=2), _block(2 * a, a)
        self.head = nn.Conv2d(a, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e0 = self.enc0(x)
        e1 = self.enc1(nn.functional.max_pool2d(e0, 2))
        m = self.mid(nn.functional.max_pool2d(e1, 2))
        d1 = self.dec1(torch.cat([self.up1(m), e1], 1))
        d0 = self.dec0(torch.cat([self.up0(d1), e0], 1))
        return self.head(d0)


@register("ink-extractor", what="Ink extractor",
          recipe="inkmath.training.recipes.ink_extractor --config configs/ink-extractor.yaml")
class InkExtractor:
    """The trained network with its card; ``threshold``: the probability from which a pixel is ink (the card's,
    chosen on generated validation photos)."""

    def __init__(self, net: InkNet, card: dict, digest: str | None = None):
        self.net = net.eval()
        self.card = card
        self.threshold = float(card.get("threshold", 0.5))
        self.digest = digest  # ``onnx_export.weights_key``: its ONNX graph's key in the cache (None: PyTorch only)
        self._session = None

    @classmethod
    def from_weights(cls, path, card: dict) -> "InkExtractor":
        from safetensors.torch import load_file

        from inkmath.onnx_export import weights_key

        net = InkNet(tuple(card.get("channels", CHANNELS)))
        net.load_state_dict(load_file(str(path)))
        return cls(net, card, weights_key(path, card))

    def _onnx(self):
        """The network on ONNX Runtime (one thread; exported once into the cache), or None where ONNX Runtime or
        ``onnx`` is not installed or the weights have no digest: about 3.4x faster than PyTorch on a 1024 px tile."""
        import importlib.util

        if self._session is None:
            self._session = False
            if self.digest and None not in (importlib.util.find_spec("onnxruntime"), importlib.util.find_spec("onnx")):
                from inkmath.onnx_export import cached_session

                self._session = cached_session("ink-extractor", self.digest[:32], self._export)
        return self._session or None

    def _export(self) -> bytes:
        from inkmath.onnx_export import module_bytes

        axes = {2: "h", 3: "w"}
        return module_bytes(self.net, (torch.zeros(1, IN_CHANNELS, 64, 64),), ["sheet"], ["logits"],
                            {"sheet": axes, "logits": axes})

    def _logits(self, tile: np.ndarray) -> np.ndarray:
        """Logits (H, W) of one (3, H, W) tile, H and W multiples of 4."""
        session = self._onnx()
        if session is not None:
            return session.run(["logits"], {"sheet": np.ascontiguousarray(tile[None], dtype=np.float32)})[0][0, 0]
        return self.net(torch.from_numpy(tile)[None])[0, 0].numpy()

    @torch.no_grad()
    def probability(self, flat: np.ndarray, sheet_rgb: np.ndarray) -> np.ndarray:
        x = inputs(flat, sheet_rgb)
        h, w = flat.shape
        out = np.zeros((h, w), np.float32)
        step = TILE - 2 * OVERLAP
        for y in range(0, h, step):
            for x0 in range(0, w, step):
                ya, xa = max(0, y - OVERLAP), max(0, x0 - OVERLAP)
                yb, xb = min(h, y + step + OVERLAP), min(w, x0 + step + OVERLAP)
                tile = x[:, ya:yb, xa:xb]
                ph, pw = (-tile.shape[1]) % 4, (-tile.shape[2]) % 4
                logits = self._logits(np.pad(tile, ((0, 0), (0, ph), (0, pw)), mode="edge"))
                p = (0.5 + 0.5 * np.tanh(0.5 * logits))[:yb - ya, :xb - xa]  # the sigmoid, without overflow
                out[y:min(h, y + step), x0:min(w, x0 + step)] = p[y - ya:y - ya + min(step, h - y),
                                                                   x0 - xa:x0 - xa + min(step, w - x0)]
        return out

    def mask(self, flat: np.ndarray, sheet_rgb: np.ndarray) -> np.ndarray:
        """uint8 (H, W): 255 where the ink's probability reaches ``threshold``; on a faint page (``FAINT_INK``), and
        where it reaches ``FAINT_LOW`` joined to such pixels."""
        p = self.probability(flat, sheet_rgb)
        sure = p >= self.threshold
        if not sure.any() or float(np.median(255.0 - flat[sure])) >= FAINT_INK:
            return (sure * 255).astype(np.uint8)
        n, lab = cv2.connectedComponents((p >= FAINT_LOW).view(np.uint8), connectivity=8)
        grown = np.zeros(n, bool)
        grown[np.unique(lab[sure])] = True
        grown[0] = False
        return (grown[lab] * 255).astype(np.uint8)


def load_ink_extractor(path: str | None = None) -> InkExtractor:
    return load_model(path, kind="ink-extractor")
