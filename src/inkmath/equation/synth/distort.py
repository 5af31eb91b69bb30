"""Training ink read through a random distortion, so that the reader's own hypotheses on training ink look like
those on new writers' ink: per symbol a small affine map about its centre, per expression a global one, and smooth
jitter of the points, all scaled by ``strength``."""

from __future__ import annotations

import numpy as np


def perturb(strokes: list[np.ndarray], groups, rng: np.random.Generator, strength: float) -> list[np.ndarray]:
    """The strokes under a random distortion of the given ``strength`` (0: unchanged).

    Per truth symbol: rotation (sd 6 deg x strength), shear (sd 0.12), log-scale of x and y (sd 0.1) about its box
    centre; per expression: rotation (sd 2 deg) and shear (sd 0.04); then each point moves by smooth noise (a random
    walk averaged over 5 points) of sd 0.03 of the typical symbol size.
    """
    out = [np.asarray(s, float)[:, :2].copy() for s in strokes]
    if strength <= 0:
        return out
    nonempty = [s for s in out if len(s)]
    if not nonempty:
        return out
    pts = np.concatenate(nonempty)
    ext = np.ptp(pts, axis=0)
    unit = float(np.median([max(np.ptp(s, axis=0).max(), 1e-9) for s in nonempty])) or float(ext.max()) or 1.0

    def affine(rot_sd: float, shear_sd: float, scale_sd: float) -> np.ndarray:
        a = np.deg2rad(rng.normal(0, rot_sd * strength))
        r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        sh = np.array([[1.0, rng.normal(0, shear_sd * strength)], [0.0, 1.0]])
        sc = np.diag(np.exp(rng.normal(0, scale_sd * strength, 2)))
        return r @ sh @ sc

    owner = {}
    for k, g in enumerate(groups or []):
        for i in g.stroke_ids:
            owner.setdefault(i, k)
    maps = {}
    for k, g in enumerate(groups or []):
        own = [out[i] for i in g.stroke_ids if i < len(out) and len(out[i])]
        if own:
            p = np.concatenate(own)
            maps[k] = ((p.min(0) + p.max(0)) / 2, affine(6.0, 0.12, 0.1))
    for i, s in enumerate(out):
        if not len(s):
            continue
        if owner.get(i) in maps:
            c, m = maps[owner[i]]
            s[:] = (s - c) @ m.T + c
    centre = (pts.min(0) + pts.max(0)) / 2
    g = affine(2.0, 0.04, 0.0)
    for i, s in enumerate(out):
        if not len(s):
            continue
        walk = np.cumsum(rng.normal(0, 1, s.shape), axis=0)
        if len(s) >= 5:
            kern = np.ones(5) / 5
            walk = np.stack([np.convolve(walk[:, d], kern, mode="same") for d in range(2)], axis=1)
        walk -= walk.mean(0)
        sd = walk.std() or 1.0
        out[i] = (s - centre) @ g.T + centre + walk / sd * 0.03 * strength * unit
    return out
