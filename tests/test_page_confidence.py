"""The confidence of what is read on a page photo: its features and the calibration's page part."""

import json
import shutil
from pathlib import Path

import numpy as np


def test_the_widest_gap_is_the_widest_empty_band_between_symbols_in_symbol_heights():
    from inkmath.equation.page.read import GAP_MOST, widest_gap

    sym = lambda x0, x1: {"box": [x0, 0, x1, 20]}  # noqa: E731 - symbols 20 px tall
    assert widest_gap([sym(0, 10)]) == 0.0
    assert widest_gap([sym(0, 10), sym(12, 20), sym(100, 110)]) == 4.0  # 80 px = 4 symbol heights
    assert widest_gap([sym(0, 60), sym(10, 20), sym(62, 70)]) == 0.1  # a wide symbol covers the narrow one
    assert widest_gap([sym(0, 10), sym(5000, 5010)]) == GAP_MOST


def test_a_page_expression_confidence_is_the_page_calibration_or_the_reader_own_without_one(monkeypatch):
    from inkmath.equation.reader import calibrate

    feats = {"confidence": 0.8, "paper_lines": 0.0, "ink_darkness": 0.7, "symbols": 2.0, "min_symbol_logit": 1.0,
             "widest_gap": 0.5}
    assert calibrate.page_confidence(feats, coefficients=()) == 0.8
    coef = [0.5, 1.0, 0.0, 0.0, 0.0, 0.0, -2.0]  # intercept, log-odds, ..., widest gap
    z = 0.5 + calibrate.log_odds(0.8) - 2.0 * 0.5
    assert abs(calibrate.page_confidence(feats, coef) - 1 / (1 + np.exp(-z))) < 1e-12
    wider = calibrate.page_confidence({**feats, "widest_gap": 4.0}, coef)
    assert wider < calibrate.page_confidence(feats, coef), "two expressions read as one: less sure"


def test_the_recipe_fits_the_page_part_on_rows_of_several_files(tmp_path):
    """``--rows page=A --rows page=B``: the page coefficients are fitted on both files' rows, the other parts kept."""
    from safetensors.numpy import load_file

    from inkmath.equation.reader.calibrate import PAGE_FEATURES, calibration, fit_logistic
    from inkmath.training.recipes import calibration as recipe
    from inkmath.training.recipes.calibration import part_features
    from inkmath.weights import shipped_file

    rng = np.random.default_rng(0)
    rows = []
    for _ in range(300):
        c = float(rng.uniform(0.01, 0.99))
        f = {"confidence": c, "paper_lines": float(rng.uniform(0, 4)), "ink_darkness": float(rng.uniform(0.2, 0.9)),
             "symbols": float(rng.uniform(1, 3)), "min_symbol_logit": float(rng.normal()),
             "widest_gap": float(rng.uniform(0, 5))}
        rows.append({"right": bool(rng.uniform() < c * (1 - f["widest_gap"] / 6)), "features": f})
    for k, part in enumerate((rows[:120], rows[120:])):
        (tmp_path / f"r{k}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part))
    shipped = shipped_file("calibration")
    out = tmp_path / "c.safetensors"
    shutil.copy(shipped, out)
    shutil.copy(shipped.with_suffix(".json"), tmp_path / "c.json")
    config = str(Path(__file__).resolve().parent.parent / "configs" / "calibration.yaml")
    assert recipe.main(["--config", config, "--rows", f"page={tmp_path / 'r0.jsonl'}",
                        "--rows", f"page={tmp_path / 'r1.jsonl'}", "--out", str(out)]) == 0
    expected = fit_logistic([part_features("page", r["features"]) for r in rows], [r["right"] for r in rows],
                            l2=1e-3, keys=PAGE_FEATURES)
    got = load_file(str(out))
    assert got["page"].tolist() == expected and np.array_equal(got["strokes"], load_file(str(shipped))["strokes"])
    assert calibration(str(out)).page == tuple(expected)
    assert expected[PAGE_FEATURES.index("widest_gap") + 1] < 0, "a wide gap inside a reading makes it less sure"
