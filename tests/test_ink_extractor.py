"""The learned ink extractor (photo.ink_net) and its recipe (training.recipes.ink_extractor) on a tiny set: patches
of generated real-looking photos cleaned as the page reader cleans them, a short training that learns the ink, the
weights and card it writes, and the page clean-up reading ink with it."""

from __future__ import annotations

import numpy as np
import pytest

from test_real_photos import _exprs


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    import io

    from inkmath.equation.synth.real_ink import glyph_bank
    from inkmath.equation.synth.real_photos import make_crop
    from inkmath.training.recipes.ink_extractor import photo_patches

    exprs = _exprs()
    bank = glyph_bank(exprs)
    folder = tmp_path_factory.mktemp("ink")
    files, photos = [], []
    for seed in range(8):
        photo = make_crop(exprs, bank, seed)
        arrays = photo_patches(photo, np.random.default_rng(seed), 6, 64)
        if arrays is None:
            continue
        assert arrays["dark"].shape == arrays["ink"].shape and arrays["colour"].shape[1] == 2
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        f = folder / f"crop{seed}.npz"
        f.write_bytes(buf.getvalue())
        files.append(f)
        photos.append(photo)
    assert len(files) >= 4
    return folder, files, photos


def test_a_short_training_learns_the_ink_and_writes_weights_and_card(tiny):
    import json

    from inkmath.equation.photo.ink_net import InkNet
    from inkmath.training.recipes.ink_extractor import DEFAULTS, train
    from inkmath.weights import FORMAT

    folder, files, _ = tiny
    rc = {**DEFAULTS, "channels": [4, 8, 8], "batch": 8, "lr": 0.01, "heldout": 2, "patch": 64, "train_patch": 48}
    out = folder / "ink.safetensors"
    card = train(rc, files, out, steps=60)
    assert out.is_file() and json.loads(out.with_suffix(".json").read_text())["kind"] == "ink-extractor"
    assert 0.3 <= card["threshold"] <= 0.7
    assert card["metrics"]["heldout_pixel_iou"] > 0.2  # far above chance: the ink is a few per cent of the pixels
    assert card["parameters"] == sum(p.numel() for p in InkNet((4, 8, 8)).parameters())
    assert card["train_command"].endswith("--config configs/ink-extractor.yaml") and card["format"] == FORMAT


def test_the_clean_up_reads_ink_with_a_learned_extractor(tiny):
    from inkmath.equation.core.registry import load_model
    from inkmath.equation.photo.clean import clean_page
    from inkmath.equation.photo.ink_net import InkExtractor, InkNet

    folder, _, photos = tiny

    class AllInk(InkExtractor):  # every dark pixel is ink: the clean-up keeps what its edge rule keeps
        def probability(self, flat, sheet_rgb):
            return (flat < 120).astype(np.float32)

    page = clean_page(photos[0].photo, ink_model=AllInk(InkNet((4, 8, 8)), {}))
    assert page.ink.dtype == np.uint8 and page.ink.shape == page.flat.shape and page.ink.any()
    assert set(np.unique(page.ink)) <= {0, 255}
    from safetensors.torch import save_file

    net = InkNet((4, 8, 8))  # a file of untrained weights with its card loads through the one registry
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(folder / "untrained.safetensors"))
    (folder / "untrained.json").write_text('{"kind": "ink-extractor", "channels": [4, 8, 8], "threshold": 0.5}')
    model = load_model(folder / "untrained.safetensors")
    assert isinstance(model, InkExtractor) and model.threshold == 0.5
    p = model.probability(page.flat[:300, :500], page.sheet[:300, :500])
    assert p.shape == page.flat[:300, :500].shape and 0 <= p.min() <= p.max() <= 1


def test_the_writing_size_is_chosen_on_the_thresholds_ink_then_the_extractor_reads_at_it(tiny, monkeypatch):
    """clean_at_writing_size chooses the scale as without a model (every clean-up by the thresholds), then the
    extractor reads the page cleaned at that scale, the scale it was trained at; nothing is cleaned again for it."""
    from inkmath.equation.photo import views
    from inkmath.equation.photo.ink_net import InkExtractor, InkNet

    _, _, photos = tiny
    calls, learned = [], []
    real_clean, real_learned = views.clean_page, views.with_learned_ink

    def spy(*a, **kw):
        calls.append((kw.get("shrink", 1.0), kw.get("ink_model")))
        page = real_clean(*a, **kw)
        calls[-1] += (page,)
        return page

    def spy_learned(page, model):
        learned.append((page, model))
        return real_learned(page, model)

    monkeypatch.setattr(views, "clean_page", spy)
    monkeypatch.setattr(views, "with_learned_ink", spy_learned)
    model = InkExtractor(InkNet((4, 8, 8)), {})
    page, shrink = views.clean_at_writing_size(photos[0].photo, ink_model=model)
    assert all(m is None for _, m, _ in calls) and len(learned) == 1 and learned[0][1] is model
    chosen = next(p for s, _, p in reversed(calls) if s == shrink)
    assert learned[0][0] is chosen and page.flat is chosen.flat and page.ink.shape == chosen.ink.shape
    calls.clear()
    learned.clear()
    views.clean_at_writing_size(photos[0].photo)
    assert all(m is None for _, m, _ in calls) and len(calls) >= 1 and not learned
