"""Parts of an ink image that are not one symbol each, found before ``image_segmentation.segment_image`` merges
parts: function names written joined ('sin' read whole, ``written_names``), bars with hanging legs
(``hanging_legs``), fraction bars touching the symbols under or over them (``cut_bars``), components that are
several touching symbols, cut at some of their necks (thin paths from top to bottom) where the pieces read better,
chosen by dynamic programming over classifier scores as for strokes (``split_touching``, ``image_necks``), and the
missing partner of an unmatched bracket cut out of its neighbour (``open_parens``).
"""

from __future__ import annotations

import numpy as np

from inkmath.equation.image import touch as image_touch
from inkmath.equation.image.necks import CUT_COST, PIECE_PROB, _neck_paths, _neck_paths_many, best_cuts, cuts_score
from inkmath.equation.image.parts import PART_TOKENS, ink_beyond, is_flat, render_many
from inkmath.equation.reader.symbols import Classifier, token_of
from inkmath.equation.core.tokens import CLASSIFIER_NAMES, MARKS
from inkmath.equation.core.tree import Box

NAME_TOKENS = CLASSIFIER_NAMES
# touching symbols are cut along necks (pieces under MIN_PIECE or read under PIECE_PROB no reading; SPLIT_*: not
# tried), and a swallowed exponent or index (SCRIPT_*) is cut off its base (docs/decisions/image-segmentation.md)
SCRIPT_PIECE = 0.2
SCRIPT_END = 0.6
SCRIPT_PROB = 0.5
# readings a lone script piece never has: a '1' is the end of a stroke, the others are operators and relations
NOT_SCRIPTS = {"1", "=", "+", "\\pm", "\\times", "\\div", "<", ">", "\\leq", "\\geq", "\\neq", "\\rightarrow"}
MIN_PIECE = 0.35
# a piece read as one of the MARKS (``tokens.MARKS``) is no reading
SPLIT_WIDTH = 1.2
SPLIT_PROB = 0.8


# a function name written joined up: up to NAME_PARTS neighbours within NAME_GAP are read together, one symbol when
# read as a name at over NAME_PROB and better than any part (docs/decisions/image-segmentation.md)
NAME_PARTS = 3
NAME_GAP = 0.3
NAME_PROB = 0.8


def written_names(img: np.ndarray, comps: list, preds: list, unit: float, classifier: Classifier,
                  top: int, runs: list[tuple[list[int], Box]] | None = None) -> list[tuple[list[int], Box, list]]:
    """Runs of components that read together as a function name: (component indices, box, readings), disjoint.

    The runs tried are ``name_runs``' (``runs``: those, when the caller has them already). A run is kept when its
    reading is a name (``NAME_TOKENS``) as described at ``NAME_PROB``.
    """
    runs = name_runs(comps, unit) if runs is None else runs
    if not runs:
        return []
    reads = classifier.predict(name_run_crops(img, comps, runs), ink="white", top=top)
    marks = _marks(comps, unit)
    found = []
    for (run, box), pr in zip(runs, reads):
        parts = [preds[k][0].prob for k in run if k not in marks]
        if token_of(pr[0]) in NAME_TOKENS and pr[0].prob > max([NAME_PROB] + parts):
            found.append((pr[0].prob, run, box, pr))
    used: set[int] = set()
    out = []
    for _, run, box, pr in sorted(found, key=lambda f: -f[0]):
        if not used & set(run):
            used.update(run)
            out.append((run, box, pr))
    return out


def _marks(comps: list, unit: float) -> set[int]:
    """The components that are marks (dots, ticks): under 0.35 typical symbol sizes."""
    return {k for k, (b, _) in enumerate(comps) if max(b.w, b.h) < 0.35 * unit}


