"""Decoding single image files for the data set readers: ``inkmath.imageio`` is the one decoder (re-exported)."""

from inkmath.imageio import IMAGE_SUFFIXES, MAX_PIXELS, FileError, decode_image  # noqa: F401
