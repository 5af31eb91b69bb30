"""The drawing page on a phone (390 x 844, touch) in a real browser: layout, touch drawing, corrections that start
inside a box, undo/redo, palm rejection, offline reload through the service worker, keyboard access and axe-core.

Expressions are real CROHME handwriting laid out by ``tests/test_recognize.py``'s Writer and drawn with CDP touch
events, so the page sees ``pointerType == "touch"`` as on a phone. One browser and one server per module.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest

from webpage import (  # browser, hand: the module's shared fixtures
    browser, hand,
    canvas_box, draw_pen, draw_touch, latex, line, needs_chromium, run_axe, running_server, save,
    open_phone, stroke_count, tap, touch_gesture, wait_idle, write,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_chromium]
EQUATION = ["2", "x", "+", "1", "=", "7"]


@pytest.fixture(scope="module")
def server():
    with running_server() as s:
        yield s


@pytest.fixture
def phone(browser, server):
    if not server["expression"]:
        pytest.skip("the expression weights are not available")
    context, page, errors = open_phone(browser, server)
    page.errors = errors
    yield page
    context.close()
    assert errors == [], errors  # no script error, no console error (the favicon is there), nothing fetched elsewhere


def to_expression_mode(page):
    page.tap("#mode-expression")
    wait_idle(page)
    assert page.get_attribute("#mode-expression", "aria-selected") == "true"


SIDEWAYS = {"width": 844, "height": 390}


@contextmanager
def sideways_phone(browser, server, mode="expression"):
    """A phone held sideways (844 x 390) in expression mode (or ``mode``): (page, its console errors, the canvas's
    box); closed after. Expression mode skips when the server has no expression weights."""
    if mode == "expression" and not server["expression"]:
        pytest.skip("the expression weights are not available")
    context, page, errors = open_phone(browser, server, mode=mode if mode != "expression" else None,
                                       viewport=SIDEWAYS)
    try:
        if mode == "expression":
            to_expression_mode(page)
        yield page, errors, canvas_box(page)
    finally:
        context.close()


def draw_equation(page, hand, labels=EQUATION):
    box = canvas_box(page)
    groups = write(hand, labels, box["width"], box["height"], margin=30)
    draw_touch(page, [s for g in groups for s in g])
    wait_idle(page)
    return groups


def answer_on_first_screen(page) -> bool:
    r = page.locator("#answer").bounding_box()
    vh = page.evaluate("innerHeight")
    return page.evaluate("scrollY") == 0 and r is not None and r["y"] >= 0 and r["y"] + r["height"] <= vh


# ------------------------------------------------------------------------------------------------ layout
@pytest.mark.parametrize("width", [320, 390])
def test_phone_layout_fits_and_the_mode_switch_is_reachable(browser, server, width):
    context, page, errors = open_phone(browser, server, viewport={"width": width, "height": 700})
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        for tab in ("#mode-symbol", "#mode-expression", "#mode-page"):
            r = page.locator(tab).bounding_box()
            assert r["width"] >= 40 and r["height"] >= 28 and r["x"] >= 0 and r["x"] + r["width"] <= width, (tab, r)
        canvas = canvas_box(page)
        assert canvas["width"] >= width - 40, canvas  # the canvas fills the width
        for control in ("#undo", "#redo", "#clear", "#weights"):
            r = page.locator(control).bounding_box()
            assert r["x"] >= 0 and r["x"] + r["width"] <= width, (control, r)
    finally:
        context.close()
    assert errors == [], errors


def test_symbol_mode_on_a_phone_held_sideways_shows_the_top_reading_on_the_first_screen(browser, server, tmp_path):
    """Symbol mode on a phone held sideways (844 x 390): the drawing and the top 5 were stacked, and the canvas (at
    least 200 px) pushed the top 5's first row to end 18 px below the screen. Every control of that row (the symbol,
    its LaTeX, its probability, Copy) and of the top bar and the toolbar lies on the first screen, and Copy takes a
    tap there."""
    with sideways_phone(browser, server, mode="symbol") as (page, errors, c):
        draw_touch(page, [line(c["width"] / 2, c["height"] * 0.2, c["width"] / 2, c["height"] * 0.8, 20)])
        wait_idle(page)
        first = page.locator("#predictions li").first
        assert page.locator("#predictions li").count() == 5 and first.get_attribute("data-label")
        assert page.evaluate("scrollY") == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= SIDEWAYS["width"]
        save(page, tmp_path, "phone-sideways-symbol", full_page=False)
        row = [first.locator(part) for part in (".glyph", "code", ".bar", ".pct", "button.copy")]
        top = [page.locator(sel) for sel in ("#mode-symbol", "#mode-expression", "#mode-page", *CONTROLS)]
        for control in [first, *row, *top]:
            r = control.bounding_box()
            assert r is not None and r["x"] >= 0 and r["y"] >= 0, (control, r)
            assert r["x"] + r["width"] <= SIDEWAYS["width"] and r["y"] + r["height"] <= SIDEWAYS["height"], \
                (control, r)
        copy = first.locator("button.copy").bounding_box()
        x, y = copy["x"] + copy["width"] / 2, copy["y"] + copy["height"] / 2
        assert page.evaluate(f"document.elementFromPoint({x}, {y}).closest('#predictions li button.copy') !== null")
        page.tap("#mode-expression")                            # expressions are written across the whole width
        wait_idle(page)
        wide = canvas_box(page)
        assert wide["width"] > c["width"] + 200, (wide, c)
        assert page.evaluate("document.getElementById('canvas').width") == round(wide["width"])  # drawn at its size
        assert errors == [], errors


# ------------------------------------------------------------------------------------------------ drawing
def test_touch_drawn_equation_answer_visible_without_scrolling(phone, hand, tmp_path):
    to_expression_mode(phone)
    draw_equation(phone, hand)
    assert latex(phone) == "2x+1=7"
    assert "x = 3" in phone.inner_text("#answer")
    assert answer_on_first_screen(phone)
    assert phone.locator("#mathml math").count() == 1          # the answer panel renders MathML
    assert phone.locator("#boxes .box").count() == 6
    save(phone, tmp_path, "phone-expression", full_page=False)


def test_a_stroke_starting_inside_a_box_adds_ink(phone, hand, tmp_path):
    """Draw '2x-1=7' (the plus without its bar), then the bar starting inside the '-' box: it becomes '+'."""
    to_expression_mode(phone)
    box = canvas_box(phone)
    groups = write(hand, EQUATION, box["width"], box["height"], margin=30)
    plus = groups[2]
    span = [np.ptp(s[:, 0]) - np.ptp(s[:, 1]) for s in plus]
    bar = plus[int(np.argmin(span))]                           # the more vertical stroke of the '+'
    rest = [s for k, g in enumerate(groups) for s in g if not (k == 2 and s is bar)]
    draw_touch(phone, rest)
    wait_idle(phone)
    assert latex(phone) == "2x-1=7", latex(phone)
    minus = phone.locator("#boxes .box").nth(2)
    assert minus.get_attribute("data-label") == "-"
    r, c = minus.bounding_box(), box
    start = np.array([r["x"] - c["x"] + r["width"] / 2, r["y"] - c["y"] + r["height"] / 2])
    top, bottom = bar[np.argmin(bar[:, 1])], bar[np.argmax(bar[:, 1])]
    stroke = np.vstack([np.linspace(start, [start[0], top[1]], 8), np.linspace([start[0], top[1]], [start[0], bottom[1]], 16)])
    assert r["x"] <= c["x"] + stroke[0][0] <= r["x"] + r["width"] and r["y"] <= c["y"] + stroke[0][1] <= r["y"] + r["height"]
    draw_touch(phone, [stroke])
    wait_idle(phone)
    assert stroke_count(phone) == len(rest) + 1                # the stroke was kept as ink
    assert latex(phone) == "2x+1=7", latex(phone)
    assert "x = 3" in phone.inner_text("#answer")
    save(phone, tmp_path, "phone-minus-to-plus", full_page=False)


def test_a_drawing_made_sideways_stays_on_the_canvas_when_the_phone_is_turned_upright(browser, server, hand, tmp_path):
    """'2x-1=7' drawn across a phone held sideways (844 x 390), then the phone turned upright: the drawing and its
    boxes are shown scaled down on the narrower canvas (they were left off it, and the page scrolled sideways), and a
    stroke started inside the '-' box is still ink added to it."""
    with sideways_phone(browser, server) as (page, errors, wide):
        groups = write(hand, EQUATION, wide["width"], wide["height"], margin=20)
        plus = groups[2]
        bar = plus[int(np.argmin([np.ptp(s[:, 0]) - np.ptp(s[:, 1]) for s in plus]))]
        draw_touch(page, [s for k, g in enumerate(groups) for s in g if not (k == 2 and s is bar)])
        wait_idle(page)
        assert latex(page) == "2x-1=7", latex(page)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        wait_idle(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        c = canvas_box(page)
        assert c["width"] < wide["width"] - 200
        for k in range(page.locator("#boxes .box").count()):
            r = page.locator("#boxes .box").nth(k).bounding_box()
            assert c["x"] - 6 <= r["x"] and r["x"] + r["width"] <= c["x"] + c["width"] + 6, (k, r, c)
        assert latex(page) == "2x-1=7"                              # the same reading: only the view changed
        save(page, tmp_path, "phone-turned-upright", full_page=False)
        minus = page.locator("#boxes .box").nth(2)
        assert minus.get_attribute("data-label") == "-"
        r = minus.bounding_box()
        cx, cy, half = r["x"] - c["x"] + r["width"] / 2, r["y"] - c["y"] + r["height"] / 2, r["width"] / 2
        draw_touch(page, [np.vstack([line(cx, cy, cx, cy - half, 6), line(cx, cy - half, cx, cy + half, 12)])])
        wait_idle(page)
        assert latex(page) == "2x+1=7", latex(page)
        assert errors == [], errors


def test_the_list_of_other_readings_follows_its_symbol_when_the_phone_is_turned_upright(browser, server, hand):
    """The alternatives of the '7' open on a phone held sideways, then the phone turned upright: the list stays on the
    narrower canvas next to the '7' (it kept its sideways place, off the canvas, and the page scrolled sideways)."""
    with sideways_phone(browser, server) as (page, errors, wide):
        draw_touch(page, [s for g in write(hand, EQUATION, wide["width"], wide["height"], margin=20) for s in g])
        wait_idle(page)
        seven = page.locator("#boxes .box").nth(5).bounding_box()
        tap(page, seven["x"] - wide["x"] + seven["width"] / 2, seven["y"] - wide["y"] + seven["height"] / 2)
        assert page.locator("#alternatives").is_visible()
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        c, pop = canvas_box(page), page.locator("#alternatives").bounding_box()
        assert c["x"] <= pop["x"] and pop["x"] + pop["width"] <= c["x"] + c["width"], (pop, c)
        assert page.locator("#boxes .box.selected").get_attribute("data-index") == "5"
        seven = page.locator("#boxes .box").nth(5).bounding_box()
        assert not overlap(pop, seven), (pop, seven)              # the '7' stays in sight
        assert errors == [], errors


def test_an_uploaded_image_stays_on_the_canvas_when_the_phone_is_turned_upright(browser, server, tmp_path):
    """An image read with the Image button on a phone held sideways, then the phone turned upright: the image and its
    boxes are placed again on the narrower canvas (they kept their sideways place, and the page scrolled sideways)."""
    if not server["expression"]:
        pytest.skip("the expression weights are not available")
    from PIL import Image, ImageDraw

    img = Image.new("L", (600, 200), 255)                           # "x+1=0" written with a marker
    pen = ImageDraw.Draw(img)
    for a, b in (((40, 60), (80, 140)), ((80, 60), (40, 140)), ((120, 100), (170, 100)), ((145, 75), (145, 125)),
                 ((220, 60), (240, 140)), ((290, 90), (340, 90)), ((290, 110), (340, 110))):
        pen.line([a, b], fill=0, width=6)
    pen.ellipse([(380, 60), (430, 140)], outline=0, width=6)
    path = tmp_path / "marker.png"
    img.save(path)
    with sideways_phone(browser, server) as (page, errors, _):
        page.set_input_files("#upload", str(path))
        page.wait_for_function("document.querySelectorAll('#boxes .box').length >= 3", timeout=60000)
        wait_idle(page)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        c = canvas_box(page)
        for k in range(page.locator("#boxes .box").count()):
            r = page.locator("#boxes .box").nth(k).bounding_box()
            assert c["x"] - 6 <= r["x"] and r["x"] + r["width"] <= c["x"] + c["width"] + 6, (k, r, c)
        assert errors == [], errors


CONTROLS = ("#undo", "#redo", "#clear", "#pad label.upload", "#history")


def overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_a_symbol_written_at_the_top_of_the_canvas_keeps_its_label_off_the_undo_button(phone, tmp_path):
    """A stroke drawn up to the canvas's top edge under the Undo button: its label sat above its box, over the Undo
    button (and took its taps). Every label stays on the canvas and the Undo button still takes a tap."""
    to_expression_mode(phone)
    c = canvas_box(phone)
    u = phone.locator("#undo").bounding_box()
    ux, uy = u["x"] + u["width"] / 2, u["y"] + u["height"] / 2
    x = ux - c["x"] - 6
    draw_touch(phone, [line(x, 70, x + 2, 1, 20)])             # drawn upwards: it ends at the top edge
    wait_idle(phone)
    assert stroke_count(phone) == 1
    tags = phone.locator("#boxes .tag")
    assert tags.count() >= 1
    save(phone, tmp_path, "phone-label-at-the-top", full_page=False)
    for k in range(tags.count()):
        r = tags.nth(k).bounding_box()
        assert c["x"] <= r["x"] and r["x"] + r["width"] <= c["x"] + c["width"], (k, r, c)
        assert c["y"] <= r["y"] and r["y"] + r["height"] <= c["y"] + c["height"], (k, r, c)
        for control in CONTROLS:
            assert not overlap(r, phone.locator(control).bounding_box()), (k, control)
    assert phone.evaluate(f"document.elementFromPoint({ux}, {uy}).closest('#undo') !== null")
    phone.tap("#undo")
    wait_idle(phone)
    assert stroke_count(phone) == 0


LONG = ["2", "x", "+", "1", "+", "7", "x", "+", "2", "x", "+", "1", "=", "7", "x", "+", "2"]


def long_formula_on_a_small_phone(browser, server, hand):
    """'2x+1+7x+2x+1=7x+2' written across a 320 x 568 phone: (context, page, errors)."""
    if not server["expression"]:
        pytest.skip("the expression weights are not available")
    context, page, errors = open_phone(browser, server, viewport={"width": 320, "height": 568})
    to_expression_mode(page)
    c = canvas_box(page)
    draw_touch(page, [s for g in write(hand, LONG, c["width"], c["height"], margin=8) for s in g])
    wait_idle(page)
    return context, page, errors


def test_the_labels_of_a_long_formula_on_a_small_phone_do_not_cover_each_other(browser, server, hand, tmp_path):
    """'2x+1+7x+2x+1=7x+2' across a 320 px wide phone: its symbols are narrower than their labels, which all sat above
    their boxes and covered each other (12 pairs), so most could not be read or tapped."""
    context, page, errors = long_formula_on_a_small_phone(browser, server, hand)
    try:
        c = canvas_box(page)
        tags = page.locator("#boxes .tag")
        assert tags.count() >= 12
        save(page, tmp_path, "phone-320-long-formula", full_page=False)
        rects = [tags.nth(k).bounding_box() for k in range(tags.count())]
        for i, r in enumerate(rects):
            assert c["x"] <= r["x"] and r["x"] + r["width"] <= c["x"] + c["width"], (i, r, c)
            assert c["y"] <= r["y"] and r["y"] + r["height"] <= c["y"] + c["height"], (i, r, c)
            assert not [j for j in range(i) if overlap(r, rects[j])], (i, r)
        assert errors == [], errors
    finally:
        context.close()


def test_a_tap_inside_a_box_opens_that_symbol_not_the_one_whose_label_is_near(browser, server, hand):
    """A tap at the centre of each box of a long formula on a 320 px phone opens that symbol's readings; the browser's
    touch adjustment moved some of these taps onto a neighbour's label a few px away, which opened the neighbour's."""
    context, page, errors = long_formula_on_a_small_phone(browser, server, hand)
    try:
        c = canvas_box(page)
        boxes = page.locator("#boxes .box")
        strokes = stroke_count(page)
        opened = []
        for k in range(boxes.count()):
            r = boxes.nth(k).bounding_box()
            tap(page, r["x"] - c["x"] + r["width"] / 2, r["y"] - c["y"] + r["height"] / 2)
            opened.append(page.locator("#alternatives .title").inner_text())
            page.keyboard.press("Escape")
        assert opened == [f"Symbol {k + 1}: read as" for k in range(boxes.count())], opened
        assert stroke_count(page) == strokes                   # taps, not dots
        assert errors == [], errors
    finally:
        context.close()


def test_a_touch_at_the_canvas_top_edge_draws_and_does_not_go_to_the_toolbar(phone):
    """A finger put down within a few px of the canvas's top edge was moved by the browser's touch adjustment onto
    the toolbar button above it (6 px away): a stroke started there was lost and a tap was Undo (or History). Both
    draw; the buttons still take their own taps."""
    to_expression_mode(phone)
    c = canvas_box(phone)

    def centre(sel):
        r = phone.locator(sel).bounding_box()
        return r["x"] + r["width"] / 2 - c["x"]

    draw_touch(phone, [line(100, 250, 200, 250)])
    wait_idle(phone)
    assert stroke_count(phone) == 1 and phone.is_enabled("#undo")
    tap(phone, centre("#undo"), 0)                              # a dot at the top edge, under Undo
    wait_idle(phone)
    assert stroke_count(phone) == 2
    tap(phone, centre("#history"), 1)
    wait_idle(phone)
    assert stroke_count(phone) == 3 and phone.locator("#history-pop").is_hidden()
    n = 3
    for y, control in enumerate(("#redo", "#clear", "#pad label.upload", "#undo")):
        x = centre(control) + (10 if control == "#undo" else 0)
        draw_touch(phone, [line(x, y, x + 12, y + 45)])
        wait_idle(phone)
        n += 1
        assert stroke_count(phone) == n, (y, control)
    phone.tap("#undo")
    wait_idle(phone)
    assert stroke_count(phone) == n - 1


def test_a_stroke_drawn_over_an_uploaded_image_starts_a_new_drawing(phone, tmp_path):
    """Strokes drawn over an image read with the Image button were shown but never read (the image alone was sent
    again). A stroke starts a new drawing that replaces the image; Undo brings the image back."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (600, 200), 255)                           # "x+1" written with a marker
    pen = ImageDraw.Draw(img)
    for a, b in (((40, 60), (80, 140)), ((80, 60), (40, 140)), ((120, 100), (170, 100)), ((145, 75), (145, 125)),
                 ((220, 60), (240, 140))):
        pen.line([a, b], fill=0, width=6)
    path = tmp_path / "marker.png"
    img.save(path)
    to_expression_mode(phone)
    phone.set_input_files("#upload", str(path))
    phone.wait_for_function("document.querySelectorAll('#boxes .box').length >= 2", timeout=60000)
    wait_idle(phone)
    assert "An uploaded image is shown" in phone.get_attribute("#canvas", "aria-label")
    c = canvas_box(phone)
    with phone.expect_request("**/api/expression") as req:
        draw_touch(phone, [line(40, c["height"] - 80, 120, c["height"] - 78)])
    assert req.value.headers["content-type"] == "application/json", "the image was sent again, not the stroke"
    assert len(req.value.post_data_json["strokes"]) == 1
    wait_idle(phone)
    assert stroke_count(phone) == 1 and latex(phone) == "-", latex(phone)
    phone.tap("#undo")
    wait_idle(phone)
    assert "An uploaded image is shown" in phone.get_attribute("#canvas", "aria-label")
    assert phone.locator("#boxes .box").count() >= 2