def name_runs(comps: list, unit: float) -> list[tuple[list[int], Box]]:
    """The runs of components ``written_names`` reads together: (component indices, box). Marks (``_marks``) do
    not start or extend a run but join the run whose box they sit over, as the dot of an 'i' does."""
    boxes = [b for b, _ in comps]
    marks = _marks(comps, unit)
    order = sorted((k for k in range(len(comps)) if k not in marks), key=lambda k: boxes[k].x0)
    runs = []
    for x, first in enumerate(order):
        run, box = [first], boxes[first]
        for k in order[x + 1:]:
            b = boxes[k]
            if b.x0 < box.x0 or len(run) == NAME_PARTS:
                break
            overlap = min(b.y1, box.y1) - max(b.y0, box.y0)
            if b.x0 - box.x1 > NAME_GAP * unit or overlap < 0.5 * min(b.h, box.h):
                break
            run, box = run + [k], box.union(b)
            dots = [d for d in marks if box.x0 <= boxes[d].cx <= box.x1 and box.y0 - 0.5 * unit < boxes[d].cy < box.cy]
            runs.append((run + dots, box.union(Box(box.x0, min([box.y0] + [boxes[d].y0 for d in dots]), box.x1,
                                                   box.y1))))
    return runs


def name_run_crops(img: np.ndarray, comps: list, runs: list[tuple[list[int], Box]]) -> list[np.ndarray]:
    """The crops of ``name_runs``' runs, as ``written_names`` reads them."""
    return render_many(img, [([comps[k][1] for k in r], b) for r, b in runs])


# a bar with one or two legs hanging under it and no ink over it, read as '\\pi' at over HANG_PROB, is one symbol
# (6 more right, none lost; docs/decisions/image-segmentation.md)
HANG_PROB = 0.5
HANG_TOKENS = {"\\pi"}


def hanging_legs(img: np.ndarray, comps: list, preds: list, unit: float, classifier: Classifier, top: int,
                 skip: set[int]) -> list[tuple[list[int], Box, list]]:
    """Bars with their hanging legs read as one symbol (see ``HANG_PROB``): (component indices, box, readings)."""
    boxes = [b for b, _ in comps]
    runs = []
    for k, bar in enumerate(boxes):
        if k in skip or not is_flat(bar) or bar.w < 0.3 * unit:
            continue
        legs = [j for j, b in enumerate(boxes)
                if j != k and j not in skip and bar.x0 <= b.cx <= bar.x1 and not is_flat(b)
                and bar.y1 - 0.2 * unit <= b.y0 <= bar.y1 + 0.35 * unit and 0.3 * unit < b.h < 1.5 * unit]
        if not 1 <= len(legs) <= 2 or ink_beyond(boxes, bar, False, (k, *legs), unit):
            continue
        box = bar
        for j in legs:
            box = box.union(boxes[j])
        runs.append(([k] + legs, box))
    if not runs:
        return []
    reads = classifier.predict(render_many(img, [([comps[k][1] for k in r], b) for r, b in runs]), ink="white",
                               top=top)
    out, used = [], set()
    for (run, box), pr in zip(runs, reads):
        if token_of(pr[0]) in HANG_TOKENS and pr[0].prob > HANG_PROB and not used & set(run):
            used.update(run)
            out.append((run, box, pr))
    return out


def _piece(m: np.ndarray, y0: int, x0: int, keep: np.ndarray) -> tuple[Box | None, np.ndarray | None]:
    """The part of component mask ``m`` kept by ``keep`` (a mask over its box, whose corner is (y0, x0)): its box
    and its full-size mask, (None, None) when nothing is kept."""
    import cv2

    x, y, w, h = cv2.boundingRect(keep.view(np.uint8))  # of the kept pixels: cheaper than np.nonzero's
    if w == 0:
        return None, None
    part = np.zeros(m.shape, bool)
    part[y0 + y:y0 + y + h, x0 + x:x0 + x + w] = keep[y:y + h, x:x + w]
    return Box(float(x0 + x), float(y0 + y), float(x0 + x + w), float(y0 + y + h)), part


def _swallowed_script(whole: str, whole_prob: float, read: dict, seg_prob: dict, script: dict,
                      last: int) -> list | None:
    """[(0, i), (i, last)] when the last piece is a script the whole's reading swallowed (see SCRIPT_PIECE): the rest
    reads as the whole did, only better, and the piece as a symbol of its own."""
    if whole == "\\sqrt":
        return None  # the end of a root's bar is no script
    for i in range(1, last):
        rest, piece = (0, i), (i, last)
        if rest not in seg_prob or piece not in seg_prob or piece not in script:
            continue
        if token_of(read[rest][0]) == whole and seg_prob[rest] > whole_prob and seg_prob[piece] >= SCRIPT_PROB \
                and token_of(read[piece][0]) not in PART_TOKENS | NOT_SCRIPTS:
            return [rest, piece]
    return None


