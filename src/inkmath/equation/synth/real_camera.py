"""School paper and a phone's camera, for ``real_photos``: reflectances in, a photo out.

Paper is white-ish with a tint; its lines are printed at about the darkness of pencil (ruled: blue or grey, with a red
margin line on some sheets; squared; plain), some sheets have a printed header row of boxes or a spiral's holes down
the margin. The camera maps reflectance to grey levels the way a phone's auto-exposure and a messaging app leave a
photo: the paper comes out grey (its median level drawn to match real photos), the darkest ink well above black (a
flare offset), under an uneven light with vignetting and sometimes a shadow, a white balance off neutral, then blur,
sensor noise and JPEG at messaging-app quality (sometimes twice).

The real set's figures (``../shared/tools/photo_stats.py``'s docstring, 100 crops of students' answers): paper
154 / 176 / 193 (10th / 50th / 90th percentile), contrast 59 / 97 / 143; ``benchmarks/real_photo_stats.py`` holds
generated photos against them.
"""

from __future__ import annotations

import io

import cv2
import numpy as np

PAPER = (0.93, 0.93, 0.9)  # reflectance of school paper (RGB), a tint drawn round it
RULE_COLOURS = ((0.55, 0.66, 0.86), (0.6, 0.6, 0.63), (0.5, 0.62, 0.8))
RULE_DARKNESS = (0.4, 0.9)  # the ruling's share of its full colour: from faint to about a pencil's darkness
MARGIN_RED = (0.9, 0.45, 0.45)
PRINT_GREY = (0.35, 0.55)  # reflectance of printed boxes' lines
PAPER_LEVEL = (176.0, 14.0, 140.0, 210.0)  # the paper's grey level in the photo: mean, sd, clipped to a range
FLARE = (0.0, 30.0)  # grey level of a black reflectance (flare, the exposure curve's toe), uniform
WHITE_BALANCE = 0.03  # sd of each channel's gain about 1
BLUR = (0.3, 0.8)  # Gaussian sigma in photo pixels (uniform)
NOISE = (1.5, 5.0)  # sensor noise sd in grey levels (uniform)
JPEG = (50, 88)  # messaging-app quality (uniform); ...
JPEG_TWICE = 0.3  # ... this share recompressed once more (forwarded)
TABLES = {"grey": ((0.42, 0.42, 0.44), 0.5), "wood": ((0.55, 0.38, 0.22), 0.3), "dark": ((0.16, 0.16, 0.18), 0.2)}