def test_undo_after_a_correction_keeps_it_and_redo_works(phone, hand, tmp_path):
    to_expression_mode(phone)
    draw_equation(phone, hand)
    assert latex(phone) == "2x+1=7"
    strokes = stroke_count(phone)
    # a tap without movement inside the '7' box opens its alternatives (and adds no ink)
    seven = phone.locator("#boxes .box").nth(5).bounding_box()
    c = canvas_box(phone)
    tap(phone, seven["x"] - c["x"] + seven["width"] / 2, seven["y"] - c["y"] + seven["height"] / 2)
    assert phone.locator("#alternatives").is_visible()
    assert stroke_count(phone) == strokes
    alt = phone.locator("#alternatives button.alt:not(.current)").first
    choice = alt.get_attribute("data-label")
    save(phone, tmp_path, "phone-alternatives", full_page=False)
    alt.tap()
    wait_idle(phone)
    corrected = latex(phone)
    assert corrected != "2x+1=7" and corrected.startswith("2x+1="), corrected
    assert phone.locator("#boxes .box").nth(5).get_attribute("data-label") == choice
    # one more stroke, far from the others, then undo: the stroke goes, the correction stays
    draw_touch(phone, [line(20, 20, 60, 22)])
    wait_idle(phone)
    assert stroke_count(phone) == strokes + 1
    phone.tap("#undo")
    wait_idle(phone)
    assert stroke_count(phone) == strokes
    assert latex(phone) == corrected
    assert "corrected" in phone.locator("#boxes .box").nth(5).get_attribute("class")
    # undo again takes the correction back; redo twice brings the correction and the stroke back
    phone.tap("#undo")
    wait_idle(phone)
    assert latex(phone) == "2x+1=7"
    phone.tap("#redo")
    wait_idle(phone)
    assert latex(phone) == corrected
    phone.tap("#redo")
    wait_idle(phone)
    assert stroke_count(phone) == strokes + 1
    assert phone.is_disabled("#redo")
    # clearing (the button, or Esc) is undoable too
    phone.tap("#clear")
    wait_idle(phone)
    assert stroke_count(phone) == 0 and latex(phone) == ""
    phone.tap("#undo")
    wait_idle(phone)
    assert stroke_count(phone) == strokes + 1
    phone.keyboard.press("Escape")
    wait_idle(phone)
    assert stroke_count(phone) == 0
    phone.keyboard.press("Control+z")
    wait_idle(phone)
    assert stroke_count(phone) == strokes + 1


