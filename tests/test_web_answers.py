"""The page against the answer backends, in a real browser on a phone (390 x 844, touch): the worked steps and the
graph (POST /api/expression with steps/plot), the editable LaTeX re-solved through POST /api/solve with its 422
message, the decoder's other readings ("did you mean"), and page mode (POST /api/page) on the committed page photo.
Each part skips when the server does not offer its route or field (the page hides that part then too).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from webpage import (  # browser, hand: the module's shared fixtures
    browser, hand,
    PHONE, canvas_box, draw_touch, latex, needs_chromium, run_axe, running_server, save,
    wait_idle, watch_errors, write,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_chromium]
EQUATION = ["2", "x", "+", "1", "=", "7"]
FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture(scope="module")
def server():
    with running_server() as s:
        if not s["expression"]:
            pytest.skip("the expression weights are not available")
        yield s


@pytest.fixture(scope="module")
def api(server):
    import urllib.request

    with urllib.request.urlopen(server["url"] + "/openapi.json") as r:
        return json.load(r)


@pytest.fixture
def phone(browser, server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(server["url"] + "/?mode=expression")
    page.wait_for_function("document.getElementById('weights').options.length > 0")
    wait_idle(page)
    page.errors = errors
    yield page
    context.close()
    assert errors == [], errors


def enter_latex(page, text):
    """Type ``text`` into the LaTeX field and solve it (Enter), waiting for the answer."""
    page.fill("#latex", text)
    page.press("#latex", "Enter")
    wait_idle(page)


def draw_equation(page, hand):
    box = canvas_box(page)
    draw_touch(page, [s for g in write(hand, EQUATION, box["width"], box["height"], margin=30) for s in g])
    wait_idle(page)


def test_steps_graph_and_edited_latex(phone, hand, api, tmp_path):
    props = api["components"]["schemas"]["ExpressionRequest"]["properties"]
    if "steps" not in props or "/api/solve" not in api["paths"]:
        pytest.skip("this server has no steps or no /api/solve")
    draw_equation(phone, hand)
    assert latex(phone) == "2x+1=7" and "x = 3" in phone.inner_text("#answer")
    steps = phone.locator("#steps")
    assert steps.is_visible() and steps.get_attribute("open") is None        # collapsed by default
    assert phone.locator("#step-list li").first.is_hidden()
    phone.tap("#steps summary")
    assert phone.locator("#step-list li").count() >= 2
    assert phone.locator("#step-list li").first.is_visible()
    assert phone.locator("#step-list li").last.get_attribute("data-latex").replace(" ", "") == "x=3"
    plot = phone.locator("#plot-img")
    assert plot.is_visible()
    assert phone.evaluate("document.getElementById('plot-img').naturalWidth") > 0   # the SVG decoded as an image
    assert "2x+1=7" in plot.get_attribute("alt").replace(" ", "")
    phone.set_viewport_size({"width": 844, "height": 390})                      # the phone turned: still there
    phone.set_viewport_size({"width": 390, "height": 844})
    assert phone.locator("#plot-img").is_visible() and phone.locator("#step-list li").first.is_visible()
    assert phone.locator("#boxes .box").count() == 6
    save(phone, tmp_path, "phone-steps-graph")
    assert run_axe(phone) == []
    # edit the recognised LaTeX: it is solved again through POST /api/solve
    phone.fill("#latex", "2x+1=9")
    phone.tap("#solve-latex")
    wait_idle(phone)
    assert "x = 4" in phone.inner_text("#answer")
    assert phone.locator("#mathml math").count() == 1
    # malformed LaTeX: the server's message (naming the position) under the field, the last answer kept
    enter_latex(phone, "2x+1=9}")
    error = phone.inner_text("#latex-error")
    assert "position" in error, error
    assert phone.get_attribute("#latex", "aria-describedby").split()[-1] == "latex-error"
    save(phone, tmp_path, "phone-latex-error", full_page=False)
    phone.errors[:] = [e for e in phone.errors if "status of 422" not in e]  # the browser logs the refused request


def test_the_steps_and_graph_of_a_long_equation_stay_inside_the_phone(phone, api):
    """A long typed equation's first step (the equation itself) and its graph's caption ran past the phone's right edge
    (the page scrolled sideways, 694 px at 390): the step scrolls inside the Steps box, the caption wraps."""
    props = api["components"]["schemas"]["ExpressionRequest"]["properties"]
    if "steps" not in props or "/api/solve" not in api["paths"]:
        pytest.skip("this server has no steps or no /api/solve")
    enter_latex(phone, "x+2x+3x+4x+5x+6x+7x+8x+9x+10x+11x+12x+13x+14x=1050")
    assert "x = 10" in phone.inner_text("#answer")
    phone.tap("#steps summary")
    first = phone.locator("#step-list .step-math").first
    assert first.locator("math").count() == 1 and phone.locator("#plot-img").is_visible()
    width = PHONE["viewport"]["width"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= width
    steps = phone.locator("#steps").bounding_box()
    assert steps["x"] + steps["width"] <= width
    m = first.locator("math").bounding_box()
    assert m["width"] > steps["width"]                                          # wider than the box: it scrolls
    first.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    m = first.locator("math").bounding_box()
    assert steps["x"] <= m["x"] + m["width"] <= steps["x"] + steps["width"]    # its end can be scrolled into view
    caption = phone.locator("#plot-caption").bounding_box()
    assert caption["x"] + caption["width"] <= width


def test_typed_latex_without_drawing(phone, api):
    if "/api/solve" not in api["paths"]:
        pytest.skip("this server has no /api/solve")
    enter_latex(phone, "x^2-5x+6=0")
    answer = phone.inner_text("#answer")
    assert "2" in answer and "3" in answer, answer
    assert phone.locator("#mathml math").count() == 1


def test_the_answers_notes_are_shown_under_it(phone, api):
    """What the answer leaves out or assumes ("the solutions are complex", "a treated as given") is shown with it."""
    if "/api/solve" not in api["paths"]:
        pytest.skip("this server has no /api/solve")
    enter_latex(phone, "x^2=-4")
    notes = phone.locator("#answer .answer-note")
    assert notes.count() == 1 and "complex" in notes.inner_text(), phone.inner_text("#answer")
    assert notes.is_visible()
    enter_latex(phone, "x+1=2")  # an answer without notes shows none
    assert phone.locator("#answer .answer-note").count() == 0, phone.inner_text("#answer")


def test_a_formula_wider_than_the_phone_can_be_scrolled_to_its_start(phone, api):
    if "/api/solve" not in api["paths"]:
        pytest.skip("this server has no /api/solve")
    where = """() => { const f = document.getElementById('mathml'), m = f.querySelector('math');
        f.scrollLeft = 0; const fr = f.getBoundingClientRect(), mr = m.getBoundingClientRect();
        return {left: mr.left - fr.left, right: fr.right - mr.right, wide: mr.width > fr.width}; }"""
    enter_latex(phone, "x+1=2")  # a short formula stays centred
    short = phone.evaluate(where)
    assert not short["wide"] and abs(short["left"] - short["right"]) <= 2, short
    # wider than the screen: its first symbols were left of the box, where no scrolling reaches
    enter_latex(phone, r"R=\frac{R_{1}R_{2}+R_{2}R_{3}+R_{3}R_{1}}{R_{2}}+x^{2}+3x-4")
    wide = phone.evaluate(where)
    assert wide["wide"] and wide["left"] >= -1, wide


def test_other_readings_are_offered_and_shown(phone, hand, api, tmp_path):
    props = api["components"]["schemas"]["ExpressionResponse"]["properties"]
    if "alternatives" not in props:
        pytest.skip("this server gives no alternatives")
    draw_equation(phone, hand)
    assert latex(phone) == "2x+1=7"
    conf = phone.inner_text("#confidence")
    assert conf.endswith("sure"), conf
    readings = phone.locator("#reading-list button")
    if readings.count() < 2:
        pytest.skip("the reader offered a single reading for this drawing")
    assert readings.first.get_attribute("data-latex") == "2x+1=7"
    assert readings.first.get_attribute("aria-pressed") == "true"
    other = readings.nth(1)
    other_latex = other.get_attribute("data-latex")
    other.tap()
    wait_idle(phone)
    assert latex(phone) == other_latex.replace(" ", "")
    assert phone.locator("#reading-list button").nth(1).get_attribute("aria-pressed") == "true"
    save(phone, tmp_path, "phone-did-you-mean", full_page=False)
    assert run_axe(phone) == []
    phone.locator("#reading-list button").first.tap()              # and back to the first reading
    wait_idle(phone)
    assert latex(phone) == "2x+1=7" and "x = 3" in phone.inner_text("#answer")


def box_labels(page) -> list[tuple[str, str, str]]:
    """(data-label, the label's text, the label's element) of each symbol box, in order."""
    return [tuple(row) for row in page.eval_on_selector_all(
        "#boxes .box", "boxes => boxes.map((b) => [b.dataset.label, b.querySelector('.tag').textContent, "
                       "b.querySelector('.tag').tagName])")]


def test_the_boxes_are_labelled_with_the_other_reading_chosen(phone, api, tmp_path):
    """After a tap on another reading ("did you mean"), the boxes over the ink kept the first reading's labels: they
    now label each symbol with that reading's token; a reading that groups the ink into other symbols gets its own
    boxes, labelled but not offered for correction (a correction names a symbol of the first grouping); the first
    reading brings the first labels back. The reading of six strokes is stubbed (the readings' symbols themselves
    are the reader's, tests/test_recognize.py); the readings chosen are solved by the server."""
    if "/api/solve" not in api["paths"]:
        pytest.skip("this server has no /api/solve")
    labels = ["2", "x", "+", "1", "=", "7"]
    xs = [40 + 50 * k for k in range(len(labels))]
    syms = [{"label": t, "latex": t, "box": [x - 15, 100, x + 15, 160], "prob": 0.9, "strokes": [k],
             "alternatives": [{"label": t, "prob": 0.9, "latex": t, "mathml": f"<math><mi>{t}</mi></math>"}]}
            for k, (t, x) in enumerate(zip(labels, xs))]

    def read(symbols, tokens):
        return [{"label": t, "latex": t, "box": s["box"], "strokes": s["strokes"]} for s, t in zip(symbols, tokens)]

    merged = {"label": "z", "latex": "z", "strokes": [0, 1], "box": [xs[0] - 15, 100, xs[1] + 15, 160]}
    reading = {"file": None, "weights": "stub", "latex": "2x+1=7", "mathml": "<math><mn>2</mn></math>",
               "answer": {"kind": "none", "reason": "stubbed"}, "symbols": syms, "confidence": 0.5,
               "alternatives": [
                   {"latex": "2x+1=7", "confidence": 0.5, "same_symbols": True, "symbols": read(syms, labels)},
                   {"latex": "2x+1=1", "confidence": 0.2, "same_symbols": True,
                    "symbols": read(syms, labels[:-1] + ["1"])},
                   {"latex": "z+1=7", "confidence": 0.1, "same_symbols": False,
                    "symbols": [merged] + read(syms[2:], labels[2:])}]}
    phone.route("**/api/expression", lambda route: route.fulfill(json=reading))
    draw_touch(phone, [np.array([[x, 105.0 + 5 * k] for k in range(11)]) for x in xs])
    wait_idle(phone)
    assert latex(phone) == "2x+1=7"
    first = [(t, t, "BUTTON") for t in labels]
    assert box_labels(phone) == first
    two = [phone.locator("#boxes .box").nth(k).bounding_box() for k in (0, 1)]
    choose = lambda text: (phone.locator(f"#reading-list button[data-latex='{text}']").tap(), wait_idle(phone))
    choose("2x+1=1")
    assert latex(phone) == "2x+1=1" and "x = 0" in phone.inner_text("#answer")
    assert box_labels(phone) == first[:-1] + [("1", "1", "BUTTON")]
    assert phone.locator("#boxes .tag").nth(5).get_attribute("aria-label").startswith("Symbol 6 of 6: 1,")
    save(phone, tmp_path, "phone-other-reading-labels", full_page=False)
    choose("z+1=7")
    assert latex(phone) == "z+1=7"
    assert box_labels(phone) == [(t, t, "SPAN") for t in ["z", "+", "1", "=", "7"]]
    merged = phone.locator("#boxes .box").first.bounding_box()    # one box around the ink of the first two
    for r in two:
        assert merged["x"] <= r["x"] + 1 and r["x"] + r["width"] <= merged["x"] + merged["width"] + 1, (r, merged)
    assert phone.locator("#boxes button.tag").count() == 0        # nothing offered for correction
    assert "other symbols" in phone.inner_text("#status")
    assert run_axe(phone) == []
    choose("2x+1=7")
    assert box_labels(phone) == first


def test_a_long_other_reading_wraps_inside_the_phone(phone, hand, api, tmp_path):
    """The other readings of a long formula: each button was as wide as its LaTeX on one line, past the screen's
    right edge (the page scrolled sideways and the reading was cut off); it wraps inside the result panel."""
    if "alternatives" not in api["components"]["schemas"]["ExpressionResponse"]["properties"]:
        pytest.skip("this server gives no alternatives")
    long = ["x+" * 30 + "1=7", r"\frac{\alpha+\beta+\gamma+\delta+\epsilon}{\sqrt{x+y+z+w+u+v+s+t}}=\frac{1}{2}"]

    def longer(route):
        response = route.fetch()
        data = response.json()
        data["alternatives"] = [{"latex": data["latex"], "confidence": 0.5}] + \
            [{"latex": t, "confidence": 0.1} for t in long]
        route.fulfill(response=response, json=data)

    phone.route("**/api/expression", longer)
    draw_equation(phone, hand)
    readings = phone.locator("#reading-list button")
    assert readings.count() == 3 and readings.nth(1).get_attribute("data-latex") == long[0]
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    save(phone, tmp_path, "phone-long-readings")
    panel = phone.locator(".result").bounding_box()
    for k in range(3):
        r = readings.nth(k).bounding_box()
        assert panel["x"] <= r["x"] and r["x"] + r["width"] <= panel["x"] + panel["width"], (k, r, panel)
        assert readings.nth(k).evaluate("b => b.scrollWidth <= b.clientWidth"), k   # nothing cut off inside


def overlaps(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def test_page_photo_gets_a_box_per_expression_and_a_tap_shows_its_reading(phone, api, tmp_path):
    if "/api/page" not in api["paths"]:
        pytest.skip("this server has no /api/page")
    photo = FIXTURES / "page_photo.jpg"
    truth = json.loads((FIXTURES / "page_photo.json").read_text())["truth"]
    phone.tap("#mode-page")
    assert phone.locator("#photo-pad").is_visible() and phone.locator("#pad").is_hidden()
    with phone.expect_response("**/api/page", timeout=120000) as resp:
        phone.set_input_files("#photo-input", str(photo))
    data = resp.value.json()
    wait_idle(phone)
    boxes = phone.locator("#photo-boxes .photo-box")
    assert boxes.count() == len(data["expressions"]) > 0
    # every expression written on the page lies under a box drawn over the photo (DOM box -> photo pixels)
    img = phone.locator("#photo").bounding_box()
    k = data["width"] / img["width"]
    shown = []
    for i in range(boxes.count()):
        r = boxes.nth(i).bounding_box()
        shown.append([(r["x"] - img["x"]) * k, (r["y"] - img["y"]) * k,
                      (r["x"] + r["width"] - img["x"]) * k, (r["y"] + r["height"] - img["y"]) * k])
    for t in truth:
        assert any(overlaps(t["box"], s) for s in shown), (t, shown)
    save(phone, tmp_path, "phone-page-boxes")
    boxes.nth(0).tap()
    assert phone.locator("#page-detail").is_visible()
    assert phone.inner_text("#page-latex") == data["expressions"][0]["latex"]
    assert phone.locator("#page-mathml math").count() == 1
    assert phone.inner_text("#page-answer").strip() != ""
    assert boxes.nth(0).get_attribute("aria-pressed") == "true"
    save(phone, tmp_path, "phone-page-reading")
    assert run_axe(phone) == []


def test_a_question_number_names_its_expression(phone, api):
    """A reading with a question number ("2)") is named by it, on its box and over its reading (the server's answer
    is stubbed: the page reader's labels are tested in test_page_label.py)."""
    if "/api/page" not in api["paths"]:
        pytest.skip("this server has no /api/page")
    answer = {"width": 1000, "height": 1400, "expressions": [
        {"latex": "x+1", "mathml": "<math><mi>x</mi></math>", "box": [300, 200, 600, 300], "answer": {"text": "x+1"},
         "symbols": [], "confidence": 0.9, "alternatives": [], "label": "2)", "label_box": [200, 200, 260, 300]},
        {"latex": "y", "mathml": "<math><mi>y</mi></math>", "box": [300, 400, 600, 500], "answer": {"text": "y"},
         "symbols": [], "confidence": 0.9, "alternatives": [], "label": None}]}
    phone.route("**/api/page", lambda route: route.fulfill(status=200, content_type="application/json",
                                                          body=json.dumps(answer)))
    phone.tap("#mode-page")
    phone.set_input_files("#photo-input", str(FIXTURES / "page_photo.jpg"))
    boxes = phone.locator("#photo-boxes .photo-box")
    boxes.first.wait_for()
    assert boxes.nth(0).get_attribute("aria-label") == "Question 2): expression 1 of 2: x+1"
    assert boxes.nth(1).get_attribute("aria-label") == "Expression 2 of 2: y"
    boxes.nth(0).tap()
    assert phone.inner_text("#page-title") == "Question 2): expression 1 of 2"
    boxes.nth(1).tap()
    assert phone.inner_text("#page-title") == "Expression 2 of 2"


def sideways_page_answered(phone, answer):
    """Page mode on a phone held sideways (844 x 390), the committed page photo taken, and the server's answer stubbed
    with ``answer``: its boxes shown."""
    phone.route("**/api/page", lambda route: route.fulfill(status=200, content_type="application/json",
                                                          body=json.dumps(answer)))
    phone.set_viewport_size({"width": 844, "height": 390})
    phone.tap("#mode-page")
    phone.set_input_files("#photo-input", str(FIXTURES / "page_photo.jpg"))
    phone.locator("#photo-boxes .photo-box").first.wait_for()
    wait_idle(phone)


def test_the_number_of_an_expression_at_the_top_of_the_photo_leaves_the_photo_button_free(phone, api):
    """On a phone held sideways the photo starts right under the Take photo button, and the number over the box of an
    expression at the photo's top edge covered the button's lower part and took its taps (the server's answer is
    stubbed: one expression at the photo's top-left corner)."""
    if "/api/page" not in api["paths"]:
        pytest.skip("this server has no /api/page")
    answer = {"width": 1000, "height": 1400, "expressions": [
        {"latex": "x+1", "mathml": "<math><mi>x</mi></math>", "box": [0, 0, 300, 60], "answer": {"text": "x+1"},
         "symbols": [], "confidence": 0.9, "alternatives": [], "label": None}]}
    sideways_page_answered(phone, answer)
    button = phone.locator("#photo-pad label.upload").bounding_box()
    num = phone.locator("#photo-boxes .num").first.bounding_box()
    assert num["y"] >= button["y"] + button["height"] or num["x"] >= button["x"] + button["width"], (num, button)
    left, right, bottom = button["x"] + 4, button["x"] + button["width"] - 4, button["y"] + button["height"] - 4
    centre = (button["x"] + button["width"] / 2, button["y"] + button["height"] / 2)
    for x, y in ((left, bottom), centre, (right, bottom)):                      # the button takes its own taps
        under = phone.evaluate(f"document.elementFromPoint({x}, {y}).closest('#photo-pad label.upload') !== null")
        assert under, (x, y)


def test_a_tap_on_an_expression_box_brings_its_reading_into_view(phone, api):
    """On a phone held sideways the photo is taller than the screen, and a tap on an expression's box showed its
    reading below the photo, out of sight: nothing seemed to happen. The reading is scrolled into view (the server's
    answer is stubbed: two expressions, at the photo's top and near its bottom)."""
    if "/api/page" not in api["paths"]:
        pytest.skip("this server has no /api/page")
    answer = {"width": 1000, "height": 1400, "expressions": [
        {"latex": "x+1", "mathml": "<math><mi>x</mi></math>", "box": [100, 100, 600, 200],
         "answer": {"kind": "expression", "text": "x+1"}, "symbols": [], "confidence": 0.9, "alternatives": [],
         "label": None},
        {"latex": "y=2", "mathml": "<math><mi>y</mi></math>", "box": [100, 1100, 600, 1200],
         "answer": {"kind": "solution", "text": "y = 2"}, "symbols": [], "confidence": 0.9, "alternatives": [],
         "label": None}]}
    sideways_page_answered(phone, answer)
    for k, text in ((0, "x+1"), (1, "y = 2")):
        phone.locator("#photo-boxes .photo-box").nth(k).tap()
        assert phone.inner_text("#page-answer") == text
        r = phone.locator("#page-answer").bounding_box()
        assert 0 <= r["y"] and r["y"] + r["height"] <= 390, (k, r)


def _page_of_one_expression_with_another_reading(phone, api):
    """Stub POST /api/page: one expression, "2x+1=9" (x = 4), with another whole reading "2x+1=7" (skips the test
    when the server has no /api/page or /api/solve)."""
    if "/api/page" not in api["paths"] or "/api/solve" not in api["paths"]:
        pytest.skip("this server has no /api/page or /api/solve")
    answer = {"width": 1000, "height": 1400, "expressions": [
        {"latex": "2x+1=9", "mathml": "<math><mn>2</mn></math>", "box": [300, 200, 600, 300],
         "answer": {"kind": "solution", "text": "x = 4"}, "symbols": [], "confidence": 0.4,
         "alternatives": [{"latex": "2x+1=9", "confidence": 0.4}, {"latex": "2x+1=7", "confidence": 0.3}],
         "label": None}]}
    phone.route("**/api/page", lambda route: route.fulfill(status=200, content_type="application/json",
                                                          body=json.dumps(answer)))


def test_a_page_expressions_other_readings_are_offered_and_one_chosen_is_solved(phone, api, tmp_path):
    """Page mode offers an expression's other whole readings ("did you mean"); a tap shows that reading, its formula
    and answer solved by POST /api/solve, and names its box; the first reading comes back the same way (the page's
    answer is stubbed: the readings themselves are the reader's, tested elsewhere)."""
    _page_of_one_expression_with_another_reading(phone, api)
    phone.tap("#mode-page")
    phone.set_input_files("#photo-input", str(FIXTURES / "page_photo.jpg"))
    box = phone.locator("#photo-boxes .photo-box").first
    box.wait_for()
    box.tap()
    readings = phone.locator("#page-reading-list button")
    assert phone.is_visible("#page-readings") and readings.count() == 2
    assert readings.nth(0).get_attribute("aria-pressed") == "true"
    readings.nth(1).tap()
    phone.wait_for_function("document.getElementById('page-latex').textContent === '2x+1=7'")
    wait_idle(phone)
    assert "3" in phone.inner_text("#page-answer")                     # x = 3, solved by the server
    assert "<math" in phone.inner_html("#page-mathml")
    assert readings.nth(1).get_attribute("aria-pressed") == "true"
    assert box.get_attribute("aria-label") == "Expression 1 of 1: 2x+1=7"
    assert phone.inner_text("#page-confidence") == "30 % sure of this reading"
    save(phone, tmp_path, "phone-page-other-reading")
    assert run_axe(phone) == []
    readings.nth(0).tap()
    phone.wait_for_function("document.getElementById('page-latex').textContent === '2x+1=9'")
    assert phone.inner_text("#page-answer") == "x = 4"


def test_a_page_expressions_symbols_are_listed_as_the_other_reading_chosen_reads_them(phone, api):
    """Page mode lists an expression's symbols; after a tap on another whole reading the list kept the first
    reading's labels. It now labels them as the reading chosen reads them, offered for correction when it groups the
    ink as the first does, listed as text when it groups it into other symbols (the page's answer is stubbed)."""
    if not {"/api/page", "/api/solve", "/api/page/expression"} <= set(api["paths"]):
        pytest.skip("this server has no /api/page, /api/solve or /api/page/expression")
    labels = ["2", "x", "+", "1", "=", "9"]
    syms = [{"label": t, "latex": t, "box": [300 + 50 * k, 200, 340 + 50 * k, 300], "prob": 0.9, "strokes": [k],
             "alternatives": [{"label": t, "prob": 0.9, "latex": t, "mathml": "<math></math>"},
                              {"label": "7", "prob": 0.05, "latex": "7", "mathml": "<math></math>"}]}
            for k, t in enumerate(labels)]
    read = lambda symbols, tokens: [{"label": t, "latex": t, "box": s["box"], "strokes": s["strokes"]}
                                    for s, t in zip(symbols, tokens)]
    crop = {"png": "iVBORw0KGgo=", "to_photo": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "photo_size": [1000, 1400]}
    answer = {"width": 1000, "height": 1400, "expressions": [
        {"latex": "2x+1=9", "mathml": "<math><mn>2</mn></math>", "box": [300, 200, 600, 300],
         "answer": {"kind": "solution", "text": "x = 4"}, "symbols": syms, "confidence": 0.4, "label": None,
         "crop": crop, "alternatives": [
             {"latex": "2x+1=9", "confidence": 0.4, "same_symbols": True, "symbols": read(syms, labels)},
             {"latex": "2x+1=7", "confidence": 0.3, "same_symbols": True, "symbols": read(syms, labels[:-1] + ["7"])},
             {"latex": "z+1=9", "confidence": 0.1, "same_symbols": False,
              "symbols": [{"label": "z", "latex": "z", "box": [300, 200, 390, 300], "strokes": [0, 1]}]
              + read(syms[2:], labels[2:])}]}]}
    phone.route("**/api/page", lambda route: route.fulfill(json=answer))
    phone.tap("#mode-page")
    phone.set_input_files("#photo-input", str(FIXTURES / "page_photo.jpg"))
    box = phone.locator("#photo-boxes .photo-box").first
    box.wait_for()
    box.tap()
    listed = lambda: phone.eval_on_selector_all("#page-symbol-list > *", "xs => xs.map((x) => [x.tagName, "
                                                                       "x.textContent])")
    assert listed() == [["BUTTON", t] for t in labels]
    readings = phone.locator("#page-reading-list button")
    readings.nth(1).tap()
    phone.wait_for_function("document.getElementById('page-latex').textContent === '2x+1=7'")
    wait_idle(phone)
    assert listed() == [["BUTTON", t] for t in labels[:-1] + ["7"]]
    phone.locator("#page-symbol-list button").nth(5).tap()            # its readings: "7" is the current one
    assert phone.get_attribute("#page-symbol-alt-list button[data-label='7']", "aria-pressed") == "true"
    readings.nth(2).tap()
    phone.wait_for_function("document.getElementById('page-latex').textContent === 'z+1=9'")
    wait_idle(phone)
    assert listed() == [["CODE", t] for t in ["z", "+", "1", "=", "9"]]
    assert phone.is_hidden("#page-symbol-alts") and phone.is_hidden("#page-symbols-hint")
    readings.nth(0).tap()
    phone.wait_for_function("document.getElementById('page-latex').textContent === '2x+1=9'")
    assert listed() == [["BUTTON", t] for t in labels]


def test_a_page_readings_solve_error_is_shown_as_the_server_words_it(phone, api):
    """When POST /api/solve refuses another reading of a page expression, the status line gives the server's own
    message (FastAPI's {"detail": [...]} too), as the drawn expression's and the page's other calls do (both answers
    are stubbed)."""
    _page_of_one_expression_with_another_reading(phone, api)
    phone.route("**/api/solve", lambda route: route.fulfill(
        status=422, content_type="application/json", body=json.dumps({"detail": [{"msg": "latex is too long"}]})))
    phone.tap("#mode-page")
    phone.set_input_files("#photo-input", str(FIXTURES / "page_photo.jpg"))
    box = phone.locator("#photo-boxes .photo-box").first
    box.wait_for()
    box.tap()
    phone.locator("#page-reading-list button").nth(1).tap()
    phone.wait_for_function("document.getElementById('status').textContent === 'latex is too long'")
    assert "error" in phone.get_attribute("#status", "class")
    phone.errors[:] = [e for e in phone.errors if "status of 422" not in e]  # the browser logs the refused request


def test_a_page_expressions_symbol_corrected_reads_it_again_with_that_symbol(phone, api, tmp_path):
    """In page mode an expression's symbols are listed; a tap on one offers its other readings, and choosing one
    reads the expression again from its crop with that symbol fixed (POST /api/page/expression, the real reader):
    the formula, the LaTeX and the box's name follow, and the symbol is marked corrected."""
    if "/api/page/expression" not in api["paths"]:
        pytest.skip("this server has no /api/page/expression")
    phone.tap("#mode-page")
    with phone.expect_response("**/api/page", timeout=120000) as resp:
        phone.set_input_files("#photo-input", str(FIXTURES / "page_photo.jpg"))
    data = resp.value.json()
    wait_idle(phone)
    first = data["expressions"][0]
    assert first["crop"]["png"] and len(first["symbols"]) > 1
    box = phone.locator("#photo-boxes .photo-box").first
    box.tap()
    symbols = phone.locator("#page-symbol-list button")
    assert phone.is_visible("#page-symbols") and symbols.count() == len(first["symbols"])
    k = len(first["symbols"]) - 1                                     # the last symbol: another reading of it
    sym = first["symbols"][k]
    other = next(a["label"] for a in sym["alternatives"] if a["label"] != sym["label"])
    symbols.nth(k).tap()
    assert phone.is_visible("#page-symbol-alts") and phone.is_visible("#photo-boxes .photo-symbol")
    alts = phone.locator("#page-symbol-alt-list button")
    assert alts.count() == len(sym["alternatives"])
    with phone.expect_response("**/api/page/expression", timeout=60000) as again:
        phone.locator(f"#page-symbol-alt-list button[data-label='{other}']").tap()
    fixed = again.value.json()
    assert again.value.status == 200 and fixed["symbols"][k]["label"] == other
    wait_idle(phone)
    assert phone.inner_text("#page-latex") == fixed["latex"] != first["latex"]
    assert "corrected" in (symbols.nth(k).get_attribute("class") or "")
    assert symbols.nth(k).inner_text() == other
    assert box.get_attribute("aria-label") == f"Expression 1 of {len(data['expressions'])}: {fixed['latex']}"
    save(phone, tmp_path, "phone-page-symbol-corrected")
    assert run_axe(phone) == []


def test_a_24_megapixel_rotated_page_photo_is_downscaled_upright_before_upload(phone, api, tmp_path):
    """A phone's photo (24 MP, stored sideways with EXIF orientation 6, larger than the API's 8 MB body limit) is
    sent as a JPEG of at most UPLOAD_SIDE px, drawn upright; the boxes fit the photo shown."""
    if "/api/page" not in api["paths"]:
        pytest.skip("this server has no /api/page")
    import io

    import numpy as np
    from PIL import Image

    from inkmath.web.schemas import MAX_BODY_BYTES

    upright = Image.open(FIXTURES / "page_photo.jpg").convert("RGB")
    big = upright.resize((4242, 5656), Image.BICUBIC)                # 24 megapixels, portrait as shown
    pixels = np.asarray(big).astype(np.int16) + np.random.default_rng(0).integers(-10, 11, (5656, 4242, 3))
    stored = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6                                                  # shown turned 90 degrees clockwise: upright
    path = tmp_path / "phone.jpg"
    stored.save(path, "JPEG", quality=95, exif=exif.tobytes())
    assert path.stat().st_size > MAX_BODY_BYTES and stored.size == (5656, 4242)
    truth = json.loads((FIXTURES / "page_photo.json").read_text())["truth"]
    phone.tap("#mode-page")
    with phone.expect_request("**/api/page", timeout=120000) as req, \
            phone.expect_response("**/api/page", timeout=120000) as resp:
        phone.set_input_files("#photo-input", str(path))
    sent = int(req.value.header_value("content-length") or 0)
    assert 0 < sent < 3 * 1024 * 1024                                # a downscaled JPEG, not the camera's file
    data = resp.value.json()
    wait_idle(phone)
    assert max(data["width"], data["height"]) == 2400 and data["height"] > data["width"]  # upright, UPLOAD_SIDE
    assert abs(data["width"] / data["height"] - 4242 / 5656) < 0.01
    natural = phone.evaluate("[document.getElementById('photo').naturalWidth, "
                             "document.getElementById('photo').naturalHeight]")
    assert natural == [data["width"], data["height"]]               # what is shown is what the server read
    boxes = phone.locator("#photo-boxes .photo-box")
    assert boxes.count() == len(data["expressions"]) == len(truth)
    img = phone.locator("#photo").bounding_box()
    k, f = data["width"] / img["width"], data["width"] / 1512      # DOM -> uploaded pixels; fixture -> uploaded
    shown = []
    for i in range(boxes.count()):
        r = boxes.nth(i).bounding_box()
        shown.append([(r["x"] - img["x"]) * k, (r["y"] - img["y"]) * k,
                      (r["x"] + r["width"] - img["x"]) * k, (r["y"] + r["height"] - img["y"]) * k])
    for t, s in zip(truth, shown):                                   # in reading order, each over its expression
        assert overlaps([v * f for v in t["box"]], s), (t, s)
    save(phone, tmp_path, "phone-page-24mp")
