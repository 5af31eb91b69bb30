"""The recognition pipeline: strokes or an image -> symbols -> expression tree -> LaTeX, MathML and an answer.

    rec = recognize_strokes(strokes)            # list of (P, 2) arrays, y down (canvas, InkML)
    rec = recognize_image(np.asarray(Image.open("photo.jpg")))
    rec.latex, rec.answer["text"], rec.symbols[2].candidates
    rec2 = recognize_with_corrections(strokes, {2: "\\times"})   # the user picked another reading for symbol 2
    to_json(rec, file="photo.jpg")

The classifier loads once per process (``get_predictor``); callers with their own ``Predictor`` pass it in.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.reader.decode import Decoder, DecoderWeights, Segmentation, alternatives
from inkmath.equation.core.defaults import DEFAULT_WEIGHTS
from inkmath.equation.core.tree import Box, Candidate, Node, SymbolHyp
from inkmath.equation import second_look as rendered
from inkmath.equation.core.latex import to_latex, to_mathml
from inkmath.equation.core.tree import Symbol
from inkmath.equation.image.segmentation import segment_image_nbest
from inkmath.equation.reader import pen_symbols
from inkmath.equation.reader.calibrate import photo_confidence
from inkmath.equation.reader.context_model import shared_geometry
from inkmath.equation.reader.symbols import get_context_model, read_symbols_many
from inkmath.equation.strokes import parts
from inkmath.equation.strokes.segment import segment_strokes_nbest
from inkmath.imageio import as_image

_DECODERS: dict[str, Decoder] = {}
# the decoder's weights (DECODER_WEIGHTS below), chosen by benchmarks/decoder_val.py --grid; strokes parse only readings
# within STROKE_MAX_DROP of the best (4 vs 5: 1,015 right, 0.9x CPU) (docs/decisions/decoder-and-language-model.md)
STROKE_MAX_DROP = 4.0
# a photo of one expression is read first from its ink; the photo as it is and its cleaned ink are read too only under
# this confidence, a speed choice (600 of 1,086 right at 0.5 and always) (docs/decisions/photo-expressions.md)
PHOTO_SURE = 0.5
# weight of the language model's long-range terms (case, brackets, bars in pairs), their face value: validation from
# strokes / images 1,026 / 877 without, 1,041 / 888 with (docs/decisions/decoder-and-language-model.md)
LONG_RANGE_WEIGHT = 1.0
DECODER_WEIGHTS = DecoderWeights(symbol=1.0, lm=0.2, segment=1.0, structure=0.5, temperature=0.5, length=0.3,
                                 beam=8, max_drop=STROKE_MAX_DROP, offered_layouts=1, per_symbol=4,
                                 long_range=LONG_RANGE_WEIGHT)
# alt_beam: readings of each image grouping after the first, with image_segmentation.IMAGE_SEGMENTATIONS (measured
# together there: 1 -> 2 with 3 -> 5 groupings, 888 -> 902 of the 1,504 WAP-like validation renderings)
IMAGE_DECODER_WEIGHTS = DecoderWeights(symbol=1.0, lm=0.2, segment=1.0, structure=0.5, temperature=0.5, length=0.3,
                                       beam=4, alt_beam=2, max_drop=5.0, long_range=LONG_RANGE_WEIGHT)
# the page reader's crops get a wider search (beam 8 + 2, max_drop 4) and PAGE_SEGMENTATIONS groupings a crop, chosen
# on generated validation pages (docs/decisions/page-reading.md)
PAGE_DECODER_WEIGHTS = dataclasses.replace(IMAGE_DECODER_WEIGHTS, beam=8, alt_beam=2, max_drop=4.0)
PAGE_SEGMENTATIONS = 4
# the segmenter's k best groupings read by the decoder: 1,102 of the 1,504 validation expressions right with 5 against
# 1,097 with 3, 1.06x the CPU (docs/decisions/stroke-grouping.md)
STROKE_SEGMENTATIONS = 5


@dataclass
class Recognition:
    latex: str
    mathml: str
    answer: dict
    symbols: list[SymbolHyp]
    tree: Node
    tokens: list[str] = field(default_factory=list)  # the reading chosen per symbol (after context fixes)
    confidence: float = 0.0  # estimated probability that ``latex`` is the right reading
    # up to 5 {"latex", "confidence", "tokens", "symbols"}, best first: each reading's token of each of its symbols,
    # and those symbols (``symbols`` itself when the reading groups the ink as the first does, else another grouping)
    alternatives: list[dict] = field(default_factory=list)


def get_predictor(weights: str | None = None):
    """The symbol classifier, loaded once per weights name (module-level cache: the web app calls this per request)."""
    from inkmath.predict import load_predictor

    return load_predictor(weights or DEFAULT_WEIGHTS)


def reader_pen(predictor, name: str | None = None):
    """The pen model (``pen_symbols``) read beside ``predictor`` on drawn ink: ``name`` ("none": no pen model), or
    by default the shipped one when ``predictor`` is the reader's own classifier (``DEFAULT_WEIGHTS``), and None
    with other weights, whose classes it may not share."""
    card = getattr(predictor, "card", None) or {}
    if name is None:
        if card.get("name") != DEFAULT_WEIGHTS or not pen_symbols.is_shipped():
            return None
        name = pen_symbols.PEN_MODEL
    if name == "none":
        return None
    pen = pen_symbols.load_pen_model(name)
    if tuple(pen.classes) != tuple(predictor.vocab.names):
        raise InkmathError(f"The pen model {name} reads other classes than the classifier {card.get('name')}; "
                           f"choose a pen model trained on its classes, or --pen none")
    return pen


@dataclass(frozen=True)
class ContextCandidates:
    """The symbol model in context learnt from data: each symbol re-read by the shipped ``symbol-context`` models
    (``symbols.read_symbols``; ``image``: the image reader's, ``symbols.IMAGE_CONTEXT_MODELS``); a candidate's
    probability keeps the model's junk share out, so a grouping whose symbols look mis-segmented scores lower.
    ``many``: the decoder's groupings at once (``symbols.read_symbols_many``: one run of the models). ``name``:
    other context models instead (``symbols.get_context_model``'s: a name, a path, or several comma-separated)."""

    image: bool = False
    name: str | None = None

    def __call__(self, symbols: list[SymbolHyp]) -> list[list[Candidate]]:
        return self.many([symbols])[0]

    def many(self, groupings: list[list[SymbolHyp]]) -> list[list[list[Candidate]]]:
        return [r.candidates for r in read_symbols_many(groupings, get_context_model(self.name, self.image),
                                                        image=self.image)]


model_candidates = ContextCandidates()
image_model_candidates = ContextCandidates(image=True)  # the image reader's


def default_decoder(kind: str = "strokes") -> Decoder:
    """The shipped reader of ``kind`` ("strokes", "image", or "page": the image reader's models for a page's crops):
    ``model_candidates``, ``parse_scored`` (the layout with the structure model's score; the first reading read again
    by ``chosen_parse``), the ``latex-lm`` language model and the calibration, with the weights chosen on validation
    (``DECODER_WEIGHTS``, ``IMAGE_DECODER_WEIGHTS``, ``PAGE_DECODER_WEIGHTS``)."""
    if kind not in _DECODERS:
        from inkmath.equation.reader.calibrate import calibrated_confidence
        from inkmath.equation.reader.latex_lm import load_latex_lm
        from inkmath.equation.reader.parse import chosen_parse, other_layout, parse_scored

        from inkmath.equation.image.segmentation import IMAGE_SEGMENTATIONS

        search = {"strokes": (DECODER_WEIGHTS, STROKE_SEGMENTATIONS),
                  "image": (IMAGE_DECODER_WEIGHTS, IMAGE_SEGMENTATIONS),
                  "page": (PAGE_DECODER_WEIGHTS, PAGE_SEGMENTATIONS)}.get(kind)
        if search is None:
            raise InkmathError(f"No reader of kind {kind!r}; use 'strokes', 'image' or 'page'")
        weights, segmentations = search
        image = kind != "strokes"
        _DECODERS[kind] = Decoder(structure=parse_scored, symbol_model=image_model_candidates if image else
                                  model_candidates, lm=load_latex_lm(),
                                  alternative_layout=other_layout if weights.offered_layouts else None,
                                  final_layout=chosen_parse, weights=weights,
                                  calibrate=functools.partial(calibrated_confidence, image=image),
                                  segmentations=segmentations)
    return _DECODERS[kind]


def _finish(segs: list[Segmentation], corrections: dict[int, str] | None, solve: bool,
            decoder: Decoder, steps: bool = False, plot: bool = False, look_again=None,
            readings: list | None = None) -> Recognition:
    """Decode ``segs`` (``readings``: the decoder's readings of them, when already made) and make the recognition.
    ``look_again(first symbols) -> rendered.SecondLook | None``: a second reader's look at the same input, pooled with
    the readings when the first is unsure (``rendered``)."""
    if readings is None:
        readings = _decoded(segs, decoder)
    look, own = None, len(segs)
    if look_again is not None and readings and readings[0].confidence < rendered.GATE:
        look = look_again(segs[readings[0].segmentation].symbols)
        if look is not None:
            readings, segs = rendered.pooled(readings, segs, look)
    if corrections:
        # indices name the symbols of the reading the user saw: decode again on that segmentation, with the
        # corrected symbols fixed and the rest read in their light (by the reader that found that reading)
        seg = segs[readings[0].segmentation]
        fixed = {int(k): str(tok) for k, tok in corrections.items()}
        pixels = None if look is None or readings[0].segmentation < own else \
            look.pixel_segs[readings[0].segmentation - own]
        segs = [seg]
        with shared_geometry():  # ``fixed`` is checked: every index must name a symbol
            readings = decoder(segs, fixed=fixed) if pixels is None else look.decoder([pixels], fixed=fixed)
        for k, tok in fixed.items():
            # the corrected reading becomes the symbol's first candidate, so the JSON and a re-read agree
            h = seg.symbols[k]
            h.candidates = [Candidate(tok, 1.0)] + [c for c in h.candidates if c.token != tok]
    best = readings[0]
    symbols = segs[best.segmentation].symbols
    ans: dict = {}
    if solve:
        from inkmath.equation.solve.answer import answer

        ans = answer(best.tree, steps=steps, plot=plot)
    alts = alternatives(readings, 5)
    for a in alts:  # the symbols each reading's tokens read: its own grouping's
        a["symbols"] = segs[a.pop("segmentation")].symbols
    return Recognition(best.latex, to_mathml(best.tree), ans, symbols, best.tree, list(best.tokens),
                       float(best.confidence), alts)


def recognize_strokes(strokes: Sequence, predictor=None, *, solve: bool = True, weights: str | None = None,
                      corrections: dict[int, str] | None = None, decoder: Decoder | None = None,
                      steps: bool = False, plot: bool = False, rendering: bool = True,
                      merge_model: str | None = None, image_decoder: Decoder | None = None) -> Recognition:
    """Read online ink: a list of strokes, each an array (P, 2+) of x, y points in writing order (y down).
    `steps` / `plot` add a worked solution and a graph (SVG) to the answer (see `inkmath.equation.solve.answer.answer`).
    `rendering`: with the reader's own classifier, an unsure reading is checked against the image reader's reading
    of the ink drawn (``rendered``, with ``image_decoder``: default the shipped image reader's); False reads the
    strokes alone. ``merge_model``: the stroke-merge weights the groupings read (a shipped name or a path; default
    the shipped ones). A drawing of more than ``parts.LONG_DRAWING`` strokes is read as its parts (``_read_parts``)."""
    if strokes is None or len(strokes) == 0:
        raise InkmathError("No strokes to recognise: the drawing is empty")
    predictor = predictor or get_predictor(weights)
    decoder = decoder or default_decoder()
    lines = parts.cut_parts(strokes)
    if sum(len(line) for line in lines) > 1:
        return _read_parts(strokes, lines, predictor, decoder, corrections, solve, steps, plot, merge_model)
    return _read_one(strokes, predictor, decoder, corrections, solve, steps, plot, rendering, merge_model,
                     image_decoder)


def _read_one(strokes: Sequence, predictor, decoder: Decoder, corrections: dict[int, str] | None, solve: bool,
              steps: bool, plot: bool, rendering: bool, merge_model: str | None,
              image_decoder: Decoder | None) -> Recognition:
    """``recognize_strokes`` of a drawing read as one expression."""
    found = segment_strokes_nbest(strokes, predictor, decoder.segmentations, merge_model=merge_model,
                                  pen=reader_pen(predictor))
    look_again = None
    if rendering and (getattr(predictor, "card", None) or {}).get("name") == DEFAULT_WEIGHTS:
        from inkmath.equation.second_look import second_look

        look_again = functools.partial(second_look, strokes, predictor=predictor,
                                       image_decoder=functools.partial(default_decoder, "image")
                                       if image_decoder is None else lambda: image_decoder,
                                       image_groupings=image_segmentations)
    return _finish([Segmentation(syms, score) for syms, score in found], corrections, solve, decoder, steps, plot,
                   look_again)


def _read_parts(strokes: Sequence, lines: list[list[list[int]]], predictor, decoder: Decoder,
                corrections: dict[int, str] | None, solve: bool, steps: bool, plot: bool,
                merge_model: str | None) -> Recognition:
    """A long drawing read as its parts (``parts.cut_parts``: lines top to bottom, each its parts left to right), each
    from its strokes alone (the second look is one expression's: on parts of random strokes it cost 4-5x the stroke
    reader) and from at most ``parts.PART_GROUPINGS`` groupings, and joined (``parts.joined``). ``corrections`` name
    the joined reading's symbols: a part holding one is read again with its own."""
    narrower = dataclasses.replace(decoder, segmentations=min(decoder.segmentations, parts.PART_GROUPINGS))

    def read(members: list[int], fixed: dict[int, str] | None) -> Recognition:
        own = [strokes[i] for i in members]
        return _read_one(own, predictor, narrower, fixed, False, False, False, False, merge_model, None)

    read_lines = [[read(members, None) for members in line] for line in lines]
    if corrections:
        read_lines = parts.corrected(read_lines, lines, corrections, read)
    rec = parts.joined(read_lines, lines)
    if solve:
        from inkmath.equation.solve.answer import answer

        rec.answer = answer(rec.tree, steps=steps, plot=plot)
    return rec


def recognize_image(image: np.ndarray, predictor=None, *, solve: bool = True, weights: str | None = None,
                    corrections: dict[int, str] | None = None, ink: str = "auto",
                    decoder: Decoder | None = None, steps: bool = False, plot: bool = False,
                    image_merge: str | None = None) -> Recognition:
    """Read an image: white ink on black (WAP, rendered strokes) or dark ink on light paper (photos, scans).

    A photo (``preprocess.is_photo``, with ``ink="auto"``) is cleaned as a page photo is (``page.photo_views``: light
    flattened, ruled and squared lines removed, deskewed) and its ink read as the page reader reads a line's; when
    that reading is unsure (``PHOTO_SURE``), the photo as it is and its cleaned ink unnarrowed are read too, and the
    reading of highest confidence is kept (where the cleaner finds no paper, the photo is read as it is). The
    symbols' boxes are in the photo's pixels either way. With ``corrections``, the photo is read again the way its
    first reading was. ``image_merge``: the image-merge weights the groupings read (a shipped name or a path; default
    the shipped ones).
    """
    from inkmath.preprocess import is_photo

    img = np.asarray(as_image(image))  # an array, or a file path, image bytes, a PIL image (inkmath.imageio)
    if img.ndim not in (2, 3) or img.size == 0:
        raise InkmathError(f"Expected a grey or colour image, got an array of shape {img.shape}")
    predictor = predictor or get_predictor(weights)
    decoder = decoder or default_decoder("image")
    views = _photo_views(img) if ink == "auto" and is_photo(img) else []
    if not views:
        return _finish(image_segmentations(img, predictor, decoder, ink, image_merge), corrections, solve, decoder,
                       steps, plot)
    best, error = None, None  # (confidence, groupings, readings, the view or None: the photo as it is)
    for view in [views[0], None, *views[1:]]:
        if best is not None and best[0] >= PHOTO_SURE:
            break
        try:
            segs = image_segmentations(img if view is None else view.image, predictor, decoder,
                                       ink if view is None else "white", image_merge)
        except InkmathError as e:
            if view is None:
                error = e  # the photo's own error, raised when no view reads either
            continue
        if segs:
            readings = _decoded(segs, decoder)
            if best is None or _confidence(readings) > best[0]:
                best = (_confidence(readings), segs, readings, view)
    if best is None:
        raise error or InkmathError("No ink found in the photo; photograph the expression on paper, in even light")
    _, segs, readings, view = best
    rec = _photo_calibrated(_finish(segs, corrections, solve, decoder, steps, plot, readings=readings))
    return rec if view is None else _boxes_mapped(rec, view.to_photo, (img.shape[1], img.shape[0]))


def image_segmentations(img: np.ndarray, predictor, decoder: Decoder, ink: str,
                        image_merge: str | None = None) -> list[Segmentation]:
    """The image reader's groupings of ``img`` for ``decoder`` (``image_segmentation.segment_image_nbest``;
    ``image_merge``: its image-merge weights, default the shipped ones)."""
    return [Segmentation(syms, score) for syms, score in segment_image_nbest(img, predictor, decoder.segmentations,
                                                                              ink=ink, image_merge=image_merge)]


def _decoded(segs: list[Segmentation], decoder: Decoder) -> list:
    """The decoder's readings of ``segs``, as ``_finish`` makes them."""
    with shared_geometry():  # the context and structure models read the same groupings' geometry
        return decoder(segs)


def _confidence(readings: list) -> float:
    return readings[0].confidence if readings else 0.0


def _photo_views(photo: np.ndarray) -> list:
    """The ways a photo of one expression is read besides as it is (``page.photo_views``), best first."""
    from inkmath.equation.photo.views import photo_views

    return photo_views(photo)


def _photo_calibrated(rec: Recognition) -> Recognition:
    """``rec`` with its confidence, and its alternatives', as a photo's chosen reading's
    (``calibrate.photo_confidence``: the same order, another scale)."""
    alts = [dict(a, confidence=photo_confidence(a["confidence"])) if "confidence" in a else a for a in rec.alternatives]
    return dataclasses.replace(rec, confidence=photo_confidence(rec.confidence), alternatives=alts)


def _boxes_mapped(rec: Recognition, to_photo: np.ndarray, size: tuple[int, int]) -> Recognition:
    """``rec`` with every symbol's box (its own and its alternatives') mapped by ``to_photo`` into the photo."""
    from inkmath.equation.photo.clean import map_box

    new: dict[int, SymbolHyp] = {}

    def moved(symbols: list[SymbolHyp]) -> list[SymbolHyp]:
        for h in symbols:
            if id(h) not in new:
                new[id(h)] = dataclasses.replace(h, box=Box(*map_box(to_photo, size, h.box.as_list())))
        return [new[id(h)] for h in symbols]

    alts = [dict(a, symbols=moved(a["symbols"])) for a in rec.alternatives]
    return dataclasses.replace(rec, symbols=moved(rec.symbols), alternatives=alts)


def recognize_with_corrections(strokes_or_image, corrections: dict[int, str], predictor=None, *,
                               solve: bool = True, weights: str | None = None,
                               decoder: Decoder | None = None) -> Recognition:
    """Read again after the user chose another reading for some symbols ({symbol index: token}).

    Segmentation and decoding are repeated (deterministic, so symbol indices name the same symbols), then the
    decoder reads again on the segmentation the user saw, with the chosen tokens fixed as constraints: the other
    symbols and the layout are re-decoded in their light (symbol model in context, language model).
    """
    if isinstance(strokes_or_image, np.ndarray) and strokes_or_image.ndim in (2, 3) and strokes_or_image.dtype == np.uint8:
        return recognize_image(strokes_or_image, predictor, solve=solve, weights=weights, corrections=corrections,
                               decoder=decoder)
    return recognize_strokes(strokes_or_image, predictor, solve=solve, weights=weights, corrections=corrections,
                             decoder=decoder)


def _round_box(box) -> list[float]:
    return [round(float(v), 2) for v in box.as_list()]


def to_dict(rec: Recognition, file: str | None = None) -> dict:
    """The JSON form the CLI and the web page use."""
    syms = []
    for h, tok in zip(rec.symbols, rec.tokens or [h.token for h in rec.symbols]):
        # the label is the reading's token (the context models may choose another of the classifier's
        # candidates): its probability is that candidate's, 0 when the classifier did not list it at all
        prob = next((c.prob for c in h.candidates if c.token == tok), 0.0)
        syms.append({
            "label": tok,
            "latex": to_latex(Symbol(tok)),
            "box": _round_box(h.box),
            "prob": round(float(prob), 4),
            "strokes": list(h.strokes),
            "alternatives": [{"label": c.token, "prob": round(float(c.prob), 4)} for c in h.candidates],
        })
    alts = [_alternative_dict(a, rec.symbols) for a in rec.alternatives[:5]]
    return {"file": file, "latex": rec.latex, "mathml": rec.mathml, "answer": rec.answer, "symbols": syms,
            "confidence": round(float(rec.confidence), 4), "alternatives": alts}


def _same_grouping(a: list[SymbolHyp], b: list[SymbolHyp]) -> bool:
    return a is b or (len(a) == len(b) and all(list(x.strokes) == list(y.strokes) and _round_box(x.box) ==
                                                _round_box(y.box) for x, y in zip(a, b)))


def _alternative_dict(alt: dict, symbols: list[SymbolHyp]) -> dict:
    """One whole reading for JSON: {"latex", "confidence"}, and when the reading says which symbols it reads,
    "same_symbols" (its symbols are the response's ``symbols``: the same grouping of the ink, so a symbol's index
    means the same symbol) and "symbols" ({"label", "latex", "box", "strokes"} of each, label the reading's token)."""
    out = {"latex": alt["latex"], "confidence": round(float(alt["confidence"]), 4)}
    if "tokens" in alt and "symbols" in alt:
        out["same_symbols"] = _same_grouping(alt["symbols"], symbols)
        out["symbols"] = [{"label": tok, "latex": to_latex(Symbol(tok)), "box": _round_box(h.box),
                           "strokes": list(h.strokes)} for h, tok in zip(alt["symbols"], alt["tokens"])]
    return out


def to_json(rec: Recognition, file: str | None = None) -> str:
    import json

    return json.dumps(to_dict(rec, file), ensure_ascii=False, default=str)
