"""benchmarks/diagnose_trials.py: which proxy runs it diagnoses, and the rank correlation it reports."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import diagnose_trials  # noqa: E402


def write(path: Path, row: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"row": row}))


def test_finished_trials_and_screens_are_diagnosed_pruned_and_failed_ones_are_not(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(diagnose_trials, "RESULTS_DIR", tmp_path)
    args = lambda name: ["--config", "x", "--run_dir", f"/runs/{name}"]  # noqa: E731
    write(tmp_path / "search/imsvd/trial_001.json", {"held_out_knn20": 44.5, "steps": 400, "arguments": args("t0")})
    write(tmp_path / "search/imsvd/trial_002.json", {"held_out_knn20": None, "steps": 100, "arguments": args("t1")})  # pruned
    write(tmp_path / "search/imsvd/trial_003.json", {"state": "failed", "arguments": args("t2")})
    write(tmp_path / "screen/imsvd/normalized.json", {"held_out_knn20": 50.1, "steps": 400, "arguments": args("s")})
    runs = diagnose_trials.finished_runs("imsvd")
    assert [(r["source"], r["run_dir"], r["held_out_knn20"]) for r in runs] == [
        ("search trial 1", "/runs/t0", 44.5), ("screen normalized", "/runs/s", 50.1)]


def test_spearman_is_rank_based_and_undefined_when_it_cannot_be_computed() -> None:
    assert diagnose_trials.spearman([1, 2, 3, 4], [1, 8, 27, 64]) == pytest.approx(1.0)
    assert diagnose_trials.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert diagnose_trials.spearman([1, 2], [1, 2]) is None
    assert diagnose_trials.spearman([1, 1, 1], [1, 2, 3]) is None


def test_earlier_diagnoses_are_found_by_source_steps_and_score(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(diagnose_trials, "RESULTS_DIR", tmp_path)
    assert diagnose_trials.previous_diagnoses("imsvd") == {}
    run = {"source": "screen k8", "held_out_knn20": 50.1, "steps": 400, "diagnostics": {"view_agreement": 0.3}}
    write(tmp_path / "trial_diagnostics/imsvd.json", {"method": "imsvd", "runs": [run]})
    earlier = diagnose_trials.previous_diagnoses("imsvd")
    assert earlier == {("screen k8", 400, 50.1): run}  # a rerun of the same tag with another score is diagnosed anew
