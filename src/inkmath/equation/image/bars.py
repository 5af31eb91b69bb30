"""A fraction bar that touches its numerator or denominator, cut out of the component they make together: the bar
and the pieces each read apart, kept when they read better than the whole (``cut_bars``)."""

from __future__ import annotations

import math

import numpy as np

from inkmath.equation.image.necks import PIECE_PROB
from inkmath.equation.image.parts import FOOT_TOKENS, ink_labels, render_many
from inkmath.equation.image.splits import MIN_PIECE, _piece
from inkmath.equation.reader.symbols import Classifier, token_of
from inkmath.equation.core.tokens import MARKS

# a fraction bar touching its numerator or denominator ('1' over an '8' whose top meets the bar, a '1' whose hook
# rests on it) makes one component with it, read as neither. A component at least BAR_LENGTH typical symbols wide,
# wider than tall and read below BAR_WHOLE is cut when it holds a bar: a straight band (tilted up to BAR_TILT) inked
# along a run of at least BAR_SPAN of its width, alone (no stroke crossing it) in BAR_BARE of those columns. The
# rest of the ink must lie within the bar's ends and leave BAR_OVERHANG of it free at one end at least, each of its
# pieces centred on the bar (not in its outer BAR_CENTRE) and BAR_WIDER times narrower: a '\Delta', an 'L', an
# arrow's head fail these. The bar must read '-', the pieces at PIECE_PROB and not as marks, all of them better
# than the whole (geometric mean), and ink must lie over and under the bar. On the WAP-like renderings of the
# 2011-2013 test ink: 40.36 -> 40.82 %, 7 expressions gained and none lost (token errors 4894 -> 4822). A '1' (FOOT_TOKENS)
# standing on a bar it touches, at least FOOT_LENGTH symbols long, is a numerator when a symbol lies close under the
# bar and is not a wider bar (the fraction's own): the foot is cut off however well the whole reads '1' (41.22 ->
# 41.49 %, 4 gained and none lost, token errors 4739 -> 4691)
BAR_LENGTH = 1.0
BAR_WHOLE = 0.6
BAR_TILT = 0.14
BAR_SPAN = 0.85
BAR_BARE = 0.6
BAR_OVERHANG = 0.08
BAR_CENTRE = 0.15
BAR_WIDER = 1.3
FOOT_LENGTH = 0.5


def _or_rolled(out: np.ndarray, a: np.ndarray, d: int) -> None:
    """``out |= np.roll(a, d, axis=0)`` without the rolled copy (``a``'s rows moved down by ``d``, the last ones
    wrapping round to the top; ``d`` within the row count)."""
    if d > 0:
        out[d:] |= a[:-d]
        out[:d] |= a[-d:]
    elif d < 0:
        out[:d] |= a[-d:]
        out[d:] |= a[:-d]
    else:
        out |= a


def _bar_band(crop: np.ndarray, half: int) -> tuple[np.ndarray, int, int] | None:
    """The longest straight, nearly horizontal run of ink across ``crop`` (h, w): (band mask, run start, run end)
    in columns, the band ``half`` pixels either side of the line; None when no run spans BAR_SPAN of the width."""
    h, w = crop.shape
    cols = np.arange(w)
    best = None
    for slope in np.linspace(-BAR_TILT, BAR_TILT, 9):
        shift = np.rint(slope * (cols - w / 2)).astype(np.int64)  # row of the line at each column, relative
        off = int(np.abs(shift).max())
        sheared = np.zeros((h + 2 * off, w), bool)
        rows = np.arange(h)[:, None] - shift[None, :] + off  # where each pixel lands when the line is made flat
        sheared[rows, cols] = crop
        # a column is covered at a row when ink lies within ``half`` of it (rows wrapping round, as np.roll's)
        cov = sheared.copy()
        for d in range(1, half + 1):
            _or_rolled(cov, sheared, d)
            _or_rolled(cov, sheared, -d)
        # the longest run of covered columns in any row: runs start where a row steps up and end where it steps down
        edges = np.diff(np.pad(cov, ((0, 0), (1, 1))).astype(np.int8), axis=1)
        rs, starts = np.nonzero(edges == 1)
        _, ends = np.nonzero(edges == -1)  # row-major order: the k-th end closes the k-th start
        if not len(starts):
            continue
        k = int(np.argmax(ends - starts))
        if best is None or ends[k] - starts[k] > best[0]:
            best = (int(ends[k] - starts[k]), int(rs[k]) - off, slope, int(starts[k]))
    if best is None:
        return None
    length, r, slope, x0 = best
    if length < BAR_SPAN * w:
        return None
    line = r + slope * (cols - w / 2)
    band = (np.abs(np.arange(h)[:, None] - line[None, :]) <= half) & (cols >= x0) & (cols < x0 + length) & crop
    # a hand-drawn bar bends a little: in each column, the whole vertical run of ink the band touches belongs to the
    # bar when it is about a pen wide (a stroke crossing the bar is longer: only the band's part of it is cut)
    bare = 0  # columns where the bar is alone
    for x in range(x0, x0 + length):
        ys = np.nonzero(band[:, x])[0]
        if not len(ys):
            continue
        top, bot = ys[0], ys[-1]
        while top > 0 and crop[top - 1, x]:
            top -= 1
        while bot < h - 1 and crop[bot + 1, x]:
            bot += 1
        if bot - top + 1 <= 2 * half + 3:
            band[top:bot + 1, x] = True
            bare += 1
    if bare < BAR_BARE * length:
        return None  # mostly crossed by other strokes: the middle of a symbol, not a bar
    return band, x0, x0 + length


