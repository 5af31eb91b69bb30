"""Page mode on a phone (390 x 844, touch) in a real browser: every expression's box takes taps over at least 24 x 24
CSS px and a tap goes to the box it is nearest, the boxes' numbers cover no other box (or are listed under the photo),
the heading follows a second photo, and a page photo read in expression mode is offered to be read as a page.

The page's answers are stubbed where the boxes are the point (small boxes crowded together, as a page of small
writing gives them); the offer of page mode is the server's own answer to the committed page photo.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webpage import (  # browser: the module's shared fixture
    browser,
    needs_chromium, open_phone, run_axe, running_server, save, wait_idle,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_chromium]
PHOTO = Path(__file__).with_name("fixtures") / "page_photo.jpg"  # 1512 x 2016
MIN_TAP = 24


@pytest.fixture(scope="module")
def server():
    with running_server() as s:
        if not s["expression"]:
            pytest.skip("the expression weights are not available")
        yield s


@pytest.fixture
def phone(browser, server):
    context, page, errors = open_phone(browser, server, mode="page")
    yield page
    context.close()
    assert errors == [], errors


def expression(latex: str, box: list[float]) -> dict:
    return {"latex": latex, "mathml": "<math><mi>x</mi></math>", "box": box, "answer": {"kind": "none"},
            "symbols": [], "confidence": 0.9, "alternatives": [], "label": None}


# one line of ordinary size, then a 3 x 3 block of small expressions (about 10 x 7 CSS px on the phone, 2-4 px apart:
# the size a page of small writing gave them)
CROWDED = {"width": 1512, "height": 2016, "expressions": [expression("AB^2", [369, 365, 751, 466])] + [
    expression(f"x_{{{r}{c}}}", [380 + 50 * c, 520 + 45 * r, 422 + 50 * c, 550 + 45 * r])
    for r in range(3) for c in range(3)]}
FIVE = {"width": 1512, "height": 2016, "expressions": [expression(f"y={k}", [370, 360 + 150 * k, 700, 460 + 150 * k])
                                                        for k in range(5)]}


def answer_page_with(page, answer: dict) -> None:
    page.unroute("**/api/page")
    page.route("**/api/page", lambda route: route.fulfill(status=200, content_type="application/json",
                                                          body=json.dumps(answer)))


def take_photo(page, n: int) -> None:
    page.set_input_files("#photo-input", str(PHOTO))
    page.wait_for_function(f"document.querySelectorAll('#photo-boxes .photo-box').length === {n}")
    wait_idle(page)
    page.wait_for_function("document.getElementById('photo').complete")
    page.wait_for_timeout(100)  # the numbers are placed once the photo has its size (a ResizeObserver)


def tap_targets(page) -> list[dict]:
    """Each box's true box and tap area (its border box grown by .photo-box::before), in client px."""
    return page.eval_on_selector_all("#photo-boxes .photo-box", """bs => bs.map((b) => {
        const r = b.getBoundingClientRect(), s = getComputedStyle(b, "::before"), px = (v) => parseFloat(v);
        const [x0, y0] = [r.left + b.clientLeft + px(s.left), r.top + b.clientTop + px(s.top)];
        const [x1, y1] = [r.right - b.clientLeft - px(s.right), r.bottom - b.clientTop - px(s.bottom)];
        return {box: [r.left, r.top, r.right, r.bottom], tap: [Math.min(x0, r.left), Math.min(y0, r.top),
                                                            Math.max(x1, r.right), Math.max(y1, r.bottom)]};
    })""")


def number_boxes(page) -> list:
    """Each box's number on the photo, in client px, or None where it is listed under the photo instead."""
    return page.eval_on_selector_all("#photo-boxes .photo-box", """bs => bs.map((b) => {
        const m = b.querySelector(".num");
        if (m.hidden) return null;
        const r = m.getBoundingClientRect();
        return [r.left, r.top, r.right, r.bottom];
    })""")


