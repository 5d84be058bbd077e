"""Per-call overhead of infossl's loss wrapper, measured on BYOL's objective against lightly's.

    python benchmarks/loss_overhead.py      # needs the bench extra (lightly)

Both libraries compute 2 - 2 cos / -cos with ``F.cosine_similarity``; timing our loss's
``compute`` alone separates the objective from the wrapper (shape and batch checks, the
precision policy, detached named terms). Forward + backward, 201 alternating repetitions,
medians in microseconds. Run it on a quiet machine.
"""

from __future__ import annotations

import statistics

import torch

from speed import interleaved_times


def main() -> None:
    from lightly.loss import NegativeCosineSimilarity

    from infossl.losses import BYOLLoss

    ours, theirs = BYOLLoss(), NegativeCosineSimilarity()
    for n, d in [(256, 128), (512, 2048)]:
        z1, z2 = torch.randn(n, d).requires_grad_(), torch.randn(n, d).requires_grad_()
        fns = {
            "infossl": lambda: ours(z1, z2).loss.backward(),
            "lightly": lambda: theirs(z1, z2).backward(),
            "infossl compute only": lambda: ours.compute(z1, z2)[0].backward(),
        }
        times = interleaved_times(fns, repeats=201)
        print(f"N={n} D={d}:", {name: round(1e6 * statistics.median(t), 1) for name, t in times.items()}, "us")


if __name__ == "__main__":
    main()
