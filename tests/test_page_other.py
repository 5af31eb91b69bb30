"""What on a page is not maths (inkmath.equation.page.other): lines of words, question numbers standing alone and
crossed-out ink are kept out of a page's expressions and listed in ``PageReading.other`` with their boxes.

The fixture ``tests/fixtures/page_other.jpg`` is a real-looking photo of a student's answer (``synth.real_photos
.make_crop(exprs[start:start + 80], bank, 8263)`` with the 2011-2013 validation ink for the maths, ``start`` drawn by
``numpy.random.default_rng(8263).integers(0, len(exprs) - 80)``, and the glyph bank of the first 3,000 training
expressions for the words and the number): a line of words ("Solve Prove Let"), a question number before the first
line ("7."), a crossed-out line between the steps; its truth beside it. Its question number is read into its line
("7.0\\leq b<B": the ``page-label`` model does not take it), so only the words and the crossed-out line are pinned."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


FIXTURE = Path(__file__).parent / "fixtures" / "page_other.jpg"


def _covered(inner, outer) -> float:
    ix = max(0.0, min(inner[2], outer[2]) - max(inner[0], outer[0]))
    iy = max(0.0, min(inner[3], outer[3]) - max(inner[1], outer[1]))
    return ix * iy / max(1e-9, (inner[2] - inner[0]) * (inner[3] - inner[1]))


def test_a_group_is_set_apart_only_when_maths_is_unlikely_as_the_likeliest_other_kind():
    from inkmath.equation.page.other import kinds_of

    probs = np.array([[0.6, 0.3, 0.05, 0.05], [0.3, 0.1, 0.5, 0.1], [0.45, 0.05, 0.1, 0.4], [0.1, 0.8, 0.05, 0.05]])
    assert kinds_of(probs, 0.5) == ["maths", "label", "crossed_out", "text"]
    assert kinds_of(probs, 0.2) == ["maths", "maths", "maths", "text"]


def test_a_reading_without_other_ink_lists_none():
    from inkmath.equation.page.read import PageOther, PageReading

    assert PageReading(10, 20, []).to_dict()["other"] == []
    d = PageReading(10, 20, [], other=[PageOther("text", [1.0, 2.0, 3.0, 4.0])]).to_dict("a.jpg")
    assert d["other"] == [{"kind": "text", "box": [1.0, 2.0, 3.0, 4.0]}] and d["file"] == "a.jpg"


@pytest.fixture(scope="module")
def reading(predictor):
    from inkmath.equation.page.read import read_page

    return read_page(FIXTURE, predictor, solve=False)


def test_words_and_a_crossed_out_line_are_not_expressions_but_other(reading):
    truth = json.loads(FIXTURE.with_suffix(".json").read_text())
    assert {o["kind"] for o in truth["other"]} == {"text", "label", "crossed_out"}
    for o in truth["other"]:
        if o["kind"] == "label":
            continue
        # no expression holds it, unless as that expression's question number
        for e in reading.expressions:
            if _covered(o["box"], e.box) >= 0.5:
                assert o["kind"] == "label" and e.label is not None, (o, e.latex)
        # ... and unless it is an expression's question number, ``other`` lists it, as its kind
        if not any(e.label is not None and _covered(o["box"], e.label_box) >= 0.5 for e in reading.expressions):
            assert any(p.kind == o["kind"] and max(_covered(o["box"], p.box), _covered(p.box, o["box"])) >= 0.5
                       for p in reading.other), (o, reading.other)
    # every maths line is still in an expression (two of them read as one here: the grouping joins them)
    for t in truth["truth"]:
        assert any(_covered(t["box"], e.box) >= 0.5 for e in reading.expressions), t["latex"]
    d = reading.to_dict()
    assert d["other"] and all(o["kind"] in ("text", "label", "crossed_out") and len(o["box"]) == 4
                              for o in d["other"])


def test_what_the_kinds_call_not_maths_goes_to_other_with_its_box_in_the_photo(predictor, reading):
    from inkmath.equation.page.read import read_page

    asked = []

    def all_text(read, found, page):
        asked.append(len(read))
        return ["text"] * len(read)

    r = read_page(FIXTURE, predictor, solve=False, kinds=all_text)
    assert r.expressions == [] and asked and len(r.other) >= asked[0]
    assert all(0 <= o.box[0] < o.box[2] <= r.width and 0 <= o.box[1] < o.box[3] <= r.height for o in r.other)
    assert [o.box for o in r.other] == sorted((o.box for o in r.other), key=lambda b: (b[1], b[0]))
