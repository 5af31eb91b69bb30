"""Check mode on a phone (390 x 844, touch) in a real browser: a worked solution written line under line with a
finger, a mark beside each line, the reason and the correct next step behind a ✗, and a misread line corrected
from its other readings.

The lines are the project's synthetic handwriting (``inkmath.synth.write_lines``), drawn with CDP touch events so
that the page sees ``pointerType == "touch"``. Screenshots: ``INKMATH_SCREENSHOTS=docs/screenshots``.
"""

from __future__ import annotations

import json

import pytest

from webpage import (  # browser: the module's shared fixture
    browser,
    _cdp, fit, needs_chromium, open_phone, running_server, save, wait_idle,
)
from inkmath.synth import write_lines

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_chromium]


@pytest.fixture(scope="module")
def server():
    with running_server() as s:
        yield s


@pytest.fixture
def phone(browser, server):
    if not server["expression"]:
        pytest.skip("the expression weights are not available")
    context, page, errors = open_phone(browser, server, mode="check")
    yield page
    context.close()
    assert errors == [], errors


def write_on_phone(page, lines: list[str]) -> None:
    """The lines in synthetic handwriting, fitted into the check canvas and drawn with one finger."""
    box = page.locator("#check-canvas").bounding_box()
    strokes = fit(write_lines(lines, size=100.0, line_gap=2.2), box["width"], box["height"], margin=30)
    cdp = _cdp(page)
    for st in strokes:
        pts = [{"x": float(box["x"] + x), "y": float(box["y"] + y)} for x, y in st[::2]]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [pts[0]]})
        for p in pts[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [p]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_timeout(600)  # a stroke's last move may read as a fling: a tap during one only stops it

def verdicts(page) -> list[str]:
    return page.eval_on_selector_all("#check-lines li", "els => els.map(e => e.dataset.verdict)")


def test_a_sign_error_in_line_2_gets_a_cross_with_its_reason(phone, tmp_path):
    page = phone
    assert page.get_attribute("#mode-check", "aria-selected") == "true"
    assert page.locator("#check-canvas").is_visible() and not page.locator("#canvas").is_visible()
    write_on_phone(page, ["2x+3=11", "2x=14", "x=7"])
    page.tap("#check-run")
    wait_idle(page)
    assert verdicts(page) == ["given", "wrong", "ok"]
    marks = page.locator("#check-marks .mark")
    assert marks.count() == 3 and marks.nth(1).inner_text() == "✗" and marks.nth(2).inner_text() == "✓"
    cross = marks.nth(1).bounding_box()
    assert cross["width"] >= 44 and cross["height"] >= 44  # a finger's tap target
    marks.nth(1).tap()  # the ✗ beside line 2: closes its detail (open at first), a second tap opens it again
    marks.nth(1).tap()
    detail = page.locator("#check-detail")
    assert detail.is_visible() and "sign" in detail.inner_text() and "Correct next step" in detail.inner_text()
    assert page.locator("#check-detail .check-next code").inner_text().replace(" ", "") == "2x=8"
    save(page, tmp_path, "phone-check-wrong")


def test_choosing_another_reading_of_a_misread_line_turns_its_question_mark_into_a_tick(phone, tmp_path):
    """The reader's misreading is made here: the page's first request (its strokes) is answered as if line 2, written
    2x=8, had been read as 2x=3 with 40 % confidence and 2x=8 as its other reading. The page shows ?, offers 2x=8,
    and the check with that choice (sent to the server as it is) marks the line ✓."""
    page = phone
    misread = {"lines": ["2x+3=11", {"latex": "2x=3", "confidence": 0.4, "alternatives": [["2x=8", 0.35]]},
                         {"latex": "x=4", "confidence": 0.9}]}

    def as_misread(route):
        body = json.loads(route.request.post_data or "{}")
        route.continue_(post_data=json.dumps(misread) if "strokes" in body else route.request.post_data)

    page.route("**/api/check", as_misread)
    write_on_phone(page, ["2x+3=11", "2x=8", "x=4"])
    page.tap("#check-run")
    wait_idle(page)
    assert verdicts(page)[1] == "unsure"
    page.locator("#check-lines .mark").nth(1).tap()
    choice = page.locator("#check-detail .check-readings button", has_text="2x=8")
    assert choice.is_visible()
    save(page, tmp_path, "phone-check-unsure")
    choice.tap()
    wait_idle(page)
    assert verdicts(page) == ["given", "ok", "ok"]
    assert page.locator("#check-lines .mark").nth(1).inner_text() == "✓"
    assert "No wrong step" in page.inner_text("#check-summary")