def _box_crop(b: Box, m: np.ndarray) -> np.ndarray:
    """A component's full-size mask ``m`` cropped to its box ``b``."""
    return m[int(b.y0):int(b.y1), int(b.x0):int(b.x1)]


def _whole_prob(box: Box, pred: list) -> float:
    """A tried component's probability read whole, as ``best_cuts`` counts it: a name too narrow for one (under 1.6
    times as wide as tall) as unsure as a coin toss (0.5 at most)."""
    return min(pred[0].prob, 0.5) if token_of(pred[0]) in NAME_TOKENS and box.w < 1.6 * box.h else pred[0].prob


def _seg_probs(read: dict) -> dict[tuple[int, int], float]:
    """The pieces read that count as readings, with their best probability: not a name or a mark, at PIECE_PROB."""
    return {ij: pr[0].prob for ij, pr in read.items()
            if token_of(pr[0]) not in NAME_TOKENS | MARKS and pr[0].prob >= PIECE_PROB}


def _unread_on_best(bounds: list[float], pieces: dict, read: dict, whole: float, script: dict,
                    unit: float) -> set[tuple[int, int]]:
    """The pieces not yet read on a component's best reading, or on its best reading with a cut, when every unread
    piece counts as read at probability 1 (the most it can add: ``best_cuts``' score only falls as a piece reads
    worse or is no reading). When both readings hold no unread piece, their scores are exact and no reading through
    an unread piece can beat them: they are ``split_touching``'s ``chosen`` and its record's best cut."""
    n = len(bounds) - 1
    seg = {ij: 1.0 for ij in pieces if ij not in read and not script.get(ij)}
    seg.update((ij, p) for ij, p in _seg_probs(read).items() if not script.get(ij))
    out = set()
    for allowed in ({**seg, (0, n): whole}, seg):
        out.update(ij for ij in best_cuts(bounds, allowed, unit, CUT_COST) if ij in seg and ij not in read)
    return out


def _read_pieces(img: np.ndarray, tries: list, wholes: list[float], scripts: dict, unit: float,
                 classifier: Classifier, top: int, side_parts: list, every: bool) -> tuple[list[dict], list]:
    """``split_touching``'s readings of its tries' pieces ({(i, j): readings} per try), and of ``side_parts``
    ((masks, box) each, read in the first call). ``every``: every piece, in one call. Else only those that may be on
    a component's best reading or its best cut reading, whatever the others would read (``_unread_on_best``), call
    after call until it finds none, and the pairs a swallowed script is read from (``_swallowed_script``): the same
    choices and records as with every piece read."""
    reads: list[dict] = [{} for _ in tries]
    want = []
    for (k, _, pieces, _), whole in zip(tries, wholes):
        if every:
            want.append(set(pieces))
            continue
        swallowed = {ij for i, j in scripts.get(k, {}) if (0, i) in pieces for ij in ((0, i), (i, j))}
        want.append(swallowed)
    extra = side_parts
    side_preds: list = []
    while True:
        if not every:
            for w, read, (k, bounds, pieces, _), whole in zip(want, reads, tries, wholes):
                w |= _unread_on_best(bounds, pieces, read, whole, scripts.get(k, {}), unit)
        todo = [(t, ij) for t, w in enumerate(want) for ij in sorted(w) if ij not in reads[t]]
        if not todo and not extra:
            return reads, side_preds
        crops = render_many(img, [([tries[t][2][ij][1]], tries[t][2][ij][0]) for t, ij in todo] + extra)
        got = classifier.predict(crops, ink="white", top=top)
        for (t, ij), pr in zip(todo, got):
            reads[t][ij] = pr
        side_preds += got[len(todo):]
        extra = []
        if every:
            return reads, side_preds


