"""Batched augmentation on tensors: one affine + elastic warp (a single grid_sample) and stroke thickness.

The affine matrices come from kornia; the elastic field is a coarse random displacement upsampled to the image,
added to the affine sampling grid, so both cost one ``grid_sample``. Randomness comes from an explicit generator,
which makes an epoch reproducible step by step (exact resume).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentPreset:
    degrees: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    translate: float = 0.0  # fraction of the image side
    shear: float = 0.0  # degrees
    elastic: float = 0.0  # displacement amplitude, fraction of the half side
    thicken: float = 0.0  # probability of dilating the strokes
    thin: float = 0.0  # probability of eroding them


AUGMENT_PRESETS = {
    "none": None,
    "light": AugmentPreset(degrees=8, scale=(0.9, 1.08), translate=0.06, shear=6, elastic=0.0, thicken=0.1, thin=0.1),
    "strong": AugmentPreset(degrees=12, scale=(0.85, 1.1), translate=0.08, shear=10, elastic=0.04, thicken=0.15, thin=0.15),
}


def _base_grid(h: int, w: int) -> torch.Tensor:
    ys = torch.linspace(-1, 1, h)
    xs = torch.linspace(-1, 1, w)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy, torch.ones_like(gx)], dim=-1).reshape(h * w, 3)  # (HW, 3)


def augment_batch(x: torch.Tensor, preset: AugmentPreset | None, g: torch.Generator) -> torch.Tensor:
    """x: (N, 1, H, W) float in [0, 1], white ink on black -> augmented copy of the same shape."""
    if preset is None:
        return x
    from kornia.geometry.transform import get_affine_matrix2d

    n, _, h, w = x.shape

    def uniform(lo, hi, *shape):
        return lo + (hi - lo) * torch.rand(*shape, generator=g)

    angle = uniform(-preset.degrees, preset.degrees, n)
    s = uniform(preset.scale[0], preset.scale[1], n)
    trans = uniform(-preset.translate, preset.translate, n, 2) * torch.tensor([w, h], dtype=torch.float32)
    shear = torch.deg2rad(uniform(-preset.shear, preset.shear, n, 2))  # kornia wants radians
    center = torch.tensor([(w - 1) / 2, (h - 1) / 2]).expand(n, 2)
    m = get_affine_matrix2d(trans, center, torch.stack([s, s], 1), angle, shear[:, 0], shear[:, 1])  # (N, 3, 3) pixels
    # grid_sample wants, for each output pixel, where to read: the inverse map, in normalised coordinates
    to_norm = torch.tensor([[2 / (w - 1), 0, -1], [0, 2 / (h - 1), -1], [0, 0, 1.0]])
    theta = to_norm @ torch.linalg.inv(m) @ torch.linalg.inv(to_norm)  # (N, 3, 3)
    grid = (_base_grid(h, w) @ theta[:, :2].transpose(1, 2)).reshape(n, h, w, 2)  # (N, H, W, 2)
    if preset.elastic > 0:
        coarse = uniform(-preset.elastic, preset.elastic, n, 2, 4, 4)
        grid = grid + F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True).permute(0, 2, 3, 1)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    if preset.thicken > 0 or preset.thin > 0:
        r = torch.rand(n, generator=g)
        # dilate / erode only the images drawn for it (max-pooling the whole batch would cost more than the rest
        # of the augmentation); the result is the same as pooling all and selecting
        thick, thin = r < preset.thicken, (r > 1 - preset.thin) & ~(r < preset.thicken)
        if thick.any():
            out[thick] = F.max_pool2d(out[thick], 3, 1, 1)
        if thin.any():
            out[thin] = -F.max_pool2d(-out[thin], 3, 1, 1)
    return out
