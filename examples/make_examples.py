"""Writes the bundled demo images (src/inkmath/examples/) from inkmath's own synthetic handwriting.

    python examples/make_examples.py
"""

from pathlib import Path

import numpy as np
from PIL import Image

from inkmath import ink
from inkmath.synth import write, write_lines

OUT = Path(__file__).resolve().parents[1] / "src" / "inkmath" / "examples"


def save(strokes, name: str) -> None:
    img, _ = ink.rasterize(strokes)
    paper = 255 - img  # dark ink on white paper, as a scan or a photo of a page
    Image.fromarray(paper).save(OUT / name, optimize=True)
    print(OUT / name, paper.shape)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for i, d in enumerate("739"):
        save(write(d, seed=10 + i), f"digit_{d}.png")
    save(write("3x+5=11", seed=1), "equation_linear.png")
    save(write("x^2-5x+6=0", seed=2), "equation_quadratic.png")
    save(write_lines(["x+y=3", "x-y=1"], seed=3), "system.png")
