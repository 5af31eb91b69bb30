"""The HTTP API and the drawing page: a thin FastAPI edge over ``inkmath.predict`` and ``inkmath.equation``.

    app = create_app(symbol_weights="mnist")          # uvicorn.run(app) or fastapi.testclient.TestClient(app)

Endpoints (JSON in, JSON out; the same JSON as ``inkmath predict --json`` / ``inkmath recognize --json``):
    POST /api/symbol       {"strokes": [[[x, y], ...], ...], "weights"?, "top"?}  or a multipart image upload
    POST /api/expression   {"strokes": ..., "corrections"?: {"2": "\\times"}, "weights"?, "steps"?, "plot"?}  or multipart
    POST /api/solve        {"latex": "2x+1=7", "steps"?: bool, "plot"?: bool} -> {"latex", "mathml", "answer"}
    POST /api/check        {"strokes": ...} | {"lines": [...]} or a photo (multipart "file"): a worked solution
                           checked line by line (``inkmath.web.check``)
    GET  /api/health, GET /api/models, GET /openapi.json, GET / (the page), /sw.js, /manifest.webmanifest, /favicon.ico

Why requests are parsed by hand instead of by FastAPI's body parameters: one route takes either JSON or a
multipart upload, and every malformed request must come back as ``{"error": "..."}`` with a 4xx code. The
pydantic models below still validate the JSON and are written into the OpenAPI schema for both content types.
Nothing from a request is evaluated: strokes become a raster with ``inkmath.ink.rasterize`` (the rasterizer the
CROHME symbols were drawn with), uploads are decoded by ``inkmath.data.images.decode_image`` (which checks the
header's pixel count before decoding), and weights are chosen by name from a fixed list, never by path.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from inkmath.errors import InkmathError, __version__
from inkmath.gcutil import collector_paused, freeze_startup_heap
from inkmath.web.check import add_check_routes
from inkmath.web.work import (  # noqa: F401 (check_corrections, predict_symbol: part of the API's interface)
    ModelStore, RecognitionPool, RequestError, _preload, check_corrections, expression_work, mathml_of,
    page_expression_work, page_work, predict_symbol,
)
from inkmath.web.schemas import (  # noqa: F401 (the limits are part of this module's interface too)
    MAX_BODY_BYTES, MAX_COORD, MAX_IMAGE_PIXELS, MAX_PAGE_BODY_BYTES, MAX_PAGE_PIXELS, MAX_POINTS, MAX_POINTS_PER_STROKE, MAX_STROKES,
    MAX_TOP, PAGE_CONCURRENCY, CheckRequest, Corrections, ErrorResponse, ExpressionRequest, ExpressionResponse, HealthResponse,
    ImageUpload, ModelsResponse, PageExpressionRequest, PageExpressionResponse, PageResponse, PageUpload, SolveError,
    SolveRequest, SolveResponse, SymbolRequest, SymbolResponse,
)

STATIC_DIR = Path(__file__).with_name("static")
CONFIG_ENV = "INKMATH_SERVE_CONFIG"  # create_app's keyword arguments as JSON, for `inkmath serve --workers N`


def _validation_message(err: ValidationError) -> str:
    parts = []
    for e in err.errors()[:5]:
        where = ".".join(str(p) for p in e.get("loc", ())) or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    more = f" (and {err.error_count() - 5} more)" if err.error_count() > 5 else ""
    return "Invalid request: " + "; ".join(parts) + more


# ------------------------------------------------------------------------------------------------ request parsing
STROKES_EXAMPLE = '{"strokes": [[[x, y], ...], ...]}'


async def read_input(request: Request, model: type[BaseModel],
                     example: str = STROKES_EXAMPLE) -> tuple[BaseModel | None, dict]:
    """(validated JSON body, {}) or (None, {"image": array, "file": name, form fields}) from a request; ``example``:
    the JSON body the error messages suggest."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        body = await request.body()
        if not body.strip():
            raise RequestError(400, f"Empty request body; send JSON {example}")
        try:
            with collector_paused():  # thousands of point lists, none of them garbage (see inkmath.gcutil)
                return model.model_validate_json(body), {}
        except ValidationError as e:
            bad_json = [err for err in e.errors() if err.get("type") == "json_invalid"]
            if bad_json:  # not JSON at all (pydantic parses and validates in one pass)
                raise RequestError(400, f"Malformed JSON ({bad_json[0].get('msg')}); send {example}") from None
            raise RequestError(422, _validation_message(e)) from None
    if ctype == "multipart/form-data":
        return None, await _read_upload(request)
    raise RequestError(415, f"Unsupported content type {ctype or '(none)'!r}; send application/json strokes or "
                            "a multipart/form-data image upload (field 'image')")


