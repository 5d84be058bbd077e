"""Render docs/benchmarks.md from every JSON file under benchmarks/results/.

    python benchmarks/report.py

One section per benchmark, each stating its command, commit, machine and date.
A benchmark gets a dedicated renderer in ``RENDERERS``; any other result file
is rendered as a plain table of its rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
OUTPUT = ROOT / "docs" / "benchmarks.md"


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def provenance(result: dict[str, Any]) -> str:
    m = result["machine"]
    return (
        f"- command: `{result['command']}`\n"
        f"- commit: `{result['commit']}`, date: {result['date']}\n"
        f"- machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']} "
        f"({m['torch_threads']} threads, {m['cpu_capability']}), Python {m['python']}"
    )


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
    return (
        "## CPU recipe throughput (CIFAR-10)\n\n"
        "One step = batched augmentation of two views + forward + backward + SGD step on real\n"
        "CIFAR-10 batches (`cifar10_cpu/imsvd.yaml`: 4-block convnet, projector 1024-1024-1024,\n"
        "IMSVD K = 32). Augmentation share = augmentation time / step time.\n\n"
        + provenance(result)
        + "\n\n"
        + table(
            ["variant", "batch", "step (s)", "images/s", "augmentation (s)", "augmentation share", "first step (s)"],
            [[r["variant"], r["batch"], r["step_s"], r["images_per_s"], r["augment_s"], r["augment_share"], r["first_step_s"]] for r in rows],
        )
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
    return (
        "## kNN evaluation speed\n\n"
        "`infossl.eval.knn.knn_evaluate` (weighted votes, k = 20 and 200, top-1 and top-5) over random\n"
        "features, processed in chunks of queries, against the lower bound of a single matrix product\n"
        "of the normalized queries with the normalized bank (which would need the full similarity\n"
        "matrix in memory at once).\n\n"
        + provenance(result)
        + "\n\n"
        + table(
            ["bank x queries x dim", "chunk", "kNN (s)", "one matmul (s)", "ratio", "similarity block (MB)", "full matrix (MB)"],
            [
                [f"{r['bank']} x {r['queries']} x {r['dim']}", r["chunk"], r["knn_s"], r["matmul_bound_s"], r["ratio"], r["similarity_block_mb"], r["full_matrix_mb"]]
                for r in rows
            ],
        )
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "knn": render_knn,
    "losses": render_losses,
    "cpu_recipe": render_cpu_recipe,
    "pretrain_runs": render_pretrain_runs,
}
ORDER = ["losses", "cpu_recipe", "knn", "pretrain_runs"]  # sections in this order first, then the others by name


def main() -> None:
    results = [json.loads(p.read_text()) for p in sorted(RESULTS_DIR.glob("*.json"))]
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
