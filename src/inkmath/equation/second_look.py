"""Drawn ink read a second time, from its rendering: the image reader's readings as evidence for the stroke reader's.

The two readers go wrong in different places. The stroke reader groups strokes in writing order and reads each
symbol's pen path; the image reader groups connected pixels and reads their shapes. On the 1,504 validation
expressions, 58 of those rendered and read by the image reader were read right there but wrong from their strokes.

When the stroke reader's first reading is unsure (its confidence below ``GATE``), the ink is drawn like the image
reader's own input (``wap_like``'s pen, the first reading's mean symbol height at ``wap_like.SYMBOL_HEIGHT`` pixels)
and read by the shipped image reader. Each reader's five readings (``decode.alternatives``) are pooled. A reading
is scored

    log(p_strokes + FLOOR) + WEIGHT * log(p_image + FLOOR)

where p is the reading's confidence among that reader's alternatives, and 0 when that reader did not offer it. The
readings are then taken in that order. Their probabilities are the softmax of the scores. The first reading's
confidence is ``CALIBRATION`` (a logistic over the log of its probability, fitted on validation).

An image reading's symbols are given back to the strokes. Each stroke goes to the symbol whose box holds most of
its drawn points (the smallest box when several hold as many), and each box is mapped back to ink coordinates. So a
reading that the image reader found still names the strokes of each of its symbols, as a stroke reading does.

Chosen on validation (the 2011-2013 test ink, the figures in docs/decisions/decoder-and-language-model.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.reader.decode import Decoder, Reading, Segmentation, alternatives
from inkmath.equation.core.tree import Box, SymbolHyp
from inkmath.equation.core.wap_like import draw, PADDING, SYMBOL_HEIGHT

# the image reader reads the ink again only when the stroke reader's first reading has a lower confidence. Of the
# 1,504 validation expressions, `inkmath crohme-eval val` (WEIGHT 0.75, FLOOR 0.03) reads right:
#   gate 0.3: 1,119 (the ink drawn and read again for 13 % of them, 1.33x the stroke reader's CPU)
#   gate 0.5: 1,125 (23 %, 1.58x)
#   gate 0.8: 1,127 (48 %, 2.01x)
#   every expression: 1,127 (2.79x)
#   strokes alone: 1,102
GATE = 0.5
# the image reader's weight in a pooled reading's score, and the floor added to either reader's confidence. On
# validation at gate 0.5, WEIGHT 0.5 / 0.75 / 1.0 read 1,115 / 1,125 / 1,108 (FLOOR 0.03), and FLOOR 0.01-0.1 reads
# 1,122-1,125 (WEIGHT 0.75). Fitted on two of the three years and scored on the third, the three folds gain 13
# expressions together (+5, +3, +5)
WEIGHT = 0.75
FLOOR = 0.03
# the first pooled reading's confidence: sigmoid(SLOPE * log(its probability) + OFFSET), fitted on the 351
# validation expressions that pass the gate (calibration error 0.033; right 126 times, mean confidence 0.358)
CALIBRATION = (1.489, 0.56)
# readings taken from each reader: its alternatives (the decoder keeps 5); on validation 3 read 1,124 and 5 read
# 1,125
ALTERNATIVES = 5
# a stroke goes to the smallest box holding at least this share of the most of its points any box holds: a box
# drawn from pixels may miss a stroke's last point or two, and a root's box holds the symbols under it as well
SHARE_OF_MOST = 0.8
# a drawing whose rendering would be larger is read from its strokes alone: ten times the largest of the 986 WAP
# bitmaps (380,664 pixels, 1,734 wide), so only a drawing that is no single expression (scattered marks far apart
# against their size) is left out
MAX_PIXELS = 4_000_000


@dataclass
class SecondLook:
    """The image reader's reading of a drawing's rendering.

    It holds the groupings the image reader decoded (``pixel_segs``, in pixels) and the same groupings in ink
    coordinates, with strokes (``ink_segs``). It also holds the readings and the decoder that made them."""

    pixel_segs: list[Segmentation]
    ink_segs: list[Segmentation]
    readings: list[Reading]
    decoder: Decoder


def render(strokes: Sequence[np.ndarray], symbol_height: float):
    """(uint8 image, white ink on black, 0/255; ``ink.Transform``): the strokes drawn as the image reader's input is,
    at ``wap_like.SYMBOL_HEIGHT`` pixels for ``symbol_height`` ink units."""
    return draw(list(strokes), SYMBOL_HEIGHT / symbol_height)


def ink_symbols(symbols: list[SymbolHyp], strokes: Sequence[np.ndarray], index: Sequence[int], tf) -> list[SymbolHyp]:
    """The image reader's ``symbols`` (boxes in pixels) in ink coordinates. Each symbol carries the strokes (their
    ``index`` in the drawing) whose drawn points it holds: a stroke goes to the smallest box holding nearly as many
    of its points as the most (``SHARE_OF_MOST``), and a stroke that no box holds goes to the nearest box."""
    if not symbols:
        return []
    boxes = np.asarray([h.box.as_list() for h in symbols], np.float64)
    area = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    owned: dict[int, list[int]] = {}
    for i, s in zip(index, strokes):
        p = tf.to_pixels(s)
        inside = ((p[:, None, 0] >= boxes[None, :, 0] - 1) & (p[:, None, 0] <= boxes[None, :, 2] + 1)
                  & (p[:, None, 1] >= boxes[None, :, 1] - 1) & (p[:, None, 1] <= boxes[None, :, 3] + 1)).sum(0)
        if inside.max() > 0:  # the smallest of the boxes holding nearly as many as the most (a root's box holds
            # the strokes under it too)
            near = np.flatnonzero(inside >= SHARE_OF_MOST * inside.max())
            k = int(near[np.argmin(area[near])])
        else:
            c = p.mean(0)
            k = int(np.argmin(np.hypot((boxes[:, 0] + boxes[:, 2]) / 2 - c[0], (boxes[:, 1] + boxes[:, 3]) / 2 - c[1])))
        owned.setdefault(k, []).append(int(i))
    return [replace(h, box=Box(*tf.box_to_ink(h.box.as_list())), strokes=sorted(owned.get(k, [])))
            for k, h in enumerate(symbols)]


def second_look(strokes: Sequence, first_symbols: list[SymbolHyp], predictor, *,
                image_decoder: Callable[[], Decoder],
                image_groupings: Callable[[np.ndarray, object, Decoder, str], list[Segmentation]]) -> SecondLook | None:
    """The drawing (``strokes``, as given to the stroke reader) drawn and read by the image reader it is handed, at
    the scale of the stroke reader's first reading (``first_symbols``): ``image_decoder()`` gives the image reader's
    decoder, ``image_groupings(img, predictor, decoder, "white")`` its groupings of the drawing. None when there is
    no ink to draw, when its rendering would exceed ``MAX_PIXELS``, or when the image reader cannot read it (too many
    separate marks): the strokes' reading then stands alone."""
    index = [i for i, s in enumerate(strokes) if len(s)]
    drawn = [np.asarray(strokes[i], np.float64)[:, :2] for i in index]
    heights = [h.box.h for h in first_symbols if h.box.h > 0]
    if not drawn or not heights:
        return None
    height = float(np.mean(heights))
    w, h = np.ptp(np.concatenate(drawn), axis=0) * SYMBOL_HEIGHT / height + 2 * PADDING[0]
    if w * h > MAX_PIXELS:
        return None
    img, tf = render(drawn, height)
    decoder = image_decoder()
    try:
        pixel_segs = image_groupings(img, predictor, decoder, "white")
    except InkmathError:
        return None
    readings = decoder(pixel_segs)
    ink_segs = [Segmentation(ink_symbols(s.symbols, drawn, index, tf), s.score) for s in pixel_segs]
    return SecondLook(pixel_segs, ink_segs, readings, decoder)


