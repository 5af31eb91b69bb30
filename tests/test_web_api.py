"""The HTTP API: answers equal the CLI's JSON, every kind of bad input gets a 4xx JSON error (and the server keeps
working), the OpenAPI schema is precise, and a bounded Schemathesis run finds no server error.

The app is built with the shipped ``mnist`` weights for both modes, so these tests need no data and no
unfinished model: an expression of digits is still read, segmented and answered by the full pipeline.
"""

from __future__ import annotations

import io
import json
import struct
import warnings
import zlib

import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx vs httpx2 in its test client
    from fastapi.testclient import TestClient

from inkmath.web.app import MAX_POINTS, MAX_STROKES, create_app


def _arc(cx, cy, rx, ry, a0, a1, n=24):
    t = np.radians(np.linspace(a0, a1, n))
    return np.column_stack([cx + rx * np.cos(t), cy + ry * np.sin(t)])


SEVEN = [[[8, 8], [92, 8], [35, 158]]]
THREE = [np.vstack([_arc(48, 42, 36, 36, 210, 450), _arc(48, 115, 40, 40, 270, 500)]).round(1).tolist()]
ONE = [[[30, 30], [58, 5], [58, 155]]]


def shifted(strokes, dx: float) -> list:
    return [[[x + dx, y] for x, y in s] for s in strokes]


# Built at import: schemathesis' lazy fixture loader does not work with pytest 9 (it sets Function._nodeid), so the
# fuzz test below takes its schema from this app at collection time. Predictors still load on first use.
APP = create_app("mnist", "mnist", threads=1, max_body_bytes=256 * 1024)


