"""Trains the ink extractor shipped as ``weights/ink-extractor.safetensors`` (+ its card) from its recipe
``configs/ink-extractor.yaml``.

    INKMATH_DATA=../shared/data python -m inkmath.training.recipes.ink_extractor --config configs/ink-extractor.yaml
        [--cache DIR] [--out FILE] [--steps N]

Data: real-looking photos (``synth.real_photos``: crops of one answer and whole pages) and ``worksheet_pages`` of
``synth.pages``' worksheet photos (white paper, the pages the page reader was tuned on) generated from the CROHME 2014
*training* ink, cleaned as the page reader cleans a photo (``photo.views.clean_at_writing_size``: the sheet found,
warped, the light flattened, at the writing size); the photo's ink mask (where the pen passed) is warped onto the
cleaned sheet. ``patches`` patches of ``patch`` px a photo are kept (most of them holding ink), as uint8 darkness and
int8 colour differences; the patches are cached (``--cache``, one ``.npz`` a photo: an interrupted run resumes); training takes a random ``train_patch`` px
window of each.
Training: Adam, batch ``batch``, ``steps`` steps, binary cross-entropy; ``heldout`` photos spread over the list
give the pixel IoU of the ink, from which the threshold is chosen (the best of 0.3-0.7).
"""

from __future__ import annotations

import argparse
import io
import itertools
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from inkmath.atomic import atomic_write_bytes
from inkmath.data import data_dir
from inkmath.data.crohme import iter_inkml
from inkmath.equation.photo.ink_net import CHANNELS, InkNet, inputs
from inkmath.equation.photo.views import clean_at_writing_size
from inkmath.equation.synth.real_ink import glyph_bank
from inkmath.equation.synth.pages import make_page as worksheet_photo
from inkmath.equation.synth.real_photos import make_crop, make_page
from inkmath.errors import InkmathError
from inkmath.training.small_models import read_recipe, write_card
from inkmath.weights import FORMAT, shipped_file

DEFAULTS = {"name": "ink-extractor", "purpose": "", "model": "unet3", "channels": list(CHANNELS), "seed": 0,
            "crops": 600, "pages": 40, "patches": 8, "patch": 128, "train_patch": 96, "batch": 16, "steps": 3000, "lr": 0.003,
            "heldout": 60, "ink_weight": 2.0, "expressions": 4000, "worksheet_pages": 0}


