"""One expression read two ways: by the page reader on its page photo (``inkmath recognize --page``) and from a crop
of the same photo round it, as a photo of one expression (``inkmath recognize``), and where the two differ, why.

    python benchmarks/page_vs_photo.py tests/fixtures/page_photo.jpg tests/fixtures/page_fine_pen.jpg [--margin 32]

Each photo needs its truth beside it (``NAME.json``: {"truth": [{"latex", "box"}, ...]}, as the test fixtures have).
For each expression it prints the truth, both readings and their confidences, then two crossings that tell the
causes apart: the ink the photo path reads first (the crop cleaned alone, narrowed: ``photo_views``) read with the
page's classifier engine and decoder, and the page's own crop read with the photo path's classifier and decoder.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("photos", nargs="+", type=Path)
    ap.add_argument("--margin", type=int, default=32, help="px of the photo kept round each expression's box")
    args = ap.parse_args(argv)

    from inkmath.equation.page.read import page_decoder, page_predictor, read_page
    from inkmath.equation.photo.views import photo_views
    from inkmath.equation.recognize import _decoded, default_decoder, get_predictor, image_segmentations, recognize_image
    from inkmath.equation.core.metrics import normalize_latex

    predictor = get_predictor()
    engines = {"photo": (predictor, default_decoder("image")), "page": (page_predictor(predictor), page_decoder())}

    def read(img, how):
        p, d = engines[how]
        r = _decoded(image_segmentations(img, p, d, "white"), d)
        return r[0].latex if r else ""

    same, right, n = 0, {"photo": 0, "page": 0}, 0
    for path in args.photos:
        photo = np.asarray(Image.open(path).convert("RGB"))
        truth = json.loads(path.with_suffix(".json").read_text())["truth"]
        page = read_page(str(path), solve=False).expressions
        for k, t in enumerate(truth):
            x0, y0, x1, y1 = (int(v) for v in t["box"])
            m = args.margin
            single = recognize_image(photo[y0 - m:y1 + m, x0 - m:x1 + m], solve=False)
            on_page = next((e for e in page if _overlap(e.box, t["box"]) > 0.5), None)
            views = photo_views(photo[y0 - m:y1 + m, x0 - m:x1 + m])
            gold = normalize_latex(t["latex"].strip("$"))
            n += 1
            right["photo"] += normalize_latex(single.latex) == gold
            right["page"] += on_page is not None and normalize_latex(on_page.latex) == gold
            same += on_page is not None and on_page.latex == single.latex
            print(f"{path.name} [{k}] truth {t['latex']}")
            print(f"    photo path {single.latex!r} ({single.confidence:.2f})")
            print(f"    page path  {on_page.latex!r} ({on_page.confidence:.2f})" if on_page else "    page path  -")
            if views:
                print(f"    the photo path's first ink, page engine and decoder: {read(views[0].image, 'page')!r}")
            if on_page is not None and on_page.crop is not None:
                print(f"    the page's crop, photo engine and decoder:           {read(on_page.crop.image, 'photo')!r}"
                      f"  (crops {None if not views else views[0].image.shape} and {on_page.crop.image.shape})")
    print(f"{n} expressions: the same reading {same}; right: photo path {right['photo']}, page path {right['page']}")


def _overlap(a, b) -> float:
    """Intersection over the smaller box."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))


if __name__ == "__main__":
    main()