async def _read_form(request: Request, field: str, what: str, text_fields: tuple[str, ...]):
    """(the upload in ``field``, its text fields) of a multipart form of one file; ``what`` names the file for the
    error messages."""
    from starlette.datastructures import UploadFile
    from starlette.exceptions import HTTPException
    from starlette.formparsers import MultiPartException

    try:
        form = await request.form(max_files=1, max_fields=len(text_fields) + 2, max_part_size=64 * 1024)
    except (MultiPartException, HTTPException, ValueError, KeyError) as e:
        detail = getattr(e, "detail", None) or getattr(e, "message", None) or str(e)
        raise RequestError(400, f"Malformed multipart form ({str(detail)[:200]}); send one {what} in the field "
                                f"'{field}'") from None
    upload = form.get(field)
    if not isinstance(upload, UploadFile):
        raise RequestError(422, f"The multipart form has no file in the field '{field}'; attach {what} there")
    fields: dict[str, Any] = {}
    for key in text_fields:
        value = form.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise RequestError(422, f"Form field {key!r} must be text, not a file")
        fields[key] = value
    return upload, fields


async def _read_upload(request: Request) -> dict:
    from inkmath.data.images import decode_image

    upload, fields = await _read_form(request, "image", "a PNG or JPEG image",
                                      ("weights", "ink", "corrections", "top", "solve", "steps", "plot"))
    data = await upload.read()
    name = Path(upload.filename or "upload").name[:120] or "upload"
    try:
        image = decode_image(data, name, max_pixels=MAX_IMAGE_PIXELS)
    except InkmathError as e:
        raise RequestError(422, str(e)) from None
    return {"image": image, "file": name, **fields}


async def _read_page_upload(request: Request) -> tuple[bytes, str, dict]:
    """(the photo's bytes, its file name, text fields) from a page upload; the photo is decoded by the page reader
    (which needs its colours and EXIF orientation), bounded by ``MAX_PAGE_PIXELS``."""
    upload, fields = await _read_form(request, "file", "a JPEG or PNG photo of the page", ("weights", "solve"))
    data = await upload.read()
    if not data:
        raise RequestError(422, "The uploaded photo is empty (0 bytes)")
    name = Path(upload.filename or "page").name[:120] or "page"
    return data, name, fields


def _form_options(fields: dict) -> dict:
    """Typed options from multipart text fields (validated like the JSON body's)."""
    out: dict[str, Any] = {"weights": fields.get("weights") or None, "ink": fields.get("ink", "auto")}
    if out["ink"] not in ("auto", "white", "black"):
        raise RequestError(422, f"Form field 'ink' must be auto, white or black, not {out['ink'][:40]!r}")
    if out["weights"] is not None and len(out["weights"]) > 64:
        raise RequestError(422, "Form field 'weights' is too long; use a name from GET /api/models")
    top = fields.get("top", "5")
    if not (top.isascii() and top.isdigit() and 1 <= int(top) <= MAX_TOP):
        raise RequestError(422, f"Form field 'top' must be an integer from 1 to {MAX_TOP}")
    out["top"] = int(top)
    out["solve"] = fields.get("solve", "true").lower() not in ("false", "0", "no")
    out["steps"] = fields.get("steps", "false").lower() in ("true", "1", "yes")
    out["plot"] = fields.get("plot", "false").lower() in ("true", "1", "yes")
    corrections = fields.get("corrections") or "{}"
    from pydantic import TypeAdapter

    try:
        out["corrections"] = TypeAdapter(Corrections).validate_python(json.loads(corrections))
    except ValueError as e:  # json.JSONDecodeError and pydantic's ValidationError are both ValueErrors
        msg = _validation_message(e) if isinstance(e, ValidationError) else f"not JSON ({e})"
        raise RequestError(422, f"Form field 'corrections' must be a JSON object {{index: label}}: {msg}") from None
    return out


