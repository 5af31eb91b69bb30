"""A photo of one expression (``recognize_image`` with ``ink="auto"``): the photo is also read cleaned as a page photo is
(lines removed, light flattened), the more confident reading is kept, and its boxes are in the photo's pixels."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from inkmath.equation.recognize import recognize_image
from inkmath.preprocess import is_photo

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "inkmath" / "examples"


def _photo(name: str, pitch: int = 36, lines: bool = True) -> np.ndarray:
    """The example image ``name`` written in dark blue on ruled paper (lines every ``pitch`` px), lit unevenly, with
    sensor noise, as a JPEG."""
    ink = np.asarray(Image.open(EXAMPLES / f"{name}.png").convert("L")).astype(np.float32) / 255.0
    h, w = ink.shape
    paper = np.full((h + 60, w + 60, 3), (236, 233, 226), np.float32)
    if lines:
        for y in range(30 + h - 8 - 3 * pitch, h + 60, pitch):  # the writing sits on a line
            if y >= 0:
                cv2.line(paper, (0, y), (w + 60, y), (150, 140, 120), 2)
    a = ink[:, :, None]
    paper[30:30 + h, 30:30 + w] = paper[30:30 + h, 30:30 + w] * a + np.array((35, 35, 55), np.float32) * (1 - a)
    light = 0.8 + 0.2 * np.arange(w + 60, dtype=np.float32) / (w + 60)
    img = paper * light[None, :, None] + np.random.default_rng(0).normal(0, 3, paper.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=85)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def test_a_photo_is_told_from_a_rendering_by_its_border():
    clean = np.asarray(Image.open(EXAMPLES / "equation_linear.png").convert("L"))
    assert not is_photo(clean) and not is_photo(255 - clean)  # dark on white, or white ink on black
    assert is_photo(_photo("equation_linear"))
    assert is_photo(_photo("equation_linear", lines=False))  # plain paper: its noise and light


@pytest.mark.parametrize("name, latex", [("equation_linear", "3x+5=11"), ("equation_quadratic", "x^{2}-5x+6=0")])
def test_an_expression_photographed_on_ruled_paper_is_read_from_its_cleaned_ink(name, latex):
    photo = _photo(name)
    rec = recognize_image(photo, solve=False)
    assert rec.latex == latex
    # read as it is (the lines left in), the same photo reads wrong: the cleaned reading is the one kept
    assert recognize_image(photo, solve=False, ink="black").latex != latex
    h, w = photo.shape[:2]
    boxes = [s.box for s in rec.symbols]
    assert all(0 <= b.x0 < b.x1 <= w and 0 <= b.y0 < b.y1 <= h for b in boxes)  # the photo's pixels
    assert min(b.x0 for b in boxes) >= 30 - 4 and max(b.x1 for b in boxes) <= w - 30 + 4  # round the written ink
    assert [b.x0 for b in boxes] == sorted(b.x0 for b in boxes)  # one line, read left to right
    for alt in rec.alternatives:  # the alternatives' symbols were moved into the photo too
        assert all(0 <= s.box.x0 < s.box.x1 <= w for s in alt["symbols"])


def test_a_correction_of_a_photo_reads_it_again_the_way_it_was_read():
    photo = _photo("equation_linear")
    first = recognize_image(photo, solve=False)
    k = next(i for i, t in enumerate(first.tokens) if t == "x")
    again = recognize_image(photo, solve=False, corrections={k: "y"})
    assert again.latex == "3y+5=11"
    assert [s.box for s in again.symbols] == [s.box for s in first.symbols]


FIXTURE = Path(__file__).resolve().parent / "fixtures" / "page_photo.jpg"


def _fixture_crop(k: int, margin: int = 32) -> np.ndarray:
    """The generated page photo's ``k``-th expression (page-sized writing, ruled paper, blue ink), cropped round it."""
    import json

    photo = np.asarray(Image.open(FIXTURE).convert("RGB"))
    x0, y0, x1, y1 = json.loads(FIXTURE.with_suffix(".json").read_text())["truth"][k]["box"]
    return photo[int(y0) - margin:int(y1) + margin, int(x0) - margin:int(x1) + margin]


