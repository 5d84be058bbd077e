"""IMSVD: information-maximized soft variable discretization."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor

from infossl.diagnostics import imsvd_diagnostics, state_probabilities
from infossl.losses import IMSVDLoss
from infossl.methods.base import JointEmbeddingMethod


class IMSVD(JointEmbeddingMethod):
    """IMSVD, information-maximized soft variable discretization (Niu et al.).

    Niu, Xia, Shan, Wang, "Information-Maximized Soft Variable Discretization for
    Self-Supervised Image Representation Learning"; official code niuchuangnn/IMSVD.

    Both views go through the backbone and a Linear-BN-ReLU projector whose last,
    bias-free layer outputs D = M x K logits: M variables of K states each. A softmax
    per variable softly quantizes the embedding; the joint-cross-entropy loss
    (:class:`~infossl.losses.IMSVDLoss`) on the batch joint distributions makes the
    states transform-invariant (views agree), non-trivial (states used uniformly) and
    non-redundant (variables independent). The discrete states make the embedding
    explainable (``infossl explain``).

    Args:
        projector: output sizes of the projector's layers; the last one, D, must be a
            multiple of ``num_states`` with D / num_states >= 2 variables.
        **loss_args: the settings of :class:`~infossl.losses.IMSVDLoss`: ``num_states``
            (K), ``temperature`` and the weights ``invariance_weight``,
            ``diagonal_weight`` and ``off_diagonal_weight``.
    """

    name = "imsvd"

    def __init__(self, projector: Sequence[int] = (1024, 1024, 1024), **loss_args: Any) -> None:
        super().__init__(IMSVDLoss(**loss_args), projector, projector_last_bias=False)
        self.loss.check_embedding_dim(self.projector_dims[-1], what="the projector output (projector[-1])")

    @property
    def num_states(self) -> int:
        return self.loss.num_states

    def state_probabilities(self, z: Tensor) -> Tensor:
        """Soft assignments (N, M, K) of embeddings ``z`` to the K states of each variable."""
        return state_probabilities(z, self.loss.num_states, self.loss.temperature)

    def diagnostics(self, z1: Tensor, z2: Tensor) -> dict[str, float]:
        return imsvd_diagnostics(z1, z2, self.loss.num_states, self.loss.temperature)