def _components_to_try(comps: list, preds: list, unit: float, keep, touch: image_touch.TouchSearch
                       ) -> list[tuple[int, bool]]:
    """(component, narrow) of the components ``split_touching`` tries to cut: not kept whole, not one symbol wide
    and read well; a narrow (or flat) one only where ``touch`` looks at narrow components read below its bar."""
    tried = []
    for k, ((b, m), pr) in enumerate(zip(comps, preds)):
        narrow = b.w < 0.8 * unit or b.w < 0.7 * b.h or is_flat(b)  # or flat: a bar
        if k in keep or narrow and not (touch.narrow and pr[0].prob < touch.whole_below):
            continue
        if b.w < SPLIT_WIDTH * unit and pr[0].prob >= SPLIT_PROB:  # one symbol wide and read well
            continue
        tried.append((k, narrow))
    return tried


def _cut_pieces(b: Box, m: np.ndarray, cuts: list, unit: float, script: dict) -> dict:
    """{(i, j): (box, mask)} of the runs of pieces between the component's neck ``cuts`` i and j (not the whole, not
    specks); ``script`` receives the last runs that may be a script swallowed by the rest (True: smaller than
    ``MIN_PIECE``, a reading only as such a script)."""
    x0, x1, y0, y1 = int(b.x0), int(b.x1), int(b.y0), int(b.y1)
    crop = m[y0:y1, x0:x1]
    ends = [np.zeros(y1 - y0, np.int64)] + [p for _, p in cuts] + [np.full(y1 - y0, x1 - x0, np.int64)]
    cols = np.arange(x1 - x0)[None, :]
    pieces = {}
    for i in range(len(ends) - 1):
        for j in range(i + 1, len(ends)):
            if (i, j) == (0, len(ends) - 1):
                continue  # the whole component, read already
            pb, part = _piece(m, y0, x0, crop & (cols >= ends[i][:, None]) & (cols < ends[j][:, None]))
            if pb is None:
                continue  # between two cuts that cross
            size = max(pb.w, pb.h)
            # its lowest row above the upper SCRIPT_END, or its top row below the lower one
            at_script = j == len(ends) - 1 and (pb.y1 - 1 - y0 < SCRIPT_END * (y1 - y0) or pb.y0 - y0 > (
                1 - SCRIPT_END) * (y1 - y0))
            if size < (SCRIPT_PIECE if at_script else MIN_PIECE) * unit:
                continue  # a speck: dots and ticks are written apart (small scripts are not: see SCRIPT_PIECE)
            pieces[(i, j)] = (pb, part)
            if at_script:
                script[(i, j)] = size < MIN_PIECE * unit  # small: only for a swallowed script
    return pieces


