"""An image reader's symbols against the truth, pixel by pixel: which truth symbol (a traceGroup drawn alone with
the rendering's transform, ``wap_like.render_labelled``) each symbol of ``segment_image`` is, and the truth
segmentation's own symbols read as the reader reads its parts.

    img, gmasks = wap_like.render_labelled(expr, rng)
    trace = {}
    hyps = segment_image(img, classifier, observe=trace.update)
    stage, owner = seg_stage(hyp_masks(hyps, trace, img.shape), gmasks)   # "right" | "merged" | "split"
    truth = truth_symbols(trace, gmasks, classifier)                       # SymbolHyps, strokes = [group index]

Used by the image benchmarks (``wap_breakdown.py``, ``image_seg_oracle.py``, ``image_grouping_val.py``) and by the
image hypothesis tables that train the image path's symbol-context model (``image_hypotheses``).
"""

from __future__ import annotations

import numpy as np
from inkmath.equation.core.tree import Box, SymbolHyp
from inkmath.equation.image.parts import render_parts
from inkmath.equation.image.segmentation import BOX_TRIM, trimmed_box
from inkmath.equation.reader.symbols import candidates_from

# a symbol matches a truth symbol when at least PURE of its labelled pixels are that symbol's and it holds at least
# COVER of that symbol's pixels (pixels of two symbols that cross count for both)
PURE = 0.8
COVER = 0.8


def hyp_masks(hyps, trace, shape):
    """Each symbol's pixels in the rendering's coordinates (its parts' masks brought back from the working scale)."""
    import cv2

    out = []
    for h in hyps:
        m = np.zeros(trace["comps"][0][1].shape, np.uint8)
        for c in h.strokes:
            m |= trace["comps"][c][1].astype(np.uint8)
        if trace["back"] != 1.0:
            m = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
        out.append(m.astype(bool)[:shape[0], :shape[1]])
    return out


def seg_stage(hmasks, gmasks) -> tuple[str, list[int | None]]:
    """("right" | "merged" | "split", the truth group index of each symbol or None) by the pixel shares above."""
    sizes = [max(int(g.sum()), 1) for _, g in gmasks]
    inter = np.array([[int((hm & g).sum()) for _, g in gmasks] for hm in hmasks]).reshape(len(hmasks), len(gmasks))
    owner: list[int | None] = []
    merged = split = False
    for i in range(len(hmasks)):
        lab = inter[i].sum()
        big = [j for j in range(len(gmasks)) if inter[i, j] >= 0.5 * sizes[j]]
        if len(big) >= 2:
            merged = True
        j = int(inter[i].argmax()) if lab else -1
        ok = lab and inter[i, j] >= PURE * lab and inter[i, j] >= COVER * sizes[j]
        owner.append(gmasks[j][0] if ok else None)
    for j in range(len(gmasks)):
        shared = sum(inter[i, j] >= 0.2 * sizes[j] for i in range(len(hmasks))) >= 2
        if shared or inter[:, j].max(initial=0) < COVER * sizes[j]:
            split = True
    took = [o for o in owner if o is not None]
    if len(took) == len(gmasks) == len(hmasks) and len(set(took)) == len(took):
        return "right", owner
    return ("merged" if merged else "split"), owner


def truth_symbols(trace, gmasks, classifier):
    """SymbolHyps of the truth segmentation in the working image: each group's pixels, classified as
    ``segment_image`` classifies its parts, boxes trimmed and scaled back as it does (``strokes``: [group index])."""
    import cv2

    img, back = trace["img"], trace["back"]
    ink = img > 60
    kernel = np.ones((3, 3), np.uint8)
    masks, boxes = [], []
    for _, g in gmasks:
        m = g.astype(np.uint8)
        if back != 1.0:
            m = cv2.resize(m, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
        m = cv2.dilate(m, kernel).astype(bool) & ink
        if not m.any():
            m = cv2.resize(g.astype(np.uint8), (img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
        ys, xs = np.nonzero(m)
        masks.append(m)
        boxes.append(Box(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)))
    preds = classifier.predict([render_parts(img, [m], b) for m, b in zip(masks, boxes)], ink="white", top=5)
    out = []
    for (k, _), b, p in zip(gmasks, boxes, preds):
        b = trimmed_box(b, BOX_TRIM * trace["pen"] / 2)
        b = Box(b.x0 * back, b.y0 * back, b.x1 * back, b.y1 * back)
        out.append(SymbolHyp(b, candidates_from(p), [k]))
    out.sort(key=lambda h: h.box.x0)
    return out