def test_a_tap_that_closes_the_list_of_other_readings_adds_no_dot(phone, hand):
    """A tap on the empty canvas while a symbol's list is open closes the list and nothing else; it also left a dot,
    a new stroke that was read again as part of the formula. A stroke drawn then is ink as always."""
    to_expression_mode(phone)
    draw_equation(phone, hand)
    strokes, read = stroke_count(phone), latex(phone)
    c = canvas_box(phone)
    seven = phone.locator("#boxes .box").nth(5).bounding_box()
    tap(phone, seven["x"] - c["x"] + seven["width"] / 2, seven["y"] - c["y"] + seven["height"] / 2)
    assert phone.locator("#alternatives").is_visible()
    tap(phone, 30, c["height"] - 30)                              # far from every box and from the list
    wait_idle(phone)
    assert phone.locator("#alternatives").is_hidden()
    assert stroke_count(phone) == strokes and latex(phone) == read
    assert phone.is_enabled("#undo") and phone.is_disabled("#redo")
    tap(phone, 30, c["height"] - 30)                              # with no list open, a tap is a dot
    wait_idle(phone)
    assert stroke_count(phone) == strokes + 1


def test_two_fingers_do_not_draw_and_a_pen_rejects_the_palm(phone):
    to_expression_mode(phone)
    # a pinch: two fingers moving apart; then a two-finger scroll
    touch_gesture(phone, [(150, 150), (120, 150), (90, 150)], [(200, 150), (230, 150), (260, 150)])
    touch_gesture(phone, [(150, 100), (150, 140), (150, 180)], [(220, 100), (220, 140), (220, 180)])
    wait_idle(phone)
    assert stroke_count(phone) == 0
    # a pen stroke draws; after it, a touch (the palm resting on the screen) does not
    draw_pen(phone, [line(100, 100, 180, 104)])
    wait_idle(phone)
    assert stroke_count(phone) == 1
    assert phone.is_checked("#pen-only")
    draw_touch(phone, [line(100, 200, 220, 220)])
    wait_idle(phone)
    assert stroke_count(phone) == 1
    phone.uncheck("#pen-only")                                   # the switch gives fingers back
    draw_touch(phone, [line(100, 200, 220, 220)])
    wait_idle(phone)
    assert stroke_count(phone) == 2