def check_strokes(strokes: list) -> list:
    """numpy (P, 2) arrays from validated strokes; bounds the total number of points (``inkmath.limits``, as the
    CLI and the Python API do; the schema bounds the strokes and their points each)."""
    from itertools import chain

    import numpy as np

    from inkmath.limits import check_ink_size

    try:
        check_ink_size(strokes)
    except InkmathError as e:
        raise RequestError(413, str(e)) from None
    out = []
    for s in strokes:
        # The points hold 2 or 3 numbers (validated), so the stroke's numbers count 2n exactly when every point is
        # (x, y) and 3n exactly when every point is (x, y, t). np.fromiter over the flat numbers is about twice as
        # fast as np.array over the nested lists, which first inspects every point's list for its shape.
        n = len(s)
        flat = np.fromiter(chain.from_iterable(s), dtype=np.float64)
        if flat.size == 2 * n:
            out.append(flat.reshape(n, 2))
        elif flat.size == 3 * n:
            out.append(np.ascontiguousarray(flat.reshape(n, 3)[:, :2]))
        else:  # a mix of both
            out.append(np.array([p[:2] for p in s], dtype=np.float64))
    return out


# ------------------------------------------------------------------------------------------------ the app
def create_app(symbol_weights: str | None = None, expression_weights: str | None = None, *, engine: str = "torch",
               threads: int | None = None, max_body_bytes: int = MAX_BODY_BYTES, preload: bool = False,
               pool: int = 0, max_page_body_bytes: int = MAX_PAGE_BODY_BYTES):
    """The FastAPI app. ``symbol_weights`` / ``expression_weights``: shipped names or paths (defaults: the largest
    shipped vocabulary, and the expression reader's own classifier, ``crohme-m``, for expressions when shipped).
    Predictors load on first use, or at start-up with ``preload`` (what ``inkmath serve`` does), which also starts
    the solver's worker processes. ``pool=N`` reads expressions in N processes fed from one queue (see
    ``RecognitionPool``)."""
    from contextlib import asynccontextmanager

    if engine not in ("torch", "onnx", "numpy"):
        raise InkmathError(f"Unknown engine {engine!r}; choose torch, onnx or numpy")
    store = ModelStore(symbol_weights, expression_weights, engine, threads)
    page_slots = asyncio.Semaphore(PAGE_CONCURRENCY)

    if pool < 0:
        raise InkmathError(f"pool must be 0 (read in the server's threads) or a number of processes, got {pool}")
    pool_config = {"symbol_weights": symbol_weights, "expression_weights": expression_weights, "engine": engine,
                   "threads": threads}

    @asynccontextmanager
    async def lifespan(app):
        if preload and not pool:
            await run_in_threadpool(_preload, store)
        if pool:  # this process only checks corrections against the vocabulary; the pool reads and solves
            await run_in_threadpool(store.get, store.expression_default)
            app.state.pool = RecognitionPool(pool, pool_config)
            await run_in_threadpool(app.state.pool.warm)
        if preload or pool:
            freeze_startup_heap()
        try:
            yield
        finally:
            if pool:
                app.state.pool.close()

    app = FastAPI(title="inkmath", version=__version__, lifespan=lifespan,
                  description="Read handwritten mathematics: symbols and expressions to LaTeX, MathML and answers.",
                  docs_url=None, redoc_url=None)  # FastAPI's docs pages load scripts from a CDN; the app works offline
    app.state.models = store
    photo_routes = {"/api/page": max_page_body_bytes, "/api/check": max_page_body_bytes}  # photos of pages
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes, route_limits=photo_routes)
    _add_error_handlers(app)
    _add_info_routes(app, store)
    _add_expression_routes(app, store, pool)
    _add_page_routes(app, store, pool, page_slots)
    add_check_routes(app, lambda name: loaded_predictor(store, name or store.expression_default), read_input,
                     _read_page_upload, ERRORS)
    _add_static_routes(app)
    _add_request_schemas(app)
    return app




