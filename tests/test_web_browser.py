"""The drawing page in a real browser: Debian's chromium driven by Playwright, drawing with mouse events.

A uvicorn server runs the app in a thread on a free loopback port. Digits are drawn from simple stroke templates
(checked against the model through the API first), expressions from real CROHME handwriting laid out by
``tests/test_recognize.py``'s Writer. Screenshots go to the test's tmp dir; with ``INKMATH_SCREENSHOTS=DIR`` they
are also saved there (the README's docs/screenshots were made that way). Skips without /usr/bin/chromium.
"""

from __future__ import annotations


import numpy as np
import pytest

from webpage import (
    canvas_box, draw, fit, latex, launched_browser, needs_chromium, running_server, save, wait_idle,
    watch_errors,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_chromium]


def _arc(cx, cy, rx, ry, a0, a1, n=24):
    t = np.radians(np.linspace(a0, a1, n))
    return np.column_stack([cx + rx * np.cos(t), cy + ry * np.sin(t)])


def digit_strokes(d: str) -> list[np.ndarray]:
    """A handwritten-looking digit as strokes in a 100 x 160 box (y down)."""
    shapes = {
        "0": lambda: [_arc(50, 80, 38, 72, -90, 270, 48)],
        "1": lambda: [np.array([[30, 30], [58, 5], [58, 155]], float)],
        "2": lambda: [np.vstack([_arc(50, 45, 38, 38, 200, 390), [[10, 155], [95, 155]]])],
        "3": lambda: [np.vstack([_arc(48, 42, 36, 36, 210, 450), _arc(48, 115, 40, 40, 270, 500)])],
        "4": lambda: [np.array([[65, 5], [8, 110], [95, 110]], float), np.array([[70, 60], [70, 158]], float)],
        "7": lambda: [np.array([[8, 8], [92, 8], [35, 158]], float)],
    }
    return shapes[d]()


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def server():
    with running_server() as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    with launched_browser() as b:
        yield b


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 760}, device_scale_factor=1)
    pg = context.new_page()
    errors = watch_errors(pg)
    pg.errors = errors
    pg.goto(server["url"] + "/?mode=symbol")
    pg.wait_for_function("document.getElementById('weights').options.length > 0")
    wait_idle(pg)
    yield pg
    context.close()
    assert errors == [], errors  # no script errors, and nothing fetched from anywhere but the server


def canvas_size(page) -> tuple[float, float]:
    box = canvas_box(page)
    return box["width"], box["height"]


# ------------------------------------------------------------------------------------------------ tests
def test_drawn_digit_shows_the_right_top1(page, tmp_path):
    w, h = canvas_size(page)
    for digit in ("3", "7"):
        page.click("#clear")
        draw(page, fit(digit_strokes(digit), w, h, margin=90))
        wait_idle(page)
        first = page.locator("#predictions li").first
        assert first.get_attribute("data-label") == digit, page.inner_text("#predictions")
        assert page.locator("#predictions li").count() == 5
        assert first.locator("math").count() == 1  # the MathML rendering of the top symbol
    assert "mnist" in page.inner_text("#status")
    save(page, tmp_path, "symbol-mode")
    # undo removes the last stroke: the page asks again and shows what is left (here: nothing)
    page.click("#undo")
    wait_idle(page)
    assert page.locator("#predictions li.empty").count() == 1


def test_drawn_equation_is_read_and_solved_and_a_correction_changes_it(page, server, hand, tmp_path):
    from test_recognize import Writer

    if not server["expression"]:
        pytest.skip(f"expression weights {EXPRESSION_WEIGHTS!r} are not available")
    page.click("#mode-expression")
    wait_idle(page)
    w, h = canvas_size(page)
    strokes = fit(Writer(hand).write(["2", "x", "+", "1", "=", "7"]), w, h, margin=60)
    draw(page, strokes)
    wait_idle(page)
    read = latex(page)
    assert read == "2x+1=7", read
    assert "x = 3" in page.inner_text("#answer")
    assert page.locator("#mathml math").count() == 1
    boxes = page.locator("#boxes .box")
    assert boxes.count() == 6
    save(page, tmp_path, "expression-mode")

    # correct the '7' (last symbol) to another of its alternatives: the expression is read again
    seven = boxes.nth(5)
    seven.locator(".tag").click()
    alts = page.locator("#alternatives button.alt:not(.current)")
    assert alts.count() >= 1
    choice = alts.first.get_attribute("data-label")
    save(page, tmp_path, "expression-alternatives")
    alts.first.click()
    wait_idle(page)
    corrected = latex(page)
    assert corrected != read and corrected.startswith("2x+1="), corrected
    assert page.locator("#boxes .box").nth(5).get_attribute("data-label") == choice
    assert "corrected" in (page.locator("#boxes .box").nth(5).get_attribute("class") or "")
    assert page.inner_text("#answer") != "x = 3"


@pytest.fixture(scope="module")
def hand():
    from test_recognize import ARCHIVE, _samples

    if not ARCHIVE.is_file():
        pytest.skip(f"CROHME training archive not found at {ARCHIVE}")
    return _samples({"2", "x", "+", "1", "=", "7"})


def test_uploaded_image_is_read(page, tmp_path):
    from PIL import Image

    from inkmath.ink import rasterize

    img, _ = rasterize(digit_strokes("4"), padding=30)
    path = tmp_path / "four.png"
    Image.fromarray(255 - img).save(path)  # dark ink on white paper, as a scan
    page.set_input_files("#upload", str(path))
    wait_idle(page)
    assert page.locator("#predictions li").first.get_attribute("data-label") == "4"
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"this is not a picture")
    page.set_input_files("#upload", str(bad))
    wait_idle(page)
    assert "not a readable image" in page.inner_text("#status")
    assert "not an image" in page.get_attribute("#canvas", "aria-label")  # not "An uploaded image is shown"
    page.errors[:] = [e for e in page.errors if "status of 422" not in e]  # the browser logs the refused upload


def test_a_phone_cameras_photo_is_scaled_down_to_what_the_server_reads(page, tmp_path):
    """A 24-megapixel camera photo of a symbol (over the API's 16-megapixel image limit) picked with the Image button
    is sent as a JPEG of at most 4000 px on its long side, and read; it was sent as it was and refused."""
    from PIL import Image

    from inkmath.ink import rasterize
    from inkmath.web.schemas import MAX_BODY_BYTES, MAX_IMAGE_PIXELS

    img, _ = rasterize(digit_strokes("4"), padding=30)
    ink = Image.fromarray(255 - img).resize((1600, 1600), Image.BICUBIC)
    photo = Image.new("L", (6000, 4000), 255)                        # 24 megapixels, landscape
    photo.paste(ink, (2200, 1200))
    noisy = np.asarray(photo).astype(np.int16) + np.random.default_rng(0).integers(-8, 9, (4000, 6000))
    path = tmp_path / "camera.jpg"
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).convert("RGB").save(path, "JPEG", quality=92)
    assert 6000 * 4000 > MAX_IMAGE_PIXELS
    with page.expect_request("**/api/symbol", timeout=120000) as req:
        page.set_input_files("#upload", str(path))
    sent = int(req.value.header_value("content-length") or 0)
    assert 0 < sent < MAX_BODY_BYTES
    wait_idle(page)
    assert page.locator("#predictions li").first.get_attribute("data-label") == "4", page.inner_text("#status")

