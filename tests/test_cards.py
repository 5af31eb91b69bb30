"""Every shipped model is reproducible from its card: the card names a recipe under configs/ that exists and agrees
with it (model, preset, classes, name, purpose), and the commands it records train from those recipes."""

import importlib
import json
import shlex
from pathlib import Path

import numpy as np
import pytest
import yaml

from inkmath import InkmathError
from inkmath.weights import ALIASES, FORMAT, card_settings, describe_shipped, list_shipped, resolve_weights, \
    list_shipped_models

ROOT = Path(__file__).resolve().parents[1]
CARDS = list_shipped_models()
# settings that change where or how fast a run goes, not what it learns
RUN_ONLY = {"out", "name", "threads", "checkpoint_seconds", "log_every", "purpose"}
REQUIRED = ("format", "name", "purpose", "model", "parameters", "config", "train_command", "data", "metrics", "created")


def recipe(path: str) -> dict:
    p = ROOT / path
    assert p.is_file(), f"recipe {path} does not exist"
    return yaml.safe_load(p.read_text(encoding="utf-8"))


def command_option(command: str, option: str) -> str | None:
    words = shlex.split(command)
    return next((words[k + 1] for k, w in enumerate(words[:-1]) if w == option), None)


def is_classifier(card: dict) -> bool:
    """A symbol classifier's card (trained by ``inkmath train``) names its classes and their LaTeX."""
    return isinstance(card.get("classes"), dict)


def check_card(card: dict) -> None:
    """Raise AssertionError naming the first way ``card`` and its recipes disagree."""
    missing = [k for k in REQUIRED if not card.get(k)]
    assert not missing, f"{card.get('name')}: card lacks {missing}"
    assert card["format"] == FORMAT
    assert isinstance(card["config"], str) and card["config"].startswith("configs/"), card["config"]
    r = recipe(card["config"])
    for key in ("model", "name", "purpose"):
        if key != "model" and key not in r:
            continue  # a recipe need not repeat the name and purpose; when it does, they must agree
        assert r.get(key) == card[key], \
            f"{card['name']}: the recipe's {key} {r.get(key)!r} is not the card's {card[key]!r}"
    assert command_option(card["train_command"], "--config") == card["config"], \
        f"{card['name']}: train_command {card['train_command']!r} does not train from {card['config']}"
    if not is_classifier(card):  # another model of the reader: its train module reads the recipe
        assert card["train_command"].startswith("python -m inkmath."), card["train_command"]
        module = importlib.import_module(card["train_command"].split()[2])
        for key, value in r.items():  # a card that records its recipe was trained with this one
            if "recipe" in card and key not in RUN_ONLY:
                assert card["recipe"].get(key) == value, f"{card['name']}: recipe {key}={value!r}, the card was " \
                                                         f"trained with {card['recipe'].get(key)!r}"
        from inkmath.equation.core.mlp import MODEL
        from inkmath.training.small_models import read_recipe

        if getattr(module, "DEFAULTS", {}).get("model") == MODEL:  # an MLP trainer reads this recipe without an error
            assert read_recipe(ROOT / card["config"], module.DEFAULTS)["name"] == card["name"]
        return
    assert card["num_classes"] == len(card["classes"]["names"]) == len(card["classes"]["latex"])
    assert r.get("preset") == card["preset"], f"{card['name']}: preset {r.get('preset')!r} != {card['preset']!r}"
    assert r["dataset"] == card["data"]["train"], f"{card['name']}: the recipe trains on {r['dataset']}"
    settings = card_settings(card)
    for key, value in r.items():
        if key not in RUN_ONLY and key != "init":
            assert settings.get(key) == value, f"{card['name']}: recipe {key}={value!r}, the card was trained with " \
                                               f"{settings.get(key)!r}"
    if r.get("teacher"):
        assert r["teacher"] in list_shipped(), f"{card['name']}: teacher {r['teacher']} is not shipped"
        assert card["teacher"]["weights"] == r["teacher"]
        resolve_weights(r["teacher"])
    if r.get("init"):
        init = card.get("init") or {}
        assert init.get("config"), f"{card['name']}: the recipe starts from {r['init']}, the card names no init recipe"
        first = recipe(init["config"])
        assert command_option(init["train_command"], "--config") == init["config"]
        assert command_option(init["train_command"], "--out") == r["init"] == init["weights"], \
            f"{card['name']}: the recipe starts from {r['init']}, which the init command does not write"
        for key in ("model", "dataset", "preset"):
            assert first.get(key) == r.get(key), f"{card['name']}: the two stages' {key} differ"
        for key, value in first.items():
            if key not in RUN_ONLY:
                assert init["settings"].get(key) == value, f"{card['name']}: stage-1 recipe {key}={value!r}"


