"""The reading behind the HTTP API: the models shared by all requests, the work one request asks for, and the
recognition pool that runs that work in other processes (``inkmath serve --pool N``). ``app.py`` parses and checks
requests and routes them here; nothing here knows about HTTP except the client errors it raises (``RequestError``).
"""

from __future__ import annotations

import asyncio
import threading
from functools import lru_cache
from typing import Any

from inkmath.errors import InkmathError
from inkmath.gcutil import freeze_startup_heap
from inkmath.web.schemas import (MAX_CROP_PIXELS, MAX_PAGE_PIXELS, ExpressionResponse, PageExpressionResponse,
                                 PageResponse)


class RequestError(Exception):
    """A client error: becomes ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class ModelStore:
    """Predictors loaded once per (weights name, engine) and shared by all requests (lock-protected loading)."""

    def __init__(self, symbol_weights: str | None, expression_weights: str | None, engine: str,
                 threads: int | None = None):
        from inkmath.weights import default_name, list_shipped, resolve_weights

        self.engine = engine
        self.threads = threads
        self.paths: dict[str, str] = {name: name for name in list_shipped()}
        self.cards: dict[str, dict] = dict(list_shipped())

        def add(spec: str | None) -> str | None:
            if spec is None:
                return None
            if spec in self.paths:  # a shipped name
                return spec
            path, card = resolve_weights(spec)  # raises InkmathError for unknown names or missing files
            name = card.get("name") or path.stem
            self.paths[name] = str(path)  # a path given by the operator is offered under its card's name
            self.cards[name] = card
            return name

        self.symbol_default = add(symbol_weights) or default_name()
        from inkmath.equation.recognize import DEFAULT_WEIGHTS

        self.expression_default = add(expression_weights) or (
            DEFAULT_WEIGHTS if DEFAULT_WEIGHTS in self.paths else self.symbol_default)
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return sorted(self.paths)

    def get(self, name: str):
        if name not in self.paths:
            raise RequestError(422, f"Unknown weights {name!r}; choose one of: {', '.join(self.names())}")
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = self._load(self.paths[name])
            return self._loaded[name]

    def _load(self, spec: str):
        from inkmath.predict import Predictor

        if self.engine == "torch" and self.threads:
            import torch

            torch.set_num_threads(self.threads)  # one thread per request: 2 cores serve 2 requests at once
        return Predictor.load(spec, engine=self.engine, threads=self.threads)

    def loaded(self) -> list[str]:
        return sorted(self._loaded)


def predict_symbol(predictor, strokes=None, image=None, *, top: int = 5, ink: str = "auto") -> list:
    """Top-k predictions for strokes (rasterised by inkmath.ink) or an uploaded image."""
    if strokes is not None:
        from inkmath.ink import rasterize

        image, _ = rasterize(strokes)  # canonical scale and pen, as the CROHME training symbols
        ink = "white"
    return predictor.predict([image], ink=ink, top=top)[0]


@lru_cache(maxsize=4096)
def mathml_of(latex: str) -> str:
    """MathML of one symbol's LaTeX; cached because vocabularies are small and requests repeat the same labels."""
    from inkmath.equation.core.latex import to_mathml

    return to_mathml(latex)


@lru_cache(maxsize=4096)
def label_latex(token: str) -> str:
    from inkmath.equation.core.latex import to_latex
    from inkmath.equation.core.tree import Symbol

    return to_latex(Symbol(token))


def with_alternative_mathml(result: dict) -> dict:
    """Add LaTeX and MathML to every alternative, so the page can show what each choice would look like."""
    for sym in result["symbols"]:
        for alt in sym["alternatives"]:
            alt["latex"] = label_latex(alt["label"])
            alt["mathml"] = mathml_of(alt["latex"])
    return result


def check_corrections(corrections: dict[str, str], predictor) -> dict[int, str]:
    """{index: token}; a token must be one the classifier can emit (no free text reaches the parser)."""
    if not corrections:
        return {}
    from inkmath.equation.reader.symbols import TOKEN_FIX

    known = set(predictor.vocab.names) | {TOKEN_FIX.get(n, n) for n in predictor.vocab.names}
    out = {}
    for k, label in corrections.items():
        if label not in known:
            raise RequestError(422, f"Correction {label[:40]!r} for symbol {k} is not a label of the weights "
                                    f"{predictor.card.get('name')!r}; pick one of the symbol's alternatives")
        out[int(k)] = TOKEN_FIX.get(label, label)
    return out


