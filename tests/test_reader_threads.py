"""The reader's processes (`inkmath serve`, `inkmath recognize`) run OpenCV's pool on one thread each, as NumPy's BLAS:
``cli.common.limit_blas_threads``, before or after OpenCV loads."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("cv2")


@pytest.mark.parametrize("cv2_first", [False, True])
def test_limit_blas_threads_puts_opencv_on_one_thread(cv2_first):
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_FOR_THREADS_NUM"}
    code = ("import cv2\n" if cv2_first else "") + (
        "from inkmath.cli.common import limit_blas_threads\n"
        "limit_blas_threads(1)\n"
        "import cv2\n"
        "print(cv2.getNumThreads())\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
