"""Symbols in context: the context model against the classifier alone (and the former hand-written rules).

    INKMATH_DATA=../shared/data python benchmarks/symbol_context.py val [--rules-from b250f87] [--json] [--write]
    INKMATH_DATA=../shared/data python benchmarks/symbol_context.py test --write

On a CROHME InkML set (``val``: 2011-2013, ``test``: 2014) it reads the cached hypotheses
(``equation.hypotheses``, undistorted ink, shipped ``crohme`` classifier; the parts of the tables already built,
``TRUTH_SHARDS`` / ``PIPELINE_SHARDS``, named in the output) and scores:

- symbols right with the truth segmentation: each truth symbol's classifier top-5 and box, re-read in context by
  the context model alone (``model``), or by the whole reader (``reader``: the shipped strokes decoder given the
  truth grouping as its only segmentation, its best reading's token of each symbol: the context models, the LaTeX
  model and the layout together);
- expressions right from the pipeline's own segmentation (strokes), with the chosen tokens and the parser
  (``parse.parse`` with those tokens) -- a fast ExpRate that skips segmentation; the official figure is
  ``inkmath crohme-eval``.

``--rules-from COMMIT`` also scores the token rules (``parse.choose_tokens``) of that commit, loaded from git.
``--write`` writes benchmarks/results/symbol-context-<set>.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TRUTH_SHARDS = 8  # the tables are built in parts (expression number modulo this); the cached parts are scored
PIPELINE_SHARDS = 16


def _concat(tables: list[dict], part: str) -> dict:
    """One table from several shards' (expression indices renumbered)."""
    out: dict = {}
    base = 0
    for tb in tables:
        t = dict(tb[part])
        t["expr"] = t["expr"] + base
        base += len(tb["ids"]["ids"])
        for k, v in t.items():
            out.setdefault(k, []).append(v)
    return {k: np.concatenate(v) for k, v in out.items()}


def hyps_of(table: dict, rows: np.ndarray, tokens: list[str], pen=None):
    """The rows' symbols as the reader's hypotheses; with ``pen`` (the tables' pen model), each with its evidence."""
    from inkmath.equation.core.tree import Box, Candidate, SymbolHyp

    out = []
    for r in rows:
        cands = [Candidate(tokens[int(k)], float(p)) for k, p in zip(table["topk_idx"][r], table["topk_prob"][r])
                 if p > 0]
        logits = table["logits"][r].astype(np.float32) if "logits" in table else None
        evidence = pen.evidence(table["pen"][r][None])[0] if pen is not None and "pen" in table else None
        out.append(SymbolHyp(Box(*map(float, table["box"][r])), cands, [], logits, evidence))
    return out


def by_expression(table: dict) -> list[np.ndarray]:
    if not len(table["expr"]):
        return []
    cuts = np.flatnonzero(np.diff(table["expr"])) + 1
    return np.split(np.arange(len(table["expr"])), cuts)


