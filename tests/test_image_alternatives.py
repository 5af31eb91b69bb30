"""Image groupings as alternatives for the decoder: a hand-built image and a stub classifier, no trained model."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inkmath.equation.image import alternatives as image_alternatives
from inkmath.equation.image import segmentation as image_segmentation
from inkmath.equation.reader.decode import DecoderWeights, Segmentation, decode
from inkmath.predict import Prediction
from test_decode import TableLM, row_structure  # the decoder tests' stand-in models


class StemStub:
    """Reads a crop by its stems (columns inked over most of its height): one stem '1' (0.55), two or more 'x'
    (0.6), none '-' (0.3): a joined pair of ones reads as an 'x' a little better than each half reads as a '1'."""

    def predict(self, images, ink="auto", top=5):
        out = []
        for im in images:
            m = np.asarray(im) > 60
            rows = np.nonzero(m.any(axis=1))[0]
            tall = m.sum(axis=0) > 0.6 * (np.ptp(rows) + 1)
            stems = int(np.sum(tall[1:] & ~tall[:-1]) + tall[0])
            t, p = ("-", 0.3) if stems == 0 else ("1", 0.55) if stems == 1 else ("x", 0.6)
            rest = [c for c in ("1", "x", "-", "7", "l") if c != t][:top - 1]
            out.append([Prediction(t, t, p)] + [Prediction(c, c, 0.02) for c in rest])
        return out


def _draw(img, pts, t=4):
    cv2.polylines(img, [np.round(np.asarray(pts)).astype(np.int32).reshape(-1, 1, 2)], False, 255, t)


def ones_touching() -> np.ndarray:
    """'1', then two ones joined by a thin bridge (one component), then '1'."""
    img = np.zeros((100, 330), np.uint8)
    _draw(img, [(30, 20), (30, 80)])
    _draw(img, [(120, 20), (120, 80)])
    _draw(img, [(170, 20), (170, 80)])
    _draw(img, [(120, 50), (170, 50)], t=3)  # the bridge: the two ones touch
    _draw(img, [(260, 20), (260, 80)])
    return img




def test_first_grouping_is_segment_images_and_the_cut_not_made_is_offered():
    img = ones_touching()
    one = image_segmentation.segment_image(img, StemStub(), ink="white")
    assert [h.token for h in one] == ["1", "x", "1"]  # the rules keep the joined pair whole (it reads better so)
    found = image_segmentation.segment_image_nbest(img, StemStub(), 3, ink="white")
    assert [h.token for h in found[0][0]] == ["1", "x", "1"] and found[0][1] == 0.0
    assert [[h.token for h in hyps] for hyps, _ in found[1:]] == [["1", "1", "1", "1"]]
    assert found[1][1] < 0  # an alternative pays for the call it takes the other way
    assert image_segmentation.segment_image_nbest(img, StemStub(), 1, ink="white") == found[:1]


def test_touching_ones_read_apart_only_when_the_alternative_is_offered():
    img = ones_touching()
    lm = TableLM({"1 1 1 1": -1.0})
    w = DecoderWeights(lm=1.0, segment=1.0, beam=6)
    alone = [Segmentation(h, s) for h, s in image_segmentation.segment_image_nbest(img, StemStub(), 1, ink="white")]
    both = [Segmentation(h, s) for h, s in image_segmentation.segment_image_nbest(img, StemStub(), 3, ink="white")]
    assert decode(alone, structure=row_structure, lm=lm, weights=w)[0].latex == "1x1"
    assert decode(both, structure=row_structure, lm=lm, weights=w)[0].latex == "1111"
    # the flip's price decides against weak evidence: a segment weight of 100 keeps the rules' grouping
    strict = DecoderWeights(lm=1.0, segment=100.0, beam=6)
    assert decode(both, structure=row_structure, lm=lm, weights=strict)[0].latex == "1x1"


def test_a_merge_made_is_offered_undone():
    from inkmath.equation.core.tree import Box

    groups, gbox, gpred = [[0, 1], [2]], [Box(0, 0, 10, 10), Box(20, 0, 30, 10)], [["="], ["1"]]
    made = {frozenset([0, 1]): (([0], Box(0, 0, 10, 3), ["-"]), ([1], Box(0, 7, 10, 10), ["-"]), 0.2)}
    alts = image_alternatives.alternatives(groups, gbox, gpred, [], made, [], [])
    assert len(alts) == 1 and alts[0][0] == 0.2
    g, b, p = alts[0][1]
    assert sorted(map(tuple, g)) == [(0,), (1,), (2,)] and sorted(x[0] for x in p) == ["-", "-", "1"]
    assert groups == [[0, 1], [2]]  # the rules' grouping is not changed


def test_the_image_reader_hands_the_decoder_its_groupings():
    from inkmath.equation.reader.decode import Decoder
    from inkmath.equation.recognize import recognize_image

    lm = TableLM({"1 1 1 1": -1.0})
    w = DecoderWeights(lm=1.0, segment=1.0, beam=6, alt_beam=1)
    img = ones_touching()
    three = Decoder(structure=row_structure, lm=lm, weights=w, segmentations=3)
    one = Decoder(structure=row_structure, lm=lm, weights=w, segmentations=1)
    assert recognize_image(img, StemStub(), solve=False, ink="white", decoder=three).latex == "1111"
    assert recognize_image(img, StemStub(), solve=False, ink="white", decoder=one).latex == "1x1"


def test_offline_pricing_of_image_groupings_ranks_as_the_decoder_does():
    """decoder_val.py --flip-grid prices a dump's image groupings again (flip cost, margin weight, how many, the
    beam after the first): at the shipped prices it must rank as the live decoder does."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from decoder_val import rank

    trace_out: dict = {}
    found = image_segmentation.segment_image_nbest(ones_touching(), StemStub(), 3, ink="white",
                                                   observe=trace_out.update)
    lm = TableLM({"1 1 1 1": -4.0, "1 x 1": -6.0})
    for alt_beam in (1, 2):
        w = DecoderWeights(lm=0.5, segment=1.0, beam=4, alt_beam=alt_beam, temperature=0.7, length=0.2)
        trace: list = []
        live = decode([Segmentation(h, s) for h, s in found], structure=row_structure, lm=lm, weights=w,
                      observe=trace.append)
        row = {"readings": trace, "segs": [{"margin": m} for m in trace_out["margins"]]}
        sim = rank([row], {"symbol": w.symbol, "lm": w.lm, "segment": 1.0, "structure": w.structure,
                           "temperature": w.temperature, "length": w.length, "beam": w.beam, "alt_beam": alt_beam,
                           "flip": image_alternatives.FLIP_COST, "margin": image_alternatives.MARGIN_WEIGHT})[0]
        assert [list(r.norm) for r in live] == [list(k) for k, _, _ in sim][:len(live)]
        assert [round(r.prob, 9) for r in live] == [round(p, 9) for _, p, _ in sim][:len(live)]
