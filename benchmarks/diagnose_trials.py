"""Why one recipe beats another: the representation diagnostics of every finished proxy run.

    python benchmarks/diagnose_trials.py --method imsvd

For each search trial (``search.py``) and recipe screen (``screen.py``) of a method whose
checkpoint holds its final step, this loads the checkpoint and computes
:func:`infossl.diagnostics.representation_report` on the proxy's held-out images (never the
test split): effective ranks, alignment and uniformity, the second-order information between
two augmented views, and the method's own diagnostics (IMSVD: view agreement, effective
states, confidence, invariant information, redundancy). Beside each run's held-out kNN-20 it
records the Spearman rank correlation of every diagnostic with that score across the runs (few
runs make it rough: the row says how many). Output:
``benchmarks/results/trial_diagnostics/<method>.json``. A run already in that file (the same source,
steps and score) keeps its diagnosis, also when its checkpoint is gone, so that a rerun diagnoses
only the new runs (``--redo``: every run with a checkpoint again).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import torch

from cifar10_budget import proxy_npz, write_row
from common import RESULTS_DIR
from search import FOLDER as SEARCH_FOLDER
from search import PROXY_FIT, PROXY_HELD, ROOT

FOLDER = "trial_diagnostics"
#: diagnostics in every report that do not describe a run (sizes)
CONSTANTS = ("feature_dim", "embedding_dim")


def finished_runs(method: str) -> list[dict[str, Any]]:
    """(source, run folder, held-out kNN-20, steps) of every search trial and screen of ``method``
    that trained to its last step, in trial then tag order."""
    sources = [(f"search trial {path.stem.removeprefix('trial_').lstrip('0')}", path) for path in sorted((RESULTS_DIR / SEARCH_FOLDER / method).glob("trial_*.json"))]
    sources += [(f"screen {path.stem}", path) for path in sorted((RESULTS_DIR / "screen" / method).glob("*.json"))]
    runs = []
    for source, path in sources:
        row = json.loads(path.read_text())["row"]
        if row.get("held_out_knn20") is not None:  # pruned and failed trials have none
            arguments = row["arguments"]
            runs.append({"source": source, "run_dir": arguments[arguments.index("--run_dir") + 1],
                         "held_out_knn20": row["held_out_knn20"], "steps": row["steps"]})
    return runs


def previous_diagnoses(method: str) -> dict[tuple[str, int, float], dict[str, Any]]:
    """The runs the method's output file already holds, by (source, steps, held-out kNN-20)."""
    path = RESULTS_DIR / FOLDER / f"{method}.json"
    if not path.is_file():
        return {}
    return {(r["source"], r["steps"], r["held_out_knn20"]): r for r in json.loads(path.read_text())["row"]["runs"]}


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's rank correlation (scipy's); None for fewer than 3 pairs or a constant side."""
    from scipy.stats import spearmanr

    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    return float(spearmanr(x, y).statistic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", required=True)
    parser.add_argument("--images", type=int, default=2048, help="held-out images to diagnose on")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cifar10.npz")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "search")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (1: stays out of a running benchmark's way)")
    parser.add_argument("--redo", action="store_true", help="diagnose again the runs the output already holds")
    args = parser.parse_args()
    torch.set_num_threads(min(args.threads, os.cpu_count() or 1))

    from infossl.diagnostics import representation_report
    from infossl.encoder import load_method
    from infossl.eval.evaluate import embed_views
    from infossl.eval.features import encode_images, load_eval_splits

    held_out = load_eval_splits(proxy_npz(args.data, args.runs, PROXY_FIT, PROXY_HELD)).test.images[: args.images]
    earlier = previous_diagnoses(args.method)
    rows = []
    for run in finished_runs(args.method):
        checkpoint = Path(run["run_dir"]) / "checkpoints" / "last.ckpt"
        known = earlier.get((run["source"], run["steps"], run["held_out_knn20"]))
        if known is not None and (not args.redo or not checkpoint.is_file()):
            rows.append(known)
            continue
        if not checkpoint.is_file():
            print(f"skip {run['source']}: no {checkpoint}")
            continue
        if torch.load(checkpoint, map_location="cpu", weights_only=False)["global_step"] != run["steps"]:
            print(f"skip {run['source']}: {checkpoint} does not hold the run's last step {run['steps']}")
            continue
        encoder, method = load_method(checkpoint)
        with torch.no_grad():
            features = encode_images(encoder, held_out, desc=run["source"])
            z1, z2 = embed_views(encoder, method, held_out)
            report = representation_report(features.double(), z1, z2, method)
        rows.append({**{k: run[k] for k in ("source", "held_out_knn20", "steps")},
                     "diagnostics": {k: round(float(v), 4) for k, v in report.items() if k not in CONSTANTS}})
        print(run["source"], run["held_out_knn20"], rows[-1]["diagnostics"])
    if not rows:
        parser.error(f"no finished run of {args.method} with a checkpoint under the recorded run folders")
    scores = [r["held_out_knn20"] for r in rows]
    keys = sorted(set.intersection(*(set(r["diagnostics"]) for r in rows)))
    correlations = {k: spearman([r["diagnostics"][k] for r in rows], scores) for k in keys}
    write_row(FOLDER, args.method, {"method": args.method, "images": len(held_out), "runs": rows,
                                    "spearman_with_held_out_knn20": {k: None if v is None else round(v, 3) for k, v in correlations.items()}})


if __name__ == "__main__":
    main()
