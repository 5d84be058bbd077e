"""CIFAR-10 rows at equal work: every run trains the same number of optimizer steps.

    python benchmarks/cifar10_steps.py --method simclr --seed 0           # the shipped recipe, 2,000 steps
    python benchmarks/cifar10_steps.py --method plain --seed 0            # the plain-PyTorch reference loop
    python benchmarks/cifar10_steps.py --method simclr --variant plain_recipe --seed 0
    python benchmarks/cifar10_steps.py --method random --seed 0           # random initialization
    python benchmarks/cifar10_steps.py --method supervised --seed 0       # the same backbone trained with labels
    python benchmarks/cifar10_steps.py --method simclr --precision bf16-mixed --seed 0
    python benchmarks/cifar10_steps.py --method simclr --jitter-style jiggle --seed 0   # kornia's ColorJiggle
    python benchmarks/cifar10_steps.py --method entrec --batch-size 64 --seed 0   # batch-size robustness

Protocol: 2,000 optimizer steps at batch 256 (about 10.2 epochs of the 50,000 training
images), float32 unless ``--precision`` says otherwise, the learning-rate schedule over those
steps (the recipes' warm-up is a fraction of the steps). The evaluated checkpoint must hold the
final step. Metrics on the CIFAR-10 test split: kNN top-1 at k = 20 and 200 (bank: the 50,000
training images, temperature 0.07) and the L-BFGS linear probe (weight decay chosen on
held-out training images). A row records steps, images seen, seed, commit, CPU and its flags,
and the settings; training seconds are recorded but compare only within one process (see
``benchmarks/step_cost.py`` for cost per step).

``--batch-size B`` (other than 256) keeps the epochs of the protocol and the per-epoch
dynamics: 2,000 x 256 / B steps, the learning rate scaled linearly (B / 256, through the
recipe's ``scale_lr_by_batch``), and for the EMA-teacher methods the base momentum per step
set to base^(B / 256), so that the teacher's decay per epoch is unchanged.

``--method plain`` runs ``benchmarks/plain_loop.py`` (no infossl code) in its own process and
evaluates its plain state dict with the same code as ``infossl eval --backbone.name convnet``.
``--jitter-style jiggle`` trains with kornia's ColorJiggle, the colour jitter of the rows measured
before torchvision's formulas became the default (their files end in ``_jiggle``).

Rows: ``benchmarks/results/cifar10_steps/<method>[_<variant>][_batch<B>]_seed<seed>[_bf16][_jiggle].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from cifar10_budget import (
    load_average,
    machine_speed,
    pretrain_and_evaluate,
    random_reference,
    supervised_reference,
    write_row,
)
from common import RESULTS_DIR, cpu_flags
from variants import PROMOTED, VARIANTS, variant_args

REFERENCE_BATCH = 256

ROOT = Path(__file__).resolve().parent.parent
FOLDER = "cifar10_steps"
METHODS = ("imsvd", "emi", "entrec", "entrec_byol", "entrec_dino", "simclr", "byol", "barlow", "vicreg", "dino")

def batch_size_args(method: str, batch_size: int) -> list[str]:
    """``infossl pretrain`` arguments that move ``method``'s shipped recipe from batch 256 to
    ``batch_size`` at an unchanged schedule per epoch: the learning rate scaled linearly (the
    recipe's own lr is its lr at 256) and an EMA teacher's base momentum per step raised to
    the power batch_size / 256."""
    from cifar10_budget import recipe

    config = recipe(method)
    args = ["--model.optim.scale_lr_by_batch", "true"]  # the batch itself is pretrain_and_evaluate's argument
    if not config["model"]["optim"]["scale_lr_by_batch"]:  # its lr is the one at batch 256
        args += ["--model.optim.lr", repr(config["model"]["optim"]["lr"])]
    base_momentum = config["model"]["method"]["init_args"].get("base_momentum")
    if base_momentum is not None:
        args += ["--model.method.base_momentum", repr(base_momentum ** (batch_size / REFERENCE_BATCH))]
    return args


def evaluate_plain(weights: Path, data: Path) -> dict[str, Any]:
    from infossl.data.augment import CIFAR10_MEAN, CIFAR10_STD
    from infossl.eval.evaluate import evaluate_weights
    from infossl.eval.features import load_eval_splits
    from infossl.models.backbones import BackboneSpec

    spec = BackboneSpec(name="convnet", widths=(32, 64, 128, 256))
    return evaluate_weights(weights, spec, load_eval_splits(data), mean=CIFAR10_MEAN, std=CIFAR10_STD, use_cache=False)


def plain_row(data: Path, run_dir: Path, steps: int, seed: int) -> dict[str, Any]:
    command = [sys.executable, str(ROOT / "benchmarks" / "plain_loop.py"), "--data", str(data), "--out", str(run_dir),
               "--steps", str(steps), "--seed", str(seed)]
    speed_before, load_before = machine_speed(), load_average()
    subprocess.run(command, check=True)
    load_after, speed_after = load_average(), machine_speed()
    summary = json.loads((run_dir / "summary.json").read_text())
    results = evaluate_plain(run_dir / "backbone.pt", data)
    return {
        "method": "plain loop (reference)",
        "seed": seed,
        "batch_size": summary["batch_size"],
        "steps": summary["steps"],
        "evaluated_step": summary["steps"],  # the loop saves its weights once, after its last step
        "images_seen": summary["images_seen"],
        "epochs": round(summary["images_seen"] / summary["train_images"], 2),
        "precision": "32-true",
        "settings": summary["settings"],
        "train_s": summary["train_s"],
        "images_per_s": summary["images_per_s"],
        "final_loss": summary["final_loss"],
        "knn20_top1": round(100 * results["knn"]["knn20_top1"], 2),
        "knn200_top1": round(100 * results["knn"]["knn200_top1"], 2),
        "linear_top1": round(100 * results["linear"]["lbfgs"]["top1"], 2),
        "feature_rank": round(results["diagnostics"]["feature_rank"], 1),
        "load_before": load_before,
        "load_after": load_after,
        "machine_speed": [speed_before, speed_after],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", required=True, choices=[*METHODS, "plain", "random", "supervised"])
    parser.add_argument("--variant", choices=sorted({*VARIANTS, *PROMOTED}),
                        help="a named change to the method's shipped recipe (promoted ones apply to one method)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=2000, help="optimizer steps at batch 256")
    parser.add_argument("--batch-size", type=int, default=REFERENCE_BATCH,
                        help="train at this batch for the same epochs (steps x 256 / batch), lr and EMA momentum adjusted")
    parser.add_argument("--precision", default="32-true", choices=["32-true", "bf16-mixed"])
    parser.add_argument("--jitter-style", default="torchvision", choices=["torchvision", "jiggle"],
                        help="colour-jitter formulas (data.augment.jitter_style)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cifar10.npz")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "steps", help="run folders (checkpoints, logs)")
    parser.add_argument("--force", action="store_true", help="run even when the row exists")
    args = parser.parse_args()
    if not args.data.is_file():
        parser.error(f"--data: {args.data} not found (the CIFAR-10 npz, see ../shared/data/README.md)")
    if (args.variant or args.batch_size != REFERENCE_BATCH) and args.method in ("plain", "random", "supervised"):
        parser.error("--variant and --batch-size apply to the infossl methods")
    if args.jitter_style != "torchvision" and args.method in ("plain", "random"):
        parser.error("--jitter-style applies to the infossl methods and the supervised reference")
    try:  # a promoted variant belongs to one method: refuse another's before any work
        recipe_change = variant_args(args.method, args.variant)
    except ValueError as error:
        parser.error(str(error))
    if args.batch_size < 2 or (args.steps * REFERENCE_BATCH) % args.batch_size:
        parser.error(f"--batch-size {args.batch_size}: must be >= 2 and divide {args.steps} x {REFERENCE_BATCH} (equal epochs)")
    torch.set_num_threads(min(torch.get_num_threads(), os.cpu_count() or 1))
    tag = args.method + (f"_{args.variant}" if args.variant else "")
    tag += f"_batch{args.batch_size}" if args.batch_size != REFERENCE_BATCH else ""
    tag += f"_seed{args.seed}"
    tag += "_bf16" if args.precision == "bf16-mixed" else ""
    tag += "_jiggle" if args.jitter_style == "jiggle" else ""
    tag += f"_{args.steps}steps" if args.steps != 2000 else ""
    if (RESULTS_DIR / FOLDER / f"{tag}.json").is_file() and not args.force:
        print(f"{FOLDER}/{tag}.json exists (--force to redo it)")
        return
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if args.method == "plain":
        row = plain_row(args.data, args.runs / tag, args.steps, args.seed)
    elif args.method == "random":
        row = {**random_reference(args.data, args.seed), "steps": 0}
    elif args.method == "supervised":  # the same backbone and views trained with labels: a ceiling
        row = supervised_reference(args.data, args.runs / tag, None, 256, args.seed, steps=args.steps, jitter_style=args.jitter_style)
    else:
        extra = recipe_change + ["--data.augment.jitter_style", args.jitter_style]
        if args.batch_size != REFERENCE_BATCH:
            extra = extra + batch_size_args(args.method, args.batch_size)
        steps = args.steps * REFERENCE_BATCH // args.batch_size
        row = pretrain_and_evaluate(
            args.method, args.data, args.runs / tag, None, args.batch_size, args.seed, None, {}, extra_args=extra, steps=steps,
            precision=args.precision,
        )
        row["variant"] = args.variant or "shipped recipe"
        row["arguments"] = extra
    row["started"] = started
    row["cpu_flags"] = cpu_flags()
    write_row(FOLDER, tag, row)


if __name__ == "__main__":
    main()