def pooled(readings: list[Reading], segs: list[Segmentation],
           look: SecondLook) -> tuple[list[Reading], list[Segmentation]]:
    """The stroke reader's ``readings`` of ``segs`` pooled with ``look``'s (the module docstring): the readings,
    best first, and the segmentations they index (``segs``, then ``look.ink_segs``)."""
    def offered(rs: list[Reading], shift: int) -> dict[tuple[str, ...], tuple[Reading, float]]:
        conf = {a["latex"]: a["confidence"] for a in alternatives(rs, ALTERNATIVES)}
        return {r.norm: (replace(r, segmentation=r.segmentation + shift), conf[r.latex])
                for r in rs[:ALTERNATIVES]}

    own, seen = offered(readings, 0), offered(look.readings, len(segs))
    order = list(own) + [n for n in seen if n not in own]
    scores = [math.log((own[n][1] if n in own else 0.0) + FLOOR) + WEIGHT * math.log(
        (seen[n][1] if n in seen else 0.0) + FLOOR) for n in order]
    top = max(scores)
    z = top + math.log(sum(math.exp(s - top) for s in scores))
    out = []
    for n, s in sorted(zip(order, scores), key=lambda x: -x[1]):
        r = own[n][0] if n in own else seen[n][0]
        out.append(replace(r, prob=math.exp(s - z), confidence=0.0))
    slope, offset = CALIBRATION
    out[0].confidence = 1.0 / (1.0 + math.exp(-(slope * math.log(out[0].prob) + offset)))
    return out, list(segs) + look.ink_segs