def expression_work(predictor, name: str, strokes, image, ink: str, solve: bool, fixes: dict, file,
                    steps: bool = False, plot: bool = False) -> bytes:
    """The expression route's work: read the input, answer it, add the alternatives' MathML; the response's JSON.

    The JSON is made here, checked against ``ExpressionResponse``: a recognition pool process then passes back a
    string of bytes (cheaper between processes than the nested dict), and the HTTP process neither validates nor
    encodes the result again.
    """
    from inkmath.equation.recognize import recognize_image, recognize_strokes, to_dict

    if strokes is not None:
        rec = recognize_strokes(strokes, predictor, solve=solve, corrections=fixes or None, steps=steps, plot=plot)
    else:
        rec = recognize_image(image, predictor, solve=solve, corrections=fixes or None, ink=ink, steps=steps,
                              plot=plot)
    result = with_alternative_mathml(dict(to_dict(rec, file), weights=name))
    result["page_like"] = image is not None and ink == "auto" and looks_like_a_page(image, rec)
    return ExpressionResponse.model_validate(result).model_dump_json().encode()


def looks_like_a_page(image, rec) -> bool:
    """Whether an uploaded image read as one expression is better read as a page (``photo.views.looks_like_page``),
    looked at only when its reading is unsure (``recognize.PHOTO_SURE``): a page read as one expression always is,
    and a sure reading is not slowed by a second clean-up."""
    from inkmath.equation.photo.views import looks_like_page
    from inkmath.equation.recognize import PHOTO_SURE

    return rec.confidence < PHOTO_SURE and looks_like_page(image)


def page_work(predictor, name: str, data: bytes, file: str, solve: bool) -> bytes:
    """The page route's work: clean the photo, find and read every expression; the response's JSON."""
    from inkmath.equation.page.read import read_page

    reading = read_page(data, predictor, solve=solve, max_pixels=MAX_PAGE_PIXELS, name=file)
    result = dict(reading.to_dict(file), weights=name)
    for expr, out in zip(reading.expressions, result["expressions"]):
        with_alternative_mathml(out)
        out["crop"] = expr.crop_dict()
    return PageResponse.model_validate(result).model_dump_json().encode()


def page_expression_work(predictor, name: str, png: bytes, crop: dict, solve: bool, fixes: dict) -> bytes:
    """The page expression route's work: read a page expression's crop again with the user's corrections."""
    import numpy as np

    from inkmath.equation.page.read import PageCrop, read_again
    from inkmath.imageio import decode_image

    image = decode_image(png, "crop", MAX_CROP_PIXELS)
    matrix = np.array(crop["to_photo"], np.float64)
    if not np.isfinite(np.linalg.cond(matrix)) or abs(np.linalg.det(matrix)) < 1e-12:
        raise InkmathError("crop.to_photo is not an invertible 3x3 map; send the crop the page reading returned")
    expr = read_again(PageCrop(image, matrix, tuple(crop["photo_size"])), fixes or None, predictor, solve=solve)
    result = with_alternative_mathml(dict(expr.to_dict(), weights=name, crop=crop))
    return PageExpressionResponse.model_validate(result).model_dump_json().encode()


# A recognition pool process's own models (``inkmath serve --pool N``): built once by ``_pool_init``.
_POOL_STORE: "ModelStore | None" = None


def _pool_init(config: dict) -> None:
    global _POOL_STORE
    _POOL_STORE = ModelStore(config.get("symbol_weights"), config.get("expression_weights"), config["engine"],
                             config.get("threads"))
    _preload(_POOL_STORE)
    freeze_startup_heap()


def _pool_expression(name: str, *args) -> bytes:
    return expression_work(_POOL_STORE.get(name), name, *args)


def _pool_page(name: str, *args) -> bytes:
    return page_work(_POOL_STORE.get(name), name, *args)


def _pool_page_expression(name: str, *args) -> bytes:
    return page_expression_work(_POOL_STORE.get(name), name, *args)


class RecognitionPool:
    """N processes that read expressions, fed from one queue (``inkmath serve --pool N``).

    Why: uvicorn's worker processes each keep their own keep-alive connections, so with a few busy clients one
    process can hold more of them than another and its requests wait longer; and inside a process, concurrent
    requests share one GIL. One queue in front of N single-request processes gives each request the next free
    process, first come first served. The HTTP process only parses, validates and serialises.
    """

    def __init__(self, size: int, config: dict):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.size = size
        self.executor = ProcessPoolExecutor(size, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_pool_init, initargs=(config,))

    def warm(self) -> None:
        """Start every process and wait until its models are loaded."""
        import time

        futures = [self.executor.submit(time.sleep, 0.2) for _ in range(self.size * 2)]
        for f in futures:
            f.result()

    async def expression(self, *args) -> bytes:
        import asyncio

        return await asyncio.get_running_loop().run_in_executor(self.executor, _pool_expression, *args)

    async def page(self, *args) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self.executor, _pool_page, *args)

    async def page_expression(self, *args) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self.executor, _pool_page_expression, *args)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def _preload(store: "ModelStore") -> None:
    """Load the default predictors and start the solver's worker processes, so no request pays for them."""
    store.get(store.expression_default)
    store.get(store.symbol_default)
    from inkmath.equation.solve.answer import start_workers

    start_workers()