def test_every_model_ships_in_one_place_with_a_card():
    names = set(CARDS)
    assert {"mnist", "hasy", "crohme", "crohme-m", "stroke-merge", "layout-relation"} <= names
    assert not list((ROOT / "src" / "inkmath" / "equation").glob("*.safetensors")), "weights outside weights/"
    for name, card in CARDS.items():
        assert card["name"] == name


@pytest.mark.parametrize("name", sorted(CARDS))
def test_card_agrees_with_its_recipe(name):
    check_card(CARDS[name])


@pytest.mark.parametrize("name", sorted(n for n, c in CARDS.items() if is_classifier(c)))
def test_card_parameters_are_the_models(name):
    from inkmath.models import count_parameters, create_model

    card = CARDS[name]
    assert count_parameters(create_model(card["model"], card["num_classes"], card["in_size"])) == card["parameters"]


def test_equation_model_cards_count_their_tensors():
    from safetensors.numpy import load_file

    from inkmath.equation.reader.layout_model import RELATIONS_OUT, load_relation_model
    from inkmath.equation.strokes.segment import load_merge_model

    for name in ("stroke-merge", "layout-relation"):
        t = load_file(str(ROOT / "src" / "inkmath" / "weights" / f"{name}.safetensors"))
        n = sum(v.size for k, v in t.items() if k.rsplit(".", 1)[-1] not in ("mean", "std"))
        assert n == CARDS[name]["parameters"]
    assert tuple(CARDS["layout-relation"]["outputs"]) == RELATIONS_OUT
    assert len(load_relation_model().members) == recipe(CARDS["layout-relation"]["config"])["members"]
    merge_recipe = recipe(CARDS["stroke-merge"]["config"])
    assert [m.w1.shape[1] for m in load_merge_model().members] == [merge_recipe["hidden"]] * len(merge_recipe["windows"])
    assert [m.window for m in load_merge_model().members] == merge_recipe["windows"]


def test_a_card_that_disagrees_with_its_recipe_fails():
    card = json.loads(json.dumps(CARDS["crohme"]))
    check_card(card)
    for edit in (lambda c: c.update(model="inkres-m"), lambda c: c.update(preset="symbol32"),
                 lambda c: c.update(config="configs/crohme-m-ft2.yaml"),
                 lambda c: c.update(train_command="inkmath train --config configs/crohme-m-ft2.yaml --out x"),
                 lambda c: c["settings"].update(lr=0.1), lambda c: c["init"].update(weights="runs/other"),
                 lambda c: c.update(config="configs/nope.yaml"), lambda c: c.pop("purpose")):
        bad = json.loads(json.dumps(card))
        edit(bad)
        with pytest.raises(AssertionError):
            check_card(bad)


def test_old_and_size_names_resolve():
    assert resolve_weights("crohme-s")[0] == resolve_weights("crohme")[0]
    for old, new in ALIASES.items():
        assert new in CARDS
    with pytest.raises(InkmathError, match="not a symbol classifier"):
        resolve_weights("stroke-merge")


def test_models_listing_names_every_shipped_model_and_what_it_is_for():
    rows = {r["name"]: r for r in describe_shipped()}
    assert set(rows) == set(CARDS)
    assert all(r["purpose"] and r["config"] and r["parameters"] for r in rows.values())
    assert "stroke_merge" in rows["stroke-merge"]["aliases"]
    assert np.isclose(float(rows["mnist"]["metric"].split()[1]), CARDS["mnist"]["metrics"]["test"]["top1"], atol=1e-4)


def test_equation_recipes_reject_unknown_keys_and_other_models(tmp_path):
    from inkmath.training.small_models import read_recipe
    from inkmath.training.recipes.merge import DEFAULTS

    (tmp_path / "a.yaml").write_text("model: tanh-mlp\nhiden: 3\n")
    with pytest.raises(InkmathError, match="unknown keys \\['hiden'\\]"):
        read_recipe(tmp_path / "a.yaml", DEFAULTS)
    (tmp_path / "b.yaml").write_text("model: inkres\n")
    with pytest.raises(InkmathError, match="trains model 'inkres'"):
        read_recipe(tmp_path / "b.yaml", DEFAULTS)
    with pytest.raises(InkmathError, match="not found"):
        read_recipe(tmp_path / "c.yaml", DEFAULTS)
