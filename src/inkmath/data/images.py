"""Decoding single image files safely (shared by the folder and CSV readers, predict and the web app)."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image

from inkmath import InkmathError

MAX_PIXELS = 40_000_000  # beyond this an image is treated as a decompression bomb
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


def decode_image(data: bytes, name: str = "image", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """uint8 grey (H, W), or RGB/RGBA for colour files, from encoded bytes; clear errors for bad files."""
    if not data:
        raise InkmathError(f"{name}: the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
                if w == 0 or h == 0:
                    raise InkmathError(f"{name}: the image has no pixels ({w}x{h})")
                if w * h > max_pixels:
                    raise InkmathError(f"{name}: {w}x{h} pixels is too large (limit {max_pixels:,}); scale it down")
                im.load()
                if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
                    return np.asarray(im.convert("RGBA"))
                return np.asarray(im.convert("L"))
    except InkmathError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InkmathError(f"{name}: the image is too large (a decompression bomb?); scale it down") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InkmathError(f"{name}: not a readable image ({e}); give a PNG, JPEG or BMP file") from None
