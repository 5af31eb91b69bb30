"""The reader's model registry (``equation.core.registry``): a card's kind picks the class that builds its model, a
model is loaded once per file, and a missing or mismatched file is one line naming what to do."""

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from inkmath import InkmathError
from inkmath.equation.core import registry
from inkmath.equation.core.mlp import BinaryMLP
from inkmath.weights import is_classifier, list_shipped_models


def _stage_modules():
    """The modules that register the reader's model classes (importing them registers their kinds)."""
    import importlib

    for name in ("strokes.segment", "strokes.late_strokes", "image.grouping", "image.touch", "photo.merge",
                 "page.cut", "page.split", "page.label", "reader.layout_model", "reader.structure_model",
                 "reader.context_model", "reader.latex_lm", "reader.pen_symbols", "reader.calibrate",
                 "reader.symbol_size", "page.other", "photo.ink_net"):
        importlib.import_module(f"inkmath.equation.{name}")


def _tensors(inputs: int = 3) -> dict[str, np.ndarray]:
    return {"mean": np.zeros(inputs, np.float32), "std": np.ones(inputs, np.float32),
            "w1": np.ones((inputs, 2), np.float32), "b1": np.zeros(2, np.float32), "w2": np.ones((2, 1), np.float32),
            "b2": np.zeros(1, np.float32)}


def test_every_shipped_equation_model_loads_by_its_cards_kind():
    _stage_modules()
    kinds = registry.kinds()
    for name, card in list_shipped_models().items():
        if is_classifier(card):
            continue
        assert card.get("kind") in kinds, f"{name}: its card names kind {card.get('kind')!r}, which no class registers"
        model = registry.load_model(name)
        assert isinstance(model, kinds[card["kind"]].cls), name
        assert registry.load_model(name) is model is registry.load_model(registry.weights_path(name))


def test_a_name_and_its_path_are_one_model_and_the_card_picks_the_class(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_CACHE", {})

    @registry.register("test-pair", what="Test pair model", recipe="inkmath.training.recipes.test_pair")
    class TestPair(BinaryMLP):
        pass

    try:
        path = tmp_path / "m.safetensors"
        save_file(_tensors(), str(path))
        path.with_suffix(".json").write_text(json.dumps({"name": "m", "kind": "test-pair"}))
        model = registry.load_model(str(path))
        assert type(model) is TestPair and model.w1.shape == (3, 2)
        assert registry.load_model(path, "test-pair") is model
        with pytest.raises(InkmathError, match="holds a 'test-pair' model"):
            registry.load_model(path, "image-merge")
        # a file without a card: the caller names its kind
        save_file(_tensors(4), str(tmp_path / "bare.safetensors"))
        with pytest.raises(InkmathError, match="names no model kind"):
            registry.load_model(tmp_path / "bare.safetensors")
        assert registry.load_model(tmp_path / "bare.safetensors", "test-pair").w1.shape == (4, 2)
        # a card naming a kind no class registers
        (tmp_path / "other.safetensors").write_bytes(path.read_bytes())
        (tmp_path / "other.json").write_text(json.dumps({"kind": "no-such-kind"}))
        with pytest.raises(InkmathError, match="no model class is registered for kind 'no-such-kind'"):
            registry.load_model(tmp_path / "other.safetensors")
    finally:
        registry._KINDS.pop("test-pair", None)


def test_a_missing_file_is_one_line_naming_its_recipe(tmp_path):
    _stage_modules()
    with pytest.raises(InkmathError, match=r"Image merge model .* is missing; train it with `python -m "
                                           r"inkmath.training.recipes.image_merge --config configs/image-merge.yaml`"):
        registry.load_model(tmp_path / "none.safetensors", "image-merge")
    with pytest.raises(InkmathError, match="recipes.calibration"):
        registry.load_model(str(tmp_path / "none.safetensors"), "calibration")


def test_the_registry_is_the_only_cache_of_the_reader_models():
    """No stage keeps a loader cache of its own (``lru_cache`` on a ``load_*``, a module dict of models)."""
    src = Path(registry.__file__).resolve().parents[1]
    for path in src.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for k, line in enumerate(lines[:-1]):
            if line.strip().startswith("@lru_cache"):
                nxt = lines[k + 1].strip()
                assert not nxt.startswith("def load_"), f"{path.name}:{k + 1} caches {nxt}"


def test_forgetting_a_file_reloads_it_and_keeps_every_other_model():
    a, b = registry.load_model("page-split"), registry.load_model("page-cut")
    registry.forget("page-split")
    again = registry.load_model("page-split")
    assert again is not a and registry.load_model("page-cut") is b
    assert registry.load_model("page-split") is again
