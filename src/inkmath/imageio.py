"""The one image decoder: every path that reads a picture (CLI, web, data set readers, Python API) comes here.

    decode_image(data, "photo.png")   # bytes -> uint8 grey (H, W)
    read_image("photo.png")           # a file -> the same; missing files and folders are clear errors
    as_image(path_or_array_or_pil)    # whatever a caller holds -> the same

What it guarantees, whatever the format:
- a decompression bomb (more than ``MAX_PIXELS``) is refused from the header, before any pixel is decoded;
- transparency is flattened onto white paper, so black ink on a transparent background reads as ink
  (``preprocess.to_gray`` does the same arithmetic, so flattening here changes no prepared pixel);
- the EXIF orientation of phone photos is applied;
- 16-bit and float grey images (scans) are rescaled to 8 bits, not clipped (``eight_bit_image``);
- every failure is an ``FileError`` whose message is ``NAME: what is wrong; what to do``, with the name once
  and no Python object reprs.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError

# 40 megapixels: a 48 MP phone photo is larger, a 12 MP one (4000x3000) fits three times over; at 1 byte per grey
# pixel and a few float copies in preprocessing, 40 MP stays under ~1 GB. The web app uses its own, smaller limit
# (``web.schemas.MAX_IMAGE_PIXELS``).
MAX_PIXELS = 40_000_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")
FORMATS_HINT = "give a PNG, JPEG or BMP file"


class FileError(InkmathError):
    """A file (or upload) that cannot be read: ``str(e)`` is ``"NAME: REASON; WHAT TO DO"``; ``e.reason`` without the name."""

    def __init__(self, name: str, reason: str):
        self.name = str(name)
        self.reason = reason
        super().__init__(f"{self.name}: {reason}")


# Pillow's modes of grey images deeper than 8 bits: 16-bit PNG and TIFF scans, 32-bit integer and float TIFFs
DEEP_GREY_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def eight_bit_image(im):
    """A PIL image as Pillow can convert it without loss: a deep grey one (``DEEP_GREY_MODES``) rescaled to 8-bit
    grey by ``preprocess.eight_bit`` (Pillow's own conversion clips at 255, so every grey ink pixel of a 16-bit scan
    would turn white); any other returned as it is."""
    if im.mode not in DEEP_GREY_MODES:
        return im
    from PIL import Image

    from inkmath.preprocess import eight_bit

    return Image.fromarray(eight_bit(np.asarray(im)), "L")


def has_transparency(im) -> bool:
    """Whether a PIL image has an alpha channel or a transparent palette entry."""
    return im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)


def _flatten(im) -> np.ndarray:
    """uint8 grey from a loaded PIL image, transparency composited onto white."""
    im = eight_bit_image(im)
    if has_transparency(im):
        from inkmath.preprocess import to_gray

        return to_gray(np.asarray(im.convert("RGBA")))
    return np.asarray(im.convert("L"))


def from_pil(im, name: str = "image", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """uint8 grey (H, W) from a PIL image: EXIF orientation applied, transparency flattened onto white."""
    from PIL import ImageOps

    w, h = im.size
    if w == 0 or h == 0:
        raise FileError(name, f"the image has no pixels ({w}x{h}); {FORMATS_HINT} with a picture in it")
    if w * h > max_pixels:
        raise FileError(name, f"{w}x{h} = {w * h:,} pixels is too large (limit {max_pixels:,} pixels); "
                                  f"scale it down")
    im.load()
    try:
        im = ImageOps.exif_transpose(im)
    except (OSError, ValueError, SyntaxError, TypeError):
        pass  # a damaged EXIF block: keep the pixels as stored
    return _flatten(im)


def decode_image(data: bytes, name: str = "image", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """uint8 grey (H, W) from encoded bytes (PNG, JPEG, BMP, GIF, TIFF, WebP, PGM); ``FileError`` if not."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise FileError(name, f"the file is empty (0 bytes); {FORMATS_HINT}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                return from_pil(im, name, max_pixels)
    except InkmathError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        # Pillow's own guard fires at open for the largest headers; its message carries the pixel count
        found = re.search(r"\((\d+) pixels\)", str(e))
        size = f"{int(found.group(1)):,} pixels is too large" if found else "the image is too large"
        raise FileError(name, f"{size} (limit {max_pixels:,} pixels); scale it down") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise FileError(name, f"not a readable image ({unreadable_because(e)}); {FORMATS_HINT}") from None


def unreadable_because(e: Exception) -> str:
    """Why Pillow could not decode an image, for a one-line error: "unknown format", or its message without the
    object reprs it carries ("<_io.BytesIO object at 0x...>")."""
    from PIL import UnidentifiedImageError

    if isinstance(e, UnidentifiedImageError):
        return "unknown format"
    return re.sub(r"\s*<[^<>]* at 0x[0-9a-fA-F]+>", "", str(e)).strip() or type(e).__name__


def read_file(path: str | os.PathLike) -> bytes:
    """A file's bytes; a missing path, a folder or an unreadable file is an ``FileError`` naming it once."""
    p = Path(path)
    if p.is_dir():
        raise FileError(str(path), "is a folder, not a file; give the image files in it (e.g. FOLDER/*.png)")
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise FileError(str(path), "no such file; check the path") from None
    except PermissionError:
        raise FileError(str(path), "permission denied; check the file's permissions") from None
    except OSError as e:
        raise FileError(str(path), f"cannot read the file ({e.strerror or type(e).__name__})") from None


def read_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """uint8 grey (H, W) from an image file; see ``decode_image``."""
    return decode_image(read_file(path), str(path), max_pixels)


def as_image(obj, name: str | None = None, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """An image array from a path (str or Path), encoded bytes, a PIL image or a NumPy array (returned as is)."""
    if isinstance(obj, np.ndarray):
        if obj.ndim not in (2, 3) or obj.size == 0:
            raise InkmathError(f"Expected a grey (H, W) or colour (H, W, 3|4) image array, got shape {obj.shape}")
        return obj
    if isinstance(obj, (str, os.PathLike)):
        return read_image(obj, max_pixels)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return decode_image(bytes(obj), name or "image", max_pixels)
    if _is_pil(obj):
        return from_pil(obj, name or "image", max_pixels)
    raise InkmathError(f"Cannot read an image from a {type(obj).__name__}; give a file path, image bytes, a PIL image "
                       f"or a NumPy array")


def _is_pil(obj) -> bool:
    import sys

    pil = sys.modules.get("PIL.Image")
    return pil is not None and isinstance(obj, pil.Image)
