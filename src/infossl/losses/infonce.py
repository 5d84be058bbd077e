"""InfoNCE / NT-Xent, the SimCLR objective.

Chen, Kornblith, Norouzi, Hinton, "A Simple Framework for Contrastive Learning
of Visual Representations" (ICML 2020).

The 2N L2-normalized embeddings of both views are compared by cosine
similarity over a temperature. Every embedding is an anchor (both directions);
its positive is the other view of the same image and its negatives are the
other 2N - 2 embeddings of the global batch:

    L = -mean_a log( exp(s(a, a+) / T) / sum_{b != a} exp(s(a, b) / T) ).

Distributed: each process scores its own 2 N_local anchors against the 2N
gathered candidates; the mean of the per-process losses is the global loss.
Term: ``infonce``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from infossl.distributed import gather_with_grad, local_rows
from infossl.losses.base import PairLoss


class InfoNCELoss(PairLoss):
    """NT-Xent loss with negatives from both views.

    Args:
        temperature: T in exp(cosine / T).
    """

    def __init__(self, temperature: float = 0.2) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"InfoNCELoss: temperature must be > 0, got {temperature}")
        self.temperature = temperature

    def compute(self, z1: Tensor, z2: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        z1 = F.normalize(z1, dim=1)
        z2 = F.normalize(z2, dim=1)
        all1, all2 = gather_with_grad(z1), gather_with_grad(z2)
        n_global = all1.shape[0]
        candidates = torch.cat([all1, all2], dim=0)  # 2N x D
        anchors = torch.cat([z1, z2], dim=0)  # 2 N_local x D
        logits = (anchors / self.temperature) @ candidates.T  # scale N x D, not N x N

        rows = torch.arange(n_global, device=z1.device)[local_rows(n_global)]
        self_index = torch.cat([rows, rows + n_global])
        positive_index = torch.cat([rows + n_global, rows])
        # an embedding is never its own negative
        is_self = self_index[:, None] == torch.arange(2 * n_global, device=z1.device)
        logits = logits.masked_fill(is_self, float("-inf"))
        loss = F.cross_entropy(logits, positive_index)
        return loss, {"infonce": loss}
