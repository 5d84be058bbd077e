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
On one process the anchors are the candidates and a fused autograd function
uses the symmetry of the similarity matrix: one 2N x 2N product forward, one
backward, the softmax computed once (measured 2-2.5x faster than lightly's
NTXentLoss at N = 256, D = 128; see docs/benchmarks.md).
Term: ``infonce``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from infossl.distributed import gather_with_grad, local_rows, world_size
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
        anchors = torch.cat([z1, z2], dim=0)  # 2 N_local x D
        if world_size() == 1:  # anchors are the candidates: the fused, symmetric path
            n = z1.shape[0]
            positives = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z1.device)
            loss = _SymmetricInfoNCE.apply(anchors, positives, self.temperature)
            return loss, {"infonce": loss}
        all1, all2 = gather_with_grad(z1), gather_with_grad(z2)
        n_global = all1.shape[0]
        candidates = torch.cat([all1, all2], dim=0)  # 2N x D
        logits = (anchors / self.temperature) @ candidates.T  # scale N x D, not N x N
        rows = torch.arange(n_global, device=z1.device)[local_rows(n_global)]
        self_index = torch.cat([rows, rows + n_global])
        positive_index = torch.cat([rows + n_global, rows])
        # an embedding is never its own negative
        is_self = self_index[:, None] == torch.arange(2 * n_global, device=z1.device)
        logits = logits.masked_fill(is_self, float("-inf"))
        loss = F.cross_entropy(logits, positive_index)
        return loss, {"infonce": loss}


class _SymmetricInfoNCE(torch.autograd.Function):
    """InfoNCE of embeddings ``a`` (M x D) against themselves, fused; ``positives``
    pairs the rows (pos(pos(i)) = i, as the two views of one image).

    With S = a a^T / T (self-similarities masked) and P = softmax(S) row-wise,
    L = mean_i (logsumexp_j S_ij - S_i,pos(i)) and dL/da = (G + G^T) a / T with
    G = (P - Y) / M: one M x M product forward, one backward (the unfused graph
    needs three) and the softmax is computed once.
    """

    @staticmethod
    def forward(ctx, a: Tensor, positives: Tensor, temperature: float) -> Tensor:
        logits = (a @ a.T).div_(temperature)
        logits.fill_diagonal_(float("-inf"))
        log_norm = torch.logsumexp(logits, dim=1)
        rows = torch.arange(a.shape[0], device=a.device)
        loss = (log_norm - logits[rows, positives]).mean()
        probabilities = logits.sub_(log_norm[:, None]).exp_()  # in place: P = softmax(S)
        ctx.save_for_backward(a, probabilities, positives)
        ctx.temperature = temperature
        return loss

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output: Tensor):
        a, p, positives = ctx.saved_tensors
        # (P - Y + (P - Y)^T) a = (P + P^T) a - 2 a[pos]: Y only touches the small M x D result
        # (positives pair rows i and pos(i) both ways, so Y a = Y^T a = a[pos])
        grad = torch.addmm(a[positives], p + p.T, a, beta=-2.0)
        grad.mul_(grad_output / (a.shape[0] * ctx.temperature))
        return grad, None, None
