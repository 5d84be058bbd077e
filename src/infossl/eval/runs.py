"""Summaries of finished ``infossl pretrain`` runs, compared side by side (``infossl compare``).

A run folder holds ``config.yaml``, ``metrics.csv`` and ``checkpoints/last.ckpt``;
``infossl eval`` adds ``checkpoints/last.eval.json``, whose test-split kNN, linear
probe and effective rank take precedence over the training-time monitors.
"""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path
from typing import Any

import yaml

from infossl.errors import InputError

#: columns of the comparison table: (key, header, format)
COLUMNS = (
    ("run", "run", "{}"),
    ("method", "method", "{}"),
    ("backbone", "backbone", "{}"),
    ("epochs", "epochs", "{}"),
    ("train_min", "train time (min)", "{:.1f}"),
    ("images_per_s", "images/s", "{:.0f}"),
    ("knn_top1", "kNN top-1 (%)", "{:.2f}"),
    ("linear_top1", "linear top-1 (%)", "{:.2f}"),
    ("effective_rank", "effective rank", "{:.1f}"),
    ("accuracy_source", "accuracy from", "{}"),
)


def _metrics(run_dir: Path) -> list[dict[str, str]]:
    path = run_dir / "metrics.csv"
    return list(csv.DictReader(path.open())) if path.is_file() else []


def _values(rows: list[dict[str, str]], key: str) -> list[float]:
    return [float(r[key]) for r in rows if r.get(key) not in (None, "")]


def summarize_run(run_dir: str | Path) -> dict[str, Any]:
    """One row of the comparison for a run folder; ValueError if it is not one."""
    run_dir = Path(run_dir)
    config_path = run_dir / "config.yaml"
    if not config_path.is_file():
        raise InputError(f"{run_dir} is not an infossl run folder (no config.yaml)")
    config = yaml.safe_load(config_path.read_text()) or {}
    model = config.get("model") or {}
    rows = _metrics(run_dir)
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    method = (model.get("method") or {}).get("class_path", "?").rsplit(".", 1)[-1]

    train_seconds = _values(rows, "time/train_s")
    if train_seconds:
        train_min = train_seconds[-1] / 60
    elif checkpoint.is_file():  # runs logged before time/train_s existed: config written -> last checkpoint
        train_min = (checkpoint.stat().st_mtime - config_path.stat().st_mtime) / 60
    else:
        train_min = None
    throughput = _values(rows, "train/images_per_s")
    epochs = _values(rows, "epoch")
    summary: dict[str, Any] = {
        "run": run_dir.name,
        "path": str(run_dir),
        "method": method,
        "backbone": (model.get("backbone") or {}).get("name", "?"),
        "batch_size": (config.get("data") or {}).get("batch_size"),
        "epochs": int(max(epochs)) + 1 if epochs else 0,
        "steps": int(max(_values(rows, "step"))) + 1 if rows and _values(rows, "step") else 0,
        "train_min": train_min,
        "images_per_s": None,
        "knn_top1": None,
        "linear_top1": None,
        "effective_rank": None,
        "accuracy_source": None,
    }
    # whole-run throughput (every step, stalls included); per-step median when the time is unknown
    if train_min and summary["steps"] and summary["batch_size"]:
        summary["images_per_s"] = summary["steps"] * summary["batch_size"] / (60 * train_min)
    elif throughput:
        summary["images_per_s"] = statistics.median(throughput)
    evaluation = checkpoint.with_name("last.eval.json")
    if evaluation.is_file():
        results = json.loads(evaluation.read_text())
        knn = results.get("knn", {})
        first_k = min((int(k[3:-5]) for k in knn if k.endswith("_top1")), default=None)
        summary["knn_top1"] = 100 * knn[f"knn{first_k}_top1"] if first_k is not None else None
        linear = results.get("linear", {})
        solver = "sgd" if "sgd" in linear else next(iter(linear), None)
        summary["linear_top1"] = 100 * linear[solver]["top1"] if solver else None
        summary["effective_rank"] = (results.get("diagnostics") or {}).get("feature_rank")
        data = str(results.get("data", "")).split(" (")[0]
        summary["accuracy_source"] = f"infossl eval, test split of {Path(data).name}" if data else "infossl eval"
    else:
        knn, probe = _values(rows, "knn/val_acc"), _values(rows, "probe/val_acc")
        summary["knn_top1"] = 100 * knn[-1] if knn else None
        summary["linear_top1"] = 100 * probe[-1] if probe else None
        summary["accuracy_source"] = "training monitors" if knn or probe else "none"
    return summary


def sort_key(summary: dict[str, Any]) -> tuple[float, float]:
    """Best first: by linear top-1, then kNN top-1 (missing values last)."""
    linear, knn = summary.get("linear_top1"), summary.get("knn_top1")
    return (-(linear if linear is not None else -1.0), -(knn if knn is not None else -1.0))


def format_table(summaries: list[dict[str, Any]], markdown: bool = False) -> str:
    def cell(summary: dict[str, Any], key: str, fmt: str) -> str:
        value = summary.get(key)
        return "-" if value is None else fmt.format(value)

    headers = [h for _, h, _ in COLUMNS]
    body = [[cell(s, k, f) for k, _, f in COLUMNS] for s in summaries]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, body)])


def plot_comparison(summaries: list[dict[str, Any]], path: str | Path) -> Path:
    """Accuracy per run (bars) and accuracy against training time (scatter)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    names = [f"{s['run']}\n({s['method']})" for s in summaries]
    fig, (bars, scatter) = plt.subplots(1, 2, figsize=(14, 4.8), gridspec_kw={"width_ratios": [1.3, 1]})
    width = 0.4
    for offset, key, label in ((-width / 2, "knn_top1", "kNN top-1"), (width / 2, "linear_top1", "linear top-1")):
        values = [s.get(key) or 0.0 for s in summaries]
        bars.bar([i + offset for i in range(len(summaries))], values, width, label=label)
    bars.set_xticks(range(len(summaries)), names, fontsize=7, rotation=30, ha="right")
    bars.set_ylabel("accuracy (%)")
    bars.legend(fontsize=8)
    bars.grid(axis="y", alpha=0.3)
    # one colour per run, one marker per method, named in a legend beside the plot: runs
    # that land on the same point (short trials of one length) no longer write over each
    # other's labels
    markers = dict(zip(sorted({s["method"] for s in summaries}), "osD^vP*Xph"))
    times = []
    for index, s in enumerate(summaries):
        accuracy = s.get("linear_top1") if s.get("linear_top1") is not None else s.get("knn_top1")
        if s.get("train_min") is not None and accuracy is not None:
            times.append(s["train_min"])
            scatter.scatter(s["train_min"], accuracy, marker=markers[s["method"]], s=36, alpha=0.8,
                            color=f"C{index % 10}", label=f"{s['run']} ({s['method']})")
    if times and min(times) > 0 and max(times) / min(times) > 10:
        from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

        scatter.set_xscale("log")  # minutes-long trials beside hour-long runs
        ticks = [t for t in (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if min(times) / 2 <= t <= max(times) * 2]
        scatter.xaxis.set_major_locator(FixedLocator(ticks))
        scatter.xaxis.set_major_formatter(ScalarFormatter())
        scatter.xaxis.set_minor_formatter(NullFormatter())
    scatter.set_xlabel("training time (min)")
    scatter.set_ylabel("linear (else kNN) top-1 (%)")
    scatter.grid(alpha=0.3)
    if times:
        scatter.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
