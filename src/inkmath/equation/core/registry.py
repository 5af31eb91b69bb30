"""One registry for the reader's small models: a weights file's card names its ``kind``, the class registered under
that kind builds it, and every model is loaded once per process, in one cache.

    @register("image-merge", what="Image merge model",
              recipe="inkmath.training.recipes.image_merge --config configs/image-merge.yaml")
    class ImageMergeModel(BinaryMLP): ...           # builds itself: ImageMergeModel.from_weights(path, card)

    model = load_model("image-merge")               # a shipped name, or a path to a .safetensors file
    model = load_model(path, kind="image-merge")    # a file whose card names no kind (or none at all)

A shipped name is resolved in the package's ``weights/`` folder (``inkmath.weights.shipped_file``, the former names of
``inkmath.weights.ALIASES`` too); anything with a suffix or a folder in it is a path. The card is the ``.json`` file
beside the weights. The class is the one registered under ``kind`` (the caller's: a stage's accessor knows what it
reads) or under the card's ``kind``; both given, they must agree. A missing file is one line naming the recipe that
makes it. Models are cached by their file's absolute path (``ensemble``: by their members' paths), so a name and its
path load one object.

A registered class has ``from_weights(path, card) -> model`` (the pair models inherit ``mlp.BinaryMLP``'s), and
gets ``KIND``, ``WHAT`` and ``RECIPE`` class attributes. This module imports nothing of the reader's stages: a kind is
registered when the module that defines its class is imported (each stage's accessor lives there).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from inkmath.errors import InkmathError
from inkmath.weights import ALIASES, shipped_file


@dataclass(frozen=True)
class Kind:
    """A registered kind: the class that builds it, how errors name it (``what``), the recipe that makes its file
    (what follows ``python -m``) and the shipped file's name (``shipped``)."""

    name: str
    cls: type
    what: str
    recipe: str
    shipped: str


_KINDS: dict[str, Kind] = {}
_CACHE: dict[object, object] = {}  # absolute path (or a tuple of them: an ensemble) -> the model
_SHIPPED: dict[str, Path] = {}  # shipped name -> its file (the names read most are looked up per symbol)


def register(kind: str, *, what: str, recipe: str, shipped: str | None = None) -> Callable[[type], type]:
    """Class decorator: ``cls`` builds the weights files whose card (or caller) names ``kind``; ``shipped``: the
    shipped file's name (default: ``kind``)."""
    def deco(cls: type) -> type:
        old = _KINDS.get(kind)
        if old is not None and old.cls.__qualname__ != cls.__qualname__:
            raise ValueError(f"model kind {kind!r} registered twice ({old.cls.__qualname__}, {cls.__qualname__})")
        _KINDS[kind] = Kind(kind, cls, what, recipe, shipped or kind)
        cls.KIND, cls.WHAT, cls.RECIPE = kind, what, recipe
        return cls

    return deco


def kinds() -> dict[str, Kind]:
    """The registered kinds (those whose modules are imported), by name."""
    return dict(_KINDS)


def weights_path(name_or_path: str | os.PathLike) -> Path:
    """The absolute path of a shipped name's ``.safetensors`` file, or of the path given."""
    if isinstance(name_or_path, str) and name_or_path in _SHIPPED:
        return _SHIPPED[name_or_path]

    s = os.fspath(name_or_path)
    p = Path(s).expanduser()
    if isinstance(name_or_path, os.PathLike) or p.suffix or len(p.parts) > 1:
        return Path(os.path.abspath(p))
    _SHIPPED[s] = shipped_file(ALIASES.get(s, s))
    return _SHIPPED[s]


def read_card(path: Path) -> dict:
    """The card beside the weights file ``path`` (``NAME.json``), or {} where there is none."""
    card_path = Path(path).with_suffix(".json")
    if not card_path.is_file():
        return {}
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InkmathError(f"The card {card_path} is not JSON ({e})") from None
    return card if isinstance(card, dict) else {}


def _kind_of(path: Path, kind: str | None, card: dict, name: str) -> Kind:
    """The registered kind that builds ``path`` (see the module docstring)."""
    card_kind = card.get("kind")
    if kind is not None and card_kind is not None and card_kind != kind:
        raise InkmathError(f"{path} holds a {card_kind!r} model (its card), not the {kind!r} model asked for")
    chosen = kind or card_kind
    if chosen is None:  # no card: a shipped name is its own kind
        chosen = next((k.name for k in _KINDS.values() if k.shipped == name), None)
    if chosen is None:
        raise InkmathError(f"{path}: its card names no model kind (\"kind\"); give one of: "
                           f"{', '.join(sorted(_KINDS)) or 'none registered'}")
    if chosen not in _KINDS:
        raise InkmathError(f"{path}: no model class is registered for kind {chosen!r} (registered: "
                           f"{', '.join(sorted(_KINDS)) or 'none'}); import the module that defines it")
    return _KINDS[chosen]


def load_model(name_or_path: str | os.PathLike | None = None, kind: str | None = None):
    """The model of a shipped name or a weights file (``None``: ``kind``'s shipped one), built by its registered
    class and loaded once per process."""
    if name_or_path is None:
        if kind not in _KINDS:
            raise InkmathError(f"No model class is registered for kind {kind!r}")
        name_or_path = _KINDS[kind].shipped
    path = weights_path(name_or_path)
    model = _CACHE.get(path)
    if model is not None:
        if kind is not None and getattr(model, "KIND", kind) != kind:
            raise InkmathError(f"{path} holds a {model.KIND!r} model, not the {kind!r} model asked for")
        return model
    card = read_card(path)
    entry = _kind_of(path, kind, card, os.fspath(name_or_path))
    if not path.is_file():
        raise InkmathError(f"{entry.what} {path} is missing; train it with `python -m {entry.recipe}`")
    model = entry.cls.from_weights(path, card)
    _CACHE[path] = model
    return model


def ensemble(names: Sequence[str | os.PathLike], kind: str, combine: Callable[[list], object]):
    """``combine`` (a class taking a list of members) of the models ``names`` (each as ``load_model``'s, of
    ``kind``), made once per process and list of files."""
    key = (kind, getattr(combine, "__qualname__", repr(combine)), tuple(weights_path(n) for n in names))
    model = _CACHE.get(key)
    if model is None:
        model = combine([load_model(n, kind) for n in names])
        _CACHE[key] = model
    return model


def clear() -> None:
    """Forget every model loaded (the next ``load_model`` reads its file again)."""
    _CACHE.clear()


def forget(name_or_path: str | os.PathLike) -> None:
    """Forget the model of one weights file (and any ensemble holding it): the next ``load_model`` of it reads the
    file again; every other model stays as loaded."""
    path = weights_path(name_or_path)
    held = lambda k: k == path or (isinstance(k, tuple) and any(held(x) for x in k))  # noqa: E731 - an ensemble's key
    for key in [k for k in _CACHE if held(k)]:
        del _CACHE[key]