# ------------------------------------------------------------------------------------------------ offline, history
def test_page_reloads_offline_and_keeps_the_drawing(phone, hand, tmp_path):
    to_expression_mode(phone)
    draw_equation(phone, hand)
    assert latex(phone) == "2x+1=7"
    strokes = stroke_count(phone)
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.wait_for_function("navigator.serviceWorker.controller !== null || (location.reload(), false)",
                            timeout=15000, polling=500)
    phone.context.set_offline(True)
    try:
        phone.reload()
        phone.wait_for_selector("#canvas")
        assert phone.title().startswith("inkmath")
        assert phone.evaluate("navigator.serviceWorker.controller !== null")
        assert phone.locator("#mode-expression").get_attribute("aria-selected") == "true"
        assert stroke_count(phone) == strokes                      # the drawing came back from localStorage
        wait_idle(phone)
        assert "Cannot reach the server" in phone.inner_text("#status")
        save(phone, tmp_path, "phone-offline", full_page=False)
    finally:
        phone.context.set_offline(False)
    # offline, the reading request fails (and says so on the page); nothing else may
    phone.errors[:] = [e for e in phone.errors if not ("/api/expression" in e or "ERR_INTERNET_DISCONNECTED" in e)]


def test_the_api_schema_opened_in_the_tab_does_not_become_the_offline_page(phone):
    """The service worker kept every page opened in its scope as "/": after /openapi.json was looked at in the same
    tab, the page opened offline was that JSON."""
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.wait_for_function("navigator.serviceWorker.controller !== null || (location.reload(), false)",
                            timeout=15000, polling=500)
    url = phone.url.split("?")[0]
    phone.goto(url + "openapi.json")
    assert '"openapi"' in phone.inner_text("body")
    phone.context.set_offline(True)
    try:
        phone.goto(url + "?mode=expression")
        phone.wait_for_selector("#canvas", timeout=10000)
        assert phone.title().startswith("inkmath")
        wait_idle(phone)
    finally:
        phone.context.set_offline(False)
    phone.errors[:] = [e for e in phone.errors if not ("/api/expression" in e or "ERR_INTERNET_DISCONNECTED" in e)]