@pytest.fixture(scope="module")
def app():
    return APP


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def png_bytes(img: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height grey pixels, with one tiny data chunk (a decompression bomb's
    shape: decoding it would allocate width * height bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")


# ------------------------------------------------------------------------------------------------ answers
def test_health_models_and_page(client):
    assert client.get("/api/health").json()["status"] == "ok"
    models = client.get("/api/models").json()
    assert models["symbol_default"] == "mnist" and "mnist" in [w["name"] for w in models["weights"]]
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    # the page works offline: no script, style or font from another origin
    assert "http://" not in page.text.replace("http://www.w3.org", "") and "https://" not in page.text


def test_symbol_from_strokes_matches_predict(client):
    from inkmath.ink import rasterize
    from inkmath.predict import Predictor

    r = client.post("/api/symbol", json={"strokes": THREE})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["weights"] == "mnist" and body["file"] is None
    assert [p["label"] for p in body["predictions"]][0] == "3"
    assert len(body["predictions"]) == 5 and all(p["mathml"].startswith("<math") for p in body["predictions"])
    # the same numbers as the library (and `inkmath predict --json`) on the same raster
    img, _ = rasterize([np.asarray(s) for s in THREE])
    want = Predictor.load("mnist").predict([img], ink="white")[0]
    assert [{k: p[k] for k in ("label", "latex", "prob")} for p in body["predictions"]] == [p.to_dict() for p in want]
    assert len(client.post("/api/symbol", json={"strokes": SEVEN, "top": 2}).json()["predictions"]) == 2


def test_symbol_from_uploaded_image(client):
    from inkmath.ink import rasterize

    img, _ = rasterize([np.asarray(s, float) for s in SEVEN], padding=20)
    r = client.post("/api/symbol", files={"image": ("seven.png", png_bytes(255 - img), "image/png")},
                    data={"top": "3"})
    assert r.status_code == 200, r.text
    assert r.json()["file"] == "seven.png" and r.json()["predictions"][0]["label"] == "7"
    assert len(r.json()["predictions"]) == 3


def test_expression_matches_recognize_json_and_corrections_apply(client):
    from inkmath.equation.recognize import get_predictor, recognize_strokes, to_dict

    strokes = ONE + shifted(SEVEN, 160)  # "17"
    r = client.post("/api/expression", json={"strokes": strokes})
    assert r.status_code == 200, r.text
    body = r.json()
    want = to_dict(recognize_strokes([np.asarray(s, float) for s in strokes], get_predictor("mnist")))
    for key in ("latex", "mathml"):
        assert body[key] == want[key]
    for sym in body["symbols"]:  # the API adds each alternative's LaTeX and MathML (for the page) to the CLI's JSON
        for alt in sym["alternatives"]:
            assert alt.pop("latex") == alt["label"] and alt.pop("mathml").startswith("<math")
    assert body["symbols"] == want["symbols"]
    assert body["latex"] == "17" and body["answer"]["text"] == "17"
    assert [s["strokes"] for s in body["symbols"]] == [[0], [1]]
    assert body["symbols"][1]["box"] == [168.0, 8.0, 252.0, 158.0]  # boxes in the request's coordinates
    # the user says the second symbol is a 1: read again with that reading
    fixed = client.post("/api/expression", json={"strokes": strokes, "corrections": {"1": "1"}}).json()
    assert fixed["latex"] == "11" and fixed["answer"]["text"] == "11"
    assert {k: fixed["symbols"][1]["alternatives"][0][k] for k in ("label", "prob")} == {"label": "1", "prob": 1.0}


def test_a_symbols_prob_is_that_of_its_label_when_the_reading_chose_another_candidate():
    # the decoder may read a symbol as a candidate other than the classifier's first (a "c" read as "(" in
    # "u(0)"): the JSON's prob is the label's, as the page shows them side by side ("(, 22 %" in the box's name
    # and in its list of other readings), not the first candidate's
    from inkmath.equation.recognize import Recognition, to_dict
    from inkmath.equation.core.tree import Box, Candidate, Symbol, SymbolHyp

    h = SymbolHyp(Box(0.0, 0.0, 10.0, 20.0), [Candidate("c", 0.7), Candidate("(", 0.22), Candidate("C", 0.05)], [0])
    rec = Recognition("(", "<math></math>", {}, [h], Symbol("("), ["("], 0.3, [{"latex": "(", "confidence": 0.3}])
    sym = to_dict(rec)["symbols"][0]
    assert sym["label"] == "(" and sym["prob"] == 0.22
    assert {a["label"]: a["prob"] for a in sym["alternatives"]}[sym["label"]] == sym["prob"]


def test_expression_from_uploaded_image_with_corrections(client):
    from inkmath.ink import rasterize

    img, _ = rasterize([np.asarray(s, float) for s in ONE + shifted(SEVEN, 160)], padding=20)
    files = {"image": ("seventeen.png", png_bytes(255 - img), "image/png")}
    r = client.post("/api/expression", files=files)
    assert r.status_code == 200, r.text
    assert r.json()["latex"] == "17" and r.json()["file"] == "seventeen.png"
    assert r.json()["page_like"] is False                                   # a rendering is never offered as a page
    r = client.post("/api/expression", files=files, data={"corrections": json.dumps({"0": "4"})})
    assert r.json()["latex"] == "47", r.text


def test_an_unsure_reading_of_a_page_photo_is_offered_as_a_page():
    """POST /api/expression's ``page_like``: asked of the library (photo.views.looks_like_page) only when the reading
    is unsure (a sure one is not slowed down by a second clean-up)."""
    from pathlib import Path
    from types import SimpleNamespace

    from PIL import Image

    from inkmath.web.work import looks_like_a_page

    page = np.asarray(Image.open(Path(__file__).with_name("fixtures") / "page_photo.jpg").convert("RGB"))
    assert looks_like_a_page(page, SimpleNamespace(confidence=0.018))
    assert not looks_like_a_page(page, SimpleNamespace(confidence=0.9))


def test_onnx_engine_serves_the_same_answers(client):
    with TestClient(create_app("mnist", "mnist", engine="onnx", threads=1)) as onnx_client:
        got = onnx_client.post("/api/symbol", json={"strokes": THREE}).json()["predictions"]
        assert onnx_client.get("/api/health").json()["engine"] == "onnx"
    want = client.post("/api/symbol", json={"strokes": THREE}).json()["predictions"]
    assert [p["label"] for p in got] == [p["label"] for p in want]
    np.testing.assert_allclose([p["prob"] for p in got], [p["prob"] for p in want], atol=1e-5)


@pytest.mark.slow
def test_recognition_pool_serves_the_same_answers_and_errors(client):
    """`--pool N`: expressions are read in separate processes; same JSON, same 4xx errors, and its processes exit."""
    strokes = ONE + shifted(SEVEN, 160)
    want = client.post("/api/expression", json={"strokes": strokes, "corrections": {"1": "1"}}).json()
    pool_app = create_app("mnist", "mnist", threads=1, pool=1)
    with TestClient(pool_app, raise_server_exceptions=False) as pc:
        got = pc.post("/api/expression", json={"strokes": strokes, "corrections": {"1": "1"}})
        assert got.status_code == 200, got.text
        got = got.json()
        got["answer"].pop("elapsed_s"), want["answer"].pop("elapsed_s")
        assert got == want
        bad = pc.post("/api/expression", json={"strokes": strokes, "corrections": {"7": "1"}})  # no symbol 7
        assert bad.status_code == 422 and "only 2 symbols" in bad.json()["error"]
        assert pc.post("/api/expression", json={"strokes": strokes}).status_code == 200  # still serving
        procs = list(pool_app.state.pool.executor._processes.values())
        assert procs and all(p.is_alive() for p in procs)
    assert not any(p.is_alive() for p in procs)


def test_serve_command_is_registered():
    from inkmath.cli import build_parser

    args = build_parser().parse_args(["serve", "--port", "0", "--weights", "mnist", "--engine", "onnx"])
    assert (args.port, args.weights, args.engine, args.host) == (0, "mnist", "onnx", "127.0.0.1")
    assert args.func.__module__ == "inkmath.cli.serve"


# ------------------------------------------------------------------------------------------------ errors
BAD_REQUESTS = {
    # name: (path, request kwargs, expected status, words the message must contain)
    "malformed json": ("/api/symbol", {"content": b'{"strokes": [[[1, 2]', "headers": {"content-type": "application/json"}}, 400, "Malformed JSON"),
    "empty body": ("/api/symbol", {"content": b"", "headers": {"content-type": "application/json"}}, 400, "Empty request body"),
    "wrong content type": ("/api/symbol", {"content": b"strokes=1", "headers": {"content-type": "text/plain"}}, 415, "content type"),
    "no content type": ("/api/expression", {"content": b"{}"}, 415, "content type"),
    "empty strokes": ("/api/symbol", {"json": {"strokes": []}}, 422, "strokes"),
    "empty stroke": ("/api/expression", {"json": {"strokes": [[]]}}, 422, "strokes.0"),
    "point with one number": ("/api/symbol", {"json": {"strokes": [[[1], [2]]]}}, 422, "strokes.0.0"),
    "NaN": ("/api/symbol", {"content": b'{"strokes": [[[NaN, 1], [2, 3]]]}', "headers": {"content-type": "application/json"}}, 422, "finite"),
    "Infinity": ("/api/expression", {"content": b'{"strokes": [[[Infinity, 1], [2, 3]]]}', "headers": {"content-type": "application/json"}}, 422, "strokes.0.0.0"),
    "overflow to inf": ("/api/symbol", {"content": b'{"strokes": [[[1e400, 1], [2, 3]]]}', "headers": {"content-type": "application/json"}}, 422, "strokes.0.0.0"),
    "coordinate out of range": ("/api/symbol", {"json": {"strokes": [[[1e7, 1], [2, 3]]]}}, 422, "less than or equal"),
    "string coordinate": ("/api/symbol", {"json": {"strokes": [[["1", "__import__('os')"]]]}}, 422, "strokes.0.0.1"),
    "numeric string coordinates": ("/api/expression", {"json": {"strokes": [[["10", "20"], ["30", "40"]]]}}, 422, "strokes.0.0.0"),
    "boolean coordinates": ("/api/symbol", {"json": {"strokes": [[[True, False], [1, 1]]]}}, 422, "strokes.0.0.0"),
    "too many strokes": ("/api/symbol", {"json": {"strokes": [[[i, 0], [i, 1]] for i in range(MAX_STROKES + 1)]}}, 422, "at most"),
    "too many points": ("/api/symbol", {"json": {"strokes": [[[i % 50, j] for i in range(3000)] for j in range(7)]}}, 413, "Too many points"),
    "body over the limit": ("/api/expression", {"content": b'{"strokes": [[[1, 2]]]}' + b" " * 300_000, "headers": {"content-type": "application/json"}}, 413, "too large"),
    "unknown field": ("/api/symbol", {"json": {"strokes": SEVEN, "eval": "1+1"}}, 422, "eval"),
    "unknown weights": ("/api/symbol", {"json": {"strokes": SEVEN, "weights": "nope"}}, 422, "Unknown weights"),
    "weights as a path": ("/api/expression", {"json": {"strokes": SEVEN, "weights": "/etc/passwd"}}, 422, "Unknown weights"),
    "top out of range": ("/api/symbol", {"json": {"strokes": SEVEN, "top": 0}}, 422, "top"),
    "correction of a missing symbol": ("/api/expression", {"json": {"strokes": SEVEN, "corrections": {"5": "1"}}}, 422, "only 1 symbols"),
    "correction not a label": ("/api/expression", {"json": {"strokes": SEVEN, "corrections": {"0": "\\alpha"}}}, 422, "not a label"),
    "correction key not an index": ("/api/expression", {"json": {"strokes": SEVEN, "corrections": {"x": "1"}}}, 422, "corrections"),
    "a point that cannot be drawn": ("/api/symbol", {"json": {"strokes": [[[0, 0], [0.00001, 0]], [[90000, 0], [90000, 0.00001]]]}}, 422, "raster"),
    "form without an image": ("/api/symbol", {"data": {"weights": "mnist"}, "files": {"other": ("a.txt", b"x", "text/plain")}}, 422, "field 'image'"),
    "non-image upload": ("/api/symbol", {"files": {"image": ("notes.png", b"these are notes, not pixels", "image/png")}}, 422, "not a readable image"),
    "empty upload": ("/api/expression", {"files": {"image": ("empty.png", b"", "image/png")}}, 422, "empty"),
    "truncated PNG": ("/api/symbol", {"files": {"image": ("cut.png", png_bytes(np.full((64, 64), 200, np.uint8))[:60], "image/png")}}, 422, "not a readable image"),
    "decompression bomb": ("/api/expression", {"files": {"image": ("bomb.png", png_header_only(20000, 20000), "image/png")}}, 422, "too large"),
    "image over the pixel limit": ("/api/symbol", {"files": {"image": ("big.png", png_header_only(5000, 4000), "image/png")}}, 422, "too large"),
    "top not an ASCII number": ("/api/symbol", {"files": {"image": ("a.png", png_bytes(np.zeros((8, 8), np.uint8)), "image/png")}, "data": {"top": "\u00b2"}}, 422, "top"),
    "bad ink field": ("/api/symbol", {"files": {"image": ("a.png", png_bytes(np.zeros((8, 8), np.uint8)), "image/png")}, "data": {"ink": "red"}}, 422, "ink"),
    "bad corrections field": ("/api/expression", {"files": {"image": ("a.png", png_bytes(np.zeros((8, 8), np.uint8)), "image/png")}, "data": {"corrections": "{0: 1"}}, 422, "corrections"),
    "blank image": ("/api/symbol", {"files": {"image": ("blank.png", png_bytes(np.full((32, 32), 255, np.uint8)), "image/png")}}, 422, "No ink"),
    "solve: malformed json": ("/api/solve", {"content": b'{"latex": "2x', "headers": {"content-type": "application/json"}}, 400, '{"latex"'),
    "solve: empty body": ("/api/solve", {"content": b"", "headers": {"content-type": "application/json"}}, 400, '{"latex"'),
    "broken multipart": ("/api/symbol", {"content": b"--xyz\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabc", "headers": {"content-type": "multipart/form-data; boundary=xyz"}}, 422, "image"),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_input_gets_a_4xx_json_error_and_the_server_keeps_working(client, name):
    path, kwargs, status, words = BAD_REQUESTS[name]
    r = client.post(path, **kwargs)
    assert r.status_code == status, (r.status_code, r.text[:300])
    message = r.json()["error"]
    assert words.lower() in message.lower(), message
    ok = client.post("/api/symbol", json={"strokes": SEVEN})
    assert ok.status_code == 200 and ok.json()["predictions"][0]["label"] == "7"


def test_declared_length_over_the_limit_is_refused_before_reading(client):
    r = client.post("/api/symbol", content=b"{}", headers={"content-type": "application/json", "content-length": "999999999"})
    assert r.status_code == 413 and "too large" in r.json()["error"]


def test_a_chunked_body_over_the_limit_is_refused_with_a_readable_message(client):
    def chunks():
        for _ in range(5):
            yield b" " * 100_000

    r = client.post("/api/expression", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"].startswith("Request body too large (over 0.2 MB; limit 262,144 bytes)"), r.json()


def test_unknown_route_and_method_are_json_errors(client):
    assert client.get("/api/nothing").json() == {"error": "Not Found"}
    r = client.get("/api/symbol")
    assert r.status_code == 405 and "error" in r.json()


def test_openapi_schema_describes_both_bodies(client):
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/api/expression"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    comps = schema["components"]["schemas"]
    strokes = comps["ExpressionRequest"]["properties"]["strokes"]
    assert strokes["maxItems"] == MAX_STROKES and strokes["minItems"] == 1
    point = strokes["items"]["items"]
    assert point["minItems"] == 2 and point["items"]["maximum"] > 0
    assert comps["ImageUpload"]["properties"]["image"]["format"] == "binary"
    for code in ("200", "413", "415", "422"):
        assert code in schema["paths"]["/api/symbol"]["post"]["responses"]


def test_total_points_limit_matches_the_constant():
    assert MAX_POINTS < MAX_STROKES * 4000  # the per-request bound is tighter than strokes x points per stroke


# ------------------------------------------------------------------------------------------------ fuzzing
import schemathesis  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
# valid bodies and invalid ones (wrong types, out-of-range numbers, missing fields): neither may cause a 5xx
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_fuzz_api_never_fails_with_a_server_error(case):
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    case.call_and_validate(checks=[not_a_server_error, status_code_conformance, response_schema_conformance])


def test_no_page_loads_from_a_cdn(client):
    # FastAPI's /docs and /redoc pull scripts from a CDN; they are switched off so everything served works offline
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/api/symbol", "/api/expression"])
def test_fuzz_invalid_bodies_get_a_4xx(path):
    from hypothesis import given

    statuses: list[int] = []

    @given(schema[path]["POST"].as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
    @settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def call(case):
        r = case.call()
        statuses.append(r.status_code)
        assert 400 <= r.status_code < 500 and "error" in r.json(), (r.status_code, r.text[:300])

    call()
    assert len(statuses) >= 10


def test_check_strokes_drops_time_and_accepts_mixed_points():
    from inkmath.web.app import check_strokes

    plain, timed, mixed = [[0, 1], [2, 3.5]], [[0, 1, 10], [2, 3.5, 20]], [[0, 1], [2, 3.5, 20]]
    for s in (plain, timed, mixed):
        (a,) = check_strokes([s])
        assert a.dtype == np.float64 and a.flags.c_contiguous and a.tolist() == [[0.0, 1.0], [2.0, 3.5]]


def test_check_strokes_equals_a_point_by_point_conversion():
    # check_strokes converts each stroke's flat numbers at once; a point-by-point conversion is the reference
    from inkmath.web.app import check_strokes

    rng = np.random.default_rng(0)
    strokes = [[[1.5, -2.0]], [[1.5, -2.0, 7.0]], [[0.0, 0.0], [0.0, 0.0]], [[1, 2, 3], [4, 5], [6, 7, 8]]]
    for _ in range(50):
        n, width = int(rng.integers(1, 40)), rng.choice([2, 3, 0])  # 0: each point 2 or 3 numbers at random
        strokes.append([rng.normal(0, 1000, int(width or rng.integers(2, 4))).round(2).tolist() for _ in range(n)])
    out = check_strokes(strokes)
    assert len(out) == len(strokes)
    for a, s in zip(out, strokes):
        ref = np.array([[float(p[0]), float(p[1])] for p in s], dtype=np.float64)
        assert a.dtype == np.float64 and a.flags.c_contiguous and a.shape == ref.shape and np.array_equal(a, ref)