ERRORS = {400: {"model": ErrorResponse}, 413: {"model": ErrorResponse}, 415: {"model": ErrorResponse},
          422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}  # the reading routes' documented errors
# an upload route's body: a JSON request (its schema named per route) or an image as multipart/form-data
_BODY_DOC = {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/{model}"}},
    "multipart/form-data": {"schema": {"$ref": "#/components/schemas/ImageUpload"}}}}


def openapi_json_body(model: str) -> dict:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}}}}}


def openapi_body(model: str) -> dict:
    doc = json.loads(json.dumps(_BODY_DOC).replace("{model}", model))
    return {"requestBody": doc}


def loaded_predictor(store: "ModelStore", name: str | None):
    """The predictor ``name`` from ``store``; weights that exist but cannot be loaded are the server's problem (503)."""
    try:
        return store.get(name or "")
    except InkmathError as e:
        raise RequestError(503, f"Weights {name!r} cannot be loaded: {e}") from None


def _add_error_handlers(app) -> None:
    """Every error answers {"error": message} with its status."""
    @app.exception_handler(RequestError)
    async def _request_error(request: Request, exc: RequestError):
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        return JSONResponse({"error": f"Invalid request: {str(exc.errors())[:300]}"}, status_code=422)



def _add_info_routes(app, store: "ModelStore") -> None:
    """GET /api/health and /api/models."""
    @app.get("/api/health", response_model=HealthResponse)
    def health():
        return {"status": "ok", "version": __version__, "engine": store.engine, "loaded": store.loaded()}

    @app.get("/api/models", response_model=ModelsResponse)
    def models():
        rows = []
        for name in store.names():
            card = store.cards[name]
            test = (card.get("metrics") or {}).get("test") or {}
            rows.append({"name": name, "model": card["model"], "classes": card["num_classes"],
                         "preset": card["preset"], "test_top1": test.get("top1")})
        return {"symbol_default": store.symbol_default, "expression_default": store.expression_default,
                "engine": store.engine, "weights": rows}



