"""IMSVD: information-maximized soft variable discretization."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from infossl.diagnostics import imsvd_diagnostics, state_probabilities
from infossl.losses import IMSVDLoss
from infossl.methods.base import JointEmbeddingMethod, cosine_interpolate


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

    The CPU recipe (``cifar10_cpu/imsvd.yaml``, chosen on held-out images) keeps the paper's
    loss and K = 32 but not its settings: a sharper softmax (T 0.19 against 1), a larger
    redundancy weight (3.8) and diagonal weight (2.0), a 512-512-2048 projector and LARS. At
    2,000 steps it scores level with the paper's settings on held-out images, which the 400-step
    search undersold by 6 points (docs/information_methods.md). ``IMSVD()``'s defaults stay the
    paper's CIFAR settings.

    ``final_temperature`` (not in the paper, off by default) sharpens the assignments over
    training: the softmax temperature moves from ``temperature`` to ``final_temperature``
    along a half cosine of training progress (stateless, so a resumed run follows the same
    schedule). A built method holds the final temperature until training sets the scheduled
    one before each step, so that explanations and diagnostics of a trained model use the
    temperature it ended with.

    Args:
        projector: output sizes of the projector's layers; the last one, D, must be a
            multiple of ``num_states`` with D / num_states >= 2 variables.
        final_temperature: the temperature at the end of training (None: ``temperature``
            throughout, the paper's recipe).
        **loss_args: the settings of :class:`~infossl.losses.IMSVDLoss`: ``num_states``
            (K), ``temperature`` (at the start of training), the weights ``invariance_weight``,
            ``diagonal_weight`` and ``off_diagonal_weight``, and ``normalize_logits``.
    """

    name = "imsvd"

    def __init__(self, projector: Sequence[int] = (1024, 1024, 1024), final_temperature: float | None = None, **loss_args: Any) -> None:
        super().__init__(IMSVDLoss(**loss_args), projector, projector_last_bias=False)
        self.loss.check_embedding_dim(self.projector_dims[-1], what="the projector output (projector[-1])")
        if final_temperature is not None and final_temperature <= 0:
            raise ValueError(f"IMSVD: final_temperature must be > 0 (or None for a constant temperature), got {final_temperature}")
        self.temperature = self.loss.temperature  # the schedule's start; the loss holds the current value
        self.final_temperature = final_temperature
        if final_temperature is not None:
            self.loss.temperature = final_temperature

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "temperature": self.temperature, "final_temperature": self.final_temperature}

    def on_step_start(self, progress: float) -> None:
        if self.final_temperature is not None:
            self.loss.temperature = cosine_interpolate(self.temperature, self.final_temperature, progress)

    def on_step_end(self, backbone: nn.Module, progress: float) -> dict[str, float]:
        return {"temperature": self.loss.temperature} if self.final_temperature is not None else {}

    @property
    def num_states(self) -> int:
        return self.loss.num_states

    def state_probabilities(self, z: Tensor) -> Tensor:
        """Soft assignments (N, M, K) of embeddings ``z`` to the K states of each variable."""
        return state_probabilities(z, self.loss.num_states, self.loss.temperature, self.loss.normalize_logits)

    def diagnostics(self, z1: Tensor, z2: Tensor) -> dict[str, float]:
        return imsvd_diagnostics(z1, z2, self.loss.num_states, self.loss.temperature, self.loss.normalize_logits)
