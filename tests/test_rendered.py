"""The stroke reader's readings pooled with the image reader's reading of the same ink drawn (``rendered``).

The pooling and the strokes given back to an image reading's symbols are checked on hand-built readings (no model);
the whole path, with the shipped models, on a drawing written with real CROHME handwriting (``test_recognize``).
"""

from __future__ import annotations

import functools

import math

import numpy as np
import pytest

from inkmath.equation import second_look as rendered
from inkmath.equation.reader.decode import Reading, Segmentation
from inkmath.equation.core.tree import Box, Candidate, Symbol, SymbolHyp


def _reading(latex: str, prob: float, segmentation: int = 0, confidence: float = 0.0) -> Reading:
    norm = tuple(latex.split())
    return Reading(latex, norm, list(norm), segmentation, Symbol(norm[0]), 0.0, prob=prob, confidence=confidence)


def _look(readings: list[Reading]) -> rendered.SecondLook:
    hyp = SymbolHyp(Box(0, 0, 1, 1), [Candidate("x", 1.0)], [0])
    return rendered.SecondLook([Segmentation([hyp], 0.0)] * 2, [Segmentation([hyp], 0.0)] * 2, readings, None)


def test_a_reading_both_readers_offer_beats_one_offered_by_strokes_alone():
    strokes = [_reading("a + 1", 0.40, confidence=0.30), _reading("a + l", 0.35), _reading("a t 1", 0.25)]
    image = [_reading("a + l", 0.60, segmentation=1, confidence=0.55), _reading("q + l", 0.40)]
    segs = [Segmentation([], 0.0)]
    out, all_segs = rendered.pooled(strokes, segs, _look(image))
    latex = [r.latex for r in out]
    assert latex[0] == "a + l"  # offered by both
    assert set(latex) == {"a + 1", "a + l", "a t 1", "q + l"}  # each reading once
    assert len(all_segs) == 3 and all_segs[0] is segs[0]
    assert out[0].segmentation == 0  # the stroke reader's own reading keeps its grouping
    assert next(r for r in out if r.latex == "q + l").segmentation == 1  # the image's: after the stroke ones
    assert math.isclose(sum(r.prob for r in out), 1.0)
    assert all(a.prob >= b.prob for a, b in zip(out, out[1:]))
    slope, offset = rendered.CALIBRATION
    assert math.isclose(out[0].confidence, 1 / (1 + math.exp(-(slope * math.log(out[0].prob) + offset))))
    assert all(r.confidence == 0.0 for r in out[1:])
    assert strokes[0].confidence == 0.30 and image[0].segmentation == 1  # the readers' own readings are not changed


def test_a_sure_stroke_reading_is_kept_against_an_unsure_image_reading():
    strokes = [_reading("x ^ { 2 }", 0.9, confidence=0.45), _reading("x 2", 0.1)]
    image = [_reading("x 2", 0.5, confidence=0.3), _reading("x ^ { 2 }", 0.3)]
    out, _ = rendered.pooled(strokes, [Segmentation([], 0.0)], _look(image))
    assert out[0].latex == "x ^ { 2 }"


def test_each_stroke_goes_to_the_image_symbol_drawn_from_it():
    """Pixel boxes come back to ink coordinates with the strokes inside them; a root's box holds the symbol under it
    too, whose stroke goes to that symbol, the smaller box."""
    from inkmath.ink import Transform

    tf = Transform(scale=2.0, dx=10.0, dy=4.0)
    root = [[0, 5], [2, 10], [4, 0], [20, 0]]  # ink units
    x = [[8, 3], [14, 9]]
    far = [[40, 40], [41, 41]]  # inside no box
    symbols = [SymbolHyp(Box(*tf.box_to_pixels((0, 0, 20, 10))), [Candidate("\\sqrt", 0.9)], [7]),
               SymbolHyp(Box(*tf.box_to_pixels((8, 3, 14, 9))), [Candidate("x", 0.8)], [8]),
               SymbolHyp(Box(*tf.box_to_pixels((30, 30, 36, 36))), [Candidate("2", 0.7)], [9])]
    strokes = [np.asarray(s, float) for s in (root, x, far)]
    out = rendered.ink_symbols(symbols, strokes, [3, 4, 6], tf)
    assert [h.strokes for h in out] == [[3], [4], [6]]
    assert out[1].box.as_list() == pytest.approx([8, 3, 14, 9])
    assert [h.token for h in out] == ["\\sqrt", "x", "2"]
    assert symbols[1].strokes == [8]  # the image reader's own symbols are not changed


def test_the_rendering_draws_the_ink_at_the_image_readers_symbol_height():
    from inkmath.equation.core.wap_like import SYMBOL_HEIGHT

    strokes = [np.asarray([[0, 0], [0, 50]], float), np.asarray([[30, 0], [30, 100]], float)]
    img, tf = rendered.render(strokes, symbol_height=75.0)
    assert img.dtype == np.uint8 and set(np.unique(img)) <= {0, 255}
    rows = np.flatnonzero(img.max(1))
    assert abs((rows[-1] - rows[0]) - 100 * SYMBOL_HEIGHT / 75) < 4
    assert tf.scale == pytest.approx(SYMBOL_HEIGHT / 75)


def test_no_second_look_where_the_image_reader_would_not_read_the_drawing(monkeypatch):
    """A rendering larger than ``MAX_PIXELS``, or one the image reader refuses (too many separate marks), leaves the
    strokes' reading alone (None) instead of failing the recognition."""
    from inkmath import InkmathError
    from inkmath.equation.recognize import default_decoder

    calls = []

    def refuses(*a, **k):
        calls.append(1)
        raise InkmathError("The image has 279 separate marks, more than an expression has (250)")

    look = functools.partial(rendered.second_look, predictor=None, image_decoder=lambda: default_decoder("image"),
                             image_groupings=refuses)
    near = [np.asarray([[0, 0], [0, 20]], float), np.asarray([[15, 0], [25, 20]], float)]
    far = [near[0], near[1] + 100_000]
    symbols = [SymbolHyp(Box(0, 0, 1, 20), [Candidate("1", 0.9)], [0])]
    assert look(far, symbols) is None and not calls  # never drawn
    assert look(near, symbols) is None and calls == [1]
    assert look([np.zeros((0, 2))], symbols) is None
