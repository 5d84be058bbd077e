"""Summarize finished `infossl pretrain` runs as a JSON result for the report.

    python benchmarks/summarize_run.py RUN_DIR [RUN_DIR ...] [--name pretrain_runs]

Reads each run folder's config.yaml and metrics.csv: method, backbone, epochs,
steps, wall time (config written -> last checkpoint written), final kNN and
online-probe accuracy on the validation split.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import yaml

from common import write_results


def summarize(run_dir: Path) -> dict:
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    rows = list(csv.DictReader((run_dir / "metrics.csv").open()))

    def last(key: str) -> float | None:
        values = [float(r[key]) for r in rows if r.get(key)]
        return round(values[-1], 4) if values else None

    steps = [int(r["step"]) for r in rows if r.get("step")]
    epochs = [int(r["epoch"]) for r in rows if r.get("epoch")]
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    wall = checkpoint.stat().st_mtime - (run_dir / "config.yaml").stat().st_mtime
    method = config["model"]["method"]["class_path"].rsplit(".", 1)[-1]
    return {
        "run": run_dir.name,
        "method": method,
        "backbone": config["model"]["backbone"]["name"],
        "data": Path(str(config["data"].get("path") or config["data"]["source"])).name,
        "batch": config["data"]["batch_size"],
        "epochs": max(epochs) + 1 if epochs else 0,
        "steps": max(steps) + 1 if steps else 0,
        "wall_min": round(wall / 60, 1),
        "knn_top1": last("knn/val_acc"),
        "probe_top1": last("probe/val_acc"),
        "final_loss": last("train/loss"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--name", default="pretrain_runs")
    args = parser.parse_args()
    rows = [summarize(r) for r in args.runs]
    for row in rows:
        print(row)
    print("wrote", write_results(args.name, rows))


if __name__ == "__main__":
    main()