def test_a_photo_of_page_sized_writing_is_read_from_its_ink_narrowed_as_a_page_line_is():
    from inkmath.equation.photo.views import photo_views
    from inkmath.equation.recognize import _decoded, default_decoder, get_predictor, image_segmentations

    crop = _fixture_crop(4)  # T(g)=0
    assert recognize_image(crop, solve=False).latex == "T(g)=0"
    # the view read first, its ink narrowed, reads it alone (before the pen was thinned from 1.3 times the
    # rasterizer's, image_parts.PEN_THIN_FROM, the photo as it is and its cleaned ink not narrowed both read it wrong)
    decoder = default_decoder("image")
    narrowed = photo_views(crop)[0]
    readings = _decoded(image_segmentations(narrowed.image, get_predictor(), decoder, "white"), decoder)
    assert readings[0].latex == "T(g)=0"


@pytest.mark.parametrize("sure, reads", [(0.0, 1), (1.01, 3)])
def test_a_photo_is_read_again_as_it_is_and_from_its_plain_cleaned_ink_only_when_its_first_reading_is_unsure(
        monkeypatch, sure, reads):
    from inkmath.equation import recognize

    seen = []
    real = recognize.image_segmentations
    monkeypatch.setattr(recognize, "image_segmentations", lambda img, *a: seen.append(img.shape) or real(img, *a))
    monkeypatch.setattr(recognize, "PHOTO_SURE", sure)
    crop = _fixture_crop(4)
    recognize.recognize_image(crop, solve=False)
    assert len(seen) == reads
    if reads == 3:
        assert seen[1] == crop.shape  # the photo as it is, after its narrowed ink


def test_a_photo_whose_cleaned_ink_cannot_be_read_is_read_as_it_is(monkeypatch):
    from inkmath.equation import recognize

    monkeypatch.setattr(recognize, "_photo_views", lambda img: [])
    crop = _fixture_crop(4)
    assert recognize.recognize_image(crop, solve=False).latex == recognize.recognize_image(crop, solve=False,
                                                                                           ink="black").latex


def test_a_photos_confidence_is_mapped_as_a_chosen_readings_keeping_the_readings_order(monkeypatch):
    import dataclasses

    from inkmath.equation.reader import calibrate

    crop = _fixture_crop(4)
    identity = dataclasses.replace(calibrate.calibration(), photo=(0.0, 1.0))  # the image reader's confidence
    monkeypatch.setattr(calibrate, "calibration", lambda name_or_path=None: identity)
    raw = recognize_image(crop, solve=False)
    monkeypatch.undo()
    rec = recognize_image(crop, solve=False)
    assert rec.latex == raw.latex
    assert rec.confidence == pytest.approx(calibrate.photo_confidence(raw.confidence))
    assert [a["confidence"] for a in rec.alternatives] == pytest.approx(
        [calibrate.photo_confidence(a["confidence"]) for a in raw.alternatives])
    # a reading chosen at 0.5 among a photo's readings is right less often than that (validation photos: 26 %)
    assert calibrate.photo_confidence(0.5) < 0.4
    assert calibrate.photo_confidence(0.3) < calibrate.photo_confidence(0.5) < calibrate.photo_confidence(0.9)


def test_a_page_photo_looks_like_a_page_and_a_photo_of_one_expression_does_not():
    from inkmath.equation.photo.find import FoundExpressions, InkGroup, text_lines
    from inkmath.equation.photo.views import PAGE_LINES, looks_like_page
    from inkmath.equation.core.tree import Box

    page = np.asarray(Image.open(FIXTURE).convert("RGB"))  # six expressions, one a line
    assert looks_like_page(page)
    assert not looks_like_page(_fixture_crop(3))            # a fraction and an integral: one line, however tall
    assert not looks_like_page(_photo("equation_quadratic"))
    rendering = np.asarray(Image.open(EXAMPLES / "equation_linear.png").convert("L"))
    assert not looks_like_page(rendering) and not looks_like_page(np.full((300, 400, 3), 230, np.uint8))
    # lines are counted once however many groups lie on them (two columns), and a threshold apart
    row = lambda y, *xs: [InkGroup(Box(x, y, x + 80, y + 30), []) for x in xs]
    found = lambda groups: FoundExpressions(groups, np.zeros((1, 1), np.int32), 30.0)
    assert text_lines(found(row(0, 0, 300) + row(50, 0, 300) + row(100, 0))) == 3
    assert text_lines(found(row(0, 0) + row(20, 200))) == 1                    # overlapping heights: one line
    assert text_lines(found(row(0, 0) + row(50, 0))) < PAGE_LINES                 # an expression and a note
