"""Render docs/benchmarks.md from every JSON file under benchmarks/results/.

    python benchmarks/report.py

One section per benchmark, each stating its command, commit, machine and date.
A benchmark gets a dedicated renderer in ``RENDERERS``; any other result file
is rendered as a plain table of its rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import claims
from claims import mean_and_range
from variants import PROMOTED

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
RESULTS_DIR = HERE / "results"
OUTPUT = ROOT / "docs" / "benchmarks.md"


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_line(result: dict[str, Any]) -> str:
    m = result["machine"]
    flags = f", flags {' '.join(m['cpu_flags'])}" if m.get("cpu_flags") else ""  # older rows did not record them
    return (f"- machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']} ({m['torch_threads']} threads, "
            f"{m['cpu_capability']}{flags}), Python {m['python']}")


def runnable(command: str) -> str:
    """Rows recorded inside benchmarks/ name ``python speed.py``: show the path from the
    repository root, as a reader runs it."""
    words = command.split(" ")
    if len(words) > 1 and words[0] == "python" and "/" not in words[1] and (HERE / words[1]).is_file():
        words[1] = f"benchmarks/{words[1]}"
    return " ".join(words)


def provenance(result: dict[str, Any]) -> str:
    return f"- command: `{runnable(result['command'])}`\n- commit: `{result['commit']}`, date: {result['date']}\n" + machine_line(result)


def section(title: str, intro: str, result: dict[str, Any], header: list[str], rows: list[list[Any]]) -> str:
    """A report section: title, explanation, provenance, table."""
    return f"## {title}\n\n{intro}\n\n" + provenance(result) + "\n\n" + table(header, rows)


def growth_notes(rows: list[dict[str, Any]]) -> list[str]:
    """Measured time ratios when N doubles (D fixed) and when D doubles (N fixed)."""
    times = {(r["objective"], r["n"], r["d"]): r["median_ms"] for r in rows}
    notes = []
    for objective in dict.fromkeys(r["objective"] for r in rows):
        by_n, by_d = [], []
        for (obj, n, d), ms in times.items():
            if obj != objective:
                continue
            if (obj, 2 * n, d) in times:
                by_n.append(f"{times[(obj, 2 * n, d)] / ms:.1f}x (N {n}->{2 * n}, D={d})")
            if (obj, n, 2 * d) in times:
                by_d.append(f"{times[(obj, n, 2 * d)] / ms:.1f}x (D {d}->{2 * d}, N={n})")
        parts = []
        if by_n:
            parts.append("doubling N: " + ", ".join(by_n))
        if by_d:
            parts.append("doubling D: " + ", ".join(by_d))
        if parts:
            notes.append(f"- **{objective}**: " + "; ".join(parts))
    return notes


def render_losses(result: dict[str, Any]) -> str:
    rows = result["rows"]
    body = table(
        ["objective", "N", "D", "forward+backward (ms, median)"],
        [[r["objective"] + (f" K={r['num_states']}" if "num_states" in r else ""), r["n"], r["d"], r["median_ms"]] for r in rows],
    )
    notes = growth_notes(rows)
    text = (
        "## Loss forward+backward time\n\n"
        "Float32 embeddings on the CPU; one call is `loss(z1, z2).loss.backward()`.\n\n"
        + provenance(result)
        + "\n\n"
        + body
    )
    if notes:
        text += "\n\nHow the cost grows (ratios of the measured medians above):\n\n" + "\n".join(notes)
    return text + "\n\n" + LOSS_COMPLEXITY


LOSS_COMPLEXITY = """Expected orders, which the ratios follow once the shapes are large enough to leave
fixed overheads behind (the machine is a shared VM: repeated runs of the same shape have
differed by up to 2x at the smallest shapes):

- IMSVD: O(N D^2) for the MK x MK joint (two products forward, two backward), plus O(D^2)
  elementwise work that dominates at D = 8160, which is why doubling N costs less than 2x.
