"""Refits the look-alikes' correction by size and place shipped as ``weights/symbol-size.safetensors`` (+ its card
``symbol-size.json``) from its recipe ``configs/symbol-size.yaml``.

    INKMATH_DATA=../shared/data python -m inkmath.training.recipes.symbol_size --config configs/symbol-size.yaml
        [--refit GROUP,GROUP] [--out FILE]

The file holds one float64 tensor a group of ``symbol_size.GROUPS`` (the size letters, p / P, 1 / |, 1 / (, the
image reader's p / P and 1 / (, p / P without an x-height letter, the digits and their look-alike letters, a prime
and what it is read as). ``--refit`` fits the groups named on the set's truth segmentation as the readers' context
models read it without the correction, as ``benchmarks/symbol_size_fit.py`` does (its rows and its fit: run from the
repository's root, with the set's hypothesis tables built as that script's docstring says; the image reader's groups
from the image tables), each rounded to the recipe's ``places``; the card records the fit's figures. The groups not
refitted keep the coefficients, and the card's account, of the file at ``--out``: so the recipe alone writes the
shipped file again. Choose on validation only: the 2014 test is for reporting.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inkmath.errors import InkmathError
from inkmath.equation.core.registry import load_model
from inkmath.equation.reader.symbol_size import GROUPS, IMAGE_GROUPS, NAME, SymbolSizeModel
from inkmath.weights import shipped_file
from inkmath.training import small_models
from inkmath.equation.reader.symbol_size import NO_REFERENCE_GROUPS, PAIR_GROUPS
from inkmath.weights import FORMAT

MODEL = "logistic"
PURPOSE = "the expression reader's look-alikes: a pair's reading moved by the symbol's size, place and the other symbols"
DEFAULTS = {"name": NAME, "purpose": PURPOSE, "model": MODEL, "l2": 1e-3, "places": 3, "set": "val", "folds": 5}
# the file's groups -> the group ``benchmarks/symbol_size_fit.py`` fits them as (``groups()``)
FITTED_AS = {"size_letters": "size letters", "p": "p", "one_bar": "1 / |", "one_bracket": "1 / (",
             "image_p": "p", "image_one_bracket": "1 / (", "p_no_reference": "p without an x-height letter",
             "digit": "digit or letter", "prime": "prime"}


def read_recipe(path: Path | str) -> dict:
    """The recipe's keys over ``DEFAULTS`` (``small_models.read_recipe``, for this module's ``MODEL``)."""
    return small_models.read_recipe(path, DEFAULTS, MODEL)


def fit_script():
    """``benchmarks/symbol_size_fit.py``, imported from the repository's root."""
    bench = Path("benchmarks")
    if not (bench / "symbol_size_fit.py").is_file():
        raise InkmathError("Refitting reads benchmarks/symbol_size_fit.py: run from the repository's root")
    sys.path.insert(0, str(bench.resolve()))
    import symbol_size_fit

    return symbol_size_fit


def refit(groups: list[str], recipe: dict, command: str) -> dict[str, tuple[list[float], dict]]:
    """{group: (its coefficients fitted and rounded, its card entry's data, metrics and history)}."""
    script = fit_script()
    out = {}
    for image in (False, True):
        mine = [g for g in groups if (g in IMAGE_GROUPS) == image]
        if not mine:
            continue
        rows = script.gather(recipe["set"], image)
        reader = "the image reader's, on the WAP-like renderings" if image else "the stroke reader's"
        for group in mine:
            res = script.fit_group(rows, FITTED_AS[group], recipe["folds"], image, recipe["l2"])
            coefficients = [round(v, recipe["places"]) for v in res["coefficients"]]
            out[group] = (coefficients, {
                "data": f"the {recipe['set']} set's truth segmentation as {reader} context models read it without "
                        f"the correction: {res['symbols']} symbols of the group",
                "metrics": {"symbols": res["symbols"], "models_right": res["models"],
                            "in_sample_right": res["in_sample"],
                            f"cross_validated_right_{recipe['folds']}_folds": res["cross_validated"]},
                "history": f"refitted by `{command}` (L2 {recipe['l2']:g}, rounded to {recipe['places']} places); "
                           f"the coefficients before read {res['shipped']} of {res['symbols']} right"})
    return out


def card_of(recipe: dict, config: str, command: str, groups: dict[str, dict]) -> dict:
    """The card: what the file is, each group's pairs and coefficients with where they came from (``groups``:
    {group: {"data", "metrics", "history"}}) and the recipe it was written with."""
    return {"format": FORMAT, "name": recipe["name"], "kind": SymbolSizeModel.KIND, "purpose": recipe["purpose"],
            "model": recipe["model"],
            "architecture": f"{len(GROUPS)} logistic corrections of a pair's log-odds z: a * z + w . features + c "
                            "(float64, one tensor a group)",
            "parameters": sum(len(names) for _, names in GROUPS.values()),
            "groups": {g: {"pairs": [list(p) for p in pairs], "coefficients": list(names), **groups[g]}
                       for g, (pairs, names) in GROUPS.items()},
            "config": config, "train_command": command,
            "data": {g: groups[g]["data"] for g in GROUPS},
            "metrics": {g: groups[g]["metrics"] for g in GROUPS},
            "recipe": recipe}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/symbol-size.yaml", help="the recipe (YAML)")
    ap.add_argument("--refit", default="", help=f"groups to refit, comma-separated: {', '.join(GROUPS)}")
    ap.add_argument("--out", type=Path, default=shipped_file(NAME))
    args = ap.parse_args(argv)
    recipe = read_recipe(args.config)
    groups = [g for g in args.refit.split(",") if g]
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        raise InkmathError(f"No group {', '.join(bad)}; the groups: {', '.join(GROUPS)}")
    current = load_model(args.out, SymbolSizeModel.KIND) if args.out.is_file() else None
    command = f"python -m inkmath.training.recipes.symbol_size --config {args.config}" + (
        f" --refit {','.join(groups)}" if groups else "")
    fitted = refit(groups, recipe, command) if groups else {}
    coefficients, entries = {}, {}
    for group in GROUPS:
        if group in fitted:
            coefficients[group], entries[group] = fitted[group]
        elif current is not None:
            coefficients[group] = list(group_coefficients(current, group))
            entries[group] = {k: current.card["groups"][group].get(k, "") for k in ("data", "metrics", "history")}
        else:
            raise InkmathError(f"No {args.out} to keep the {group} coefficients of: refit it (--refit {group})")
    card = card_of(recipe, str(args.config), command, entries)
    small_models.write_coefficients(args.out, coefficients, GROUPS, card)
    return 0


def group_coefficients(model: SymbolSizeModel, group: str) -> tuple[float, ...]:
    """``group``'s coefficients in ``model``, in the file's order."""
    pair = GROUPS[group][0][0]
    if group == "digit":
        return (model.digit_odds, model.digit_share, *model.digit_pairs.values())
    if group == "prime":
        return model.prime
    table = (model.pairs if group in PAIR_GROUPS else model.image_pairs if group in IMAGE_GROUPS
             else model.no_reference_pairs if group in NO_REFERENCE_GROUPS else None)
    return table[pair][1]


if __name__ == "__main__":
    try:
        sys.exit(main())
    except InkmathError as e:  # a missing recipe, tables or data: one line, no traceback
        sys.exit(f"error: {e}")
