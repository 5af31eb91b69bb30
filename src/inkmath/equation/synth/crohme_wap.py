"""``crohme-wap:SPLIT``: CROHME symbols cut from WAP-like renderings of the expressions' ink, as the image reader
cuts them (``inkmath.equation.synth.image_crops``), prepared with ``crohme32``. ``mix=1`` adds the split's stroke crops
(``crohme:SPLIT:preset=crohme32``), so a classifier fine-tuned on them keeps reading both.
``crohme-page:SPLIT``: the same, from the expressions' ink as the page reader cuts it out of a worksheet photo
(``inkmath.equation.synth.page_like``). ``crohme-real:SPLIT:photos=N``: from N real-looking photos of the split's ink
as the page reader cuts them (``inkmath.equation.synth.real_crops``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.data.sets import SymbolDataset, cached_arrays, register_reader
from inkmath.data.crohme import crohme_vocab, load_crohme_arrays, split_archive
from inkmath.equation.core import wap_like
from inkmath.equation.image import parts as image_parts
from inkmath.equation.synth import image_crops

PRESET = "crohme32"


def load_crohme_wap_arrays(split: str, data_dir: Path, limit: int | None = None,
                           style: str = "wap", every: int = 1) -> dict[str, np.ndarray]:
    """The crops of a split, built once (about a minute per thousand expressions) and then read from the cache.
    ``style``: "wap" or "page" (``image_crops.expression_crops``); ``every``: every K-th expression only."""
    from inkmath import ink
    from inkmath.equation.photo import find as page_find
    from inkmath.equation.synth import page_like

    archive, subset = split_archive(split, data_dir)
    extra = (f"crohme-wap-v1|raster{ink.RASTER_VERSION}|{subset}|{limit}|{image_crops.SEED}|{wap_like.PEN}|"
             f"{wap_like.SYMBOL_HEIGHT}|{image_parts.IMAGE_SCALE}|{image_parts.CROP_BLUR}|{PRESET}")
    if every != 1:
        extra += f"|every{every}"
    if style != "wap":  # the page's drawing and cutting
        extra += (f"|{style}-v1|{page_like.PHOTO_FILL}|{page_like.MAX_BLUR}|{page_like.NOISE}|"
                  f"{page_like.JPEG_QUALITY}|{page_like.MARGIN}|{page_like.MASK_PEN}|{page_find.READ_SHARE}|"
                  f"{page_find.READ_PEAK}")
    return cached_arrays(f"crohme-{style}-{split}", [archive], extra,
                         lambda: image_crops.build_crops(archive, subset, limit, PRESET, style, every))


@register_reader("crohme-wap", usage="crohme-wap:train|val|test[:limit=N][:mix=1] (symbols cut from WAP-like "
                                     "renderings as the image reader cuts them; mix=1 adds the stroke crops)")
def load_crohme_wap(split: str = "train", *, data_dir: Path, limit: str | None = None,
                    mix: str = "0", style: str = "wap", every: str = "1") -> SymbolDataset:
    n = None
    if limit is not None:
        if not str(limit).isdigit() or int(limit) < 1:
            raise InkmathError(f"limit must be a positive whole number of expressions, got {limit!r}")
        n = int(limit)
    if mix not in ("0", "1"):
        raise InkmathError(f"mix must be 0 or 1, got {mix!r}")
    if not str(every).isdigit() or int(every) < 1:
        raise InkmathError(f"every must be a positive whole number, got {every!r}")
    if mix == "1" and int(every) > 1:
        raise InkmathError("every and mix=1 cannot be combined (the stroke crops are of every expression)")
    a = load_crohme_wap_arrays(split, data_dir, n, style, int(every))
    images, labels, ids = a["images"], a["labels"], [f"{style}/{i}" for i in a["ids"].tolist()]
    if mix == "1":
        s = load_crohme_arrays(split, data_dir, n, PRESET)
        images = np.concatenate([images, s["images"]])
        labels = np.concatenate([labels, s["labels"]])
        ids += [f"ink/{i}" for i in s["ids"].tolist()]
    return SymbolDataset(images, labels, crohme_vocab(), f"crohme-{style}:{split}", "white", ids, prepared=PRESET)


@register_reader("crohme-page", usage="crohme-page:train|val|test[:limit=N][:every=K][:mix=1] (symbols cut from the "
                                      "ink as the page reader cuts it out of a worksheet photo; every K-th expression; "
                                      "mix=1 adds the stroke crops)")
def load_crohme_page(split: str = "train", *, data_dir: Path, limit: str | None = None,
                     mix: str = "0", every: str = "1") -> SymbolDataset:
    return load_crohme_wap(split, data_dir=data_dir, limit=limit, mix=mix, style="page", every=every)


@register_reader("crohme-real", usage="crohme-real:train|val|test[:photos=N] (symbols cut from N real-looking photos "
                                      "of the split's ink as the page reader cuts them; default 1000)")
def load_crohme_real(split: str = "train", *, data_dir: Path, photos: str = "1000") -> SymbolDataset:
    from inkmath import ink
    from inkmath.equation.page.read import PAGE_INK
    from inkmath.equation.photo import ink_net
    from inkmath.equation.synth import real_crops, real_photos
    from inkmath.weights import shipped_file

    if not str(photos).isdigit() or int(photos) < 1:
        raise InkmathError(f"photos must be a positive whole number, got {photos!r}")
    archive, subset = split_archive(split, data_dir)
    sources = [archive] + ([shipped_file(PAGE_INK)] if PAGE_INK else [])  # the crops change with the extractor
    extra = (f"crohme-real-v1|raster{ink.RASTER_VERSION}|{subset}|{photos}|{real_crops.SEED}|{real_crops.WINDOW}|"
             f"{real_crops.MASK_PEN}|{PAGE_INK}|{ink_net.FAINT_INK}|{ink_net.FAINT_LOW}|"
             f"{real_photos.CROP_SYMBOL}|{image_parts.IMAGE_SCALE}|{image_parts.CROP_BLUR}|{PRESET}")
    a = cached_arrays(f"crohme-real-{split}", sources, extra,
                      lambda: real_crops.build_crops(archive, subset, int(photos), PRESET))
    return SymbolDataset(a["images"], a["labels"], crohme_vocab(), f"crohme-real:{split}", "white",
                         [f"real/{i}" for i in a["ids"].tolist()], prepared=PRESET)
