"""BYOL's regression objective.

Grill et al., "Bootstrap Your Own Latent: A New Approach to Self-Supervised
Learning" (NeurIPS 2020).

For one pairing of an online prediction p and a teacher target t:

    L = mean_n (2 - 2 cos(p_n, t_n)) = mean_n || p_n/|p_n| - t_n/|t_n| ||^2.

The host calls it once per pairing, ``loss(prediction_a, target_b.detach())``,
and averages the two. It has no batch statistic, so nothing is gathered: the
mean over processes of the local means is the global mean. Term: ``cosine``
(the mean cosine similarity).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from infossl.losses.base import PairLoss


class BYOLLoss(PairLoss):
    """2 - 2 cos(prediction, target), averaged over the batch."""

    min_global_batch = 1

    def compute(self, z1: Tensor, z2: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        cosine = F.cosine_similarity(z1, z2, dim=1).mean()
        return torch.rsub(cosine, 2.0, alpha=2.0), {"cosine": cosine}  # 2 - 2 cos in one op