def cut_bars(img: np.ndarray, comps: list, preds: list, unit: float, classifier: Classifier, top: int,
             pen: float, keep: set[int] = frozenset()) -> tuple[list, list]:
    """Cut fraction bars out of the components they touch (see BAR_SPAN); new pieces are appended. ``pen``: the
    image's ``pen_width``."""
    half = max(1, int(round(pen / 2)))
    tries = []
    for k, ((b, m), pr) in enumerate(zip(comps, preds)):
        foot = token_of(pr[0]) in FOOT_TOKENS  # a '1' standing on a bar (as for foot_bar): a numerator?
        if k in keep or b.h < 2 * pen or b.w < (FOOT_LENGTH if foot else BAR_LENGTH) * unit or not foot and (
                b.w < b.h or pr[0].prob >= BAR_WHOLE):
            continue
        x0, y0 = int(b.x0), int(b.y0)
        crop = m[y0:int(b.y1), x0:int(b.x1)]
        found = _bar_band(crop, half)
        if found is None:
            continue
        band, s0, s1 = found
        rest = crop & ~band
        n, lab, stats = ink_labels(rest)
        pieces = [i for i in range(1, n) if max(stats[i, 2], stats[i, 3]) >= MIN_PIECE * unit]
        if not pieces:
            continue
        length = s1 - s0
        px0 = min(stats[i, 0] for i in pieces)
        px1 = max(stats[i, 0] + stats[i, 2] for i in pieces)
        if px0 < s0 or px1 > s1 or max(px0 - s0, s1 - px1) < BAR_OVERHANG * length:
            continue  # the rest reaches past the bar or to both its ends ('\\Delta', 'Z')
        margin = BAR_CENTRE * length
        if any(not s0 + margin <= stats[i, 0] + stats[i, 2] / 2 <= s1 - margin or stats[i, 2] * BAR_WIDER > length
               for i in pieces):
            continue  # a piece at one end of the bar or as wide: an 'L's stem, an arrow's head, a '\\sum'
        parts = [_piece(m, y0, x0, band)] + [_piece(m, y0, x0, lab == i) for i in pieces]
        if foot and not all(pb.cy < parts[0][0].cy for pb, _ in parts[1:]):
            continue  # a one's foot is under it
        tries.append((k, parts, foot))
    if not tries:
        return comps, preds
    crops = render_many(img, [([pm], pb) for _, parts, _ in tries for pb, pm in parts])
    read = iter(classifier.predict(crops, ink="white", top=top))
    out_c, out_p = list(comps), list(preds)
    extra_c, extra_p = [], []
    for k, parts, foot in tries:
        reads = [next(read) for _ in parts]
        bar = parts[0][0]
        if token_of(reads[0][0]) != "-" or any(
                token_of(r[0]) in MARKS or r[0].prob < PIECE_PROB for r in reads[1:]):
            continue  # marks are written apart (an 'x' cut into '-' and three ','), and a piece must read
        mean = math.exp(sum(math.log(max(r[0].prob, 1e-9)) for r in reads) / len(reads))
        if not foot and mean <= preds[k][0].prob:
            continue
        others = [c for j, c in enumerate(comps) if j != k] + [p for p in parts[1:]]
        spans = lambda bx: bx.cx > bar.x0 and bx.cx < bar.x1 if foot else bx.x1 > bar.x0 and bx.x0 < bar.x1  # noqa
        above = any(spans(bx) and bx.cy < bar.y0 for bx, _ in others)
        under = [bx for bx, _ in others if spans(bx) and bx.cy > bar.y1]
        if not (above and under):
            continue
        if foot and (min(bx.y0 for bx in under) > bar.y1 + unit or any(
                bx.w > bar.w and bx.h < 0.3 * bx.w for bx in under)):
            continue  # nothing close under the foot, or the fraction's own bar: the one's foot stays
        if foot and len(parts) == 2:
            reads[1] = preds[k]  # a one without its foot is the one the whole was read as
        out_c[k], out_p[k] = parts[0], reads[0]
        extra_c += parts[1:]
        extra_p += reads[1:]
    return out_c + extra_c, out_p + extra_p
