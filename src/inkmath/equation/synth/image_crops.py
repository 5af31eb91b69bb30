"""Symbol crops cut from WAP-like renderings of CROHME ink, as the image reader cuts them: each expression rendered
as ``wap_like.render_labelled`` draws it (seeded per expression), brought to the classifier's working scale as
``image_segmentation.working_image`` brings it, and each truth symbol's pixels (its traceGroup drawn alone with the
same transform) cropped with ``image_parts.render_parts``, then prepared for the classifier (``crohme32``).

The crops teach a classifier how symbols look in bitmaps (the binary ink, the blur, the working scale) rather than
in renderings of strokes: ``crohme-wap:train`` / ``crohme-wap:val`` (``inkmath.equation.synth.crohme_wap``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from inkmath.data.crohme import CropTable, iter_inkml, normalize_label
from inkmath.equation.core import wap_like
from inkmath.equation.core.tree import Box
from inkmath.equation.image.parts import render_parts
from inkmath.equation.image.segmentation import working_image
from inkmath.errors import InkmathError

# the seed of each expression's rendering is SEED + its index in the archive: the same crops every build
SEED = 7


def expression_crops(expr, rng: np.random.Generator, preset: str = "crohme32",
                     style: str = "wap") -> tuple[list[np.ndarray], list[int]]:
    """The raw crops (white ink on black, at the working scale of a classifier prepared with ``preset``) of the
    expression's truth symbols with a CROHME class, and their group indices. ``style``: how the expression is
    drawn ("wap": a WAP-like bitmap, ``wap_like``; "page": as the page reader cuts it out of a photo, ``page_like``)."""
    image, gmasks = _renderer(style)(expr, rng)
    return cut_symbols(expr, image, gmasks, preset)


def cut_symbols(expr, image: np.ndarray, gmasks: list, preset: str = "crohme32") -> tuple[list[np.ndarray], list[int]]:
    """The raw crops of ``expr``'s truth symbols with a CROHME class in ``image`` (white ink on black, as the image
    reader is given it), each cut by its group's pixel mask ([(group index, bool mask of ``image``'s size)]) from
    the image brought to the working scale of a classifier prepared with ``preset``; and their group indices."""
    import cv2

    from inkmath.preprocess import get_preset

    if not gmasks:
        return [], []
    img = working_image(image, get_preset(preset), "white")[0]
    ink = img > 60
    kernel = np.ones((3, 3), np.uint8)
    crops, which = [], []
    for k, g in gmasks:
        if normalize_label(expr.groups[k].label) is None:
            continue
        m = g.astype(np.uint8)
        if m.shape != img.shape:
            m = cv2.resize(m, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
        m = cv2.dilate(m, kernel).astype(bool) & ink  # the working image's ink of this symbol (pen matched)
        if not m.any():
            continue
        ys, xs = np.nonzero(m)
        box = Box(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
        crops.append(render_parts(img, [m], box))
        which.append(k)
    return crops, which


def _renderer(style: str):
    from inkmath.equation.synth import page_like

    renderers = {"wap": wap_like.render_labelled, "page": page_like.render_labelled}
    if style not in renderers:
        from inkmath.errors import InkmathError

        raise InkmathError(f"Unknown crop style {style!r}; choose {' or '.join(sorted(renderers))}")
    return renderers[style]


def build_crops(archive: Path, subset: str, limit: int | None, preset: str = "crohme32",
                style: str = "wap", every: int = 1) -> dict[str, np.ndarray]:
    """Arrays of every expression's crops (as ``data.crohme._build`` stores stroke crops): images (prepared with
    ``preset``), labels, ids (``expr/group``), expr_index, expr_ids, names."""
    table = CropTable(preset)
    n = -1
    for expr in iter_inkml(archive, subset):
        n += 1
        if limit is not None and n >= limit:
            break
        if n % every:  # every ``every``-th expression only: a subset spread over the archive's writers
            continue
        if not any(len(s) for s in expr.strokes):
            continue
        try:
            crops, which = expression_crops(expr, np.random.default_rng(SEED + n), preset, style)
        except InkmathError:  # no ink left at the working scale
            continue
        table.add(expr, crops, which)
    return {**table.arrays(archive, subset), "expr_ids": np.array(table.expr_ids), "names": np.array(table.vocab.names)}
