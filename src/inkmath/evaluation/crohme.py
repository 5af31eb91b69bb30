"""The CROHME benchmark: run a recogniser over a CROHME test set and score it as the competition tables do.

    evaluate_crohme("crohme2014_test_inkml.tar.xz", recognize_strokes, predictor=p)
    evaluate_crohme("crohme2014_test_offline_wap.tar.xz", recognize_image)       # expression rates only

On InkML (strokes with a truth segmentation) it reports, besides ExpRate / within-1 / within-2:
- segmentation precision and recall: a predicted symbol is right when its stroke set equals a truth symbol's;
- symbol recognition rate: truth symbols segmented right *and* given the right class;
- symbol accuracy given the truth segmentation: each truth symbol's crop classified by ``predictor`` alone;
- per-stage errors: segmentation wrong; segmentation right but a symbol wrong; symbols right but layout wrong;
- for a set whose files lie in several folders (the validation archive's 2011, 2012 and 2013 tests), each folder's
  ExpRate and within 1 / 2 (``by_folder``).

``recognize_fn(strokes_or_image, predictor=...)`` returns an object with ``.latex`` and ``.symbols`` (each with
``.strokes``, stroke indices, and ``.token``): ``inkmath.equation.recognize.Recognition``.
"""

from __future__ import annotations

import functools
import inspect
import tarfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.core.metrics import canonical_symbol, edit_distance, normalize_latex
from inkmath.data import data_dir as default_dir
from inkmath.data.crohme import CAPTION_FILES, IMAGE_FILES, iter_inkml, iter_wap, symbol_crops

ALIASES = {  # short names (``inkmath crohme-eval test``), resolved under $INKMATH_DATA/crohme
    "test": "crohme2014_test_inkml.tar.xz",
    "test2014": "crohme2014_test_inkml.tar.xz",
    "val": "crohme2011-2013_test_inkml.tar.xz",
    "wap": "crohme2014_test_offline_wap.tar.xz",
}


def detect_kind(path: Path) -> str:
    """'wap' for the offline images + captions, 'inkml' for InkML (an archive: decided by the first telling file)."""
    if path.is_dir():
        names = [p.name.lower() for p in path.rglob("*") if p.is_file()]
        if any(n.endswith(CAPTION_FILES) for n in names) and any(n.endswith(IMAGE_FILES) for n in names):
            return "wap"
        if any(n.endswith(".inkml") for n in names):
            return "inkml"
        raise InkmathError(f"{path} holds neither .inkml files nor WAP images and captions (images beside a "
                           f"*caption.txt or *labels.txt file)")
    names = _archive_names(path) if path.is_file() else None
    if names is not None:
        for name in names:  # streaming: a tar archive is read only as far as its first telling member
            name = name.lower()  # X.INKML, X.BMP: the readers take either case
            if name.endswith(".inkml"):
                return "inkml"
            if name.endswith(CAPTION_FILES + IMAGE_FILES):
                return "wap"
        raise InkmathError(f"{path} holds neither .inkml files nor WAP images and captions")
    if path.is_file() and path.suffix.lower() == ".inkml":
        return "inkml"
    raise InkmathError(f"{path} not found (or not a CROHME .tar/.zip archive, folder or .inkml file)")


def _archive_names(path: Path) -> Iterator[str] | None:
    """The member names of a tar (any compression) or zip archive, in archive order; None for another file."""
    if tarfile.is_tarfile(path):
        def tar_names() -> Iterator[str]:
            with tarfile.open(path, "r:*") as tf:
                for m in tf:
                    yield m.name
        return tar_names()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return iter(zf.namelist())
    return None


@dataclass
class _Item:
    id: str
    truth: list[str]  # normalised truth tokens
    data: Any  # strokes or image
    groups: list | None = None  # TraceGroup list (InkML only)
    expr: Any = None
    folder: str = ""  # the folder holding it within the set (InkML: ``InkmlExpression.folder``)


def _load_items(path: Path, kind: str, limit: int | None) -> tuple[list[_Item], dict]:
    items: list[_Item] = []
    info = {"skipped_files": 0, "no_truth": 0}
    if kind == "wap":
        skipped_images: list = []
        uncaptioned: list[str] = []  # images no caption names: as InkML files without a truth
        for s in iter_wap(path, limit, skipped_images, uncaptioned):
            # the caption as LaTeX: a set may write it unspaced (\frac{1}{2}, \left()
            items.append(_Item(s.id, normalize_latex(" ".join(s.tokens)), s.image))
        info.update(skipped_files=len(skipped_images), no_truth=len(uncaptioned))
        return items, info
    skipped: list = []
    for e in iter_inkml(path, skipped=skipped):
        if limit is not None and len(items) >= limit:
            break
        if not e.latex_truth:
            info["no_truth"] += 1
            continue
        # a file without traceGroups (MathWriting's) has no segmentation truth: its errors have no stage
        items.append(_Item(e.id, normalize_latex(e.latex_truth), e.strokes, e.groups or None, e, e.folder))
    info["skipped_files"] = len(skipped)
    return items, info