def _add_expression_routes(app, store: "ModelStore", pool: int) -> None:
    """POST /api/symbol, /api/expression (strokes or an image) and /api/solve (typed LaTeX)."""
    errors, _predictor = ERRORS, functools.partial(loaded_predictor, store)

    @app.post("/api/symbol", response_model=SymbolResponse, responses=errors, openapi_extra=openapi_body("SymbolRequest"))
    async def symbol(request: Request):
        """Top-k symbols with LaTeX and MathML for drawn strokes or an uploaded image (`inkmath predict --json`)."""
        body, fields = await read_input(request, SymbolRequest)
        if body is not None:
            weights, top, ink, strokes, image, file = body.weights, body.top, "white", check_strokes(body.strokes), None, None
        else:
            opts = _form_options(fields)
            weights, top, ink, strokes, image, file = opts["weights"], opts["top"], opts["ink"], None, fields["image"], fields["file"]
        name = weights or store.symbol_default
        predictor = _predictor(name)

        def work():
            preds = predict_symbol(predictor, strokes, image, top=top, ink=ink)
            return [dict(p.to_dict(), mathml=mathml_of(p.latex)) for p in preds]

        try:
            preds = await run_in_threadpool(work)
        except InkmathError as e:
            raise RequestError(422, str(e)) from None
        return {"file": file, "weights": name, "predictions": preds}

    @app.post("/api/expression", response_model=ExpressionResponse, responses=errors,
              openapi_extra=openapi_body("ExpressionRequest"))
    async def expression(request: Request):
        """LaTeX, MathML, the answer and each symbol's box and alternatives (`inkmath recognize --json`)."""
        body, fields = await read_input(request, ExpressionRequest)
        if body is not None:
            weights, corrections, solve, file = body.weights, body.corrections, body.solve, None
            strokes, image, ink = check_strokes(body.strokes), None, "auto"
            steps, plot = body.steps, body.plot
        else:
            opts = _form_options(fields)
            weights, corrections, solve, file = opts["weights"], opts["corrections"], opts["solve"], fields["file"]
            strokes, image, ink = None, fields["image"], opts["ink"]
            steps, plot = opts["steps"], opts["plot"]
        name = weights or store.expression_default
        predictor = _predictor(name)
        fixes = check_corrections(corrections, predictor)

        try:
            if pool:
                content = await app.state.pool.expression(name, strokes, image, ink, solve, fixes, file, steps,
                                                          plot)
            else:
                content = await run_in_threadpool(expression_work, predictor, name, strokes, image, ink, solve, fixes,
                                                  file, steps, plot)
        except InkmathError as e:
            raise RequestError(422, str(e)) from None
        return Response(content, media_type="application/json")  # validated JSON already (expression_work)

    @app.post("/api/solve", response_model=SolveResponse, openapi_extra=openapi_json_body("SolveRequest"),
              responses={400: {"model": ErrorResponse}, 415: {"model": ErrorResponse}, 422: {"model": SolveError}})
    async def solve_typed(request: Request):
        """Typed LaTeX -> LaTeX, MathML and the answer (`inkmath solve --json`); malformed LaTeX -> 422 with
        {"detail": "... at position N"}."""
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if ctype != "application/json":
                raise RequestError(415, f"Unsupported content type {ctype or '(none)'!r}; send application/json "
                                        '{"latex": "2x+1=7", "steps": true, "plot": true}')
            body, _ = await read_input(request, SolveRequest, '{"latex": "2x+1=7"}')
        except RequestError as e:
            return JSONResponse({"detail": e.message, "error": e.message}, status_code=e.status)
        from inkmath.equation.solve.typed import solve_latex

        try:
            result = await run_in_threadpool(solve_latex, body.latex, steps=body.steps, plot=body.plot)
        except InkmathError as e:
            return JSONResponse({"detail": str(e), "error": str(e)}, status_code=422)
        return SolveResponse.model_validate(result)