def split_touching(img: np.ndarray, comps: list, preds: list, unit: float, classifier: Classifier,
                   top: int, keep: set[int] = frozenset(), record: list | None = None,
                   pen: float | None = None, touch: image_touch.TouchSearch = image_touch.TouchSearch()
                   ) -> tuple[list, list]:
    """Cut components that are several touching symbols ('(a', '00', '1000') at some of their necks.

    Every component at least as wide as a narrow symbol (see ``SPLIT_WIDTH``) gets its necks (``_neck_paths``) as
    candidate cuts; every run of pieces between cuts is classified and ``best_cuts`` chooses the reading. A piece
    read as a function name or a mark is not a reading (names are written wide, marks apart), and a whole component
    read as a name while too narrow for one counts as read at best at 0.5. Components in ``keep`` stay whole; new
    pieces are appended, so indices stay valid.

    With ``pen`` (the image's ``pen_width``), each component tried and read as one symbol below
    ``image_touch.TOUCH_WHOLE`` is also cut where its strokes meet (``image_touch.touch_cuts``), at the cut the
    ``image-touch`` model finds most probable when that is over ``image_touch.TOUCH_PROB``; so is each narrow or flat
    one read below it (only there). ``touch``: which components are looked at so and how the cuts are weighed
    (``image_touch.TouchSearch``: the reader's by default; the image-touch recipe passes one that records them).

    ``record``: a list that receives, per component tried, the other reading ``best_cuts`` weighed (the whole when
    it cut, the best cut when it did not) as a dict: ``k``, ``cut`` (True when the component was cut), ``margin``
    (how much better the chosen reading scored), the whole's ``comp`` and ``pred``, and the cut's ``pieces`` and
    ``preds`` (for a component that was cut, its pieces are ``k`` and the indices in ``extra``).
    """
    tried = _components_to_try(comps, preds, unit, keep, touch)
    scripts: dict[int, dict] = {}  # component -> its pieces that may be a script -> smaller than MIN_PIECE
    # the necks of every component tried at once (a narrow one is cut only where its strokes meet)
    necks = iter(_neck_paths_many([_box_crop(*comps[k]) for k, narrow in tried if not narrow], unit))
    tries = []
    for k, narrow in tried:
        (b, m), pr = comps[k], preds[k]
        cuts = [] if narrow else next(necks)
        crop = m[int(b.y0):int(b.y1), int(b.x0):int(b.x1)]
        meet = image_touch.touch_cuts(crop, unit, pen, MIN_PIECE) if pen and pr[0].prob < touch.whole_below else []
        if not cuts and not meet:
            continue
        pieces = _cut_pieces(b, m, cuts, unit, scripts.setdefault(k, {}))
        if not scripts[k]:
            del scripts[k]
        x0, y0 = int(b.x0), int(b.y0)
        sides = [(_piece(m, y0, x0, side), _piece(m, y0, x0, crop & ~side),
                  np.count_nonzero(side) / np.count_nonzero(crop)) for side in meet]
        tries.append((k, [0.0] + [c * b.w for c, _ in cuts] + [b.w], pieces, sides))  # ink shares as widths
    if not tries:
        return comps, preds
    wholes = [_whole_prob(comps[k][0], preds[k]) for k, _, _, _ in tries]
    side_parts = [([pm], pb) for _, _, _, sides in tries for a, b, _ in sides for pb, pm in (a, b)]
    reads, side_preds = _read_pieces(img, tries, wholes, scripts, unit, classifier, top, side_parts,
                                     every=touch.every_piece)
    side_preds = iter(side_preds)
    out_c, out_p = list(comps), list(preds)
    extra_c, extra_p = [], []
    for (k, bounds, pieces, sides), read, whole in zip(tries, reads, wholes):
        side_reads = [(next(side_preds), next(side_preds)) for _ in sides]
        b = comps[k][0]
        seg_prob = _seg_probs(read)
        seg_prob[(0, len(bounds) - 1)] = whole
        script = scripts.get(k, {})
        chosen = best_cuts(bounds, {ij: p for ij, p in seg_prob.items() if not script.get(ij)}, unit, CUT_COST)
        if len(chosen) == 1:
            chosen = _swallowed_script(token_of(preds[k][0]), whole, read, seg_prob, script, len(bounds) - 1) or chosen
        whole_score = cuts_score(bounds, seg_prob, unit, [(0, len(bounds) - 1)])
        neck_score = cuts_score(bounds, seg_prob, unit, chosen)
        best = image_touch.best_cut(b, unit, preds[k], sides, side_reads, whole_score, neck_score, touch) \
            if sides else None
        if best is not None and best[1] is not None and best[1] > image_touch.TOUCH_PROB:
            score, _, (first, *rest), (first_read, *rest_reads) = best
        elif len(chosen) > 1:
            score = neck_score
            first, first_read = pieces[chosen[0]], read[chosen[0]]
            rest, rest_reads = [pieces[ij] for ij in chosen[1:]], [read[ij] for ij in chosen[1:]]
        else:
            if record is not None:  # the closer of the best neck cut and the best cut where strokes meet
                cut = {ij: p for ij, p in seg_prob.items() if ij != (0, len(bounds) - 1) and not script.get(ij)}
                other = best_cuts(bounds, cut, unit, CUT_COST)
                others = [(best[0], best[2], best[3])] if best is not None else []
                if other and other[-1][1] == len(bounds) - 1 and all(ij in cut for ij in other):
                    others.append((cuts_score(bounds, seg_prob, unit, other), [pieces[ij] for ij in other],
                                   [read[ij] for ij in other]))
                if others:
                    score, cut_pieces, cut_reads = max(others, key=lambda o: o[0])
                    record.append({"k": k, "cut": False, "comp": comps[k], "pred": preds[k],
                                   "margin": whole_score - score, "pieces": cut_pieces, "preds": cut_reads})
            continue
        out_c[k], out_p[k] = first, first_read
        if record is not None:
            at = len(comps) + len(extra_c)
            record.append({"k": k, "cut": True, "comp": comps[k], "pred": preds[k], "margin": score - whole_score,
                           "extra": list(range(at, at + len(rest)))})
        extra_c += rest
        extra_p += rest_reads
    return out_c + extra_c, out_p + extra_p