def test_history_keeps_earlier_drawings(phone, hand):
    to_expression_mode(phone)
    draw_equation(phone, hand)
    strokes = stroke_count(phone)
    phone.tap("#clear")
    wait_idle(phone)
    draw_touch(phone, [line(60, 60, 120, 62)])
    wait_idle(phone)
    phone.tap("#history")
    entry = phone.locator("#history-list button").first
    assert "2x+1=7" in entry.inner_text().replace(" ", "")
    entry.tap()
    wait_idle(phone)
    assert stroke_count(phone) == strokes and latex(phone) == "2x+1=7"
    phone.tap("#undo")                                           # restoring is undoable too
    wait_idle(phone)
    assert stroke_count(phone) == 1


def test_the_history_closes_when_the_focus_leaves_it(phone):
    """Tab past the last earlier drawing in the History list leaves it: it closes (as Esc and a tap elsewhere close
    it); it stayed open over the drawing while the focus was on a control further on."""
    draw_touch(phone, [line(60, 60, 120, 62)])
    wait_idle(phone)
    phone.tap("#clear")
    draw_touch(phone, [line(60, 120, 120, 122)])
    wait_idle(phone)
    phone.focus("#history")
    phone.keyboard.press("Enter")
    assert phone.locator("#history-pop").is_visible()
    entries = phone.locator("#history-list button")
    assert entries.count() == 1
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.closest('#history-list') !== null")
    assert phone.locator("#history-pop").is_visible()            # moving into the list keeps it open
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.closest('#history-pop, #history') === null")
    assert phone.locator("#history-pop").is_hidden()
    assert phone.get_attribute("#history", "aria-expanded") == "false"
    phone.focus("#history")                                      # Shift+Tab from the button, before the list, too
    phone.keyboard.press("Enter")
    phone.keyboard.press("Shift+Tab")
    assert phone.locator("#history-pop").is_hidden()