def photo_patches(photo, rng: np.random.Generator, n: int, size: int) -> dict[str, np.ndarray] | None:
    """``n`` patches (inputs as uint8/int8, target uint8) of one generated photo as the page reader cleans it."""
    try:
        page, _ = clean_at_writing_size(photo.photo)
    except InkmathError:
        return None
    h, w = page.flat.shape
    if h < size or w < size:
        return None
    to_sheet = np.linalg.inv(page.to_photo)
    target = cv2.warpPerspective(photo.ink, to_sheet, (w, h), flags=cv2.INTER_LINEAR) >= 128
    x = inputs(page.flat, page.sheet)
    ys, xs = np.nonzero(target)
    out_x, out_y = [], []
    for k in range(n):
        if len(ys) and k < 0.75 * n:  # most patches hold ink
            i = int(rng.integers(len(ys)))
            cy, cx = ys[i] + int(rng.integers(-size // 3, size // 3)), xs[i] + int(rng.integers(-size // 3, size // 3))
        else:
            cy, cx = int(rng.integers(h)), int(rng.integers(w))
        y0, x0 = int(np.clip(cy - size // 2, 0, h - size)), int(np.clip(cx - size // 2, 0, w - size))
        out_x.append(x[:, y0:y0 + size, x0:x0 + size])
        out_y.append(target[y0:y0 + size, x0:x0 + size])
    xx = np.stack(out_x)
    return {"dark": np.clip(xx[:, 0] * 255, 0, 255).astype(np.uint8),
            "colour": np.clip(xx[:, 1:] * 127, -127, 127).astype(np.int8), "ink": np.stack(out_y).astype(np.uint8)}


def worksheet_page(exprs, seed: int):
    """A ``synth.pages`` worksheet photo with its ink mask, as ``photo_patches`` takes a real-looking photo."""
    from types import SimpleNamespace

    page = worksheet_photo(exprs, seed, shuffle=False, ink_mask=True)
    if not page.truth:
        raise ValueError("no expression fits the page")
    return SimpleNamespace(photo=page.photo, ink=page.ink)


def build_cache(rc: dict, cache: Path) -> list[Path]:
    cache.mkdir(parents=True, exist_ok=True)
    d = data_dir() / "crohme"
    exprs = [e for e in itertools.islice(iter_inkml(d / "crohme2014_train_inkml.tar.xz"), rc["expressions"])
             if e.latex_truth]
    bank = glyph_bank(exprs)
    files = []
    jobs = [("crop", k) for k in range(rc["crops"])] + [("page", k) for k in range(rc["pages"])] \
        + [("worksheet", k) for k in range(rc["worksheet_pages"])]
    t0 = time.time()
    for n, (kind, k) in enumerate(jobs):
        f = cache / f"{kind}{k:04d}.npz"
        files.append(f)
        if f.exists():
            continue
        rng = np.random.default_rng([rc["seed"], k, ("crop", "page", "worksheet").index(kind)])
        window = [exprs[i] for i in rng.choice(len(exprs), 60, replace=False)]
        try:
            if kind == "worksheet":  # synth.pages' worksheet photos: white paper, the pages the reader was tuned on
                photo = worksheet_page(window, rc["seed"] * 1000003 + k)
            else:
                photo = (make_crop if kind == "crop" else make_page)(window, bank, rc["seed"] * 1000003 + k)
        except ValueError:
            files.pop()
            continue
        arrays = photo_patches(photo, rng, rc["patches"] * (1 if kind == "crop" else 4), rc["patch"])
        if arrays is None:
            files.pop()
            continue
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        atomic_write_bytes(f, buf.getvalue())
        if n % 50 == 0:
            print(f"{n}/{len(jobs)} photos, {time.time() - t0:.0f} s", flush=True)
    return [f for f in files if f.exists()]


def load(files: list[Path]) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = [], []
    for f in files:
        z = np.load(f)
        xs.append(np.concatenate([z["dark"][:, None].astype(np.float32) / 255,
                                  z["colour"].astype(np.float32) / 127], axis=1))
        ys.append(z["ink"][:, None].astype(np.float32))
    return torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys))


def iou_at(net: InkNet, x: torch.Tensor, y: torch.Tensor, thresholds) -> dict[float, float]:
    net.eval()
    with torch.no_grad():
        p = torch.cat([torch.sigmoid(net(x[i:i + 64])) for i in range(0, len(x), 64)])
    net.train()
    t = y > 0.5
    return {th: float(((p >= th) & t).sum() / max(1, ((p >= th) | t).sum())) for th in thresholds}


def train(rc: dict, files: list[Path], out: Path, steps: int | None = None,
          config: str = "configs/ink-extractor.yaml") -> dict:
    torch.manual_seed(rc["seed"])
    step = max(2, len(files) // max(1, rc["heldout"]))  # every step-th photo held out, of every kind
    held = files[::step][:rc["heldout"]]
    x, y = load([f for f in files if f not in held])
    hx, hy = load(held)
    net = InkNet(tuple(rc["channels"]))
    opt = torch.optim.Adam(net.parameters(), lr=rc["lr"])
    steps = steps or rc["steps"]
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, rc["lr"], total_steps=steps)
    weight = torch.tensor(rc["ink_weight"])
    g = torch.Generator().manual_seed(rc["seed"])
    t0 = time.time()
    for step in range(steps):
        idx = torch.randint(len(x), (rc["batch"],), generator=g)
        o = torch.randint(rc["patch"] - rc["train_patch"] + 1, (2,), generator=g).tolist()
        sl = (slice(None), slice(None), slice(o[0], o[0] + rc["train_patch"]), slice(o[1], o[1] + rc["train_patch"]))
        xb, yb = x[idx][sl], y[idx][sl]
        if torch.rand(1, generator=g).item() < 0.5:
            xb, yb = xb.flip(3), yb.flip(3)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(xb), yb, pos_weight=weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 200 == 0 or step == steps - 1:
            print(f"step {step} loss {loss.item():.4f} {time.time() - t0:.0f} s", flush=True)
    ious = iou_at(net, hx, hy, (0.3, 0.4, 0.5, 0.6, 0.7))
    best = max(ious, key=ious.get)
    from safetensors.torch import save as save_tensors

    atomic_write_bytes(out, save_tensors({k: v.contiguous() for k, v in net.state_dict().items()}))
    card = {"format": FORMAT, "kind": "ink-extractor", "name": rc["name"], "purpose": rc["purpose"],
            "model": rc["model"], "channels": rc["channels"],
            "parameters": sum(p.numel() for p in net.parameters()), "threshold": best,
            "metrics": {"heldout_pixel_iou": round(ious[best], 4),
                        "heldout_iou_by_threshold": {str(k): round(v, 4) for k, v in ious.items()}},
            "train_patches": len(x), "heldout_patches": len(hx), "steps": steps,
            "config": config, "train_command": f"python -m inkmath.training.recipes.ink_extractor --config {config}",
            "recipe": {k: v for k, v in rc.items()},
            "data": "synth.real_photos crops and pages, and synth.pages worksheet photos, of the CROHME 2014 training "
                    "ink (crohme2014_train_inkml.tar.xz)",
            "train_seconds": round(time.time() - t0)}
    write_card(out, card)
    return card


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/ink-extractor.yaml")
    ap.add_argument("--cache", type=Path, default=Path("runs/ink-extractor-cache"))
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--steps", type=int, default=None)
    a = ap.parse_args(argv)
    rc = read_recipe(a.config, DEFAULTS, model="unet3")
    files = build_cache(rc, a.cache)
    train(rc, files, a.out or shipped_file("ink-extractor"), a.steps, a.config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
