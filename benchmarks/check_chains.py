"""How well the answer checker finds the wrong step in students' worked solutions, and how fast.

    INKMATH_DATA=/work/shared/data python benchmarks/check_chains.py --split val [--n 300] [--json] [--result FILE]
    INKMATH_DATA=/work/shared/data python benchmarks/check_chains.py --split test --drawn [--n 600] [--result FILE]

The chains come from `inkmath.equation.synth.chains.worked_chains(split, n)`: right chains (some with unusual valid
steps) and chains with exactly one typical mistake at a known line. Tune on "val"; "test" is a fixed seed range
never tuned on. Figures:
- first wrong exact: among chains with a mistake, the share whose `first_wrong` is the line with the mistake;
- false alarms: right chains with any line `wrong` (the target is none);
- wrong with a reason: the share of `wrong` lines that carry a reason;
- mistake named: among chains found exactly, the share whose first wrong line names the mistake made (`mistake`
  equal to the injected kind; a looser figure, for the reasons);
- time: the median wall time of `check_lines` over the chains of exactly 6 lines (solver workers started and warm
  first), and over all chains per line x 6.

`--drawn`: the chains are drawn in real handwriting (`inkmath.equation.synth.chain_ink`: symbols cut from the
CROHME 2014 test ink for "test", the 2011-2013 tests for "val"), line under line; each drawing is cut into lines
and read by the stroke reader (`inkmath.api.ink_lines`), then checked. Chains with a line that cannot be drawn
(systems, words, roots) are left out and counted. Also: lines cut right, lines read exactly, the same figures for
the drawn lines typed (what the checker makes of the lines as drawn when read without a slip), and the time to
read and check a 6-line drawing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

TARGETS = {"first_wrong_exact": 0.97, "false_alarms": 0, "wrong_with_reason": 1.0, "median_6_line_s": 0.3}
DRAWN_TARGETS = {"first_wrong_exact": 0.8, "false_alarm_share": 0.02, "median_6_line_s": 1.0}


class _Drawn:
    """A drawn chain as the summary reads a chain: its truth lines are the lines as drawn."""

    def __init__(self, drawn):
        self.kind, self.wrong_line, self.error, self.seed = (drawn.chain.kind, drawn.chain.wrong_line,
                                                             drawn.chain.error, drawn.chain.seed)
        self.lines = drawn.lines


def _plain(latex: str) -> str:
    return "".join(latex.split())


def _measure_drawn(drawn: list) -> dict:
    from inkmath.api import ink_lines
    from inkmath.equation.solve.check import check_lines

    rows, typed, cut_right, read_right, lines_total = [], [], 0, 0, 0
    for d in drawn:
        t0 = time.perf_counter()
        try:
            readings = ink_lines(d.strokes)
            result, error = check_lines(readings), None
        except Exception as exc:  # noqa: BLE001 (a crash is a figure here, not the end of the run)
            readings, result, error = [], None, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - t0
        chain = _Drawn(d)
        rows.append((chain, result, error, seconds))
        lines_total += len(d.lines)
        if len(readings) == len(d.lines):
            cut_right += 1
            read_right += sum(_plain(r.latex) == _plain(t) for r, t in zip(readings, d.lines))
        try:
            typed.append((chain, check_lines(list(d.lines)), None, 0.0))
        except Exception as exc:  # noqa: BLE001
            typed.append((chain, None, f"{type(exc).__name__}: {exc}", 0.0))
    out = _summary(rows)
    out["misses"] = [dict(m, read=_readings_of(rows, m["seed"])) for m in out["misses"]]
    as_typed = _summary(typed)
    out.update(lines_cut_right=round(cut_right / max(1, len(drawn)), 4),
               lines_read_exactly=round(read_right / max(1, lines_total), 4),
               typed_first_wrong_exact=as_typed["first_wrong_exact"], typed_false_alarms=as_typed["false_alarms"])
    return out


def _readings_of(rows: list, seed: int) -> list[str]:
    for chain, result, _, _ in rows:
        if chain.seed == seed and result is not None:
            return [f"{line.latex} ({line.confidence:.2f})" for line in result.lines]
    return []


def _measure(chains: list) -> dict:
    from inkmath.equation.solve.check import check_lines

    rows = []
    for chain in chains:
        t0 = time.perf_counter()
        try:
            result = check_lines(list(chain.lines))
            error = None
        except Exception as exc:  # noqa: BLE001 (a crash is a figure here, not the end of the run)
            result, error = None, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - t0
        rows.append((chain, result, error, seconds))
    return _summary(rows)


def _summary(rows: list) -> dict:
    wrong_chains = [r for r in rows if r[0].wrong_line is not None]
    right_chains = [r for r in rows if r[0].wrong_line is None]
    exact = [r for r in wrong_chains if r[1] is not None and r[1].first_wrong == r[0].wrong_line]
    named = [r for r in exact if r[1].lines[r[0].wrong_line].mistake == r[0].error]
    alarms = [r for r in right_chains if r[1] is None or any(line.verdict == "wrong" for line in r[1].lines)]
    wrong_lines = [line for r in rows if r[1] for line in r[1].lines if line.verdict == "wrong"]
    unsure_lines = [line for r in rows if r[1] for line in r[1].lines if line.verdict == "unsure"]
    six = [r[3] for r in rows if len(r[0].lines) == 6]
    per_line = [r[3] / len(r[0].lines) * 6 for r in rows]
    by_kind: dict[str, dict] = {}
    for chain, result, _, _ in rows:
        k = by_kind.setdefault(chain.kind, {"chains": 0, "wrong_chains": 0, "exact": 0, "false_alarms": 0})
        k["chains"] += 1
        if chain.wrong_line is not None:
            k["wrong_chains"] += 1
            k["exact"] += bool(result is not None and result.first_wrong == chain.wrong_line)
        else:
            k["false_alarms"] += bool(result is None or any(line.verdict == "wrong" for line in result.lines))
    misses = [_row(r) for r in wrong_chains if r not in exact] + [_row(r) for r in alarms]
    unsure_examples = [{"seed": r[0].seed, "line": line.latex, "reason": line.reason}
                       for r in rows if r[1] for line in r[1].lines if line.verdict == "unsure"][:20]
    return {
        "chains": len(rows), "chains_with_mistake": len(wrong_chains), "right_chains": len(right_chains),
        "first_wrong_exact": round(len(exact) / max(1, len(wrong_chains)), 4),
        "false_alarms": len(alarms), "false_alarm_share": round(len(alarms) / max(1, len(right_chains)), 4),
        "wrong_with_reason": round(sum(bool(line.reason.strip()) for line in wrong_lines) / max(1, len(wrong_lines)), 4),
        "mistake_named": round(len(named) / max(1, len(exact)), 4),
        "unsure_lines": len(unsure_lines), "lines": sum(len(r[0].lines) for r in rows),
        "crashes": sum(r[2] is not None for r in rows),
        "median_6_line_s": round(statistics.median(six), 4) if six else None, "six_line_chains": len(six),
        "median_per_6_lines_s": round(statistics.median(per_line), 4) if per_line else None,
        "p90_per_6_lines_s": round(sorted(per_line)[int(0.9 * (len(per_line) - 1))], 4) if per_line else None,
        "by_kind": by_kind, "misses": misses, "unsure_examples": unsure_examples,
    }


def _row(r) -> dict:
    chain, result, error, seconds = r
    out = {"seed": chain.seed, "kind": chain.kind, "wrong_line": chain.wrong_line, "error": chain.error,
           "lines": list(chain.lines), "seconds": round(seconds, 3)}
    if error:
        out["crash"] = error
    if result is not None:
        out["first_wrong"] = result.first_wrong
        out["verdicts"] = [f"{line.verdict}: {line.reason}" + (f" [{line.mistake}]" if line.mistake else "")
                           for line in result.lines]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["val", "test"], required=True)
    ap.add_argument("--n", type=int, default=300, help="chains to generate and check")
    ap.add_argument("--json", action="store_true", help="print the whole result as JSON (with the misses)")
    ap.add_argument("--result", type=Path, default=None, help="also write the JSON result to this file")
    ap.add_argument("--drawn", action="store_true",
                    help="draw the chains in CROHME handwriting and read them with the stroke reader first")
    args = ap.parse_args()

    from inkmath.equation.solve.answer import start_workers, stop_workers
    from inkmath.equation.solve.check import check_lines
    from inkmath.equation.synth.chains import worked_chains
    from inkmath.evaluation.results import machine_name, source_commit

    commit = source_commit()
    start_workers(2, plotting=False)
    t0 = time.perf_counter()
    left_out: list = []
    if args.drawn:
        from inkmath.data import data_dir
        from inkmath.equation.synth.chain_ink import chain_bank, drawn_chains

        chains, left_out = drawn_chains(args.split, args.n, chain_bank(args.split, data_dir()))
    else:
        chains = worked_chains(args.split, args.n)
    generated = time.perf_counter() - t0
    check_lines(["2x+3=11", "2x=8", "x=4"])  # warm-up: imports and caches
    check_lines(["\\sqrt{x+3}=x+1", "x+3=(x+1)^{2}", "x=1"])  # and a worker
    if args.drawn:
        from inkmath.api import ink_lines

        ink_lines(chains[0].strokes)  # and the stroke reader's models
    load = os.getloadavg()[0]
    result = _measure_drawn(chains) if args.drawn else _measure(chains)
    stop_workers()
    if args.drawn:
        result.update(drawn=len(chains), left_out=len(left_out), targets=DRAWN_TARGETS,
                      left_out_kinds=dict(sorted(_count(c.kind for c in left_out).items())))
    result.update(split=args.split, n=args.n, generate_s=round(generated, 1), commit=commit,
                  machine=machine_name(), load_average_at_start=round(load, 2),
                  date=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  command=" ".join(["python", "benchmarks/check_chains.py"] + sys.argv[1:]))
    result.setdefault("targets", TARGETS)
    if args.result and args.drawn:
        _write_drawn(args, result, commit)
    elif args.result:  # a result file of the results page: one row, the figures the acceptance names
        from inkmath.evaluation.results import write_result

        row = {"split": f"{args.split} (generated chains, {args.n})",
               "chains with a mistake": result["chains_with_mistake"],
               "first wrong line exact": result["first_wrong_exact"], "correct chains": result["right_chains"],
               "false alarms": result["false_alarms"], "wrong with a reason": result["wrong_with_reason"],
               "mistake named": result["mistake_named"], "median s, 6-line chain": result["median_6_line_s"]}
        write_result(args.result, "checking", "Checking worked solutions (typed LaTeX chains)", result["command"],
                     "Seeded chains of worked steps over the solver's problem kinds (inkmath.equation.synth.chains): "
                     "correct chains with unusual valid steps and chains with one typical mistake; each checked by "
                     "inkmath.check. First wrong line exact: share of chains with a mistake whose first wrong line is "
                     "found exactly; false alarms: correct chains with any line judged wrong. Tuned on the val seeds, "
                     "the test seeds never.", [row], commit=commit)
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return 0
    keys = (["drawn", "left_out", "lines_cut_right", "lines_read_exactly", "typed_first_wrong_exact",
             "typed_false_alarms"] if args.drawn else []) + ["chains", "chains_with_mistake", "first_wrong_exact", "right_chains", "false_alarms", "wrong_with_reason",
            "mistake_named", "unsure_lines", "lines", "crashes", "median_6_line_s", "six_line_chains",
            "median_per_6_lines_s", "p90_per_6_lines_s"]
    for key in keys:
        print(f"{key:22s} {result[key]}")
    for kind, k in sorted(result["by_kind"].items()):
        print(f"  {kind:22s} {k}")
    print(f"misses: {len(result['misses'])} (--json lists them)")
    for example in result["unsure_examples"]:
        print(f"  unsure: {example['line']}  ({example['reason']})")
    return 0


def _count(items) -> dict:
    out: dict = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def _write_drawn(args, result: dict, commit: str) -> None:
    from inkmath.evaluation.results import write_result

    row = {"split": f"{args.split} ({result['drawn']} of {args.n} generated chains drawn)",
           "chains with a mistake": result["chains_with_mistake"],
           "first wrong line exact": result["first_wrong_exact"], "correct chains": result["right_chains"],
           "correct chains with a wrong": result["false_alarm_share"], "lines cut right": result["lines_cut_right"],
           "lines read exactly": result["lines_read_exactly"],
           "median s, 6-line chain": result["median_6_line_s"]}
    write_result(args.result, "checking", "Checking worked solutions drawn in CROHME handwriting",
                 result["command"],
                 "The seeded chains of the typed benchmark drawn line under line with symbols cut from the CROHME 2014 "
                 "test ink (inkmath.equation.synth.chain_ink; chains with a line it cannot draw left out); each drawing "
                 "cut into lines and read by the stroke reader (inkmath.api.ink_lines), then checked. First wrong line "
                 "exact: share of drawn chains with a mistake whose first wrong line is found exactly; correct chains "
                 "with a wrong: share of drawn correct chains with any line judged wrong (unsure allowed). The time "
                 "reads and checks a 6-line drawing. Tuned on val (2011-2013 test ink, val seeds), test never.",
                 [row], commit=commit)


if __name__ == "__main__":
    raise SystemExit(main())