def overlap(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def title(page) -> str:
    return page.inner_text("#page-title")


def test_small_crowded_boxes_take_their_own_taps_and_their_numbers_cover_no_other_box(phone, tmp_path):
    answer_page_with(phone, CROWDED)
    take_photo(phone, len(CROWDED["expressions"]))
    n = len(CROWDED["expressions"])
    targets = tap_targets(phone)
    small = targets[1]["box"]
    assert small[2] - small[0] < 14 and small[3] - small[1] < 10, small  # the boxes are as small as on the phone
    for k, t in enumerate(targets):  # every tap area at least MIN_TAP px square, centred on its box
        x0, y0, x1, y1 = t["tap"]
        assert x1 - x0 >= MIN_TAP - 0.5 and y1 - y0 >= MIN_TAP - 0.5, (k, t)
        assert abs((x0 + x1) - (t["box"][0] + t["box"][2])) < 1 and abs((y0 + y1) - (t["box"][1] + t["box"][3])) < 1
    # the numbers: each next to its box on the photo, over no other box and no other number; or listed under it
    nums = number_boxes(phone)
    badges = [int(i) for i in phone.eval_on_selector_all("#photo-badges .photo-badge", "bs => bs.map(b => b.dataset.index)")]
    photo = phone.locator("#photo").bounding_box()
    for k, num in enumerate(nums):
        if num is None:
            assert k in badges, k
            continue
        assert k not in badges
        assert photo["x"] - 0.5 <= num[0] and num[2] <= photo["x"] + photo["width"] + 0.5, (k, num)
        for j, t in enumerate(targets):
            assert j == k or not overlap(num, t["box"]), (k, j, num, t["box"])
        for j, other in enumerate(nums):
            assert j == k or other is None or not overlap(num, other), (k, j)
    assert sum(num is not None for num in nums) >= n // 2 and badges, (nums, badges)  # the rest are listed
    save(phone, tmp_path, "phone-page-small-boxes", full_page=False)
    # a tap at a box's centre opens that box, though its neighbours' tap areas reach over it
    for k, t in enumerate(targets):
        x0, y0, x1, y1 = t["box"]
        phone.touchscreen.tap((x0 + x1) / 2, (y0 + y1) / 2)
        assert title(phone) == f"Expression {k + 1} of {n}", (k, title(phone))
    # ... and a tap in the tap area above a small box, off its ink, opens it too (the nearest box)
    x0, y0, x1, y1 = targets[2]["box"]
    phone.touchscreen.tap((x0 + x1) / 2, (y0 + y1) / 2 - 10)
    assert title(phone) == f"Expression 3 of {n}"
    phone.locator(f"#photo-badges .photo-badge[data-index='{badges[0]}']").tap()  # a listed number opens its box
    assert title(phone) == f"Expression {badges[0] + 1} of {n}"
    assert run_axe(phone) == []
    # a second photo: the heading names the new reading, not the expression opened on the first
    answer_page_with(phone, FIVE)
    take_photo(phone, 5)
    assert title(phone) == "Page: 5 expressions"
    assert phone.locator("#page-detail").is_hidden() and phone.locator("#photo-badges").is_hidden()
    assert phone.inner_text("#page-summary").startswith("5 expressions found")
    phone.locator("#photo-boxes .photo-box").nth(1).tap()
    assert title(phone) == "Expression 2 of 5"


def test_a_page_photo_read_in_expression_mode_is_offered_as_a_page(phone, tmp_path):
    phone.tap("#mode-expression")
    wait_idle(phone)
    with phone.expect_response("**/api/expression", timeout=60000) as resp:
        phone.set_input_files("#upload", str(PHOTO))
    assert resp.value.json()["page_like"] is True   # the server's own answer: the reading unsure, the ink on 6 lines
    wait_idle(phone)
    offer = phone.locator("#page-offer")
    assert offer.is_visible() and "This looks like a page — read it as a page?" in offer.inner_text()
    save(phone, tmp_path, "phone-page-offer", full_page=False)
    answer_page_with(phone, FIVE)
    with phone.expect_request("**/api/page") as sent:
        phone.locator("#page-offer-read").tap()
    assert b"page_photo.jpg" in (sent.value.post_data_buffer or b"")  # the same photo, sent to the page reader
    phone.wait_for_function("document.querySelectorAll('#photo-boxes .photo-box').length === 5")
    assert phone.get_attribute("#mode-page", "aria-selected") == "true" and title(phone) == "Page: 5 expressions"
    phone.tap("#mode-expression")                     # the offer belongs to that reading: gone in expression mode
    assert phone.locator("#page-offer").is_hidden()


def test_a_tap_on_a_small_expressions_number_opens_that_expression(phone):
    """A number placed next to its box may lie in a neighbour's tap area (grown past the neighbour's drawn box): a tap
    on the number opens the expression it numbers, not the neighbour whose box is nearer."""
    answer_page_with(phone, CROWDED)
    take_photo(phone, len(CROWDED["expressions"]))
    n = len(CROWDED["expressions"])
    targets = tap_targets(phone)
    nums = number_boxes(phone)
    # the crowded block puts some numbers inside a neighbour's tap area: what this test is about
    assert any(num is not None and any(j != k and overlap(num, t["tap"]) for j, t in enumerate(targets))
               for k, num in enumerate(nums)), nums
    for k, num in enumerate(nums):
        if num is None:
            continue
        for x, y in [((num[0] + num[2]) / 2, (num[1] + num[3]) / 2), (num[0] + 2, num[1] + 2), (num[2] - 2, num[1] + 2),
                     (num[0] + 2, num[3] - 2), (num[2] - 2, num[3] - 2)]:   # its centre and its corners
            phone.touchscreen.tap(x, y)
            assert title(phone) == f"Expression {k + 1} of {n}", (k, num, (x, y), title(phone))


def test_the_heading_after_a_second_photo_describes_the_second_reading(phone):
    """An expression of a one-expression photo opened ("Expression 1 of 1"), then a photo of five: the heading and the
    summary are the second reading's, and its boxes open its own expressions."""
    answer_page_with(phone, {**FIVE, "expressions": FIVE["expressions"][:1]})
    take_photo(phone, 1)
    phone.locator("#photo-boxes .photo-box").first.tap()
    assert title(phone) == "Expression 1 of 1"
    answer_page_with(phone, FIVE)
    take_photo(phone, 5)
    assert title(phone) == "Page: 5 expressions" and phone.locator("#page-detail").is_hidden()
    assert phone.inner_text("#page-summary") == "5 expressions found: tap a box to see its reading."
    phone.locator("#photo-boxes .photo-box").nth(4).tap()
    assert title(phone) == "Expression 5 of 5" and phone.inner_text("#page-latex") == "y=4"
