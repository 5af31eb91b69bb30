"""Shared bits of the benchmarks: the machine description and writing a results file.

A benchmark writes its full output as ``benchmarks/results/NAME.md`` and, beside it, the result file(s) the results
page reads (``NAME.json``, ``NAME-2.json`` for a second table...): the Markdown tables' rows with the command, the CPU
model, the commit and how it is measured (``inkmath.evaluation.results``).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    info = {"cpu": platform.processor() or "unknown", "cores": os.cpu_count(), "mhz": None, "flags": []}
    try:
        text = Path("/proc/cpuinfo").read_text()
        m = re.search(r"model name\s*:\s*(.+)", text)
        info["cpu"] = m.group(1).strip() if m else info["cpu"]
        m = re.search(r"cpu MHz\s*:\s*([\d.]+)", text)
        info["mhz"] = float(m.group(1)) if m else None
        flags = re.search(r"flags\s*:\s*(.+)", text).group(1).split()
        info["flags"] = [f for f in ("avx2", "fma", "avx512f") if f in flags]
    except (OSError, AttributeError):
        pass
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    info["load_average"] = os.getloadavg()
    return info


def fp32_peak_gflops(info: dict, cores: int | None = None) -> float | None:
    """AVX2 FMA peak: 2 FMA units x 8 fp32 lanes x 2 flops = 32 flops per cycle per core."""
    if not info.get("mhz"):
        return None
    return (cores or info["cores"]) * info["mhz"] * 1e6 * 32 / 1e9


def machine_line(info: dict) -> str:
    return (f"{info['cpu']}, {info['cores']} cores at {info['mhz']} MHz ({', '.join(info['flags'])}), torch "
            f"{info.get('torch', '-')}, load average at start {info['load_average'][0]:.2f}")


# the results page's table for each benchmark's output, and what its JSON result says about how it is measured
TABLES = {
    "predict": ("speed", "Symbol prediction latency and throughput",
                "`benchmarks/bench_predict.py`: each call prepares one image (polarity, crop, pad, resize) and runs "
                "the shipped weights; batch-1 latency is the median and 95th percentile of wall-clock calls, "
                "throughput is symbols per second in batches of 256; torch with 2 threads."),
    "recognize": ("speed", ("Expression reading latency", "Expression reading latency by stage"),
                  "`benchmarks/bench_recognize.py`: wall-clock milliseconds per `recognize` call with the models "
                  "loaded before timing (warm), on a synthetic 10-symbol expression (strokes and a photo) and on 20 "
                  "CROHME 2014 expressions of 10 symbols."),
    "train_throughput": ("speed", "Training throughput against the seeds' pipeline",
                         "`benchmarks/bench_train_throughput.py`: the same model, images and optimiser trained by the "
                         "seeds' per-sample PIL/DataLoader pipeline and by inkmath's in-memory batched one, taking "
                         "turns; images per second, best of the rounds; the ratio is against the seeds' pipeline."),
    "scratch": ("numpy", ("NumPy engine against PyTorch: speed",
                          "NumPy engine against PyTorch: the shipped weights on their test sets"),
                "`benchmarks/bench_scratch.py`: the same models trained (forward, backward, Adam step, batch 64) and "
                "run (batch 256) by the NumPy engine and by PyTorch in one run, their timed windows taking turns, one "
                "thread each; images per second of process CPU time, best of 3 windows; the ratio is how many times faster "
                "PyTorch is. Agreement: each shipped set of weights reads every image of the test set its card "
                "names with both engines; top-1 of each, the number of images given the same first class, and the "
                "largest difference between the two engines' logits."),
    "solve": ("solver", ("Solver latency per call", "Solver latency: concurrent callers",
                         "Solver coverage: the school corpus"),
              "`benchmarks/bench_solve.py`: median (p90) wall time per `answer(tree)` call, interleaved calls after "
              "a warm-up, for a fork per call (the solver at its first commit, in a process of its own) against the "
              "worker pool with its in-process fast path, and the pool with the fast path switched off, all in one "
              "run; the CPU columns are the calling thread's CPU time and that of SymPy's work done in-process. "
              "Concurrent callers: threads calling at once over the same inputs, latency percentiles. Coverage: "
              "every problem of the seeded school corpus answered as shipped; per kind, how many get an answer, "
              "how many the in-process fast path takes, and the wall time per call."),
    "web": ("web", ("Web API under load", "CPU time a request under load",
                    "Classifier alone: PyTorch against ONNX Runtime"),
            "`benchmarks/bench_web.py`: `inkmath serve` on loopback, closed-loop clients posting 20 CROHME 2014 "
            "expressions as strokes for the given seconds; requests per second and latency percentiles."),
    "hasy_folds": ("symbols-folds", "HASYv2 10-fold protocol",
                   "`benchmarks/hasy_folds.py`: both stages of the hasy recipe trained per fold, each fold's test "
                   "split evaluated (the dataset paper's protocol)."),
}


def _cell(text: str):
    text = text.strip().replace("**", "")
    plain = text.replace(",", "")
    for kind in (int, float):
        try:
            return kind(plain)
        except ValueError:
            pass
    return text


def markdown_tables(text: str) -> list[list[dict]]:
    """The rows of every Markdown table in ``text`` as dicts keyed by the header (numbers as numbers)."""
    tables, lines = [], text.splitlines()
    k = 0
    while k < len(lines) - 1:
        head, rule = lines[k].strip(), lines[k + 1].strip()
        if head.startswith("|") and rule.startswith("|") and set(rule) <= set("|-: "):
            cols = [c.strip() or f"column {i + 1}" for i, c in enumerate(head.strip("|").split("|"))]
            rows, k = [], k + 2
            while k < len(lines) and lines[k].strip().startswith("|"):
                cells = lines[k].strip().strip("|").split("|")
                rows.append({c: _cell(v) for c, v in zip(cols, cells)})
                k += 1
            tables.append(rows)
        else:
            k += 1
    return tables


def write_json_results(md_path: Path, command: str, **given) -> list[Path]:
    """Result files for the results page from the tables of ``md_path`` (its name says which page table):
    ``NAME.json`` for the first table, ``NAME-2.json``... for the others. ``given``: machine / commit / date
    measured elsewhere (else this process's)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from inkmath.evaluation.results import write_result as write_json

    md_path = Path(md_path)
    stem = md_path.stem
    table, titles, how = TABLES.get(stem.split("-")[0], (stem, stem, ""))
    titles = (titles,) if isinstance(titles, str) else titles
    paths = []
    for k, rows in enumerate(markdown_tables(md_path.read_text(encoding="utf-8"))):
        if rows:
            suffix = "" if k == 0 else f"-{k + 1}"
            title = titles[k] if k < len(titles) else f"{titles[0]} ({k + 1})"
            paths.append(write_json(md_path.with_name(f"{stem}{suffix}.json"), table, title, command, how, rows,
                                    **given))
    return paths


def write_result(name: str, command: str, body: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         cwd=Path(__file__).parent).stdout.strip()
    path.write_text(f"<!-- written by {command} -->\nCommand: `{command}` (at {stamp}, commit {git})\n\n{body}\n")
    write_json_results(path, command)
    return path


def add_base_tree(ap) -> None:
    """``--base-tree`` and ``--base-label``: an earlier commit's tree, read beside this one."""
    ap.add_argument("--base-tree", type=Path, required=True,
                    help="the earlier commit's tree (git archive COMMIT | tar -x -C DIR)")
    ap.add_argument("--base-label", required=True, help="its name in the rows, e.g. its short commit")


def checked_base_tree(path: Path) -> Path:
    """``path`` when it holds an inkmath source tree; otherwise the run ends with what to do."""
    if not (path / "src" / "inkmath").is_dir():
        raise SystemExit(f"{path}: no src/inkmath; make it with git archive COMMIT | tar -x -C DIR")
    return path


def write_rows(path: Path, script: str, argv: list[str] | None, table: str, title: str, how: str,
               rows: list[dict]) -> Path:
    """One result file of ``rows`` for the results page, its command ``python benchmarks/SCRIPT ARGS`` (``argv``,
    else this process's arguments)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from inkmath.evaluation.results import write_result as write_json

    command = f"python benchmarks/{script} " + " ".join(argv if argv is not None else sys.argv[1:])
    return write_json(path, table, title, command, how, rows)