def paper(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Float32 RGB reflectance of blank paper with a faint fibre texture."""
    h, w = shape
    tint = np.array(PAPER, np.float32) + rng.normal(0, 0.015, 3).astype(np.float32)
    img = np.empty((h, w, 3), np.float32)
    img[:] = tint
    fibre = cv2.GaussianBlur(rng.normal(0, 0.012, (h, w)).astype(np.float32), (0, 0), 1.2)
    img += fibre[:, :, None]
    return img


def rule(img: np.ndarray, kind: str, rng: np.random.Generator, pitch: float, origin: tuple[float, float],
         width: float) -> dict:
    """Print ``kind`` ("ruled", "squared", "plain") lines on ``img`` (in place), lines every ``pitch`` px from
    ``origin`` (x, y of one line crossing), ``width`` px wide; returns what was drawn (for the photo's info)."""
    h, w = img.shape[:2]
    info = {"paper": kind}
    if kind == "plain":
        return info
    colour = np.array(RULE_COLOURS[int(rng.integers(len(RULE_COLOURS)))], np.float32)
    colour = 1 - (1 - colour) * rng.uniform(*RULE_DARKNESS)
    line = np.ones((h, w), np.float32)
    thick = max(1, int(round(width)))
    y = origin[1] % pitch
    while y < h:
        cv2.line(line, (0, int(round(y * 16))), (w * 16, int(round(y * 16))), 0.0, thick, cv2.LINE_AA, 4)
        y += pitch
    if kind == "squared":
        x = origin[0] % pitch
        while x < w:
            cv2.line(line, (int(round(x * 16)), 0), (int(round(x * 16)), h * 16), 0.0, thick, cv2.LINE_AA, 4)
            x += pitch
    a = 1 - line
    img *= 1 - a[:, :, None] * (1 - colour)
    info["pitch"] = round(float(pitch), 1)
    return info


def margin_line(img: np.ndarray, x: float, width: float) -> None:
    a = np.zeros(img.shape[:2], np.float32)
    cv2.line(a, (int(x * 16), 0), (int(x * 16), img.shape[0] * 16), 1.0, max(1, int(round(width))), cv2.LINE_AA, 4)
    img *= 1 - a[:, :, None] * (1 - np.array(MARGIN_RED, np.float32))


def header_boxes(img: np.ndarray, rng: np.random.Generator, top: float, height: float, x0: float, x1: float,
                 width: float) -> tuple[float, float, float, float]:
    """A printed header row of boxes (name, class, date, marks) across the sheet; returns its box."""
    grey = rng.uniform(*PRINT_GREY)
    a = np.zeros(img.shape[:2], np.float32)
    cuts = np.sort(rng.uniform(x0, x1, int(rng.integers(2, 5))))
    t = max(1, int(round(width)))
    cv2.rectangle(a, (int(x0), int(top)), (int(x1), int(top + height)), 1.0, t, cv2.LINE_AA)
    for x in cuts:
        cv2.line(a, (int(x), int(top)), (int(x), int(top + height)), 1.0, t, cv2.LINE_AA)
    img *= 1 - a[:, :, None] * (1 - grey)
    return (x0, top, x1, top + height)


def spiral_holes(img: np.ndarray, rng: np.random.Generator, x: float, pitch: float, r: float) -> None:
    """A spiral notebook's holes down the left margin: dark discs (the table seen through the paper)."""
    a = np.zeros(img.shape[:2], np.float32)
    y = rng.uniform(0.3, 1.0) * pitch
    while y < img.shape[0]:
        cv2.circle(a, (int(x * 16), int(y * 16)), int(r * 16), 1.0, -1, cv2.LINE_AA, 4)
        y += pitch
    img *= 1 - a[:, :, None] * 0.8


def table(shape: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Float32 RGB reflectance of what lies round the sheet: a grey desk, wood (grain along x) or a dark cloth."""
    h, w = shape
    names = list(TABLES)
    name = names[int(rng.choice(len(names), p=[p for _, p in TABLES.values()]))]
    base = np.array(TABLES[name][0], np.float32) * rng.uniform(0.8, 1.2, 3).astype(np.float32)
    tex = cv2.resize(rng.normal(0, 1, (max(2, h // 16), max(2, w // 16))).astype(np.float32), (w, h))
    if name == "wood":
        grain = cv2.resize(rng.normal(0, 1, (max(2, h // 3), 4)).astype(np.float32), (w, h))
        tex = 0.4 * tex + grain
    img = base[None, None, :] * (1 + 0.08 * tex[:, :, None])
    return np.clip(img, 0, 1).astype(np.float32), name


def light_field(shape: tuple[int, int], rng: np.random.Generator, info: dict, shadow: float = 0.4,
                depth: tuple[float, float] = (0.15, 0.4)) -> np.ndarray:
    """The light over the frame (about 1): a gradient, a vignette and, on a ``shadow`` share of photos, a soft
    shadow (a hand or the phone) that takes ``depth`` (uniform) of the light."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-0.2, 0.2, 2)
    light = 1 + gx * (xx / w - 0.5) + gy * (yy / h - 0.5)
    light *= 1 - rng.uniform(0.05, 0.25) * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2)
    if rng.random() < shadow:
        a = rng.uniform(0, np.pi)
        side = max(h, w)
        d = (xx - w / 2) * np.cos(a) + (yy - h / 2) * np.sin(a) - rng.uniform(-0.4, 0.4) * side
        soft = rng.uniform(0.02, 0.12) * side
        depth = rng.uniform(*depth)
        light *= 1 - depth / (1 + np.exp(-d / soft))
        info["shadow"] = round(float(depth), 2)
    return light.astype(np.float32)


def expose(refl: np.ndarray, light: np.ndarray, rng: np.random.Generator, info: dict,
           paper_reflectance: float) -> np.ndarray:
    """Grey levels (float32 RGB) of a reflectance image under ``light``: exposed so that paper of
    ``paper_reflectance`` lands at a grey level drawn from ``PAPER_LEVEL``, a flare offset, a white balance; then
    blur and sensor noise."""
    mean, sd, lo, hi = PAPER_LEVEL
    level = float(np.clip(rng.normal(mean, sd), lo, hi))
    flare = float(rng.uniform(*FLARE))
    gain = (level - flare) / (paper_reflectance * float(np.median(light[::8, ::8])))
    wb = np.exp(rng.normal(0, WHITE_BALANCE, 3)).astype(np.float32)
    wb /= float(np.dot(wb, [0.299, 0.587, 0.114]))
    out = flare + gain * refl * light[:, :, None] * wb
    sigma = float(rng.uniform(*BLUR))
    out = cv2.GaussianBlur(out, (0, 0), sigma)
    noise = float(rng.uniform(*NOISE))
    out += rng.normal(0, noise, out.shape[:2]).astype(np.float32)[:, :, None]  # mostly luminance noise
    out += rng.normal(0, noise * 0.4, out.shape).astype(np.float32)
    info.update(paper_level=round(level, 1), flare=round(flare, 1), blur=round(sigma, 2), noise=round(noise, 2))
    return np.clip(out, 0, 255)


def jpeg(rgb: np.ndarray, rng: np.random.Generator, info: dict) -> tuple[np.ndarray, bytes]:
    """(the photo as decoded, its JPEG bytes) at a messaging app's quality, sometimes compressed twice."""
    from PIL import Image

    img = Image.fromarray(np.rint(rgb).astype(np.uint8))
    q = int(rng.integers(*JPEG))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=q)
    info["jpeg"] = [q]
    if rng.random() < JPEG_TWICE:
        q2 = int(rng.integers(*JPEG))
        again = io.BytesIO()
        Image.open(io.BytesIO(buf.getvalue())).save(again, "JPEG", quality=q2)
        buf = again
        info["jpeg"].append(q2)
    data = buf.getvalue()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), data