- EMI: O(N D^2 + D^3) with the covariances; when N < 2D the log-dets use the N x N Gram
  form (Sylvester's identity), O(N^2 D + N^3), so the paper shapes D = 1024-2048 cost little.
- EntRec and InfoNCE: O(N^2 D) for the N x N (2N x 2N) similarity matrix.
- Barlow Twins and VICReg: O(N D^2) for the D x D (cross-)covariances.
- BYOL: O(N D)."""


def render_generic(result: dict[str, Any]) -> str:
    rows = result["rows"]
    header = list(dict.fromkeys(key for row in rows for key in row))
    return (
        f"## {result['benchmark']}\n\n"
        + provenance(result)
        + "\n\n"
        + table(header, [[row.get(key, "") for key in header] for row in rows])
    )


def render_cpu_recipe(result: dict[str, Any]) -> str:
    rows = result["rows"]
    return section(
        "CPU recipe throughput (CIFAR-10)",
        (
            "One step = batched augmentation of two views + forward + backward + SGD step on real\n"
            "CIFAR-10 batches (`cifar10_cpu/imsvd.yaml`: 4-block convnet, projector 1024-1024-1024,\n"
            "IMSVD K = 32). Augmentation share = augmentation time / step time."
        ),
        result,
        ["variant", "batch", "step (s)", "images/s", "augmentation (s)", "augmentation share", "first step (s)"],
        [[r["variant"], r["batch"], r["step_s"], r["images_per_s"], r["augment_s"], r["augment_share"], r["first_step_s"]] for r in rows],
    )


def render_pretrain_runs(result: dict[str, Any]) -> str:
    text = render_generic(result).replace("## pretrain_runs", "## Pretraining runs", 1)
    return text + (
        "\n\nkNN: weighted k = 20 on backbone features, 10,000 training images as the bank, the\n"
        "10,000 test images as queries; probe: the online linear probe on the test split. Data: the\n"
        "CIFAR-10 npz of `../shared/data`, decoded from a JPEG (quality ~75) re-encoding of CIFAR-10,\n"
        "so pixel values differ slightly from the original release. Wall time includes periods when\n"
        "the two cores were shared with other work (tests), so it is an upper bound."
    )


def render_knn(result: dict[str, Any]) -> str:
    rows = result["rows"]
    return section(
        "kNN evaluation speed",
        (
            "`infossl.eval.knn.knn_evaluate` (weighted votes, k = 20 and 200, top-1 and top-5) over random\n"
            "features, processed in chunks of queries, against the lower bound of a single matrix product\n"
            "of the normalized queries with the normalized bank (which would need the full similarity\n"
            "matrix in memory at once)."
        ),
        result,
        ["bank x queries x dim", "chunk", "kNN (s)", "one matmul (s)", "ratio", "similarity block (MB)", "full matrix (MB)"],
        [
            [f"{r['bank']} x {r['queries']} x {r['dim']}", r["chunk"], r["knn_s"], r["matmul_bound_s"], r["ratio"], r["similarity_block_mb"], r["full_matrix_mb"]]
            for r in rows
        ],
    )


def folder_result(folder: Path) -> dict[str, Any] | None:
    """One result from a folder of one-row JSON files (benchmarks that grow run by run)."""
    files = sorted(folder.glob("*/*.json" if folder.name == "screen" else "*.json"))  # screen/<method>/<tag>.json
    if not files:
        return None
    payloads = [json.loads(p.read_text()) for p in files]
    rows = [{**p["row"], "commit": p["commit"], "date": p["date"], "tag": f.stem} for p, f in zip(payloads, files)]
    return {"benchmark": folder.name, "command": payloads[0]["command"].split(" --")[0] + " ...", "machine": payloads[0]["machine"], "rows": rows}


def fmt(value: Any) -> str:
    return "-" if value is None else str(value)


def significant(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def speed(row: dict[str, Any]) -> str:
    """The machine-speed probe before/after a run (images/s of a fixed convnet workload)."""
    return "-" if not row.get("machine_speed") else "/".join(f"{v:.0f}" for v in row["machine_speed"])


def render_budget(result: dict[str, Any]) -> str:
    rows = sorted(result["rows"], key=lambda r: -(r.get("linear_top1") or 0))
    readings = [v for r in rows for v in r.get("machine_speed") or []]
    drift = f" (readings in these rows: {min(readings):.0f} to {max(readings):.0f} images/s)" if readings else ""
    return (
        "## CIFAR-10 at a fixed training budget\n\n"
        "Each method's CPU recipe (`cifar10_cpu/<method>.yaml`: 4-block convnet, batch 256, the same\n"
        "augmentations) trained for the budget of training time (`model.time_budget_min`; schedule over the\n"
        "budget), then evaluated on the 10,000 test images: weighted kNN (bank: the 50,000 training images)\n"
        "and an L-BFGS linear probe (weight decay chosen on held-out training images) of the run's final\n"
        "step (the harness refuses a checkpoint of another step). Settings: the best\n"
        "of the three tuning trials below, or the recipe when untuned. Data: `../shared/data/cifar10.npz`\n"
        "(CIFAR-10 decoded from a JPEG quality ~75 re-encoding, see its README). Load = 1-minute load\n"
        "average before/after the run (2 is the two cores fully used by the run itself). Machine speed =\n"
        "images/s of a fixed workload (the convnet's forward + backward on 256 random images for 4 s, after\n"
        f"2 s of warm-up) before/after the run: this virtual machine's speed drifts{drift},\n"
        "so compare steps and epochs too.\n\n"
        "- command: `python benchmarks/cifar10_budget.py --method METHOD` (one row) or `--all` (commit and date: per row)\n"
        + machine_line(result) + "\n\n"
        + table(
            ["method", "settings", "seed", "batch", "lr", "params", "steps", "epochs", "train (min)", "images/s",
             "kNN-20", "kNN-200", "linear", "feature rank", "load", "machine speed", "commit", "date"],
            [[r["method"], fmt(r.get("settings")), r.get("seed"), fmt(r.get("batch_size")), fmt(r.get("lr")), fmt(r.get("params") or None),
              fmt(r.get("steps")), fmt(r.get("epochs")), fmt(round(r["train_s"] / 60, 1) if r.get("train_s") else None),
              fmt(r.get("images_per_s")), r["knn20_top1"], r["knn200_top1"], fmt(r.get("linear_top1")), fmt(r.get("feature_rank")),
              f"{fmt(r.get('load_before'))}/{fmt(r.get('load_after'))}", speed(r), r["commit"], r["date"]] for r in rows],
        )
        + seed_summary(rows)
    )


def seed_summary(rows: list[dict[str, Any]]) -> str:
    """Mean and spread over seeds for every method with at least two seeds."""
    by_method: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("batch_size", 256) == 256 and r.get("linear_top1") is not None and "reference" not in r["method"]:
            by_method.setdefault(r["method"], []).append(r)
    lines = []
    for method, runs in by_method.items():
        if len(runs) < 2:
            continue
        parts = []
        for key, label in (("linear_top1", "linear"), ("knn20_top1", "kNN-20")):
            values = [r[key] for r in runs]
            parts.append(f"{label} {sum(values) / len(values):.2f} (seeds {', '.join(str(r['seed']) for r in runs)}: "
                         f"{', '.join(f'{v:.2f}' for v in values)}; spread {max(values) - min(values):.2f})")
        lines.append(f"- {method}: " + "; ".join(parts))
    return ("\n\nRun-to-run spread (same settings, different seeds):\n\n" + "\n".join(lines)) if lines else ""


def render_study(result: dict[str, Any]) -> str:
    tables = []
    for method in sorted({r["method"] for r in result["rows"]}):
        rows = sorted((r for r in result["rows"] if r["method"] == method), key=lambda r: r["date"])
        term_keys = sorted({k for r in rows for k in r.get("final_terms", {}) if k not in ("loss", "ema_momentum")})
        imsvd = ["effective states", "view agreement", "diagonal floor", "confidence"] if method == "imsvd" else []
        tables.append(f"### {method}\n\n" + table(
            ["variant", "lr", "batch", "steps", "held-out kNN-20", "held-out kNN-200", "feature rank", *imsvd, *term_keys, "load", "machine speed", "commit"],
            [[r["variant"], r["lr"], r["batch_size"], r["steps"], r["knn20_top1"], r["knn200_top1"], r["feature_rank"],
              *([fmt(r.get(k)) for k in ("effective_states", "view_agreement", "diagonal_floor", "confidence")] if imsvd else []),
              *[fmt(r.get("final_terms", {}).get(k)) for k in term_keys],
              f"{r['load_before']}/{r['load_after']}", speed(r), r["commit"]] for r in rows],
        ))
    return (
        "## CIFAR-10 budget: one-factor studies\n\n"
        "What limits a method at this budget: one setting changed at a time from the method's baseline, on the\n"
        "tuning proxy data (9,000 training images, kNN-20 on 1,000 other training images), each variant trained\n"
        "for the same 4 epochs (a fixed amount of training rather than of time: the machine's speed drifts\n"
        "between runs). Final terms: the last logged training step. IMSVD bounds: invariance >= 0, diagonal >= -log K,\n"
        "off-diagonal >= -2 log K (and >= -log N for one-hot states). View agreement s = probability that both\n"
        "views put a variable in the same state; the diagonal term cannot go below the diagonal floor\n"
        "s log(s/K), which equals -log K only at s = 1; confidence = mean largest state probability.\n"
        "What the studies show: [analysis.md](analysis.md).\n\n"
        "- command: `python benchmarks/cifar10_budget.py --study METHOD` (commit and date: per row)\n"
        + machine_line(result) + "\n\n"
        + "\n\n".join(tables)
    )


def render_epochs(result: dict[str, Any]) -> str:
    rows = sorted(result["rows"], key=lambda r: (r["method"], -r["batch_size"]))
    at_256 = {r["method"]: r for r in rows if r["batch_size"] == 256}

    def drop(r: dict[str, Any], key: str) -> str:
        ref = at_256.get(r["method"])
        return "-" if ref is None or r.get(key) is None or ref.get(key) is None else f"{ref[key] - r[key]:.2f}"

    return (
        "## CIFAR-10 batch-size robustness (fixed epochs)\n\n"
        "EntRec's claim: accuracy holds up when the batch shrinks. Each method's CPU recipe at batch 256, 128 and 64\n"
        "for the same number of epochs, the learning rate scaled linearly with the batch (the recipes' \n"
        "`scale_lr_by_batch`); tuned settings as in the budget table. Drop = accuracy at 256 minus accuracy here\n"
        "(positive: worse than at 256).\n\n"
        "- command: `python benchmarks/cifar10_budget.py --method METHOD --batch-size B --epochs E` (commit and date: per row)\n"
        + machine_line(result) + "\n\n"
        + table(
            ["method", "batch", "epochs", "lr (scaled)", "steps", "train (min)", "kNN-20", "kNN-200", "linear",
             "drop kNN-20", "drop linear", "load", "commit", "date"],
            [[r["method"], r["batch_size"], r["epochs"], fmt(r.get("lr_scaled")), r["steps"], round(r["train_s"] / 60, 1),
              r["knn20_top1"], r["knn200_top1"], fmt(r.get("linear_top1")), drop(r, "knn20_top1"), drop(r, "linear_top1"),
              f"{r['load_before']}/{r['load_after']}", r["commit"], r["date"]] for r in rows],
        )
    )


def render_tuning(result: dict[str, Any]) -> str:
    rows = sorted(result["rows"], key=lambda r: (r["method"], r["trial"]))
    return (
        "## CIFAR-10 budget: tuning trials\n\n"
        "The same three trials for every method, each 2 minutes of training on 9,000 training images and\n"
        "scored by kNN-20 top-1 on 1,000 other training images (the test split is never used): (1) the\n"
        "recipe, (2) the recipe's learning rate x 2, (3) the better learning rate with the method's key\n"
        "hyper-parameter changed.\n\n"
        "- command: `python benchmarks/cifar10_budget.py --tune METHOD` (commit and date: per row)\n"
        + machine_line(result) + "\n\n"
        + table(
            ["method", "trial", "lr", "params", "steps", "held-out kNN-20", "held-out kNN-200", "feature rank", "load", "machine speed", "commit", "date"],
            [[r["method"], r["trial"], r["lr"], fmt(r.get("params") or None), r["steps"], r["knn20_top1"], r["knn200_top1"],
              r["feature_rank"], f"{r['load_before']}/{r['load_after']}", speed(r), r["commit"], r["date"]] for r in rows],
        )
    )


def render_speed_losses(result: dict[str, Any]) -> str:
    goal = lambda r: 0.5 if r["objective"].startswith("infonce") else 1.0
    return section(
        "Loss speed against lightly",
        (
            "Forward + backward, float32, repetitions of both libraries alternating in one process, medians.\n"
            "Ratio = infossl / lightly (below 1: infossl faster); paired ratio = the ratio within each repetition\n"
            "(the two calls back to back), its first and third quartiles: the spread the machine's noise gives.\n"
            "Goals: NT-Xent at most 0.5, the others at most 1.0."
        ),
        result,
        ["objective", "N", "D", "infossl (ms)", "lightly (ms)", "ratio", "paired ratio, quartiles", "goal met", "same value"],
        [[r["objective"], r["n"], r["d"], r["infossl_ms"], r["lightly_ms"], r["ratio"],
          "-" if "paired_ratio_quartiles" not in r else "{:.2f}-{:.2f}".format(*r["paired_ratio_quartiles"]),
          "yes" if r["ratio"] <= goal(r) else "NO", fmt(r["values_agree"])] for r in result["rows"]],
    )


def render_speed_step(result: dict[str, Any]) -> str:
    rows = result["rows"]
    if "vs_lightly_loop" not in rows[0]:  # rows measured before the interleaved rounds
        return section(
            "Training step against a plain PyTorch loop with lightly",
            "Same convnet backbone, projector 1024-256, NT-Xent (T = 0.2), SGD, CIFAR-10 images; each side measured once.",
            result,
            ["pipeline", "batch", "step (s)", "images/s", "augmentation (s/batch)", "augmentation share", "vs best plain loop"],
            [[r["pipeline"], r["batch"], r["step_s"], round(r["images_per_s"], 1), r["augment_s"], r["augment_share"], r["vs_best_plain"]] for r in rows],
        )
    return section(
        "Training step against lightly and a batched plain loop",
        (
            "Same convnet backbone, projector 1024-256, NT-Xent (T = 0.2), SGD, CIFAR-10 images, float32; every side\n"
            "with and without channels-last. infossl: the Lightning pipeline (uint8 batches, batched augmentation;\n"
            "images/s over whole steps). Lightly loop: lightly's SimCLRTransform (32 px, no blur) in a DataLoader and\n"
            "lightly's NTXentLoss. Batched plain loop: `benchmarks/plain_loop.py`'s augmentation on whole uint8\n"
            "batches. The sides alternate in rounds (order reversed every round); images/s = median over rounds\n"
            "(each round's value in brackets). Ratios compare sides of the same memory format."
        ),
        result,
        ["pipeline", "images/s", "rounds", "augmentation share", "vs lightly loop", "vs batched plain loop"],
        [[r["pipeline"], r["images_per_s"], ", ".join(f"{v:.0f}" for v in r["images_per_s_rounds"]), r["augment_share"],
          r["vs_lightly_loop"], r["vs_batched_plain_loop"]] for r in rows],
    )


def render_speed_objectives(result: dict[str, Any]) -> str:
    return section(
        "Cost of the information objectives relative to a ResNet-18 step",
        (
            "Forward + backward of the objective at its paper shape (and with N or D changed), against one CIFAR\n"
            "ResNet-18 step (two views of 256 images, forward + backward + SGD)."
        ),
        result,
        ["objective", "N", "D", "loss (s)", "ResNet-18 step (s)", "relative"],
        [[r["objective"], r["n"], r["d"], r["loss_s"], r["resnet18_step_s"], r["relative_to_resnet18_step"]] for r in result["rows"]],
    )


def recorded(runs: list[dict[str, Any]], key: str) -> list[float]:
    """The seeds' values of ``key``, leaving out the seeds that did not record it."""
    return [r[key] for r in runs if r.get(key) is not None]


def render_steps(result: dict[str, Any]) -> str:
    reference = [r for r in result["rows"] if r.get("batch_size", 256) == 256]
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for r in reference:
        key = (r["method"], r.get("variant") or "-", r.get("precision") or "-", r.get("jitter_style") or "-")
        groups.setdefault(key, []).append(r)
    ordered = sorted(groups.items(), key=lambda item: -sum(r["knn20_top1"] for r in item[1]) / len(item[1]))
    rows = []
    searched = {path.name.removesuffix("_summary.json") for path in (RESULTS_DIR / "search").glob("*_summary.json")}
    for (method, variant, precision, jitter), runs in ordered:
        runs = sorted(runs, key=lambda r: r["seed"])
        if variant == "shipped recipe" and method not in searched:  # references have no variant
            variant = "shipped recipe (not searched)"
        if jitter == "jiggle":
            variant = f"{variant}, ColorJiggle" if variant != "-" else "ColorJiggle"
        rows.append([
            method, variant, precision, ", ".join(str(r["seed"]) for r in runs), fmt(runs[0].get("steps")),
            fmt(runs[0].get("images_seen")),
            mean_and_range([r["knn20_top1"] for r in runs]), mean_and_range([r["knn200_top1"] for r in runs]),
            mean_and_range(linear) if (linear := recorded(runs, "linear_top1")) else "-",
            fmt(round(sum(ranks) / len(ranks), 1)) if (ranks := recorded(runs, "feature_rank")) else "-",
            ", ".join(fmt(r.get("images_per_s")) for r in runs),
            "; ".join(dict.fromkeys(" ".join(r.get("cpu_flags") or []) or "-" for r in runs)), ", ".join(r["commit"] for r in runs),
        ])
    return (
        "## CIFAR-10 at 2,000 optimizer steps\n\n"
        "Equal work for every row: 2,000 optimizer steps at batch 256 (about 10.2 epochs), the schedule over\n"
        "those steps, then the final step's backbone evaluated on the 10,000 test images: weighted kNN\n"
        "(k = 20 and 200, T = 0.07, bank: the 50,000 training images) and the L-BFGS linear probe. Values:\n"
        "the mean over seeds, with the lowest and highest seed in brackets (feature rank: the mean); rows sorted by mean kNN-20.\n"
        "Colour jitter: torchvision's formulas (the default), or, in rows marked \"ColorJiggle\", kornia's ColorJiggle (the\n"
        "default before SimCLR measured better with torchvision's; `--jitter-style jiggle`).\n"
        "Images/s depend on the machine and its load at the time (compare speeds with `speed.py`, in one\n"
        "process). \"plain loop\" is `benchmarks/plain_loop.py` (no infossl code), evaluated through\n"
        "`infossl eval --backbone.name convnet`.\n\n"
        "- command: `python benchmarks/cifar10_steps.py --method METHOD --seed SEED [--variant NAME]` (one row)\n"
        f"- machines: {result['machine']['cpu']}, {result['machine']['cores']} cores, torch {result['machine']['torch']}; "
        "the rows' CPU flags differ between sessions (column \"CPU flags\": the distinct sets of a row's seeds)\n\n"
        + table(
            ["method", "variant", "precision", "seeds", "steps", "images seen", "kNN-20", "kNN-200", "linear",
             "feature rank", "images/s", "CPU flags", "commits"],
            rows,
        )
        + render_targets(result["rows"])
        + render_multicrop(result["rows"])
        + render_variants(result["rows"])
        + render_batch_sizes(result["rows"])
    )


def render_targets(rows: list[dict[str, Any]]) -> str:
    """The targets of the recipes and information-objective issues, as :mod:`claims` computes them."""
    return (
        "\n\n### Targets\n\n"
        "The targets on the rows above (float32, torchvision's colour jitter, unless a target says otherwise);\n"
        "sides: mean (lowest-highest seed). \">= B + m\": the mean difference is at least m; \"beats by m\": it is\n"
        "at least m and exceeds both sides' seed ranges; \"within the range\": the mean is at least the other side's\n"
        "lowest seed. Pending until both sides have seeds 0 and 1; \"best of\" picks the highest mean among the\n"
        "candidates that have both (`benchmarks/claims.py`). An information objective's candidates are its shipped\n"
        "recipe and the variants promoted from its proxy screens (\"METHOD VARIANT\", `benchmarks/variants.py`).\n\n"
        + table(["target", "metric", "A", "B", "A - B", "verdict"], claims.evaluate(rows))
    )


# the multi-crop variants of cifar10_steps.py and their global crops
MULTICROP_VARIANTS = {"multicrop": "0.14-1", "local_crops": "the recipe's"}


def paired_cells(base: dict[int, dict[str, Any]], other: dict[int, dict[str, Any]], key: str) -> list[str]:
    """``base`` and ``other`` (seed -> row) on ``key``: the base over the seeds that ``other`` has, so
    that the difference is theirs, then ``other``, then ``other`` minus ``base`` per seed."""
    seeds = [s for s in sorted(set(base) & set(other)) if base[s].get(key) is not None and other[s].get(key) is not None]
    return [
        mean_and_range([base[s][key] for s in seeds]) if seeds else "-",
        mean_and_range(v) if (v := recorded(list(other.values()), key)) else "-",
        mean_and_range([other[s][key] - base[s][key] for s in seeds]) if seeds else "-",
    ]


def variant_seeds(rows: list[dict[str, Any]], names: Iterable[str]) -> dict[tuple[str, str], dict[int, dict[str, Any]]]:
    """The rows of the variants ``names`` at batch 256 (float32, torchvision's jitter), by (method, variant) and seed."""
    return {(method, variant): seeds for variant in names
            for (method, batch), seeds in claims.by_batch(rows, variant).items() if batch == 256}


def against_shipped(at: dict[tuple[str, int], dict[int, dict[str, Any]]], method: str, seeds: dict[int, dict[str, Any]]) -> list[str]:
    """A variant's seeds, then its paired cells against the method's shipped recipe on kNN-20 and linear."""
    shipped = at.get((method, 256), {})
    return [", ".join(str(s) for s in sorted(seeds)), *paired_cells(shipped, seeds, "knn20_top1"), *paired_cells(shipped, seeds, "linear_top1")]


def render_multicrop(rows: list[dict[str, Any]]) -> str:
    """Multi-crop against two views at equal steps: each method's ``multicrop`` rows beside its shipped
    recipe's rows of the same seeds (float32, torchvision's jitter, batch 256), the difference per seed, and
    the cost of a step relative to a two-view step (step_cost.json); empty without rows."""
    at = claims.by_batch(rows)
    multicrop = variant_seeds(rows, MULTICROP_VARIANTS)
    if not multicrop:
        return ""
    cost_path = RESULTS_DIR / "step_cost.json"
    costs = {r["method"]: r["seconds_per_step"] for r in json.loads(cost_path.read_text())["rows"]} if cost_path.exists() else {}

    def cost(method: str) -> str:
        two, many = costs.get(method), costs.get(f"{method}+multicrop")
        return f"{many / two:.2f}" if two and many else "-"

    table_rows = [
        [method, MULTICROP_VARIANTS[variant], *against_shipped(at, method, seeds), cost(method) if variant == "multicrop" else "-"]
        for (method, variant), seeds in sorted(multicrop.items())
    ]
    return (
        "\n\n### Multi-crop against two views\n\n"
        "The same 2,000 steps at batch 256 with 2 global crops (32 px, scale 0.14-1) and 4 local crops (16 px,\n"
        "scale 0.05-0.14) in place of two 32 px views (`--variant multicrop`), against the method's two-view rows\n"
        "above of the same seeds. Difference: multi-crop minus two views per seed, mean (lowest-highest seed). Cost: seconds per\n"
        "step with multi-crop over seconds per two-view step, interleaved in one process (`python benchmarks/step_cost.py`).\n"
        "`--variant local_crops` adds the same local crops with the global crops at the recipe's own scale.\n\n"
        "- command: `python benchmarks/cifar10_steps.py --method METHOD --seed SEED --variant multicrop`\n\n"
        + table(["method", "global crops", "seeds", "kNN-20 two views", "multi-crop", "difference", "linear two views", "multi-crop",
                 "difference", "cost per step (x two views)"], table_rows)
    )


def render_variants(rows: list[dict[str, Any]]) -> str:
    """The variants promoted from the proxy screens (``variants.PROMOTED``) against the shipped recipe's
    rows of the same seeds (float32, torchvision's jitter, batch 256); empty without rows."""
    at = claims.by_batch(rows)
    promoted = variant_seeds(rows, PROMOTED)
    if not promoted:
        return ""
    table_rows = [[method, variant, *against_shipped(at, method, seeds)] for (method, variant), seeds in sorted(promoted.items())]
    return (
        "\n\n### Recipe variants against the shipped recipes\n\n"
        "Variants chosen on the search proxy (held-out images, [screens](#recipe-screens-on-the-search-proxy)) and\n"
        "trained with the table's protocol, against the method's shipped-recipe rows above of the same seeds.\n"
        "Difference: the variant minus the shipped recipe per seed, mean (lowest-highest seed).\n\n"
        "- command: `python benchmarks/cifar10_steps.py --method METHOD --seed SEED --variant NAME`\n\n"
        + table(["method", "variant", "seeds", "kNN-20 shipped", "variant", "difference", "linear shipped", "variant", "difference"],
                table_rows)
    )


def render_batch_sizes(rows: list[dict[str, Any]]) -> str:
    """The batch-size table: each method's shipped recipe at batch 256, 128 and 64 for the same
    epochs, and the drop from 256 to 64 (per seed, then mean and range); empty without rows."""
    at = claims.by_batch(rows)
    methods = sorted({method for method, batch in at if batch != 256})
    if not methods:
        return ""
    batches = (256, 128, 64)

    def cell(method: str, batch: int, key: str) -> str:
        values = recorded(list(at.get((method, batch), {}).values()), key)
        return mean_and_range(values) if values else "-"

    drops = {key: claims.drops(rows, key) for key in ("knn20_top1", "linear_top1")}

    def drop(method: str, key: str) -> str:
        side = drops[key].get((method, *claims.DROP))
        return mean_and_range(side.values) if side else "-"

    table_rows = [
        [method, *(cell(method, b, "knn20_top1") for b in batches), drop(method, "knn20_top1"),
         *(cell(method, b, "linear_top1") for b in batches), drop(method, "linear_top1")]
        for method in methods
    ]
    return (
        "\n\n### Batch-size robustness\n\n"
        "The shipped recipe at batch 256, 128 and 64 for the same epochs (2,000 x 256 / B steps), the learning\n"
        "rate scaled linearly and an EMA teacher's momentum per step set to base^(B / 256) (an unchanged decay\n"
        "per epoch). Drop: the value at 256 minus the value at 64, per seed; mean (lowest-highest seed).\n\n"
        "- command: `python benchmarks/cifar10_steps.py --method METHOD --batch-size B --seed SEED`\n\n"
        + table(["method", "kNN-20 @256", "@128", "@64", "kNN-20 drop", "linear @256", "@128", "@64", "linear drop"], table_rows)
    )


def confirmation_line(method: str) -> str:
    """The study's 2,000-step confirmation (``search.py --confirm``): trial 1 against the winner
    on the same held-out 5,000 images, one entry per trial and seed; empty before it runs."""
    rows = [json.loads(p.read_text())["row"] for p in sorted((RESULTS_DIR / "search" / method).glob("confirm_trial*_seed*.json"))]
    if not rows:
        return ""
    entries = [f"trial {r['trial']} {r['held_out_knn20']:.2f} (seed {r['seed']}, {r['steps']:,} steps, {r['seconds_per_step']} s/step)" for r in rows]
    steps = max(r["steps"] for r in rows)
    return f"Confirmation at {steps:,} steps on the same held-out images (`search.py --confirm {steps}`): " + "; ".join(entries)


def long_screens_line(method: str, steps: int = 2000) -> str:
    """The method's screens trained ``steps`` steps (``screen.py --steps``: recipes the study did
    not draw, beside its confirmation on the same held-out images); empty when there are none."""
    rows = [json.loads(p.read_text())["row"] for p in sorted((RESULTS_DIR / "screen" / method).glob("*.json"))]
    rows = [r for r in rows if r["steps"] == steps]
    if not rows:
        return ""
    entries = [f"{r['tag']} {r['held_out_knn20']:.2f} (seed {r['seed']}, {r['seconds_per_step']} s/step)" for r in rows]
    return f"Outside the study at {steps:,} steps on the same held-out images (`screen.py --steps {steps}`, rows in the screens section): " + "; ".join(entries)


def render_search(result: dict[str, Any]) -> str:
    parts = [
        "## Recipe search (Optuna)\n\n"
        "Per method: TPE (4 random start-up trials) with median pruning on intermediate scores; trial 1 is the\n"
        "recipe shipped before the search. Each trial trains at most 400 steps on 45,000 training images; score: kNN-20 top-1 on\n"
        "the other 5,000 training images (never the test split). Importances: Optuna's fANOVA estimate over\n"
        "the completed trials (few trials make it rough).\n\n"
        "- command: `python benchmarks/search.py --method METHOD` (trial rows under `benchmarks/results/search/METHOD/`)\n"
        + machine_line(result)
    ]
    for r in sorted(result["rows"], key=lambda r: r["method"]):
        best = r.get("best") or []
        lines = [f"### {r['method']}: {r['trials']} trials ({r['complete']} completed, {r['pruned']} pruned, {r['failed']} failed)\n"]
        lines.append(table(["trial", "held-out kNN-20", "parameters"],
                           [[b["trial"], b["held_out_knn20"], ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in b["params"].items())] for b in best]))
        if r.get("importances"):
            lines.append("\nImportances (" + r["importances_from"] + "): " + ", ".join(f"{k} {v}" for k, v in r["importances"].items()))
        if confirmed := confirmation_line(r["method"]):
            lines.append("\n" + confirmed)
        if outside := long_screens_line(r["method"]):
            lines.append("\n" + outside)
        if r.get("failures"):
            lines.append("\nFailed (diverged or invalid; each counts against the budget): " + "; ".join(
                f"trial {f['trial']} ({f['optimizer']}, lr {f['lr']}): {f['error'].split(':')[0]}"
                + (f" at {f['error'].split(' at ')[1].split(' (')[0]}" if " at step" in f["error"] else "") for f in r["failures"]))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def screen_base(row: dict[str, Any]) -> str:
    """What a screen changed: a search trial's settings or the shipped recipe at its commit."""
    if row.get("from_trial") is not None:
        return f"(search trial {row['from_trial']})"
    return f"(cifar10_cpu/{row['method']}.yaml as of {row['commit'][:7]})"