# ------------------------------------------------------------------------------------------------ accessibility
def test_keyboard_reaches_the_upload_and_the_symbol_boxes(phone, hand):
    to_expression_mode(phone)
    draw_equation(phone, hand)
    focused = []
    phone.focus("#mode-symbol")
    for _ in range(40):
        phone.keyboard.press("Tab")
        focused.append(phone.evaluate("document.activeElement.id || document.activeElement.className"))
    assert "upload" in focused                                   # the image upload is reached by Tab
    assert "tag" in focused                                      # so are the symbol boxes' labels
    tag = phone.locator("#boxes .tag").nth(1)
    tag.focus()
    phone.keyboard.press("Enter")
    assert phone.locator("#alternatives").is_visible()
    assert phone.evaluate("document.activeElement.classList.contains('alt')")
    phone.keyboard.press("Escape")
    assert phone.locator("#alternatives").is_hidden()
    assert phone.evaluate("document.activeElement.classList.contains('tag')")
    assert stroke_count(phone) > 0                               # Esc closed the list and did not clear
    phone.keyboard.press("Enter")                                # open it again and choose another reading
    phone.keyboard.press("Tab")
    chosen = phone.evaluate("document.activeElement.dataset.label")
    phone.keyboard.press("Enter")
    wait_idle(phone)
    focused = phone.evaluate("[document.activeElement.className, document.activeElement.dataset.index]")
    assert focused == ["tag", "1"], focused                      # the focus is back on that symbol, not lost
    assert phone.locator("#boxes .box").nth(1).get_attribute("data-label") == chosen
    phone.keyboard.press("Control+z")                            # (the correction undone for the checks below)
    wait_idle(phone)
    labels = phone.eval_on_selector_all("#expression-result button:not([hidden])",
                                        "bs => bs.map(b => b.getAttribute('aria-label') || b.textContent.trim())")
    assert "Copy LaTeX" in labels and "Copy MathML" in labels
    assert len(labels) == len(set(labels)), labels               # every button's name is distinct