# an unmatched ')' or '(': the OPEN_REACH nearest components are cut at their necks where a piece reads the bracket
# at over OPEN_PROB (40.03 -> 40.36 %, none lost; docs/decisions/image-segmentation.md)
OPEN_PROB = 0.5
OPEN_REACH = 3


def _unmatched_parens(comps: list, preds: list) -> list[tuple[int, str]]:
    """Brackets read without a partner: (component index, the token it misses), a ')' before its '(' or a '('
    never closed, left to right."""
    order = sorted(range(len(comps)), key=lambda k: comps[k][0].x0)
    opened, out = [], []
    for k in order:
        t = token_of(preds[k][0])
        if t == "(":
            opened.append(k)
        elif t == ")":
            if opened:
                opened.pop()
            else:
                out.append((k, "("))
    return out + [(k, ")") for k in opened]


def open_parens(img: np.ndarray, comps: list, preds: list, unit: float, classifier: Classifier, top: int,
                keep: set[int] = frozenset()) -> tuple[list, list]:
    """Find the partner of an unmatched bracket inside the components next to it, on the side it must be (see
    ``OPEN_PROB``): the piece cut off next to it must read as the missing bracket. New pieces are appended."""
    unmatched = _unmatched_parens(comps, preds)
    if not unmatched:
        return comps, preds
    out_c, out_p = list(comps), list(preds)
    done: set[int] = set()
    for r, missing in unmatched:
        lone = comps[r][0]
        before = missing == "("  # a ')' looks for its '(' before it, a '(' for its ')' after it
        near = [k for k in range(len(comps)) if k != r and k not in keep and k not in done
                and (comps[k][0].x1 <= lone.cx if before else comps[k][0].x0 >= lone.cx)
                and token_of(preds[k][0]) not in ("(", ")") and comps[k][0].h >= 0.5 * lone.h
                and min(comps[k][0].y1, lone.y1) - max(comps[k][0].y0, lone.y0) > 0.5 * comps[k][0].h]
        near.sort(key=lambda k: -comps[k][0].x1 if before else comps[k][0].x0)
        for k in near[:OPEN_REACH]:
            b, m = comps[k]
            x0, x1, y0, y1 = int(b.x0), int(b.x1), int(b.y0), int(b.y1)
            crop = m[y0:y1, x0:x1]
            cols = np.arange(x1 - x0)[None, :]
            halves = []  # (bracket side, rest) per cut
            for _, path in _neck_paths(crop, unit):
                left, right = cols < path[:, None], cols >= path[:, None]
                pair = [_piece(m, y0, x0, crop & side) for side in ((left, right) if before else (right, left))]
                if all(pb is not None for pb, _ in pair):
                    halves += pair
            if not halves:
                continue
            reads = classifier.predict(render_many(img, [([pm], pb) for pb, pm in halves]), ink="white", top=top)
            best = None
            for i in range(0, len(halves), 2):
                bracket, rest = reads[i][0], reads[i + 1][0]
                if token_of(bracket) == missing and bracket.prob > OPEN_PROB and rest.prob >= PIECE_PROB \
                        and token_of(rest) not in NAME_TOKENS | PART_TOKENS | {"(", ")"}:
                    score = bracket.prob * rest.prob
                    if best is None or score > best[0]:
                        best = (score, i)
            if best is None:
                continue
            i = best[1]
            out_c[k], out_p[k] = halves[i + 1], reads[i + 1]
            out_c.append(halves[i])
            out_p.append(reads[i])
            done.add(k)
            break
    return out_c, out_p

