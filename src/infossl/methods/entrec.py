"""EntRec (ER) in a SimCLR-style host."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infossl.losses import EntRecLoss
from infossl.methods.base import JointEmbeddingMethod


class EntRec(JointEmbeddingMethod):
    """EntRec (ER), entropy and reconstruction, in a SimCLR-style host (Rodriguez-Galvez et al., ICML 2023).

    Rodriguez-Galvez et al., "The Role of Entropy and Reconstruction in Multi-View
    Self-Supervised Learning" (ICML 2023); reference losses apple/ml-entropy-reconstruction.

    One backbone and projector for both views, no teacher; the objective
    (:class:`~infossl.losses.EntRecLoss`) maximizes a von Mises-Fisher
    reconstruction term (views agree on the sphere) plus a kernel-density entropy
    of the embeddings over the global batch (they spread out), in place of
    SimCLR's InfoNCE.

    The CPU recipe (``cifar10_cpu/entrec.yaml``, chosen on held-out images) keeps the paper's
    loss with kappa 7.5 (paper: 10), a 1024-1024-256 projector and LARS at learning rate 2.37
    (the paper's SimCLR host: 0.4): at 2,000 steps it beat the paper's settings by 7.9 held-out
    kNN-20 points, one seed (docs/information_methods.md). ``EntRec()``'s defaults stay the
    paper's kappa and SimCLR's projector.

    Args:
        projector: output sizes of the projector's layers (SimCLR's 2048-256 by default).
        **loss_args: the settings of :class:`~infossl.losses.EntRecLoss`: ``kappa``
            and ``estimator``.
    """

    name = "entrec"

    def __init__(self, projector: Sequence[int] = (2048, 256), **loss_args: Any) -> None:
        super().__init__(EntRecLoss(**loss_args), projector)
