"""Where the sheet of paper is in a page photo, and the sheet warped flat: the first stage of ``page_clean``.

    quad = find_sheet(rgb)                  # (4, 2) corners clockwise from top-left, or None (the page fills it)
    sheet, to_photo = warp_sheet(rgb, quad)  # the sheet seen from above; homography sheet -> photo

The sheet is the largest bright, low-texture region after a white balance, at a few brightness levels (a shadow
across it can put part of it below Otsu's), simplified to a quadrilateral. A sheet that runs out of the frame is found
by its four edges, which meet outside the photo. ``off_sheet`` masks what is not the sheet when no quadrilateral is
found.
"""

from __future__ import annotations

import cv2
import numpy as np

from inkmath.errors import InkmathError

# Thresholds, chosen on pages generated from the CROHME 2011-2013 (validation) ink by inkmath.equation.synth.pages;
# see docs/decisions/page-reading.md and the notes each names.
DETECT_SIDE = 480  # px on the long side where the sheet is looked for
WHITE_PATCH = 95  # percentile of each colour channel taken as the paper's white when looking for the sheet (the one
# value tried: a warm lamp's pages of seed 40 read 42 right instead of 37 of 78, docs/decisions/page-clean-up.md)
MIN_SHEET_AREA = 0.2  # share of the photo the sheet must cover to be taken as the sheet
PARTIAL_SHEET_LEVEL = 0.7  # of Otsu's paper level: the sheet's region when it runs out of the frame (``off_sheet``;
# the one value tried: seed 40's pages cut to their expressions, 46 right and 11 in order of 12, docs/decisions/page-clean-up.md)
FILL_SHEET_AREA = 0.9  # a bright region this large means the page fills the frame: no warp
SHEET_LEVELS = 8  # brightness levels tried, from 1.1x to 0.5x Otsu's
SHEET_FILL = 0.9  # the region must fill this share of its quadrilateral
SHEET_FIT_POWER = 4  # levels are compared by area x IoU(region, its quadrilateral)^4
SHEET_CONTACT = 0.1  # ... and touch the frame's edge along at most this share of its outline
CUT_OFF_EDGE = 0.05  # an edge of a sheet that runs out of the frame is at least this share of its outline ...
CUT_OFF_REACH = 0.5  # ... its corners lie at most this share of the frame's size outside it ...
CUT_OFF_LARGER = 1.5  # a sheet found cut off by the frame wins over a whole one whose region is this much smaller
CUT_OFF_ANGLE = 20.0  # ... and each corner's angle is this close to a right angle (degrees; the generated pages'
# corners are within 10.2, 99 % within 8.9): where the table joins the sheet at a low level, the region's outline
# has four edges too, which meet at odd angles
SHEET_INSET = 0.006  # the sheet's edge (its shadow, the table) is cut off by this share of its size


def resized(img: np.ndarray, f: float) -> np.ndarray:
    """``img`` scaled by ``f`` (area interpolation), at least one pixel a side."""
    h, w = img.shape[:2]
    return cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def find_sheet(rgb: np.ndarray) -> np.ndarray | None:
    """The sheet's corners (4, 2) float32, clockwise from top-left, in ``rgb``'s pixels; None if the page fills
    the frame or no sheet-like region is found."""
    f, paperness, otsu = _paperness(rgb)
    # a shadow across the sheet can put part of it below Otsu's level: try lower levels too and keep the level whose
    # region scores best by its area times the fit (IoU) of the region and its quadrilateral: at a level where a bit
    # of the table leaks into the sheet the region is larger, but its 4-corner outline fits it worse
    # A sheet that runs out of the frame (its quadrilateral's corners met outside it) is taken when no level gives a
    # whole one, or when its region is CUT_OFF_LARGER times the whole one's: that one is then a part of the sheet,
    # cut off by a shadow band across it
    best = {False: (None, 0.0, 0.0), True: (None, 0.0, 0.0)}  # cut off or not: (quad, score, area)
    for level in np.linspace(1.1 * otsu, 0.5 * otsu, SHEET_LEVELS):
        quad, area, fit, cut_off = _sheet_quad(_paper_mask(paperness, level))
        if quad is not None and area * fit ** SHEET_FIT_POWER > best[cut_off][1]:
            best[cut_off] = (quad, area * fit ** SHEET_FIT_POWER, area)
    (whole, _, whole_area), (cut, _, cut_area) = best[False], best[True]
    if cut is not None and (whole is None or cut_area >= CUT_OFF_LARGER * whole_area):
        return cut / f
    return None if whole is None else whole / f


