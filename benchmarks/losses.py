"""Forward+backward time of every objective at the paper shapes that fit this machine.

    python benchmarks/losses.py            # full grid, writes benchmarks/results/losses.json
    python benchmarks/losses.py --quick    # a smaller grid for a smoke run (writes nothing)

Inputs are float32 embeddings that require gradients; one timed call is
``loss(z1, z2).loss.backward()``. Reported: median over repeated calls.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

from common import median_seconds, write_results
from infossl.losses import (
    BarlowTwinsLoss,
    BYOLLoss,
    EMILoss,
    EntRecLoss,
    IMSVDLoss,
    InfoNCELoss,
    VICRegLoss,
)

BASELINE_DIMS = (128, 1024, 2048)
BATCHES = (256, 512)


def grid(quick: bool) -> list[tuple[str, Any, int, int, dict]]:
    """(objective, factory, N, D, extra fields) for each measurement."""
    cases: list[tuple[str, Any, int, int, dict]] = []
    # IMSVD: the ImageNet projector shape (D = 8160, K = 80) and the CIFAR one (D = 1024, K = 32)
    imsvd_shapes = [(256, 1024, 32), (512, 1024, 32), (256, 8160, 80), (512, 8160, 80)]
    for n, d, k in imsvd_shapes[:2] if quick else imsvd_shapes:
        cases.append(("imsvd", lambda k=k: IMSVDLoss(num_states=k), n, d, {"num_states": k}))
    others = {
        "emi": EMILoss,
        "entrec": EntRecLoss,
        "infonce": InfoNCELoss,
        "byol": BYOLLoss,
        "barlow": BarlowTwinsLoss,
        "vicreg": VICRegLoss,
    }
    dims = BASELINE_DIMS[:1] if quick else BASELINE_DIMS
    for name, factory in others.items():
        for n in BATCHES:
            for d in dims:
                cases.append((name, factory, n, d, {}))
    if not quick:  # the EntRec paper's large batch: the kernel density is O(N^2 D)
        cases += [("entrec", EntRecLoss, 2048, 128, {}), ("entrec", EntRecLoss, 4096, 128, {})]
        cases += [("infonce", InfoNCELoss, 2048, 128, {}), ("infonce", InfoNCELoss, 4096, 128, {})]
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small grid for a smoke run")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    torch.manual_seed(0)
    rows = []
    for name, factory, n, d, extra in grid(args.quick):
        loss_fn = factory()
        z1 = torch.randn(n, d, requires_grad=True)
        z2 = torch.randn(n, d, requires_grad=True)

        def step() -> None:
            z1.grad = z2.grad = None
            loss_fn(z1, z2).loss.backward()

        seconds, calls = median_seconds(step, repeats=args.repeats)
        row = {"objective": name, "n": n, "d": d, **extra, "median_ms": round(seconds * 1000, 2), "calls": calls}
        print(row, flush=True)
        rows.append(row)
    if args.quick:
        print("quick grid: results not written")
    else:
        print("wrote", write_results("losses", rows))


if __name__ == "__main__":
    main()