def render_screen(result: dict[str, Any]) -> str:
    rows = sorted(result["rows"], key=lambda r: (r["method"], -r["held_out_knn20"]))

    def trajectory(row: dict[str, Any], key: str) -> str:
        values = [(int(step), metrics[key]) for step, metrics in row["metrics"].items() if key in metrics]
        return ", ".join(f"{step}: {value:.2f}" for step, value in sorted(values)) or "-"

    return (
        "## Recipe screens on the search proxy\n\n"
        + (
            "Recipe changes, from the shipped recipe or from a search trial, on the search's proxy task (train on\n"
            "45,000 training images, kNN-20 on 5,000 other training images, never the test split), one\n"
            "seed. Intermediate scores use the first 10,000 training images as the bank. For DINO-style\n"
            "methods the teacher's entropy is shown at each report (log 4096 = 8.32 is a uniform teacher).\n"
            "A row with 0 steps scores the untrained model (seed 0's random initialization): the proxy's floor.\n\n"
        )
        + "- command: `python benchmarks/screen.py --method METHOD --tag TAG [--set KEY=VALUE ...]` (rows under `benchmarks/results/screen/METHOD/`)\n"
        + machine_line(result) + "\n\n"
        + table(["method", "tag", "overrides", "steps", "held-out kNN-20 during training", "final held-out kNN-20", "teacher entropy", "s/step"],
        [[r["method"], r["tag"], screen_base(r) + (" " + " ".join(r["overrides"]) if r["overrides"] else ""), r["steps"],
          ", ".join(f"{step}: {score}" for step, score in r["intermediate"].items()), r["held_out_knn20"],
          trajectory(r, "train/teacher_entropy"), r["seconds_per_step"]] for r in rows])
    )


