"""benchmarks/calibration_fit.py: the calibration fitted on kept feature rows, and bad rows refused in one line."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))


def _rows(n: int, seed: int = 0) -> list[dict]:
    """Rows whose first feature (the beam's share) decides, with noise, whether the reading is right."""
    from inkmath.equation.reader.calibrate import FEATURES

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        feats = {k: float(rng.normal()) for k in FEATURES}
        feats["prob"] = float(rng.random())
        rows.append({"id": str(i), "right": bool(rng.random() < feats["prob"]), "features": feats})
    return rows


def test_fits_the_kept_rows_and_prints_coefficients_that_follow_the_evidence(tmp_path, capsys):
    import calibration_fit

    from inkmath.equation.reader.calibrate import FEATURES

    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows(600)))
    assert calibration_fit.main(["--features", str(path)]) == 0
    out = capsys.readouterr().out
    assert "600 expressions" in out and "cross-validated (draw 2)" in out
    coef = [float(v) for v in out.rsplit("coefficients:", 1)[1].split(",")]
    assert len(coef) == len(FEATURES) + 1 and coef[1 + FEATURES.index("prob")] > 2  # right follows the share


@pytest.mark.parametrize("text", ["not json\n", '{"id": "a"}\n'])
def test_a_features_file_that_is_not_its_own_is_refused(tmp_path, text):
    import calibration_fit

    from inkmath import InkmathError

    path = tmp_path / "rows.jsonl"
    path.write_text(text)
    with pytest.raises(InkmathError, match="delete it to read the set again"):
        calibration_fit.main(["--features", str(path)])


def test_the_recipe_refits_a_part_on_kept_rows_and_keeps_the_others(tmp_path):
    """``inkmath.training.recipes.calibration --rows strokes=ROWS``: the strokes coefficients are
    ``calibrate.fit_logistic``'s on those rows (float64 as fitted), the image and photo parts and their account stay
    the shipped file's."""
    import shutil

    from safetensors.numpy import load_file

    from inkmath.equation.reader.calibrate import FEATURES, calibration, fit_logistic
    from inkmath.training.recipes import calibration as recipe
    from inkmath.weights import shipped_file

    root = Path(__file__).resolve().parent.parent
    shipped = shipped_file("calibration")
    out = tmp_path / "c.safetensors"
    shutil.copy(shipped, out)
    shutil.copy(shipped.with_suffix(".json"), tmp_path / "c.json")
    rows = _rows(400, seed=3)
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = str(root / "configs" / "calibration.yaml")
    assert recipe.main(["--config", config, "--rows", f"strokes={tmp_path / 'rows.jsonl'}", "--out", str(out)]) == 0
    got, was = load_file(str(out)), load_file(str(shipped))
    expected = fit_logistic([r["features"] for r in rows], [r["right"] for r in rows], l2=1e-3, keys=FEATURES)
    assert got["strokes"].dtype == np.float64 and got["strokes"].tolist() == expected
    assert np.array_equal(got["image"], was["image"]) and np.array_equal(got["photo"], was["photo"])
    card, old = json.loads((tmp_path / "c.json").read_text()), json.loads(shipped.with_suffix(".json").read_text())
    assert card["history"]["image"] == old["history"]["image"] and "--rows strokes=" in card["train_command"]
    assert card["data"]["strokes"].endswith("400 readings, %d right" % sum(r["right"] for r in rows))
    assert calibration(str(out)).strokes == tuple(expected) != calibration().strokes


def test_the_shipped_calibration_is_a_weights_file_whose_card_names_its_features():
    from inkmath import InkmathError
    from inkmath.equation.reader import calibrate

    m = calibrate.calibration()
    assert m.card["features"] == {part: list(keys) for part, keys in calibrate.PARTS.items()}
    assert len(m.strokes) == len(calibrate.FEATURES) + 1 and len(m.image) == len(calibrate.IMAGE_FEATURES) + 1
    assert len(m.photo) == 2 and len(m.page) == len(calibrate.PAGE_FEATURES) + 1
    assert m.card["parameters"] == len(m.strokes) + len(m.image) + len(m.photo) + len(m.page)
    assert all(m.card["history"][part] for part in calibrate.PARTS)
    assert calibrate.coefficients(image=True) == m.image and calibrate.coefficients() == m.strokes
    with pytest.raises(InkmathError, match="recipes.calibration"):
        calibrate.calibration("/nonexistent/calibration.safetensors")
