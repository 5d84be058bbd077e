"""Throughput of the CPU recipe on CIFAR-10: augmentation share and the step
time under float32, channels-last, bf16 autocast and torch.compile.

    python benchmarks/cpu_recipe.py [--config cifar10_cpu/imsvd.yaml] [--data ../shared/data/cifar10.npz]

One timed step = batched augmentation of two views + forward + backward +
optimizer step, on real CIFAR-10 batches, as in `infossl pretrain`.
"""

from __future__ import annotations

import argparse
import time

import torch

from common import median_seconds, write_results
from infossl.cli.pretrain import build_cli
from infossl.data import load_npz


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="cifar10_cpu/imsvd.yaml")
    parser.add_argument("--data", default="../shared/data/cifar10.npz")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    train, _ = load_npz(args.data)
    rows = []
    variants = {
        "float32": {"channels_last": False, "compile": False, "bf16": False},
        "float32 + channels_last": {"channels_last": True, "compile": False, "bf16": False},
        "bf16 autocast + channels_last": {"channels_last": True, "compile": False, "bf16": True},
        "float32 + channels_last + torch.compile": {"channels_last": True, "compile": True, "bf16": False},
    }
    for name, v in variants.items():
        cli = build_cli([
            "--config", args.config, "--data.source", "synthetic", "--trainer.logger", "false",
            "--model.channels_last", str(v["channels_last"]).lower(), "--model.compile", str(v["compile"]).lower(),
        ])
        model, dm = cli.model, cli.datamodule
        dm.setup("fit")
        augment = dm.augment
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        batch_size = dm.batch_size
        generator = torch.Generator().manual_seed(0)

        def batch() -> torch.Tensor:
            return train.images[torch.randint(0, len(train), (batch_size,), generator=generator)]

        def augment_only() -> None:
            augment(batch())

        def step() -> None:
            views = augment(batch())
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=v["bf16"]):
                out, _ = model.method.training_loss(model.encode, views)
            optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            optimizer.step()

        model.train()
        t0 = time.perf_counter()
        step()  # warm-up (and compilation)
        first = time.perf_counter() - t0
        step_s, calls = median_seconds(step, warmup=1, repeats=args.repeats, budget_s=120)
        augment_s, _ = median_seconds(augment_only, warmup=1, repeats=args.repeats)
        row = {
            "variant": name,
            "batch": batch_size,
            "step_s": round(step_s, 3),
            "images_per_s": round(batch_size / step_s, 1),
            "augment_s": round(augment_s, 3),
            "augment_share": round(augment_s / step_s, 3),
            "first_step_s": round(first, 1),
            "calls": calls,
        }
        print(row, flush=True)
        rows.append(row)
    print("wrote", write_results("cpu_recipe", rows))


if __name__ == "__main__":
    main()