def render_trial_diagnostics(result: dict[str, Any], columns: int = 8) -> str:
    """Per method: its finished proxy runs by held-out kNN-20 with the diagnostics that rank-correlate
    most strongly with it (Spearman's rho in the header)."""
    parts = [
        "## Diagnostics of the proxy runs\n\n"
        "Every finished search trial and screen of a method, diagnosed on 2,048 of the proxy's held-out\n"
        "images (two augmented views, SimCLR preset, fixed seed). Shown: the diagnostics with the largest\n"
        "Spearman rank correlation (rho) with the held-out kNN-20 across the runs; few runs make rho rough.\n\n"
        "- command: `python benchmarks/diagnose_trials.py --method METHOD`\n"
        + machine_line(result)
    ]
    for r in sorted(result["rows"], key=lambda r: r["method"]):
        rho = {k: v for k, v in r["spearman_with_held_out_knn20"].items() if v is not None}
        keys = sorted(rho, key=lambda k: -abs(rho[k]))[:columns]
        runs = sorted(r["runs"], key=lambda run: -run["held_out_knn20"])
        parts.append(
            f"### {r['method']}: {len(runs)} runs\n\n"
            + table(["run", "held-out kNN-20", *(f"{k} (rho {rho[k]:+.2f})" for k in keys)],
                    [[run["source"], run["held_out_knn20"], *(significant(run["diagnostics"].get(k)) for k in keys)] for run in runs])
        )
    return "\n\n".join(parts)