def test_the_list_of_other_readings_closes_when_the_focus_leaves_it(phone, hand):
    """Tab past the last reading in a symbol's list (opened from the keyboard) leaves the list: it closes, as Esc and a
    tap elsewhere close it; it stayed open over the drawing while the focus was on the formula below."""
    to_expression_mode(phone)
    draw_equation(phone, hand)
    phone.locator("#boxes .tag").nth(1).focus()
    phone.keyboard.press("Enter")
    alts = phone.locator("#alternatives button.alt")
    assert phone.locator("#alternatives").is_visible() and alts.count() >= 2
    for _ in range(alts.count() - 1):
        phone.keyboard.press("Tab")
        assert phone.locator("#alternatives").is_visible()       # moving inside the list keeps it open
    assert phone.evaluate("document.activeElement === [...document.querySelectorAll('#alternatives button.alt')].pop()")
    phone.keyboard.press("Tab")
    assert not phone.evaluate("document.getElementById('alternatives').contains(document.activeElement)")
    assert phone.locator("#alternatives").is_hidden()
    assert phone.locator("#boxes .box.selected").count() == 0
    phone.locator("#boxes .tag").nth(1).focus()                  # Shift+Tab out of it, back to the labels, too
    phone.keyboard.press("Enter")
    phone.keyboard.press("Shift+Tab")
    assert phone.evaluate("document.activeElement.classList.contains('tag')")
    assert phone.locator("#alternatives").is_hidden()