def _add_page_routes(app, store: "ModelStore", pool: int, page_slots: asyncio.Semaphore) -> None:
    """POST /api/page (a page photo) and /api/page/expression (one of its expressions read again, corrected)."""
    errors, _predictor = ERRORS, functools.partial(loaded_predictor, store)

    @app.post("/api/page", response_model=PageResponse, responses=errors,
              openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
                  "schema": {"$ref": "#/components/schemas/PageUpload"}}}}})
    async def page(request: Request):
        """Every expression on a page photo, in reading order, each with its box in the photo's pixels, LaTeX,
        MathML, answer and symbols (`inkmath recognize --page --json`)."""
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "multipart/form-data":
            raise RequestError(415, f"Unsupported content type {ctype or '(none)'!r}; send the page photo as a "
                                    "multipart/form-data upload in the field 'file'")
        data, file, fields = await _read_page_upload(request)
        weights = fields.get("weights") or None
        if weights is not None and len(weights) > 64:
            raise RequestError(422, "Form field 'weights' is too long; use a name from GET /api/models")
        solve = fields.get("solve", "true").lower() not in ("false", "0", "no")
        name = weights or store.expression_default
        predictor = _predictor(name)
        try:
            if pool:
                content = await app.state.pool.page(name, data, file, solve)
            else:
                async with page_slots:  # a page is many expressions: at most PAGE_CONCURRENCY at once
                    content = await run_in_threadpool(page_work, predictor, name, data, file, solve)
        except InkmathError as e:
            raise RequestError(422, str(e)) from None
        return Response(content, media_type="application/json")

    @app.post("/api/page/expression", response_model=PageExpressionResponse, responses=errors,
              openapi_extra=openapi_json_body("PageExpressionRequest"))
    async def page_expression(request: Request):
        """One expression of a page read again from its `crop` (as `POST /api/page` returned it) with the user's
        corrections of its symbols: the rest is decoded again in their light. Boxes are in the photo's pixels."""
        import base64
        import binascii

        example = '{"crop": <an expression\'s crop from POST /api/page>, "corrections": {"0": "x"}}'
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise RequestError(415, f"Unsupported content type {ctype or '(none)'!r}; send application/json {example}")
        body, _ = await read_input(request, PageExpressionRequest, example)
        try:
            png = base64.b64decode(body.crop.png, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(422, "crop.png is not base64; send the crop POST /api/page returned") from None
        name = body.weights or store.expression_default
        predictor = _predictor(name)
        fixes = check_corrections(body.corrections, predictor)
        crop = body.crop.model_dump()
        try:
            if pool:
                content = await app.state.pool.page_expression(name, png, crop, body.solve, fixes)
            else:
                content = await run_in_threadpool(page_expression_work, predictor, name, png, crop, body.solve,
                                                  fixes)
        except InkmathError as e:
            raise RequestError(422, str(e)) from None
        return Response(content, media_type="application/json")



def _add_static_routes(app) -> None:
    """The page, its service worker, manifest and icon, and /static."""
    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    # The installable web app: the service worker must be served from / to control the page; the browser asks for
    # /favicon.ico on its own.
    @app.get("/sw.js", include_in_schema=False)
    def service_worker():
        return FileResponse(STATIC_DIR / "sw.js", media_type="text/javascript",
                            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"})

    @app.get("/manifest.webmanifest", include_in_schema=False)
    def manifest():
        return FileResponse(STATIC_DIR / "manifest.webmanifest", media_type="application/manifest+json",
                            headers={"Cache-Control": "no-cache"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def app_from_env():
    """The app built from ``$INKMATH_SERVE_CONFIG`` (uvicorn's factory for worker processes)."""
    return create_app(**json.loads(os.environ.get(CONFIG_ENV) or "{}"))


def _add_request_schemas(app) -> None:
    """Put the request models (which FastAPI does not see: the routes parse bodies themselves) into the schema."""
    from fastapi.openapi.utils import get_openapi
    from pydantic.json_schema import models_json_schema

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        _, defs = models_json_schema([(m, "validation") for m in (SymbolRequest, ExpressionRequest, ImageUpload,
                                                                   PageUpload, SolveRequest, PageExpressionRequest,
                                                                   CheckRequest)],
                                     ref_template="#/components/schemas/{model}")
        schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


class BodyLimitMiddleware:
    """Reject request bodies over ``max_bytes`` (or the route's own limit in ``route_limits``, by path) with a JSON
    413 before any route reads them (pure ASGI).

    FastAPI's own ``max_body_size`` answers a too-large Content-Length in plain text; the page and API clients
    expect ``{"error": ...}`` everywhere, so the body is counted here (declared length first, then the bytes that
    actually arrive, for chunked uploads) and buffered for the route.
    """

    def __init__(self, app, max_bytes: int, route_limits: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.route_limits = dict(route_limits or {})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit = self.route_limits.get(path, self.max_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await self._reject(send, path, limit, int(declared) if declared.isdigit() else None)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await self._reject(send, path, limit, None)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    @staticmethod
    def message(path: str, limit: int, size: int | None) -> str:
        """The 413's one line: what was sent, the limit, what to do."""
        # size None: a chunked body, refused as soon as it passed the limit
        sent = f"{size / 2**20:.1f} MB" if size is not None else f"over {limit / 2**20:.1f} MB"
        if path == "/api/page":
            return (f"The page photo is too large ({sent}; POST /api/page takes at most {limit / 2**20:.0f} MB): "
                    "send it as a JPEG of at most 24 megapixels, or scale it down")
        return f"Request body too large ({sent}; limit {limit:,} bytes); send fewer points or a smaller image"

    async def _reject(self, send, path: str, limit: int, size: int | None):
        msg = json.dumps({"error": self.message(path, limit, size)}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(msg)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": msg})
