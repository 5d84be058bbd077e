"""Shared plumbing for the benchmark scripts: provenance and result files.

Each benchmark writes one JSON file under ``benchmarks/results/``:
``{"benchmark", "command", "commit", "date", "machine", "rows": [...]}``;
``benchmarks/report.py`` renders all of them into ``docs/benchmarks.md``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

# INFOSSL_RESULTS_DIR: write results elsewhere (e.g. a checkout's benchmarks/results while
# the benchmark code runs from a pinned worktree)
RESULTS_DIR = Path(os.environ.get("INFOSSL_RESULTS_DIR") or Path(__file__).resolve().parent / "results")


def git_commit() -> str:
    """Commit of the working tree, marked ``-dirty`` when it has uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "src"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


#: the /proc/cpuinfo flags that decide this project's CPU speed and precision (vector width, native bf16)
SPEED_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def cpu_flags() -> list[str]:
    """Which of SPEED_FLAGS this CPU has (read as infossl reads them to choose its precision)."""
    from infossl.training.precision import cpu_flags as all_flags

    flags = all_flags()
    return [flag for flag in SPEED_FLAGS if flag in flags]


def machine_info() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
    }


def median_seconds(fn: Callable[[], Any], *, warmup: int = 1, repeats: int = 5, budget_s: float = 30.0) -> tuple[float, int]:
    """Median wall time of ``fn`` over ``repeats`` calls (fewer, but at least 3,
    when the time budget runs out). Returns (median seconds, calls timed)."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeats and (len(times) < 3 or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(times)


def command_line() -> str:
    """The command that is running, with the script's path from the repository root
    (``python benchmarks/speed.py ...`` also when started inside benchmarks/)."""
    script = Path(sys.argv[0]).resolve()
    root = Path(__file__).resolve().parent.parent
    shown = script.relative_to(root) if script.is_relative_to(root) else script
    return "python " + " ".join([shown.as_posix(), *sys.argv[1:]])


def write_results(name: str, rows: list[dict[str, Any]]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {
        "benchmark": name,
        "command": command_line(),
        "commit": git_commit(),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
        "rows": rows,
    }
    path.write_text(json.dumps(payload, indent=1) + "\n")
    return path
