"""EMI: explicit mutual information maximization."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor

from infossl.diagnostics import emi_diagnostics
from infossl.losses import EMILoss
from infossl.methods.base import JointEmbeddingMethod


class EMI(JointEmbeddingMethod):
    """EMI, explicit mutual information maximization (Chang et al., arXiv 2409.04747).

    Chang, Liu, Guo, Wen, "Explicit Mutual Information Maximization for
    Self-Supervised Learning".

    Both views go through the backbone and a Linear-BN-ReLU projector; the loss
    (:class:`~infossl.losses.EMILoss`) is minus the mutual information between the
    two views' embeddings computed from second-order statistics,
    I = 1/2 (log det C11 + log det C22 - log det C), valid under the paper's
    generic distribution assumption. Keep the embedding size D below (N - 1) / 2
    for a global batch of N, or part of the estimate cannot be trained, or set
    ``groups="auto"`` (not in the paper): the MI summed over the fewest groups of dimensions
    that keep every block below that size.

    The CPU recipe (``cifar10_cpu/emi.yaml``) differs from the paper's pure -I: it adds the views'
    second-order entropies (``entropy_weight=1``). The MI alone does not penalize redundancy, and
    trained with it the embedding grows redundant and the backbone falls below its random
    initialization on CIFAR-10 (docs/information_methods.md).

    Args:
        projector: output sizes of the projector's layers (the last is D).
        **loss_args: the settings of :class:`~infossl.losses.EMILoss`: ``eps``,
            ``standardize``, ``invariance_weight``, ``groups`` and ``entropy_weight``.
    """

    name = "emi"

    def __init__(self, projector: Sequence[int] = (1024, 1024, 1024), **loss_args: Any) -> None:
        super().__init__(EMILoss(**loss_args), projector)

    def diagnostics(self, z1: Tensor, z2: Tensor) -> dict[str, float]:
        return emi_diagnostics(z1, z2, self.loss)  # type: ignore[arg-type]
