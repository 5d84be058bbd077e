"""Cost of one optimizer step of every method's CPU recipe, relative to SimCLR, in one process.

    python benchmarks/step_cost.py            # writes benchmarks/results/step_cost.json
    python benchmarks/step_cost.py --quick    # 2 repetitions (writes nothing)
    python benchmarks/step_cost.py --bf16     # each recipe in float32 and under CPU bf16 autocast
                                              # (writes benchmarks/results/step_cost_bf16.json)

Accuracy rows are compared at equal steps; this gives what a step costs, so that a reader can
convert a row to any time budget on any machine. Each method's recipe (``cifar10_cpu/<method>.yaml``,
float32) is built once, and so are the variants in VARIANTS (multi-crop: 2 global + 4 local crops;
kornia's ColorJiggle colour jitter);
one step = the batched augmentation of 256 CIFAR-10 training images into
the recipe's views, the method's forward and loss, the backward pass, the optimizer step and the
method's end-of-step update (BYOL's EMA teacher). Steps of all methods alternate (the order reversed
every repetition) so that all see the same machine state; the row reports each method's median
seconds per step, its ratio to SimCLR's median, and the quartiles of the per-repetition ratios.
With ``--bf16`` each recipe is timed twice, in float32 and with its forward pass and loss under CPU
bf16 autocast (what ``--trainer.precision bf16-mixed`` does), and the ratios are to the same
recipe's float32 step: the speed-up of native bf16 where the CPU has it (``avx512_bf16``,
``amx_bf16``) or the cost of emulating it where it has not.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from common import machine_info, write_results
from speed import interleaved_times

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("simclr", "imsvd", "emi", "entrec", "entrec_byol", "byol", "barlow", "vicreg", "dino", "entrec_dino")
#: recipe variants timed beside their two-view recipe (the arguments of cifar10_steps.py's variants,
#: and "jiggle": kornia's ColorJiggle colour jitter, cifar10_steps.py --jitter-style jiggle)
VARIANTS = {"multicrop": ("simclr", "imsvd", "dino"), "jiggle": ("simclr",)}
JITTER_ARGS = {"jiggle": ["--data.augment.jitter_style", "jiggle"]}


def step_of(method: str, images: torch.Tensor, extra_args: list[str] | None = None, bf16: bool = False) -> Callable[[], None]:
    from infossl.cli.pretrain import build_cli
    from infossl.data.augment import MultiViewAugment
    from infossl.training.optim import build_optimizer

    cli = build_cli(["--config", f"cifar10_cpu/{method}.yaml", "--trainer.precision", "32-true",
                     "--run_dir", str(ROOT / "runs" / "step_cost"), *(extra_args or [])])
    module = cli.model.train()
    augment = MultiViewAugment(cli.datamodule.augment_config, images.shape[-1], seed=0)
    optimizer = build_optimizer(module.optim_config, [module.backbone, module.method], module.optim_config.lr)

    def step() -> None:
        views = augment(images)
        module.method.on_step_start(0.5)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out, _ = module.method.training_loss(module.encode, views)
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        module.method.on_after_backward()
        optimizer.step()
        module.method.on_step_end(module.backbone, 0.5)

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cifar10.npz")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--bf16", action="store_true", help="time every recipe in float32 and under bf16 autocast")
    args = parser.parse_args()
    torch.manual_seed(0)
    if args.data.is_file():
        with np.load(args.data) as archive:
            images = torch.from_numpy(archive["x_train"][:256]).permute(0, 3, 1, 2).contiguous()
    else:
        parser.error(f"--data: {args.data} not found (the CIFAR-10 npz)")
    from variants import VARIANTS as VARIANT_ARGS

    if args.bf16:
        steps = {f"{method}{suffix}": step_of(method, images, bf16=bf16)
                 for method in METHODS for suffix, bf16 in (("", False), ("+bf16", True))}
    else:
        steps = {method: step_of(method, images) for method in METHODS}
        for variant, methods in VARIANTS.items():
            arguments = JITTER_ARGS.get(variant) or VARIANT_ARGS[variant]
            steps.update({f"{method}+{variant}": step_of(method, images, arguments) for method in methods})
    times = interleaved_times(steps, repeats=2 if args.quick else args.repeats, warmup=1 if args.quick else 2)
    rows: list[dict[str, Any]] = []
    for method, seconds in times.items():
        # the reference: SimCLR's float32 step, or with --bf16 the same recipe's float32 step
        reference_name = method.removesuffix("+bf16") if args.bf16 else "simclr"
        reference = times[reference_name]
        ratios = sorted(s / r for s, r in zip(seconds, reference))
        quartiles = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [ratios[0]] * 3
        rows.append({
            "method": method,
            "seconds_per_step": round(statistics.median(seconds), 4),
            f"relative_to_{'float32' if args.bf16 else 'simclr'}": round(statistics.median(seconds) / statistics.median(reference), 3),
            "paired_ratio_quartiles": [round(quartiles[0], 3), round(quartiles[2], 3)],
            "repetitions": len(seconds),
        })
        print(rows[-1])
    if not args.quick:
        print(f"wrote {write_results('step_cost_bf16' if args.bf16 else 'step_cost', rows)}")
    print(machine_info())


if __name__ == "__main__":
    main()