def _paperness(rgb: np.ndarray) -> tuple[float, np.ndarray, float]:
    """(scale to ``DETECT_SIDE``, how paper-like each pixel is at that scale (uint8), Otsu's level of it): paper is
    bright and grey; the table, the floor, a hand are darker or more coloured."""
    h, w = rgb.shape[:2]
    f = DETECT_SIDE / max(h, w)
    small = resized(rgb, f)
    # the light's colour taken out first (white patch: each channel's WHITE_PATCH percentile made equal), so that
    # paper under a warm or cold lamp is grey again
    white = np.percentile(small.reshape(-1, 3), WHITE_PATCH, axis=0).astype(np.float32)
    small = np.clip(small * (white.max() / np.maximum(white, 1.0)), 0, 255).astype(np.uint8)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    paperness = hsv[:, :, 2].astype(np.int16) - hsv[:, :, 1].astype(np.int16)
    paperness = cv2.GaussianBlur(np.clip(paperness, 0, 255).astype(np.uint8), (5, 5), 0)
    otsu, _ = cv2.threshold(paperness, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return f, paperness, float(otsu)


def _paper_mask(paperness: np.ndarray, level: float) -> np.ndarray:
    """Where ``paperness`` is over ``level`` (255 on 0), small gaps (writing, paper lines) closed."""
    return cv2.morphologyEx(((paperness > level) * 255).astype(np.uint8), cv2.MORPH_CLOSE,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))


def off_sheet(rgb: np.ndarray) -> np.ndarray | None:
    """Where the photo is not the sheet (bool, ``rgb``'s size), for a photo whose sheet runs out of the frame (no
    quadrilateral to warp): everything outside the largest paper-like region. None when no paper-like region covers
    ``MIN_SHEET_AREA`` of the photo."""
    _, paperness, otsu = _paperness(rgb)
    mask = _paper_mask(paperness, PARTIAL_SHEET_LEVEL * otsu)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    if n < 2:
        return None
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[k, cv2.CC_STAT_AREA] < MIN_SHEET_AREA * mask.size:
        return None
    contours, _ = cv2.findContours((lab == k).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    sheet = np.zeros(mask.shape, np.uint8)
    cv2.drawContours(sheet, contours, -1, 1, thickness=cv2.FILLED)  # the writing and paper lines inside are sheet
    return cv2.resize(sheet, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_NEAREST) == 0


def _sheet_quad(mask: np.ndarray) -> tuple[np.ndarray | None, float, float, bool]:
    """(corners, share of the image, IoU of the region and its quadrilateral, whether it runs out of the frame) of the
    largest bright region when it is sheet-like, else (None, 0, 0, False)."""
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    if n < 2:
        return None, 0.0, 0.0, False
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area = stats[k, cv2.CC_STAT_AREA] / float(mask.size)
    if area < MIN_SHEET_AREA or area > FILL_SHEET_AREA:
        return None, 0.0, 0.0, False
    bw, bh = stats[k, 2:4]
    region = lab == k
    contact = int(region[0].sum() + region[-1].sum() + region[:, 0].sum() + region[:, -1].sum())
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = max(contours, key=cv2.contourArea)
    hull = cv2.convexHull(outline)
    peri = cv2.arcLength(hull, True)
    quad = None
    cut_off = contact > SHEET_CONTACT * 2 * (bw + bh)
    if cut_off:
        # runs along the frame: the page fills it, the table joined the sheet at this level, or the sheet runs out of
        # the frame, when its four edges still show and meet outside it
        quad = _cut_off_quad(hull, peri, mask.shape, outline[:, 0, :])
        if quad is None:
            return None, 0.0, 0.0, False
    else:
        for eps in (0.02, 0.03, 0.05, 0.08):
            approx = cv2.approxPolyDP(hull, eps * peri, True)
            if len(approx) == 4:
                quad = approx[:, 0, :].astype(np.float32)
                break
        if quad is None:
            quad = cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32)
    inside = np.zeros(mask.shape, np.uint8)
    cv2.fillConvexPoly(inside, np.round(quad).astype(np.int32), 1)
    # the share of the quadrilateral the region fills (of its part within the photo, for one cut off by the frame)
    fill = stats[k, cv2.CC_STAT_AREA] / max(float(inside.sum()) if cut_off else cv2.contourArea(quad), 1.0)
    if fill < SHEET_FILL:
        return None, 0.0, 0.0, False
    fit = float((region & (inside > 0)).sum()) / float(max((region | (inside > 0)).sum(), 1))
    return order_corners(quad), area, fit, cut_off