def test_a_focused_label_keeps_the_focus_when_the_phone_is_turned(phone, hand):
    """The labels are drawn again when the canvas changes size (a phone turned): the focus on one (the keyboard's, a
    screen reader's) was lost to the page's body; it stays on that symbol's label."""
    to_expression_mode(phone)
    draw_equation(phone, hand)
    phone.locator("#boxes .tag").nth(2).focus()
    for size in ({"width": 844, "height": 390}, {"width": 390, "height": 844}):
        phone.set_viewport_size(size)
        phone.wait_for_timeout(300)
        focused = phone.evaluate("[document.activeElement.className, document.activeElement.dataset.index]")
        assert focused == ["tag", "2"], (size, focused)
    phone.keyboard.press("Enter")
    assert phone.locator("#alternatives .title").inner_text() == "Symbol 3: read as"


def test_axe_finds_no_serious_violation(phone, hand, browser, server):
    assert run_axe(phone) == []                                  # symbol mode, empty
    to_expression_mode(phone)
    draw_equation(phone, hand)
    assert run_axe(phone) == []                                  # a reading with boxes, MathML and the answer
    phone.locator("#boxes .tag").nth(0).focus()
    phone.keyboard.press("Enter")
    assert run_axe(phone) == []                                  # the list of alternatives open
    phone.keyboard.press("Escape")
    phone.tap("#mode-page")
    assert run_axe(phone) == []
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        desktop = context.new_page()
        desktop.goto(server["url"] + "/?mode=expression")
        desktop.wait_for_function("document.getElementById('weights').options.length > 0")
        assert run_axe(desktop) == []
    finally:
        context.close()