def load_rules(commit: str):
    """``choose_tokens`` of ``parse.py`` as it was at ``commit`` (the hand-written token rules)."""
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:src/inkmath/equation/reader/parse.py"],
                          capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "parse_rules.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("parse_rules", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["parse_rules"] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def evaluate(name: str, rules=None, pipeline: bool = True, weights: str | None = None) -> dict:
    from inkmath.data.crohme import iter_inkml
    from inkmath.equation.reader.context_model import shared_geometry
    from inkmath.evaluation.crohme import resolve_source as _resolve
    from inkmath.equation.reader.decode import Segmentation
    from inkmath.equation.synth.hypotheses import cached_shards, hypothesis_tables
    from inkmath.equation.core.latex import to_latex
    from inkmath.equation.core.metrics import canonical_symbol, edit_distance, normalize_latex
    from inkmath.equation.reader.parse import parse
    from inkmath.equation.recognize import default_decoder, get_predictor, reader_pen
    from inkmath.equation.reader.symbols import TOKEN_FIX, get_context_model, read_symbols

    src = _resolve(name, None)
    predictor = get_predictor(weights)
    pen = reader_pen(predictor)
    model = get_context_model()
    tokens = [TOKEN_FIX.get(c, c) for c in predictor.vocab.names]
    C = len(tokens)
    # the shards of each table already cached (``equation.hypotheses`` builds them, one process per part)
    truth_use = cached_shards(src, predictor, shards=TRUTH_SHARDS, pipeline=False, pen=pen)
    if not truth_use:
        from inkmath import InkmathError

        raise InkmathError(f"No cached hypotheses of {predictor.card.get('name')} on {src.name}: build them first with "
                           f"python -m inkmath.equation.synth.hypotheses {name} --weights W --shards {TRUTH_SHARDS} "
                           f"--shard {','.join(map(str, range(TRUTH_SHARDS)))} --no-pipeline")
    t = {"truth": _concat([hypothesis_tables(src, predictor, pipeline=False, shards=TRUTH_SHARDS, only_shard=k,
                                             pen=pen) for k in truth_use], "truth")}
    ids: list[str] = []
    if pipeline:
        pipe_use = cached_shards(src, predictor, shards=PIPELINE_SHARDS, pipeline=True, pen=pen)
        tabs = [hypothesis_tables(src, predictor, pipeline=True, shards=PIPELINE_SHARDS, only_shard=k, pen=pen)
                for k in pipe_use]
        t["pipeline"] = _concat(tabs, "pipeline")
        ids = [str(x) for tb in tabs for x in tb["ids"]["ids"]]
        pipeline = bool(pipe_use)
    want = set(ids)
    truth_latex = {e.id: normalize_latex(e.latex_truth) for e in (iter_inkml(src) if want else ())
                   if e.id in want and e.latex_truth}

    memo: dict = {}

    def by_model(hs):
        key = tuple(tuple(h.box.as_list()) + tuple((c.token, c.prob) for c in h.candidates) for h in hs) + (
            tuple(h.logits.tobytes() if h.logits is not None else b"" for h in hs),)
        if key not in memo:
            memo[key] = read_symbols(hs, model).tokens
        return list(memo[key])

    decoder = default_decoder("strokes")

    def by_reader(hs):
        with shared_geometry():
            return list(decoder([Segmentation(hs, 0.0)])[0].tokens)

    choosers = {"classifier": lambda hs: [h.token for h in hs], "model": by_model, "reader": by_reader}
    if rules is not None:
        choosers["rules"] = rules.choose_tokens
        # the model's tokens, then the former rules (all, or all but one) on top of them
        steps = ["disambiguate_case", "pair_bars", "balance_brackets", "high_ticks", "inline", "small_after_names"]

        def model_then(skip: str | None):
            def choose(hs):
                atoms = [rules._Atom(h.box, t, i, list(h.candidates)) for i, (h, t) in enumerate(zip(hs, by_model(hs)))]
                saved = {n: getattr(rules, n) for n in steps[:4]}
                try:
                    if skip in saved:
                        setattr(rules, skip, lambda a: None)
                    if skip != "inline":
                        rules.disambiguate(atoms)
                    else:
                        for n in steps[:4]:
                            getattr(rules, n)(atoms)
                finally:
                    for n, f in saved.items():
                        setattr(rules, n, f)
                if skip != "small_after_names":
                    rules.small_after_names(atoms)
                return [a.token for a in atoms]
            return choose

        choosers["model+rules"] = model_then(None)
        for n in steps:
            choosers[f"model+rules-{n}"] = model_then(n)
    res: dict = {"set": src.name, "classifier": predictor.card.get("name", "?"),
                 **({"pen": pen.card.get("name", "?")} if pen is not None else {}),
                 "truth_shards": f"{truth_use} of {TRUTH_SHARDS}",
                 "pipeline_shards": f"{pipe_use if pipeline else []} of {PIPELINE_SHARDS}"}
    # symbols with the truth segmentation
    tt = t["truth"]
    for key, choose in choosers.items():
        right = total = 0
        t0 = time.perf_counter()
        for rows in by_expression(tt):
            hs = hyps_of(tt, rows, tokens, pen)
            got = choose(hs)
            for tok, lab in zip(got, tt["label"][rows]):
                if lab < C:
                    total += 1
                    right += canonical_symbol(tok) == canonical_symbol(tokens[lab])
        res[f"truth_seg_symbols_{key}"] = right / max(total, 1)
        res["truth_symbols"] = total
        res[f"seconds_truth_{key}"] = round(time.perf_counter() - t0, 2)
    # expressions from the pipeline's segmentation
    pt = t.get("pipeline")
    for key, choose in choosers.items() if pipeline else ():
        if key == "reader":  # the reader's own figure from its segmentation is inkmath crohme-eval's
            continue
        right = within1 = n = 0
        for rows in by_expression(pt):
            eid = ids[int(pt["expr"][rows[0]])]
            if eid not in truth_latex:
                continue
            hs = hyps_of(pt, rows, tokens, pen)
            try:
                latex = to_latex(parse(hs, choose(hs)))
            except Exception:  # noqa: BLE001 - a parser failure is a wrong reading here
                latex = ""
            d = edit_distance(normalize_latex(latex), truth_latex[eid])
            n += 1
            right += d == 0
            within1 += d <= 1
        res[f"pipeline_exprate_{key}"] = right / max(n, 1)
        res[f"pipeline_within1_{key}"] = within1 / max(n, 1)
        res["pipeline_expressions"] = n
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", help="val (2011-2013) or test (2014), or a CROHME InkML archive")
    ap.add_argument("--rules-from", default=None, metavar="COMMIT")
    ap.add_argument("--no-pipeline", action="store_true", help="only the truth segmentation (faster)")
    ap.add_argument("--weights", default=None,
                    help="the classifier whose cached readings are re-read (default: the reader's)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args(argv)
    from inkmath import InkmathError

    try:
        res = evaluate(a.set, load_rules(a.rules_from) if a.rules_from else None, not a.no_pipeline, a.weights)
    except InkmathError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.write:
        from inkmath.training.checkpoint import atomic_write_text

        from inkmath.evaluation.results import machine_name, source_commit

        cpu, commit = machine_name(), source_commit()
        from inkmath.equation.reader.symbols import READER_CONTEXT_MODELS

        pen = f", with the pen model's evidence ({res['pen']})" if res.get("pen") else ""
        names = {"classifier": "classifier top-1 (no context)",
                 "model": f"the reader's context model ({' + '.join(READER_CONTEXT_MODELS)}, shipped){pen}",
                 "reader": "the whole reader (the strokes decoder on the truth grouping: context models, LaTeX "
                           f"model, layout{', pen model' if pen else ''})",
                 "rules": f"hand-written token rules (as at {a.rules_from})",
                 "model+rules": "model, then the token rules"}
        rows = []
        for key, label in names.items():
            if f"truth_seg_symbols_{key}" not in res:
                continue
            row = {"set": res["set"], "tokens": label,
                   "symbols (truth segmentation)": round(res[f"truth_seg_symbols_{key}"], 4),
                   "truth symbols": res["truth_symbols"]}
            if f"pipeline_exprate_{key}" in res:
                row["ExpRate (cached stroke segmentation)"] = round(res[f"pipeline_exprate_{key}"], 4)
                row["within 1"] = round(res[f"pipeline_within1_{key}"], 4)
                row["expressions"] = res["pipeline_expressions"]
            rows.append(row)
        out = {"table": "symbols in context", "title": f"Symbols in context ({res['set']})",
               "command": "python benchmarks/symbol_context.py " + " ".join(argv or sys.argv[1:]),
               "machine": cpu, "commit": commit, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "how": f"Cached hypotheses of the reader's classifier ({res['classifier']}) on undistorted ink. "
                      "Symbols: truth symbols read right, each from its truth-segmented crop's top-5 and box (and "
                      "logits, for a model that takes them), re-read in context (model, rules) or not (classifier), "
                      "or read by the whole reader (the shipped strokes decoder given the truth grouping as its only "
                      "segmentation: its best reading's token of each symbol). "
                      + (f"With the pen model ({res['pen']}): each symbol's pen evidence, from the tables' "
                         "log-probabilities of its strokes, added to the context models' reading. " if pen else "") +
                      "ExpRate: expressions right from the pipeline's own stroke segmentation (the parts cached), "
                      "the tokens chosen then parsed with no decoder: a fast check, "
                      "not the figure of inkmath crohme-eval. The rules were deleted when the model shipped; they are "
                      "loaded from git at the commit named.",
               "rows": rows}
        stem = "val" if a.set == "val" else "test" if a.set == "test" else Path(a.set).stem
        atomic_write_text(ROOT / "benchmarks" / "results" / f"symbol-context-{stem}.json", json.dumps(out, indent=1))
    print(json.dumps(res) if a.json else "\n".join(f"{k}: {v}" for k, v in res.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
