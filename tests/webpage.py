"""Helpers for the browser tests of the drawing page: a uvicorn server in a thread, Debian's chromium through
Playwright, and strokes drawn with the mouse, with touch (CDP touch events) or with a pen (CDP pen events).

Screenshots go to the test's tmp dir; with ``INKMATH_SCREENSHOTS=DIR`` they are also copied there (the README's
docs/screenshots are made with ``INKMATH_SCREENSHOTS=docs/screenshots``).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EXPRESSION_WEIGHTS = os.environ.get("INKMATH_RECOGNIZE_WEIGHTS") or "crohme"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 1}

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed")


@contextmanager
def running_server(symbol_weights="mnist", expression_weights=EXPRESSION_WEIGHTS):
    """{"url", "expression"}: the app served by uvicorn on a free loopback port for the block's duration."""
    import uvicorn

    from inkmath import InkmathError
    from inkmath.web.app import create_app

    try:
        app = create_app(symbol_weights, expression_weights, threads=1)
        expression_ok = True
    except InkmathError:  # the expression classifier is not shipped (yet): symbol mode only
        app = create_app(symbol_weights, None, threads=1)
        expression_ok = False
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started:
        if time.time() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    port = srv.servers[0].sockets[0].getsockname()[1]
    try:
        yield {"url": f"http://127.0.0.1:{port}", "expression": expression_ok}
    finally:
        srv.should_exit = True
        thread.join(10)


@contextmanager
def launched_browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def watch_errors(page) -> list[str]:
    """Script errors, failed requests and console errors of a page (an empty list is a clean load)."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    return errors


def open_phone(browser, server, mode=None, **extra):
    """(context, page, errors): the app at ``server`` (``running_server``'s) in a new phone-sized touch context
    (``PHONE``, ``extra`` over it), opened in ``mode`` (None: the default), its weights listed and nothing pending;
    ``errors`` as ``watch_errors`` collects them."""
    context = browser.new_context(**{**PHONE, **extra})
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(server["url"] + "/" + (f"?mode={mode}" if mode else ""))
    page.wait_for_function("document.getElementById('weights').options.length > 0")
    wait_idle(page)
    return context, page, errors


# ------------------------------------------------------------------------------------------------ strokes
def fit(strokes: list[np.ndarray], width: float, height: float, margin: float = 40) -> list[np.ndarray]:
    """Scale and centre a drawing into a width x height canvas (canvas pixels), keeping its aspect."""
    pts = np.concatenate(strokes)
    lo, hi = pts.min(0), pts.max(0)
    s = min((width - 2 * margin) / max(hi[0] - lo[0], 1e-9), (height - 2 * margin) / max(hi[1] - lo[1], 1e-9))
    off = np.array([width, height]) / 2 - (lo + hi) / 2 * s
    return [st * s + off for st in strokes]


def canvas_box(page) -> dict:
    return page.locator("#canvas").bounding_box()


def draw(page, strokes: list[np.ndarray]) -> None:
    """Draw strokes (canvas pixels) with the mouse: press, move through every point, release."""
    box = canvas_box(page)
    for st in strokes:
        x, y = st[0]
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.down()
        for x, y in st[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=2)
        page.mouse.up()


def _cdp(page):
    if not hasattr(page, "_inkmath_cdp"):
        page._inkmath_cdp = page.context.new_cdp_session(page)
    return page._inkmath_cdp


def draw_touch(page, strokes: list[np.ndarray]) -> None:
    """Draw strokes (canvas pixels) with one finger: real touch events, as a phone's (the page sees pointerType touch)."""
    cdp = _cdp(page)
    box = canvas_box(page)
    for st in strokes:
        pts = [{"x": float(box["x"] + x), "y": float(box["y"] + y)} for x, y in st]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [pts[0]]})
        for p in pts[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [p]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def touch_gesture(page, a: list, b: list) -> None:
    """Two fingers moving together, from (a[0], b[0]) to (a[-1], b[-1]) in canvas pixels (a pinch or a scroll)."""
    cdp = _cdp(page)
    box = canvas_box(page)
    pt = lambda p, i: {"x": float(box["x"] + p[0]), "y": float(box["y"] + p[1]), "id": i}
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [pt(a[0], 0)]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [pt(a[0], 0), pt(b[0], 1)]})
    for p, q in zip(a[1:], b[1:]):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [pt(p, 0), pt(q, 1)]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def draw_pen(page, strokes: list[np.ndarray]) -> None:
    """Draw strokes with a stylus (CDP mouse events with pointerType pen)."""
    cdp = _cdp(page)
    box = canvas_box(page)
    for st in strokes:
        pts = [(float(box["x"] + x), float(box["y"] + y)) for x, y in st]
        ev = lambda kind, p, buttons: cdp.send("Input.dispatchMouseEvent", {
            "type": kind, "x": p[0], "y": p[1], "button": "left", "buttons": buttons, "clickCount": 1,
            "pointerType": "pen", "force": 0.5})
        ev("mousePressed", pts[0], 1)
        for p in pts[1:]:
            ev("mouseMoved", p, 1)
        ev("mouseReleased", pts[-1], 0)


def line(x0: float, y0: float, x1: float, y1: float, n: int = 12) -> np.ndarray:
    """A straight stroke with n points: drawn at a hand's pace (a two-point stroke is a flick, which the browser
    takes for a fling, and a tap during a fling only stops it: no click)."""
    return np.column_stack([np.linspace(x0, x1, n), np.linspace(y0, y1, n)])


def tap(page, x: float, y: float) -> None:
    """A finger tap at canvas pixels (x, y), without movement."""
    draw_touch(page, [np.array([[x, y]])])


def wait_idle(page) -> None:
    """Until no request is scheduled or in flight (the page keeps a counter in body[data-pending])."""
    page.wait_for_timeout(50)
    page.wait_for_function("document.body.dataset.pending === '0'", timeout=60000)


def stroke_count(page) -> int:
    label = page.get_attribute("#canvas", "aria-label") or ""
    if "Nothing drawn" in label:
        return 0
    return int(label.split(" stroke")[0].rsplit(" ", 1)[-1])


def latex(page) -> str:
    return page.input_value("#latex").replace(" ", "")


def save(page, tmp_path: Path, name: str, full_page: bool = True) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    extra = os.environ.get("INKMATH_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(extra) / path.name)
    return path


def hand_samples(labels: set[str]) -> dict[str, list[np.ndarray]]:
    """Real CROHME handwriting for each label (skips when the archive is not there)."""
    from test_recognize import ARCHIVE, _samples

    if not ARCHIVE.is_file():
        pytest.skip(f"CROHME training archive not found at {ARCHIVE}")
    return _samples(labels)


def write(hand, labels: list[str], width: float, height: float, margin: float = 40) -> list[list[np.ndarray]]:
    """The strokes of each symbol of a row laid out by test_recognize's Writer, fitted into a width x height canvas."""
    from test_recognize import Writer

    strokes = fit(Writer(hand).write(labels), width, height, margin)
    groups, k = [], 0
    for label in labels:
        n = len(hand[label])
        groups.append(strokes[k:k + n])
        k += n
    return groups


def run_axe(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now (axe.min.js from axe-playwright-python)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


# ------------------------------------------------------------------------------------------------ shared fixtures
# A browser test module imports these by name; ``hand`` reads the module's EQUATION (the symbols it writes).
@pytest.fixture(scope="module")
def browser():
    with launched_browser() as b:
        yield b


@pytest.fixture(scope="module")
def hand(request):
    return hand_samples(set(request.module.EQUATION))
