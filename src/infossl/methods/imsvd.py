"""IMSVD (Niu et al.): soft variable discretization, joint-cross-entropy loss.

Projector Linear-BN-ReLU layers with a bias-free last layer whose output splits
into D / num_states variables (SPEC section 1).
"""

from __future__ import annotations

from torch import Tensor

from infossl.eval.diagnostics import imsvd_diagnostics, state_probabilities
from infossl.losses import IMSVDLoss
from infossl.methods.base import JointEmbeddingMethod


class IMSVD(JointEmbeddingMethod):
    name = "imsvd"

    def __init__(
        self,
        projector: tuple[int, ...] = (1024, 1024, 1024),
        num_states: int = 32,
        temperature: float = 1.0,
    ) -> None:
        if projector[-1] % num_states != 0 or projector[-1] // num_states < 2:
            raise ValueError(
                f"model.method.num_states={num_states} must divide the projector output "
                f"model.method.projector[-1]={projector[-1]} into at least 2 variables"
            )
        super().__init__(IMSVDLoss(num_states, temperature), projector, projector_last_bias=False)

    @property
    def num_states(self) -> int:
        return self.loss.num_states

    def state_probabilities(self, z: Tensor) -> Tensor:
        """Soft assignments (N, M, K) of embeddings ``z`` to the K states of each variable."""
        return state_probabilities(z, self.loss.num_states, self.loss.temperature)

    def diagnostics(self, z1: Tensor, z2: Tensor) -> dict[str, float]:
        return imsvd_diagnostics(z1, z2, self.loss.num_states, self.loss.temperature)