def _cut_off_quad(hull: np.ndarray, peri: float, shape: tuple[int, int], outline: np.ndarray) -> np.ndarray | None:
    """The corners (4, 2) of a sheet that runs out of the frame, some of them outside it, from its region's convex
    ``hull`` (of perimeter ``peri``): the hull's outline between its stretches along the frame, simplified until
    four edges remain, each then fitted to the points of the region's ``outline`` (n, 2) along it; each corner is
    where two neighbouring edges meet. None when the sheet's edges do not show on all four sides, or they meet
    further than ``CUT_OFF_REACH`` of the frame's size outside it or at corners further than ``CUT_OFF_ANGLE`` from
    square."""
    h, w = shape
    tol = max(2.0, 0.01 * max(h, w))

    def sides(p) -> set[int]:  # the sides of the frame a point lies on (two at a corner of the frame)
        x, y = p
        return {k for k, d in enumerate((y, w - 1 - x, h - 1 - y, x)) if d <= tol}

    pts = hull[:, 0, :].astype(np.float64)
    n = len(pts)
    on = [sides(p) for p in pts]
    along = [bool(on[i] & on[(i + 1) % n]) for i in range(n)]  # the edge from point i to i + 1 runs along the frame
    if not any(along) or all(along):
        return None
    start = (along.index(True) + 1) % n  # the runs of the outline between stretches along the frame
    runs, run = [], [pts[start]]
    for k in range(1, n + 1):
        i = (start + k) % n
        if along[(i - 1) % n]:
            if len(run) > 1:
                runs.append(np.asarray(run))
            run = [pts[i]]
        else:
            run.append(pts[i])
    if len(run) > 1:
        runs.append(np.asarray(run))
    for eps in (0.01, 0.02, 0.03, 0.05):
        edges = []  # (point, direction) of the outline's edges that are not the frame
        for r in runs:
            poly = cv2.approxPolyDP(r.astype(np.float32).reshape(-1, 1, 2), eps * peri, False)[:, 0, :]
            for a, b in zip(poly[:-1], poly[1:]):
                if np.linalg.norm(b - a) >= CUT_OFF_EDGE * peri:
                    edges.append((a.astype(np.float64), (b - a).astype(np.float64)))
        if len(edges) != 4:
            continue
        edges = [_fitted(p, d, outline, tol) for p, d in edges]
        corners = []
        for (p, d), (q, e) in zip(edges, edges[1:] + edges[:1]):
            den = d[0] * e[1] - d[1] * e[0]
            if abs(den) < 0.1 * np.linalg.norm(d) * np.linalg.norm(e):
                return None  # neighbours nearly parallel: no corner between them
            t = ((q[0] - p[0]) * e[1] - (q[1] - p[1]) * e[0]) / den
            corners.append(p + t * d)
        c = np.asarray(corners)
        if outside_frame(c, shape, CUT_OFF_REACH * max(h, w)):
            return None
        quad = order_corners(c)
        if not cv2.isContourConvex(np.round(quad).astype(np.int32).reshape(-1, 1, 2)):
            return None
        for k in range(4):
            a, b = quad[k - 1] - quad[k], quad[(k + 1) % 4] - quad[k]
            cos = float(a @ b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-9)
            if abs(np.degrees(np.arccos(np.clip(cos, -1, 1))) - 90) > CUT_OFF_ANGLE:
                return None
        return quad.astype(np.float32)
    return None


def _fitted(p: np.ndarray, d: np.ndarray, outline: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """The line (point, direction) fitted to the ``outline`` points within ``tol`` of the segment from ``p`` along
    ``d`` (its middle 80 %: the rounded corners left out); the segment itself when too few lie there."""
    n = np.array([-d[1], d[0]]) / max(np.linalg.norm(d), 1e-9)
    t = (outline - p) @ d / max(d @ d, 1e-9)
    near = (np.abs((outline - p) @ n) <= tol) & (t >= 0.1) & (t <= 0.9)
    if near.sum() < 10:
        return p, d
    vx, vy, x0, y0 = cv2.fitLine(outline[near].astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    return np.array([x0, y0], np.float64), np.array([vx, vy], np.float64) * np.linalg.norm(d)


def outside_frame(quad: np.ndarray, shape, margin: float = 0.0) -> bool:
    """Whether a corner of ``quad`` lies more than ``margin`` pixels outside an image of ``shape`` (0: the sheet runs
    out of the photo)."""
    h, w = shape[:2]
    return bool((quad[:, 0] < -margin).any() or (quad[:, 1] < -margin).any() or (quad[:, 0] > w - 1 + margin).any()
                or (quad[:, 1] > h - 1 + margin).any())


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left."""
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise in image coordinates (y down), starting near -180 degrees (left)
    start = int(np.argmin(pts.sum(axis=1)))
    return np.roll(pts, -start, axis=0)


def warp_sheet(rgb: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sheet image, homography sheet -> rgb) for corners ``quad`` (cut inwards by ``SHEET_INSET``)."""
    tl, tr, br, bl = quad
    wdt = int(round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))))
    hgt = int(round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))))
    if wdt < 50 or hgt < 50:
        raise InkmathError(f"The sheet found in the photo is only {wdt}x{hgt} pixels; photograph the page closer")
    dx, dy = SHEET_INSET * wdt, SHEET_INSET * hgt
    dst = np.array([[-dx, -dy], [wdt - 1 + dx, -dy], [wdt - 1 + dx, hgt - 1 + dy], [-dx, hgt - 1 + dy]], np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    sheet = cv2.warpPerspective(rgb, m, (wdt, hgt), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return sheet, np.linalg.inv(m)
