"""A short check of the GPU path: the ImageNet IMSVD recipe on one CUDA device.

    python benchmarks/gpu_check.py              # on a machine with CUDA: writes benchmarks/results/gpu_check.json
    python benchmarks/gpu_check.py --dry-run    # anywhere: the same code on the CPU with tiny shapes (writes nothing)

1. The projector's batch norm (``GlobalBatchNorm1d``, one process) on CUDA against the CPU on the
   same inputs and weights: outputs, input gradients and weight gradients, in float32 and under
   bf16 autocast (bf16 on both devices).
2. ``imagenet/imsvd.yaml`` (ResNet-50, projector 8192-8160, K = 80, asymmetric views at 224 px,
   LARS) on generated 256-px images, 50 steps at batch 256 on one device with ``bf16-mixed``,
   eagerly and with ``torch.compile``: images/s over the last 40 steps (the first ones include
   compilation), peak GPU memory, and that every logged loss is finite.

The dry run swaps in a 4-block convnet, a 64-64 projector with K = 8, 16 images of 32 px, 4
steps and CPU bf16 autocast, without ``torch.compile``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from common import machine_info, write_results

ROOT = Path(__file__).resolve().parent.parent


def batch_norm_check(device: str, dry_run: bool) -> list[dict[str, Any]]:
    """GlobalBatchNorm1d on ``device`` against the CPU (outputs and gradients)."""
    from infossl.models.heads import GlobalBatchNorm1d

    n, c = (16, 8) if dry_run else (256, 8192)
    rows = []
    for precision in ("32-true", "bf16-mixed"):
        results = {}
        for where in ("cpu", device):
            torch.manual_seed(0)
            norm = GlobalBatchNorm1d(c).to(where).train()
            with torch.no_grad():
                norm.weight.uniform_(0.5, 1.5)
                norm.bias.uniform_(-0.5, 0.5)
            x = (3 * torch.randn(n, c) + 1).to(where).requires_grad_()
            upstream = torch.randn(n, c).to(where)
            with torch.autocast(where, dtype=torch.bfloat16, enabled=precision == "bf16-mixed"):
                out = norm(x)
            (out.float() * upstream).sum().backward()
            results[where] = [t.detach().float().cpu() for t in (out, x.grad, norm.weight.grad, norm.bias.grad, norm.running_mean, norm.running_var)]
        differences = {
            name: float((a - b).abs().max())
            for name, a, b in zip(("output", "input_grad", "weight_grad", "bias_grad", "running_mean", "running_var"), results["cpu"], results[device])
        }
        tolerance = 1e-3 if precision == "32-true" else 5e-2
        rows.append({"check": "projector batch norm", "device": device, "precision": precision, "shape": [n, c],
                     "max_abs_difference": differences, "tolerance": tolerance,
                     "agree": all(d <= tolerance * max(1.0, float(ref.abs().max())) for d, ref in zip(differences.values(), results["cpu"]))})
        print(rows[-1], flush=True)
    return rows


def training_check(device: str, dry_run: bool, compile: bool, run_dir: Path) -> dict[str, Any]:
    """The ImageNet IMSVD recipe for a few steps on generated images; images/s, memory, finiteness."""
    from infossl.cli.pretrain import pretrain

    steps, batch, size = (4, 16, 32) if dry_run else (50, 256, 256)
    args = [
        "--config", "imagenet/imsvd.yaml", "--run_dir", str(run_dir), "--trainer.accelerator", "gpu" if device == "cuda" else "cpu",
        "--trainer.devices", "1", "--trainer.strategy", "auto", "--trainer.sync_batchnorm", "false",
        "--trainer.precision", "bf16-mixed", "--trainer.max_steps", str(steps), "--trainer.log_every_n_steps", "1",
        "--trainer.enable_progress_bar", "false", "--trainer.limit_val_batches", "0",
        "--data.source", "synthetic", "--data.synthetic.train_size", str(batch * (steps + 1)), "--data.synthetic.image_size", str(size),
        "--data.val_path", "null", "--data.path", "null", "--data.batch_size", str(batch), "--data.num_workers", "0",
        "--knn.every_n_epochs", "0", "--diagnostics.every_n_epochs", "0", "--online_probe.enabled", "false",
        "--checkpoint.every_n_train_steps", str(steps), "--model.compile", str(compile).lower(),
    ]
    if dry_run:
        args += ["--model.backbone.name", "convnet", "--model.backbone.widths", "[8, 16, 16, 32]",
                 "--model.method.projector", "[64, 64]", "--model.method.num_states", "8", "--data.augment.image_size", "32"]
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    cli = pretrain(args)
    wall_s = time.perf_counter() - started
    metrics = list(csv.DictReader((run_dir / "metrics.csv").open()))
    losses = [float(r["train/loss"]) for r in metrics if r.get("train/loss")]
    rates = [float(r["train/images_per_s"]) for r in metrics if r.get("train/images_per_s")]
    timed = rates[-min(40, len(rates) - 1):] if len(rates) > 1 else rates
    return {
        "check": "imagenet/imsvd.yaml training", "device": device, "compile": compile, "precision": "bf16-mixed",
        "steps": cli.trainer.global_step, "batch": batch, "image_size": size, "augment_size": 32 if dry_run else 224,
        "images_per_s": round(statistics.median(timed), 1) if timed else None,
        "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device == "cuda" else None,
        "losses_finite": bool(losses) and all(math.isfinite(v) for v in losses),
        "first_and_last_loss": [round(losses[0], 4), round(losses[-1], 4)] if losses else None,
        "wall_s": round(wall_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="tiny shapes on the CPU (checks the script; writes nothing)")
    parser.add_argument("--out", type=Path, help="also write the rows to this JSON file (e.g. under the device's $OUT)")
    args = parser.parse_args()
    if not args.dry_run and not torch.cuda.is_available():
        parser.error("no CUDA device: run it on a GPU machine, or --dry-run to check the script on the CPU")
    device = "cpu" if args.dry_run else "cuda"
    rows = batch_norm_check(device, args.dry_run)
    with tempfile.TemporaryDirectory() as tmp:
        for compile in (False,) if args.dry_run else (False, True):
            rows.append(training_check(device, args.dry_run, compile, Path(tmp) / f"compile_{compile}"))
            print(rows[-1], flush=True)
    info = {**machine_info(), "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    if args.out:
        args.out.write_text(json.dumps({"machine": info, "rows": rows}, indent=1) + "\n")
    if not args.dry_run:
        print("wrote", write_results("gpu_check", rows))
    failed = [r for r in rows if r.get("agree") is False or r.get("losses_finite") is False]
    if failed:
        raise SystemExit(f"{len(failed)} check(s) failed: {failed}")


if __name__ == "__main__":
    main()