def render_data_path(result: dict[str, Any]) -> str:
    rows = result["rows"]
    first = rows[0]
    return section(
        "Data path: images/s per loader worker at 224 px",
        (
            f"{first['generated_images']} generated JPEGs of ImageNet-like sizes (mean {first['generated_mean_jpeg_bytes']:,} bytes), read\n"
            "through infossl's data module with one worker's work in one process (one thread); median of\n"
            "interleaved rounds. `in_memory` decodes once at start-up, `lazy_folder` (`data.in_memory false`)\n"
            "decodes and resizes every access, `litdata` (`infossl prepare`, `data.source litdata`) decodes\n"
            "the stored 256 px image and cuts both views' crops in the worker. Workers to feed one GPU:\n"
            f"{first['gpu_images_per_s']:,} images/s ({first['gpu_source']}) over {first['views']} views = "
            f"{first['source_images_per_s_needed']:,.0f} source images/s.\n"
            "One-time cost: the start-up decode (`in_memory`) or `infossl prepare` with one worker process,\n"
            "its start-up included (`litdata`). Device augmentation runs on the GPU in training; its\n"
            "rate on this CPU (one thread) is shown for reference."
        ),
        result,
        ["path", "images/s per worker (rounds)", "workers for one GPU", "one-time s/image", "stored bytes/image", "ImageNet-1k storage (GB)", "device augmentation on this CPU (images/s)"],
        [[r["path"], f"{r['images_per_s_per_worker']} ({', '.join(map(str, r['rounds']))})", r["workers_to_feed_one_gpu"],
          r["one_time_s_per_image"], f"{r['stored_bytes_per_image']:,}", r["imagenet_storage_gb"], r["device_augment_images_per_s_on_this_cpu"]] for r in rows],
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "cifar10_steps": render_steps,
    "search": render_search,
    "cifar10_budget": render_budget,
    "cifar10_budget_tuning": render_tuning,
    "cifar10_budget_study": render_study,
    "cifar10_epochs": render_epochs,
    "speed_losses": render_speed_losses,
    "speed_step": render_speed_step,
    "speed_objectives": render_speed_objectives,
    "knn": render_knn,
    "losses": render_losses,
    "cpu_recipe": render_cpu_recipe,
    "pretrain_runs": render_pretrain_runs,
    "data_path": render_data_path,
    "screen": render_screen,
    "trial_diagnostics": render_trial_diagnostics,
}
ORDER = ["cifar10_steps", "search", "screen", "trial_diagnostics", "cifar10_budget", "cifar10_budget_tuning", "cifar10_budget_study", "cifar10_epochs", "speed_losses", "speed_step", "speed_objectives", "losses", "cpu_recipe", "data_path", "knn", "pretrain_runs"]  # sections in this order first, then the others by name


def main() -> None:
    results = [json.loads(p.read_text()) for p in sorted(RESULTS_DIR.glob("*.json"))]
    results += [r for folder in sorted(RESULTS_DIR.iterdir()) if folder.is_dir() and (r := folder_result(folder))]
    results.sort(key=lambda r: (ORDER.index(r["benchmark"]) if r["benchmark"] in ORDER else len(ORDER), r["benchmark"]))
    sections = [RENDERERS.get(r["benchmark"], render_generic)(r) for r in results]
    header = (
        "# infossl benchmarks\n\n"
        "Generated by `python benchmarks/report.py` from the JSON files in `benchmarks/results/`;\n"
        "do not edit by hand. Each section names the command that produced it.\n"
    )
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(header + "\n" + "\n\n".join(sections) + "\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(sections)} section(s))")


if __name__ == "__main__":
    main()
