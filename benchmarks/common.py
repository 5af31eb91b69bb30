"""Shared bits of the benchmarks: the machine description and writing a results file."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
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


def write_result(name: str, command: str, body: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         cwd=Path(__file__).parent).stdout.strip()
    path.write_text(f"<!-- written by {command} -->\nCommand: `{command}` (at {stamp}, commit {git})\n\n{body}\n")
    return path