def _default_recognizer(kind: str) -> Callable:
    try:
        from inkmath.equation import recognize
    except ImportError as e:
        raise InkmathError(f"The expression recogniser is not available ({e}); use --symbols-only") from None
    fn = recognize.recognize_image if kind == "wap" else recognize.recognize_strokes
    if "solve" in inspect.signature(fn).parameters:  # the benchmark reads; it does not need the answers
        return functools.partial(fn, solve=False)
    return fn


def _symbol_ok(pred, truth_label: str) -> bool:
    t = canonical_symbol(truth_label)
    return canonical_symbol(pred.label) == t or canonical_symbol(pred.latex) == t


@dataclass
class _Tally:
    """What ``evaluate_crohme`` counts over the expressions."""

    dists: list[int] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)  # the reading's calibrated confidence, when given
    among: list[bool] = field(default_factory=list)  # truth among the recogniser's alternatives (whole readings)
    stages: dict[str, int] = field(default_factory=lambda: {"correct": 0, "segmentation_wrong": 0,
                                                            "symbol_wrong": 0, "layout_wrong": 0})
    seg_tp: int = 0
    seg_pred: int = 0
    seg_truth: int = 0
    sym_rec: int = 0
    gt_total: int = 0
    gt_correct: int = 0
    failures: int = 0


def _score_reading(it, recognize_fn: Callable, predictor, tally: _Tally, row: dict) -> None:
    """Read one expression, score its reading against the truth (and its symbols against the truth's segmentation,
    when it has one), into ``tally`` and ``row``."""
    truth_sets = {}
    if it.groups is not None:
        for g in it.groups:
            if g.stroke_ids:
                truth_sets[frozenset(g.stroke_ids)] = g.label
    try:
        rec = recognize_fn(it.data, predictor=predictor)
        pred = normalize_latex(rec.latex or "")
        symbols = list(getattr(rec, "symbols", None) or [])
    except InkmathError as e:  # the recogniser declined (e.g. found nothing): a wrong reading
        tally.failures += 1
        pred, symbols = [], []
        row["error"] = str(e)
    d = edit_distance(pred, it.truth)
    tally.dists.append(d)
    row.update(pred=" ".join(pred), distance=d)
    alts = list(getattr(rec, "alternatives", None) or []) if "error" not in row else []
    if alts or "error" in row:
        tally.confidences.append(float(getattr(rec, "confidence", 0.0)) if "error" not in row else 0.0)
        tally.among.append(any(normalize_latex(a["latex"]) == it.truth for a in alts))
        row.update(confidence=round(tally.confidences[-1], 4), among_alternatives=tally.among[-1])
    if it.groups is not None:
        covered = frozenset().union(*truth_sets) if truth_sets else frozenset()
        pred_sets: dict[frozenset, str] = {}
        # the reading the recogniser chose in context (``Recognition.tokens``), else the classifier's best
        chosen = list(getattr(rec, "tokens", None) or []) if symbols else []
        if len(chosen) != len(symbols):
            chosen = [s.token for s in symbols]
        for s, tok in zip(symbols, chosen):
            key = frozenset(int(i) for i in s.strokes) & covered
            if key:
                pred_sets[key] = tok
        matched = set(pred_sets) & set(truth_sets)
        tally.seg_tp += len(matched)
        tally.seg_pred += len(pred_sets)
        tally.seg_truth += len(truth_sets)
        wrong_class = [k for k in matched if canonical_symbol(pred_sets[k]) != canonical_symbol(truth_sets[k])]
        tally.sym_rec += len(matched) - len(wrong_class)
        if d == 0:
            stage = "correct"
        elif set(pred_sets) != set(truth_sets):
            stage = "segmentation_wrong"
        elif wrong_class:
            stage = "symbol_wrong"
        else:
            stage = "layout_wrong"
    else:
        stage = "correct" if d == 0 else "wrong"
    if stage in tally.stages and it.groups is not None:  # the stages of the expressions with segmentation truth
        tally.stages[stage] += 1
    row["stage"] = stage


def _score_truth_symbols(it, predictor, tally: _Tally, row: dict) -> None:
    """``predictor`` on the expression's truth-segmented symbols."""
    crops, which, _ = symbol_crops(it.expr)
    if crops:
        preds = predictor.predict(crops, ink="white", top=1)
        ok = [_symbol_ok(p[0], it.groups[k].label) for p, k in zip(preds, which)]
        tally.gt_total += len(ok)
        tally.gt_correct += sum(ok)
        row["symbols_correct_gt_seg"] = f"{sum(ok)}/{len(ok)}"


