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
