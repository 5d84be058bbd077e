"""benchmarks/gpu_check.py (run on a lent GPU) works: its CPU dry run, tiny shapes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_check.py"


def test_gpu_check_dry_run(tmp_path) -> None:
    out = tmp_path / "gpu_check.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--dry-run", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    norms = [r for r in rows if r["check"] == "projector batch norm"]
    assert [r["precision"] for r in norms] == ["32-true", "bf16-mixed"] and all(r["agree"] for r in norms)
    (training,) = [r for r in rows if r["check"].endswith("training")]
    assert training["steps"] == 4 and training["losses_finite"] and training["images_per_s"] > 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is for machines without CUDA")
def test_gpu_check_refuses_to_run_without_cuda_unless_dry() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "no CUDA device" in done.stderr
