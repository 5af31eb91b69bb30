"""POST /api/check: a worked solution checked line by line over HTTP (strokes of several lines, typed lines,
readings sent back with one corrected, a photo), and its errors."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from inkmath.synth import write_lines  # noqa: E402
from inkmath.web.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app("mnist", None, threads=1), raise_server_exceptions=False) as c:
        yield c


def test_drawn_lines_are_read_and_checked(client):
    strokes = [s.round(1).tolist() for s in write_lines(["2x+3=11", "2x=14", "x=7"])]
    r = client.post("/api/check", json={"strokes": strokes})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [s["latex"] for s in body["steps"]] == ["2x+3=11", "2x=14", "x=7"]
    assert body["first_wrong"] == 1 and body["steps"][1]["verdict"] == "wrong" and "sign" in body["steps"][1]["reason"]
    assert body["next_step"]["latex"] and body["answer_right"] is False
    assert all(len(s["box"]) == 4 and isinstance(s["alternatives"], list) for s in body["steps"])


def test_typed_lines_and_a_corrected_reading(client):
    r = client.post("/api/check", json={"lines": ["2x+3=11", "2x=8", "x=4"]})
    assert r.status_code == 200 and r.json()["first_wrong"] is None
    unsure = [{"latex": "2x+3=11", "confidence": 0.95}, {"latex": "2x=3", "confidence": 0.4,
                                                          "alternatives": [["2x=8", 0.35]]},
              {"latex": "x=4", "confidence": 0.9}]
    body = client.post("/api/check", json={"lines": unsure}).json()
    assert body["steps"][1]["verdict"] == "unsure" and body["steps"][1]["alternatives"][0]["latex"] == "2x=8"
    unsure[1] = {"latex": "2x=8", "confidence": 1.0}  # the user picked the other reading
    body = client.post("/api/check", json={"lines": unsure}).json()
    assert [s["verdict"] for s in body["steps"]] == ["given", "ok", "ok"]


@pytest.mark.parametrize("payload, status, words", [
    ({"lines": []}, 422, "nothing to check"),
    ({"lines": ["2x+3=11"]}, 422, "only the problem"),
    ({"lines": ["hello there", "x=2"]}, 422, "problem"),
    ({}, 422, "either strokes or lines"),
    ({"lines": ["x=1"], "strokes": [[[0, 0], [1, 1]]]}, 422, "either strokes or lines"),
    ({"lines": ["x"] * 201}, 422, ""),
])
def test_what_cannot_be_checked_is_a_4xx_that_says_what_to_do(client, payload, status, words):
    r = client.post("/api/check", json=payload)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]


def test_the_check_route_is_in_the_schema(client):
    schema = client.get("/openapi.json").json()
    assert "/api/check" in schema["paths"] and "CheckRequest" in schema["components"]["schemas"]


@pytest.mark.slow
def test_a_photo_of_the_lines_is_read_as_a_page_and_checked(client):
    """A phone photo of three written lines (the project's synthetic handwriting on a sheet on a table), uploaded as
    the page mode uploads one: the sign error of line 2 is found, each line with its box in the photo."""
    import cv2
    from test_page import _photo, _sheet

    sheet = _sheet([(text, 120, 250 + 170 * k) for k, text in enumerate(["2x+3=11", "2x=14", "x=7"])])
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(_photo(sheet), cv2.COLOR_RGB2BGR))
    r = client.post("/api/check", files={"file": ("lines.jpg", jpeg.tobytes(), "image/jpeg")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["file"] == "lines.jpg" and [s["latex"] for s in body["steps"]] == ["2x+3=11", "2x=14", "x=7"]
    assert body["first_wrong"] == 1 and all(len(s["box"]) == 4 for s in body["steps"])
