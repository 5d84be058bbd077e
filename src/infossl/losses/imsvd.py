"""IMSVD: information-maximized soft variable discretization.

Niu, Xia, Shan, Wang, "Information-Maximized Soft Variable Discretization for
Self-Supervised Image Representation Learning" (official code: niuchuangnn/IMSVD).

The D = M x K embedding is split into M variables of K states. A softmax over
each variable's K logits (temperature T, clamped at 1e-8 as in the official code)
gives soft state assignments p[n, i, :]. With P1, P2 the N x MK assignment
matrices of the two views, J = P1^T P2 / N; its K x K block J_ij is the joint
distribution of variable i of view 1 and variable j of view 2. Then

- invariance    L_ti  = -mean_{n,i} log sum_k p1[n,i,k] p2[n,i,k]          (>= 0)
- diagonal      L_dia = (1/M) sum_i sum_k J_ii(k,k) log J_ii(k,k)            (>= -log K, K >= 3)
- off-diagonal  L_off = (1/(M(M-1))) sum_{i!=j} sum_{k,l} J_ij(k,l) log J_ij(k,l)  (>= -2 log K)

and L = w_ti L_ti + w_dia L_dia + w_off L_off (weights 1 by default), so with
unit weights L >= -3 log K. (The diagonal entries of J_ii need not sum to 1, so
for K = 2 alone L_dia can reach -2/e = -0.736 < -log 2: found by the property
tests; for K >= 3 the minimum over sums <= 1 is at sum 1, -log K.) Minimizing L_dia makes each variable use its K
states uniformly *and* agree across views; minimizing L_off makes different
variables independent (non-redundant).

Choosing ``num_states``: with one-hot states the off-diagonal entropy of a batch
of N samples is capped at log N, so the redundancy term can reach its bound of
-2 log K only when the (global) batch has N >= K^2 samples.

``normalize_logits`` (not in the paper, off by default): each variable's K logits are
centred and divided by their standard deviation over the K states (a layer norm without
affine parameters, per image and variable) before the temperature. The softmax is
invariant to the centring; the scaling fixes the logits' spread, so that T alone sets how
sharp the assignments are, instead of T and the projector's output scale together. It is
per image, so the states of one image do not depend on the rest of the batch (explanations
stay per image) and the loss gathers exactly as without it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from infossl.distributed import gather_with_grad
from infossl.losses.base import PairLoss

#: soft assignments are clamped from below, as in the official implementation
PROBABILITY_FLOOR = 1e-8
#: added to each variable's logit variance when ``normalize_logits``: a constant variable maps to zeros
LOGIT_VARIANCE_FLOOR = 1e-6


def split_variables(dim: int, num_states: int, what: str = "the embedding") -> int:
    """M = dim / K variables; ValueError unless ``dim`` is a multiple of ``num_states``
    with at least 2 variables (the one check, shared by the loss, the method and the
    diagnostics)."""
    if num_states < 2 or dim % num_states != 0 or dim // num_states < 2:
        raise ValueError(
            f"IMSVD: num_states={num_states} must divide {what} of dimension D={dim} into M = D / num_states "
            f">= 2 variables (choose num_states >= 2 dividing D, at most D / 2)"
        )
    return dim // num_states


def variable_logits(z: Tensor, num_states: int, temperature: float, normalize_logits: bool = False) -> Tensor:
    """N x D embedding -> N x M x K logits divided by the temperature, each variable's K logits
    first standardized over its states when ``normalize_logits`` (the one definition, shared by
    the loss, the diagnostics and ``infossl explain``)."""
    n, d = z.shape
    logits = z.reshape(n, split_variables(d, num_states, f"the embedding of shape {(n, d)}"), num_states)
    if normalize_logits:
        centred = logits - logits.mean(dim=-1, keepdim=True)
        logits = centred * torch.rsqrt(centred.pow(2).mean(dim=-1, keepdim=True) + LOGIT_VARIANCE_FLOOR)
    return logits / temperature


class _JointEntropyTerms(torch.autograd.Function):
    """Diagonal and off-diagonal x log x sums of J = P1^T P2 / N in one pass.

    Autograd through ``xlogy`` on the MK x MK joint keeps several MK x MK
    temporaries alive (about 7 s for D = 8160, N = 256 on two cores); this fused
    version keeps one log buffer and needs no other MK x MK tensor. Entries of J are positive
    (the assignments are clamped at 1e-8); J is still floored at the smallest
    normal float so that 0 log 0 = 0 holds for any input.
    """

    @staticmethod
    def forward(ctx, p1: Tensor, p2: Tensor, m: int, k: int) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        n = p1.shape[0]
        joint = (p1.T @ p2).div_(n).clamp_min_(torch.finfo(p1.dtype).tiny)
        log_joint = joint.log()
        total = torch.dot(joint.reshape(-1), log_joint.reshape(-1))
        blocks = lambda x: torch.diagonal(x.view(m, k, m, k), dim1=0, dim2=2)  # noqa: E731  K x K x M
        block_total = (blocks(joint) * blocks(log_joint)).sum()
        diagonal_log = torch.diagonal(log_joint).clone()
        diagonal = (torch.diagonal(joint) * diagonal_log).sum() / m
        off_diagonal = (total - block_total) / (m * (m - 1))
        ctx.save_for_backward(p1, p2, log_joint, diagonal_log)
        ctx.m, ctx.k = m, k
        return diagonal, off_diagonal

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_diagonal: Tensor, grad_off: Tensor):  # type: ignore[override]
        # dL/dJ = G with G = c_off (log J + 1) outside the diagonal blocks and
        # c_dia (log J + 1) on J's main diagonal. G is never formed: by linearity
        # P2 @ G^T = c_off (P2 @ log J^T + row sums of P2), corrected on the M
        # small diagonal blocks, so no MK x MK buffer is allocated.
        p1, p2, log_joint, diagonal_log = ctx.saved_tensors
        m, k, n = ctx.m, ctx.k, p1.shape[0]
        c_off = grad_off / (m * (m - 1))
        c_dia = grad_diagonal / m
        block_weights = torch.diagonal(log_joint.view(m, k, m, k), dim1=0, dim2=2).permute(2, 0, 1) + 1  # M x K x K
        diagonal_weights = diagonal_log + 1

        def grad_wrt(other: Tensor, dense: Tensor, block_eq: str) -> Tensor:
            grad = dense + other.sum(dim=1, keepdim=True)
            in_blocks = torch.einsum(block_eq, other.view(n, m, k), block_weights).reshape(n, m * k)
            return (c_off * (grad - in_blocks) + c_dia * diagonal_weights * other) / n

        grad_p1 = grad_wrt(p2, p2 @ log_joint.T, "nib,iab->nia")
        grad_p2 = grad_wrt(p1, p1 @ log_joint, "nia,iab->nib")
        return grad_p1, grad_p2, None, None


class IMSVDLoss(PairLoss):
    """Joint-cross-entropy loss of IMSVD on soft-discretized embeddings.

    Args:
        num_states: K, the number of states of each variable; the embedding
            dimension D must be a multiple of K with D / K >= 2 variables.
        temperature: softmax temperature T of the soft discretization.
        invariance_weight: weight of the invariance term L_ti.
        diagonal_weight: weight of the diagonal-block term L_dia.
        off_diagonal_weight: weight of the off-diagonal-block (redundancy) term L_off.
        normalize_logits: standardize each variable's K logits over its states before the
            temperature (not in the paper; see the module docstring).

    Terms: ``invariance``, ``diagonal``, ``off_diagonal`` (unweighted).
    """

    def __init__(
        self,
        num_states: int = 32,
        temperature: float = 1.0,
        invariance_weight: float = 1.0,
        diagonal_weight: float = 1.0,
        off_diagonal_weight: float = 1.0,
        normalize_logits: bool = False,
    ) -> None:
        super().__init__()
        if num_states < 2:
            raise ValueError(f"IMSVDLoss: num_states must be >= 2, got {num_states}")
        if temperature <= 0:
            raise ValueError(f"IMSVDLoss: temperature must be > 0, got {temperature}")
        self.num_states = num_states
        self.temperature = temperature
        self.invariance_weight = invariance_weight
        self.diagonal_weight = diagonal_weight
        self.off_diagonal_weight = off_diagonal_weight
        self.normalize_logits = normalize_logits

    def check_embedding_dim(self, dim: int, what: str = "the embedding") -> int:
        """The number of variables M = dim / K; ValueError unless ``dim`` splits
        into M >= 2 variables of ``num_states`` states."""
        return split_variables(dim, self.num_states, what)

    def soft_states(self, z: Tensor) -> Tensor:
        """N x D logits -> N x M x K soft state assignments (clamped softmax)."""
        logits = variable_logits(z, self.num_states, self.temperature, self.normalize_logits)
        return torch.softmax(logits, dim=-1).clamp(min=PROBABILITY_FLOOR)

    def compute(self, z1: Tensor, z2: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        p1 = self.soft_states(gather_with_grad(z1))
        p2 = self.soft_states(gather_with_grad(z2))
        n, m, k = p1.shape

        invariance = -torch.log((p1 * p2).sum(dim=-1)).mean()

        # J's main diagonal holds the entries J_ii(k, k); its M diagonal K x K
        # blocks are left out of the off-diagonal sum
        diagonal, off_diagonal = _JointEntropyTerms.apply(p1.reshape(n, m * k), p2.reshape(n, m * k), m, k)

        loss = (
            self.invariance_weight * invariance
            + self.diagonal_weight * diagonal
            + self.off_diagonal_weight * off_diagonal
        )
        terms = {"invariance": invariance, "diagonal": diagonal, "off_diagonal": off_diagonal}
        return loss, terms

    def bounds(self) -> dict[str, float]:
        """Lower bound of each term for this K (useful to read training curves)."""
        log_k = math.log(self.num_states)
        diagonal = -log_k if self.num_states >= 3 else -self.num_states / math.e
        return {"invariance": 0.0, "diagonal": diagonal, "off_diagonal": -2 * log_k}
