"""The HASYv2 paper's protocol: train on fold K's training split, test on fold K's test split, mean over folds.

    python benchmarks/hasy_folds.py --folds 1-10    # trains runs/hasy-fold-K and runs/hasy-fold-K-ft (about 75 min a fold)
    python benchmarks/hasy_folds.py --folds 1 --report-only        # only evaluate the runs that exist

Each fold follows the shipped `hasy` model's two-stage recipe: configs/hasy.yaml (12 epochs with augmentation),
then configs/hasy-ft.yaml (4 epochs without augmentation, initialised from stage 1). Only the data specs change.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, machine_line, write_result  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def parse_folds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", default="1")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--runs", default=str(ROOT / "runs"))
    ap.add_argument("--shipped-fold1", action="store_true", help="use the shipped `hasy` weights for fold 1")
    args, extra = ap.parse_known_args()
    rows = []
    for k in parse_folds(args.folds):
        stage1, out = Path(args.runs) / f"hasy-fold-{k}", Path(args.runs) / f"hasy-fold-{k}-ft"
        weights = "hasy" if (k == 1 and args.shipped_fold1) else str(out)
        if not args.report_only and not (k == 1 and args.shipped_fold1):
            for config, run, more in (("hasy.yaml", stage1, []), ("hasy-ft.yaml", out, ["--set", f"init={stage1}"])):
                if (run / "weights.safetensors").exists():
                    continue
                cmd = [sys.executable, "-m", "inkmath", "train", "--config", str(ROOT / "configs" / config),
                       "--out", str(run), "--set", f"dataset=hasy:fold={k}:train", "--set", f"test=hasy:fold={k}:test",
                       "--name", run.name, *more, *extra]
                if (run / "checkpoint_last.pt").exists():
                    cmd.append("--resume")
                subprocess.run(cmd, check=True)
        if weights != "hasy" and not (out / "weights.safetensors").exists():
            continue
        r = subprocess.run([sys.executable, "-m", "inkmath", "eval", weights, f"hasy:fold={k}:test", "--json"],
                           check=True, capture_output=True, text=True)
        rep = json.loads(r.stdout)
        rows.append((k, rep["top1"], rep["top3"], rep["top5"], rep["n"]))
        print(rows[-1], flush=True)
    if not rows:
        print("no fold has weights yet")
        return 1
    mean = statistics.mean(r[1] for r in rows)
    body = [f"Machine: {machine_line(machine())}.", "",
            "| fold | top-1 | top-3 | top-5 | test images |", "|---|---|---|---|---|"]
    body += [f"| {k} | {t1:.4f} | {t3:.4f} | {t5:.4f} | {n} |" for k, t1, t3, t5, n in rows]
    body += ["", f"Mean top-1 over {len(rows)} fold(s): **{mean:.4f}** (the dataset paper's best CNN: 0.810 over 10 folds)."]
    cmd = "python benchmarks/hasy_folds.py " + " ".join(sys.argv[1:])
    print(write_result("hasy_folds", cmd.strip(), "\n".join(body)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
