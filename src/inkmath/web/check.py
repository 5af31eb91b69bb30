"""POST /api/check: a worked solution checked line by line (``inkmath.check``) for the page's Check mode.

    {"strokes": [[[x, y], ...], ...]}                    ink of several written lines (cut into lines and read)
    {"lines": ["2x+3=11", "2x=14", "x=7"]}               typed lines
    {"lines": [{"latex", "confidence", "alternatives", "box"}, ...]}   readings sent back, one of them corrected
    multipart/form-data with a photo of the lines in the field "file"  (read as a page)

The answer is ``inkmath check --json``'s (``CheckResponse``) with each line's other readings (``alternatives``:
[{latex, confidence}]), which the page offers for an unsure line; a choice is sent back as the line with
confidence 1. A solution that cannot be checked (no lines, only the problem, a first line that is no problem) is a
422 with {"error": what to do}.
"""

from __future__ import annotations

import functools

import numpy as np
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from inkmath.errors import InkmathError
from inkmath.web.schemas import MAX_PAGE_PIXELS, CheckRequest, CheckResponse
from inkmath.web.work import RequestError

EXAMPLE = '{"strokes": [[[x, y], ...], ...]} or {"lines": ["2x+3=11", "2x=8", "x=4"]}'


def check_work(predictor, strokes=None, lines=None, photo: bytes | None = None, file: str | None = None) -> dict:
    """The check route's work: the lines read from ink or a photo (or given), checked; the response's dict."""
    from inkmath.api import ink_lines, photo_lines
    from inkmath.equation.solve.check import LineReading, check_lines

    if strokes is not None:
        readings = ink_lines(strokes, predictor=predictor)
    elif photo is not None:
        readings = photo_lines(photo, name=file, predictor=predictor, max_pixels=MAX_PAGE_PIXELS)
    else:
        readings = [LineReading(line) if isinstance(line, str) else
                    LineReading(line.latex, line.confidence, [tuple(a) for a in line.alternatives], line.box)
                    for line in lines]
    result = check_lines(readings)
    out = result.to_dict(file)
    kept = [r for r in readings if r.latex.strip()]  # check_lines leaves blank lines out, as here
    for step, reading in zip(out["steps"], kept):
        step["alternatives"] = [{"latex": latex, "confidence": round(float(conf), 4)}
                                for latex, conf in reading.alternatives]
    return CheckResponse.model_validate(out).model_dump()


def add_check_routes(app, predictor_of, read_input, read_page_upload, errors: dict) -> None:
    """POST /api/check on ``app``; ``predictor_of(name)``: the expression reader's predictor of a weights name (or
    the default for None); ``read_input`` / ``read_page_upload``: the app's parsers of a JSON body and a photo
    upload."""

    @app.post("/api/check", response_model=CheckResponse, responses=errors,
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"$ref": "#/components/schemas/CheckRequest"}},
                  "multipart/form-data": {"schema": {"$ref": "#/components/schemas/PageUpload"}}}}})
    async def check(request: Request):
        """A worked solution checked line by line: ok, wrong (with the reason and the solver's next step) or unsure
        (with the line's other readings), as `inkmath check --json`."""
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "multipart/form-data":
            data, file, fields = await read_page_upload(request)
            work = functools.partial(check_work, predictor_of(fields.get("weights") or None), photo=data, file=file)
        else:
            body, _ = await read_input(request, CheckRequest, EXAMPLE)
            if (body.strokes is None) == (body.lines is None):
                raise RequestError(422, f"Send either strokes or lines: {EXAMPLE}")
            strokes = None if body.strokes is None else _strokes(body.strokes)
            work = functools.partial(check_work, predictor_of(body.weights) if strokes is not None else None,
                                     strokes=strokes, lines=body.lines)
        try:
            return await run_in_threadpool(work)
        except InkmathError as e:
            raise RequestError(422, str(e)) from None


def _strokes(strokes: list) -> list:
    """(P, 2) arrays of validated strokes. The bounds of ``inkmath.limits`` hold per written line here
    (``api.ink_lines``), not for the whole drawing: the schema bounds the strokes and their points each."""
    return [np.array([p[:2] for p in s], dtype=np.float64) for s in strokes]
