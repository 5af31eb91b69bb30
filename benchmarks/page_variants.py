"""Page photos as another camera or generator might make them: the generated validation pages, changed, read again.

    INKMATH_DATA=../shared/data python benchmarks/page_variants.py --seed 40 --pages 12 --out /tmp/variants \
        [--variants base,small,half,24mp,sheetfill,inside,rot90,dark,warm,gray,shake,red,jpeg25,gauss15,gauss25,motion3,
                    motion5,motion5v,rot180,tilt8,closeup,glare,curl1,curl2]

Each page of ``bench_page.py``'s generator (CROHME 2011-2013 ink, so validation) is changed as the variant says, its
truth boxes moved with it, and read with ``page.read_page``; detection, order and ExpRate are scored as
``bench_page.py`` scores them. A check of robustness for the held-out page photos, which come from another generator:

- ``small`` / ``half``: the photo at 0.6x / 0.5x (1.1 / 0.8 megapixels); ``24mp``: at 2.8x;
- ``sheetfill``: cut to the expressions' box with a margin of 8 % of the width (the sheet runs out of the frame, the
  table shows on some sides); ``inside``: a margin of 1.5 % (no table at all);
- ``rot90``: turned a quarter clockwise, no EXIF; ``rot180``: upside down; ``tilt8``: turned 8 degrees (past the
  deskew's 4), the table's colour around it; ``closeup``: the first three expressions' region enlarged to the
  photo's size (writing 2-3x as large, the sheet's edges out of the frame; only those three are scored);
  ``curl1`` / ``curl2``: the sheet bowed as an open notebook's page, its lines arcs sagging 1 % / 2 % of the photo's
  height in the middle;
  ``gray``: one channel, PNG; ``glare``: a flash's bright spot a third of the photo wide, 85 % white at its centre;
- ``dark``: underexposed (gamma 1.8, 0.7x); ``warm``: a warm lamp's colour (blue 0.65x, green 0.88x);
- ``shake``: 9 px of motion blur; ``red``: blue and red swapped (blue ink becomes red); ``jpeg25``: JPEG quality 25;
- ``gauss15`` / ``gauss25``: defocus, a Gaussian blur of sigma 1.5 / 2.5 px on top of the generator's (0-1.2 px);
  ``motion3``: motion blur along a 3 px diagonal (down to the right); ``motion5``: 5 px along ``shake``'s slant
  (dx : dy = 2 : 1); ``motion5v``: 5 px straight down (another direction, for checking). The kernels are one-pixel
  lines, as ``shake``'s; they reproduce docs/decisions/page-clean-up.md's figures (first 6 pages of seed 40: 22 and 14 right of 41).

Prints one line of totals per variant and appends each page's reading to ``OUT/details-VARIANT.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_page import generate, read_one, score_page  # noqa: E402


def _scale(f: float):
    def change(img, boxes):
        import cv2

        h, w = img.shape[:2]
        out = cv2.resize(img, (int(w * f), int(h * f)), interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA)
        return out, [[v * f for v in b] for b in boxes]
    return change


def _crop(margin: float):
    def change(img, boxes):
        b = np.array(boxes)
        h, w = img.shape[:2]
        m = margin * w
        x0, y0 = max(0, int(b[:, 0].min() - m)), max(0, int(b[:, 1].min() - m))
        x1, y1 = min(w, int(b[:, 2].max() + m)), min(h, int(b[:, 3].max() + m))
        return img[y0:y1, x0:x1].copy(), [[c[0] - x0, c[1] - y0, c[2] - x0, c[3] - y0] for c in boxes]
    return change


def _rot90(img, boxes):  # clockwise
    import cv2

    h = img.shape[0]
    return cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE), [[h - b[3], b[0], h - b[1], b[2]] for b in boxes]


def _rot180(img, boxes):
    import cv2

    h, w = img.shape[:2]
    return cv2.rotate(img, cv2.ROTATE_180), [[w - b[2], h - b[3], w - b[0], h - b[1]] for b in boxes]


def _tilt(degrees: float):
    """The photo turned by ``degrees`` (anticlockwise) about its centre, on a canvas large enough to hold it; the
    truth boxes become the boxes of their turned corners."""
    def change(img, boxes):
        import cv2

        h, w = img.shape[:2]
        m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
        c, s_ = abs(m[0, 0]), abs(m[0, 1])
        nw, nh = int(h * s_ + w * c), int(h * c + w * s_)
        m[0, 2] += nw / 2 - w / 2
        m[1, 2] += nh / 2 - h / 2
        edge = [int(v) for v in np.median(np.concatenate([img[0], img[-1]]), axis=0)]
        out = cv2.warpAffine(img, m, (nw, nh), flags=cv2.INTER_CUBIC, borderValue=edge)
        moved = []
        for b in boxes:
            pts = np.array([[b[0], b[1], 1], [b[2], b[1], 1], [b[2], b[3], 1], [b[0], b[3], 1]]) @ m.T
            moved.append([pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()])
        return out, moved
    return change


def _curl(depth: float):
    """The sheet bowed as an open notebook's page is: every column of the photo moved down by ``depth`` of the photo's
    height times 1 - (2x/W - 1)^2 (none at the sides, most in the middle), so that lines of writing become arcs; each
    truth box spans its columns' moves."""
    def change(img, boxes):
        import cv2

        h, w = img.shape[:2]
        xs = np.arange(w, dtype=np.float32)
        shift = (depth * h * (1 - (2 * xs / w - 1) ** 2)).astype(np.float32)
        map_x = np.broadcast_to(xs, (h, w)).copy()
        map_y = (np.arange(h, dtype=np.float32)[:, None] - shift[None, :]).astype(np.float32)
        out = cv2.remap(img, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        moved = []
        for b in boxes:
            cols = shift[max(0, int(b[0])):max(int(b[0]) + 1, min(w, int(np.ceil(b[2]))))]
            moved.append([b[0], b[1] + float(cols.min()), b[2], b[3] + float(cols.max())])
        return out, moved
    return change


def _closeup(img, boxes):
    """A close-up: the first three expressions' region (a margin of 4 % of the width) enlarged to the photo's size
    (writing about 2-3x as large); the other expressions are left out."""
    import cv2

    h, w = img.shape[:2]
    part, kept = _crop(0.04)(img, boxes[:3])
    f = min(w / part.shape[1], h / part.shape[0])
    out = cv2.resize(part, (int(part.shape[1] * f), int(part.shape[0] * f)), interpolation=cv2.INTER_CUBIC)
    return out, [[v * f for v in c] for c in kept]


def _glare(img, boxes):
    """A flash's glare: a bright spot a third of the photo wide, centred a little above the middle."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    spot = np.exp(-(((xx - 0.55 * w) / (0.17 * w)) ** 2 + ((yy - 0.4 * h) / (0.17 * w)) ** 2))[..., None]
    return np.clip(img + (255 - img) * 0.85 * spot, 0, 255).astype(np.uint8), boxes


def _dark(img, boxes):
    return np.clip(255 * (img / 255.0) ** 1.8 * 0.7, 0, 255).astype(np.uint8), boxes


def _warm(img, boxes):  # BGR, as OpenCV reads
    return np.clip(img * np.array([0.65, 0.88, 1.0]), 0, 255).astype(np.uint8), boxes


def _shake(img, boxes):  # a moving hand: 9 px of motion blur along a slant
    import cv2

    k = np.zeros((9, 9), np.float32)
    cv2.line(k, (0, 2), (8, 6), 1.0, 1)
    return cv2.filter2D(img, -1, k / k.sum()), boxes


def _gauss(sigma: float):
    def change(img, boxes):
        import cv2

        return cv2.GaussianBlur(img, (0, 0), sigma), boxes
    return change


def _motion(start: tuple[int, int], end: tuple[int, int], size: int):
    """Motion blur as ``shake`` makes it: a one-pixel line from ``start`` to ``end`` in a ``size`` x ``size`` kernel."""
    def change(img, boxes):
        import cv2

        k = np.zeros((size, size), np.float32)
        cv2.line(k, start, end, 1.0, 1)
        return cv2.filter2D(img, -1, k / k.sum()), boxes
    return change


def _red(img, boxes):  # blue and red swapped: blue ink becomes red ink, black and pencil stay as they are
    return img[:, :, ::-1].copy(), boxes


def _gray(img, boxes):
    import cv2

    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), boxes


VARIANTS = {"base": lambda i, b: (i, b), "small": _scale(0.6), "half": _scale(0.5), "24mp": _scale(2.8),
            "sheetfill": _crop(0.08), "inside": _crop(0.015), "rot90": _rot90, "dark": _dark, "warm": _warm,
            "gray": _gray, "shake": _shake, "red": _red, "jpeg25": lambda i, b: (i, b), "gauss15": _gauss(1.5),
            "gauss25": _gauss(2.5), "motion3": _motion((0, 0), (2, 2), 3), "motion5": _motion((0, 1), (4, 3), 5),
            "motion5v": _motion((2, 0), (2, 4), 5), "rot180": _rot180, "tilt8": _tilt(8.0), "closeup": _closeup,
            "glare": _glare, "curl1": _curl(0.01), "curl2": _curl(0.02)}
QUALITY = {"gray": None, "jpeg25": 25}  # the file each variant is written as: PNG, or JPEG at this quality (else 92)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=40, help="the generator's seed (0-21 are used elsewhere)")
    ap.add_argument("--pages", type=int, default=12)
    ap.add_argument("--out", type=Path, required=True, help="folder for the pages, their variants and the details")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of: {', '.join(VARIANTS)}")
    args = ap.parse_args(argv)
    names = args.variants.split(",")
    if unknown := [n for n in names if n not in VARIANTS]:
        raise SystemExit(f"error: unknown variants {unknown}; choose from {', '.join(VARIANTS)}")
    import cv2
    import torch

    from inkmath.equation.recognize import get_predictor

    torch.set_num_threads(1)
    rows = generate("val", args.pages, args.out / "base", seed=args.seed)
    predictor = get_predictor()
    for name in names:
        tot = {"truth": 0, "found": 0, "matched": 0, "right": 0, "order_ok": 0, "errors": 0, "seconds": 0.0}
        for r in rows:
            img = cv2.imread(str(args.out / "base" / r["file"]))
            image, boxes = VARIANTS[name](img, [t["box"] for t in r["truth"]])
            quality = QUALITY.get(name, 92)
            path = args.out / f"{name}_{Path(r['file']).stem}.{'png' if quality is None else 'jpg'}"
            cv2.imwrite(str(path), image, [] if quality is None else [cv2.IMWRITE_JPEG_QUALITY, quality])
            truth = [dict(t, box=b) for t, b in zip(r["truth"], boxes)]
            preds, error, seconds = read_one(path, predictor)
            tot["errors"] += error is not None
            tot["seconds"] += seconds
            s = score_page(truth, preds)
            for k in ("truth", "found", "matched", "right", "order_ok"):
                tot[k] += int(s[k])
            with (args.out / f"details-{name}.jsonl").open("a") as f:
                f.write(json.dumps({"file": r["file"], "truth": truth, "preds": preds, "error": error,
                                    "right_each": s["right_each"], "order_ok": s["order_ok"]}) + "\n")
        tot["seconds"] = round(tot["seconds"], 1)
        print(name, json.dumps(tot), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
