"""Training data for the image path's symbol-context model: what the image reader really produces on WAP-like
renderings of CROHME ink (``hypotheses.hypothesis_tables(..., kind="image")`` caches them as it caches the stroke
hypotheses).

Each expression (under ``distort.perturb``'s distortion at ``strength``) is drawn as ``wap_like.render_labelled``
draws it (a random symbol height from the expression's generator), then read as the image reader reads it:

- ``truth``: the truth segmentation's symbols, each traceGroup's pixels read as ``segment_image`` reads a part
  (``image_truth.truth_symbols``);
- ``pipeline``: the reader's own groupings (``segment_image_nbest``, ``GROUPINGS`` of them, each a sequence of its
  own, told apart by the rows' ``grouping``). A symbol that is one truth symbol by pixels (``image_truth.seg_stage``:
  the pixel matching of ``benchmarks/wap_breakdown.py``) gets that symbol's class; any other (two symbols joined, a
  symbol cut or partly dropped) gets ``JUNK``.

Rows hold what the context model reads at run time (``symbols.model_inputs``): the box in image pixels and the
classifier's top-k readings that are classes. A symbol whose best reading is not a class (a name read whole) or
whose truth label is not one gets the label ``IGNORE`` (the reader keeps its own readings for it).
"""

from __future__ import annotations

import dataclasses

import numpy as np

# the groupings read per expression: the reader's own when the image context models' tables were built
# (image_segmentation.IMAGE_SEGMENTATIONS was 3; the reader reads 5 since docs/decisions/image-reader.md)
GROUPINGS = 3
IGNORE = -100  # a row the model reads as context but is not trained to label (train_context's loss ignores it)
CODE_VERSION = "1"  # bump when the rows written change meaning


def expression_rows(expr, predictor, rng: np.random.Generator | None = None, strength: float = 0.0,
                    pipeline: bool = True) -> dict[str, list]:
    """Rows of one expression: {"truth": [...], "pipeline": [...]}, each row (box, topk_idx, topk_prob, label,
    logits (zeros: image symbols have no crop embedding), grouping)."""
    from inkmath.errors import InkmathError
    from inkmath.data.crohme import normalize_label
    from inkmath.equation.synth.distort import perturb
    from inkmath.equation.image.segmentation import segment_image_nbest
    from inkmath.equation.synth.image_truth import hyp_masks, seg_stage, truth_symbols
    from inkmath.equation.reader.symbols import model_inputs
    from inkmath.equation.core.wap_like import render_labelled

    classes = list(predictor.vocab.names)
    index = {n: k for k, n in enumerate(classes)}
    junk = len(classes)
    rng = rng if rng is not None else np.random.default_rng(0)
    if strength > 0:
        expr = dataclasses.replace(expr, strokes=perturb(expr.strokes, expr.groups, rng, strength))
    out: dict[str, list] = {"truth": [], "pipeline": []}
    img, gmasks = render_labelled(expr, rng)
    if not gmasks:
        return out
    label_of = {}
    for k, _ in gmasks:
        name = normalize_label(expr.groups[k].label)
        label_of[k] = index.get(name, IGNORE) if name is not None else IGNORE
    trace: dict = {}
    try:
        found = segment_image_nbest(img, predictor, GROUPINGS if pipeline else 1, observe=trace.update)
    except InkmathError:  # no ink left at the working scale
        return out
    zeros = np.zeros(junk, np.float16)

    def rows(hyps, labels, grouping):
        boxes, idx, prob, known = model_inputs(hyps, classes)
        return [(b.tolist(), i.tolist(), p.tolist(), lab if ok else IGNORE, zeros, grouping)
                for b, i, p, ok, lab in zip(boxes, idx, prob, known, labels)]

    truth = truth_symbols(trace, gmasks, predictor)
    out["truth"] = rows(truth, [label_of[h.strokes[0]] for h in truth], 0)
    if pipeline:
        for g, (hyps, _) in enumerate(found):
            _, owner = seg_stage(hyp_masks(hyps, trace, img.shape), gmasks)
            out["pipeline"] += rows(hyps, [junk if o is None else label_of[o] for o in owner], g)
    return out