def _expression_summary(items, kind: str, tally: _Tally) -> dict[str, Any]:
    """The expression rates, calibration, per-folder rates and segmentation scores of ``tally``."""
    dists, m = tally.dists, len(tally.dists)
    out: dict[str, Any] = dict(**expression_rates(dists), mean_token_distance=float(np.mean(dists)),
                               recognition_errors=tally.failures)
    if tally.confidences and len(tally.confidences) == m:
        from inkmath.equation.reader.calibrate import expected_calibration_error, reliability, top_half_accuracy

        right = [d == 0 for d in dists]
        out.update(
            alternatives_coverage=sum(tally.among) / m,
            mean_confidence=float(np.mean(tally.confidences)),
            top_half_accuracy=top_half_accuracy(tally.confidences, right),
            calibration_error=expected_calibration_error(tally.confidences, right),
            reliability=reliability(tally.confidences, right),
        )
    folders = by_folder([it.folder for it in items], dists)
    if folders:
        out["by_folder"] = folders
    if kind == "inkml" and tally.seg_truth:  # some expressions have a segmentation truth (traceGroups)
        p = tally.seg_tp / tally.seg_pred if tally.seg_pred else 0.0
        r = tally.seg_tp / tally.seg_truth
        out.update(
            seg_precision=p, seg_recall=r, seg_f1=2 * p * r / (p + r) if p + r else 0.0,
            symbol_rec_rate=tally.sym_rec / tally.seg_truth,
            truth_symbols=tally.seg_truth, stages=tally.stages,
            segmented_expressions=sum(it.groups is not None for it in items),
        )
    return out


def evaluate_crohme(
    path: str | Path,
    recognize_fn: Callable | None = None,
    limit: int | None = None,
    predictor=None,
    *,
    expressions: bool = True,
    progress: Callable[[int, int], None] | None = None,
    details: bool = False,
) -> dict:
    """Score ``recognize_fn`` (and/or ``predictor`` on truth-segmented symbols) on a CROHME set; a flat dict.

    ``expressions=False`` skips the recogniser: only the symbol accuracy given the truth segmentation (needs a
    predictor). ``progress(done, total)`` is called after each expression; ``details`` adds per-expression rows.
    """
    t0 = time.perf_counter()
    path = Path(path)
    kind = detect_kind(path)
    items, info = _load_items(path, kind, limit)
    if not items:
        raise InkmathError(f"No expressions with a truth reading in {path}")
    if expressions and recognize_fn is None:
        recognize_fn = _default_recognizer(kind)
    if not expressions and (predictor is None or kind == "wap"):
        raise InkmathError("Without expressions there is nothing to score: give a predictor and an InkML set")
    tally, rows = _Tally(), []
    for n, it in enumerate(items, 1):
        row: dict[str, Any] = {"id": it.id, "truth": " ".join(it.truth)}
        if it.folder:
            row["folder"] = it.folder
        if expressions:
            _score_reading(it, recognize_fn, predictor, tally, row)
        if predictor is not None and it.expr is not None:
            _score_truth_symbols(it, predictor, tally, row)
        if details:
            rows.append(row)
        if progress is not None:
            progress(n, len(items))
    if not expressions and not tally.gt_total:
        raise InkmathError(f"{path}: no expression has a segmentation truth (traceGroups with labels), which "
                           f"--symbols-only needs; drop it to score whole readings")
    out: dict[str, Any] = {"source": str(path), "kind": kind, "expressions": len(items), **info}
    if expressions:
        out.update(_expression_summary(items, kind, tally))
    if predictor is not None and kind == "inkml" and tally.gt_total:
        out.update(symbol_accuracy_gt_seg=tally.gt_correct / tally.gt_total, gt_symbols=tally.gt_total)
    out["seconds"] = round(time.perf_counter() - t0, 2)
    if details:
        out["details"] = rows
    return out


def by_folder(folders: list[str], distances: list[int]) -> list[dict]:
    """ExpRate and within 1 / 2 of each folder of a set that holds several (the 2011-2013 validation archive holds
    the 2011, 2012 and 2013 tests, which differ as sets: its 2013 part reads like the 2014 test), from each
    expression's folder and token distance; [] for a set in one folder."""
    if len(set(folders)) < 2:
        return []
    out = []
    for f in sorted(set(folders)):
        d = [x for g, x in zip(folders, distances) if g == f]
        out.append({"folder": f, "expressions": len(d), "read_right": sum(x == 0 for x in d), **expression_rates(d)})
    return out


def expression_rates(distances: list[int]) -> dict[str, float]:
    """ExpRate and within 1 / 2 of expressions with these token distances to their truths (at least one)."""
    m = len(distances)
    return {"exprate": sum(d == 0 for d in distances) / m, "within1": sum(d <= 1 for d in distances) / m,
            "within2": sum(d <= 2 for d in distances) / m}


def resolve_source(path: str, data_dir: str | None = None) -> Path:
    """A CROHME archive or folder: ``path`` itself, else a short name (ALIASES) or file under DATA/crohme."""
    p = Path(path).expanduser()
    if p.exists():
        return p

    base = default_dir(data_dir) / "crohme"
    for cand in (base / ALIASES.get(path, path), base / path):
        if cand.exists():
            return cand
    raise InkmathError(f"{path} not found (nor under {base}); give a CROHME InkML or WAP archive or folder, "
                       f"or one of: {', '.join(ALIASES)}")


def load_predictor(weights: str | None):
    """The classifier the recogniser uses by default (its cached loader), else the shipped default weights."""
    try:
        from inkmath.equation.recognize import get_predictor
    except ImportError:
        from inkmath.predict import Predictor

        return Predictor.load(weights or "default")
    return get_predictor(weights)
