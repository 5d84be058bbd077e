"""EMI: explicit mutual information maximization from second-order statistics.

Chang, Liu, Guo, Wen, "Explicit Mutual Information Maximization for
Self-Supervised Learning" (arXiv 2409.04747). No official code is public.

Mutual information is invariant to invertible maps of each variable, and under
the paper's distribution assumption it is given by second-order statistics:

    I(Z1; Z2) = 1/2 (log det C11 + log det C22 - log det C),

with C11, C22 the D x D covariances of the views and C the 2D x 2D covariance
of [Z1, Z2]. The loss is L = -I (+ an optional invariance term, off by default).

Choices where the paper leaves room (each a parameter):

- ``standardize``: every dimension is standardized over the global batch
  (biased variance, as batch norm) before the covariance, so that the ridge
  ``eps`` is relative to unit variance and the estimate does not depend on the
  scale of the embedding. A dimension with zero variance becomes all zeros
  rather than NaN (1e-12 is added to each variance).
- ``eps``: ridge added to the diagonal of C (and therefore of C11 and C22).
  It keeps C invertible when N <= 2D or the embedding is collapsed, and it
  bounds the estimate: with standardization, the MI of one dimension pair is at most
  1/2 log((1 + eps)^2 / ((1 + eps)^2 - 1)).
- ``invariance_weight``: weight of the mean squared distance between the
  (standardized) views, an extra term the published recipe may use with an
  unspecified weight; 0 by default, so the default loss is the pure -I.
  When it is > 0 the term is logged as ``invariance``.

Log-determinants use a Cholesky factorization in float64 (a nearly collapsed
embedding at D = 2048 is too ill-conditioned for float32 at eps = 1e-3); when
N < 2D the N x N Gram form of Sylvester's identity replaces the 2D x 2D
covariance, which makes the paper shapes (D = 2048, N = 256-512) cheap. A
factorization that fails raises ``ValueError`` saying which matrix and why.
The estimate is exact for jointly Gaussian embeddings and biased upward when N
is not much larger than 2D.

When N - 1 < 2D the estimate is partly vacuous: N centred points span at most
N - 1 dimensions, so 2 min(D, N-1) - min(2D, N-1) canonical correlations between the
views are 1 for *any* embedding (independent random views included), each worth
1/2 log((1 + eps)^2 / ((1 + eps)^2 - 1)) nats (3.1 at eps = 1e-3). At D = 1024 and
N = 256 that is 255 of them, about 790 nats that no gradient can change. The loss
warns once (:class:`EMIBatchWarning`); keep D below (N - 1) / 2.

``groups`` (not in the paper) keeps a large embedding well-posed at a small batch: the D
dimensions are split into G consecutive groups of d = D / G and the loss maximizes the sum
of the groups' MI estimates, i.e. the MI of the block-diagonal approximations of C11, C22
and C. Every block then needs only N - 1 >= 2d, and dependence between groups is not
rewarded (nor penalized). ``groups=1`` is the paper's estimate. ``groups="auto"`` chooses G
from the global batch of each call: the fewest groups (a divisor of D) whose blocks satisfy
N - 1 >= 2d, so the estimate has no forced correlations at any batch size.

``entropy_weight`` (not in the paper) adds the views' second-order entropies,
1/2 (log det C11 + log det C22), to the maximized objective. The MI alone does not penalize
redundancy: a dimension that copies another (up to the ridge) adds about log eps to each view's
log-det and 2 log eps to the joint one, so it costs nothing, and in the CIFAR recipe search the
views' log-dets fell during training (the embedding grew redundant) while the MI stayed near 5
nats. The entropy term rewards a decorrelated, full-rank embedding, as the non-redundancy term of
IMSVD and the log-det regularizers of W-MSE and CorInfoMax do. With ``groups`` it is the entropy
of the block-diagonal approximation (redundancy between groups is not penalized).

Shrinkage is not a separate option because, with ``standardize``, it is this ridge: the
Ledoit-Wolf form (1 - a) C + a (tr C / p) I of every covariance is (1 - a)(C + eps I) with
eps = a / (1 - a), and the factors (1 - a) cancel in the MI (D + D - 2D = 0 of them).
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import torch
from torch import Tensor

from infossl.distributed import gather_with_grad
from infossl.losses import functional
from infossl.losses.base import PairLoss

#: added to each variance when standardizing, so a constant dimension maps to zeros
VARIANCE_FLOOR = 1e-12


class EMIBatchWarning(UserWarning):
    """The global batch is too small for the embedding size: part of the estimate is constant."""


def forced_correlations(n: int, d: int) -> int:
    """Canonical correlations between two views of n points in d dimensions that equal 1
    whatever the points: each view spans min(d, n - 1) dimensions, the pair min(2d, n - 1)."""
    return max(0, 2 * min(d, n - 1) - min(2 * d, n - 1))


def logdet_cholesky(matrix: Tensor, name: str) -> Tensor:
    """log det of a symmetric positive-definite matrix, with a clear error."""
    factor, info = torch.linalg.cholesky_ex(matrix)
    if bool(info.any()):
        finite = bool(torch.isfinite(matrix).all())
        reason = (
            "the covariance contains NaN or Inf (non-finite embeddings?)"
            if not finite
            else "the covariance is not positive definite; increase eps"
        )
        raise ValueError(f"EMILoss: Cholesky factorization of {name} failed: {reason}")
    return 2.0 * torch.log(torch.diagonal(factor, dim1=-2, dim2=-1)).sum(-1)


def ridge_logdet(parts: list[Tensor], eps: float, name: str) -> Tensor:
    """log det(X^T X / N + eps I_p) for centred X = [parts...] (N x p), or one log det per
    leading batch index for parts of shape (..., N, p_i).

    When N < p and eps > 0 it factorizes the N x N matrix instead, by
    Sylvester's identity: det(eps I_p + X^T X / N) = eps^p det(I_N + X X^T / (N eps)),
    so the cost is O(N^2 p + N^3) rather than O(N p^2 + p^3).
    """
    n = parts[0].shape[-2]
    p = sum(x.shape[-1] for x in parts)
    if eps > 0 and n < p:
        gram = sum(x @ x.transpose(-1, -2) for x in parts) / (n * eps)
        gram = gram + torch.eye(n, dtype=gram.dtype, device=gram.device)
        return p * math.log(eps) + logdet_cholesky(gram, name)
    x = torch.cat(parts, dim=-1)
    cov = x.transpose(-1, -2) @ x / n + eps * torch.eye(p, dtype=x.dtype, device=x.device)
    return logdet_cholesky(cov, name)


class EMILoss(PairLoss):
    """Negative second-order mutual information between the two views.

    Args:
        eps: ridge added to the joint covariance (relative to unit variance when
            ``standardize``).
        standardize: standardize each dimension over the global batch first.
        invariance_weight: weight of an optional MSE term between the views.
        entropy_weight: weight of the views' second-order entropies (not in the paper;
            see the module docstring); 0 keeps the paper's -I.
        groups: 1 (the paper's estimate) or G > 1: the D dimensions split into G
            consecutive groups of D / G, and I is the sum of the groups' second-order MI,
            the MI of the block-diagonal approximation of each covariance (not in the paper;
            see the module docstring); ``"auto"``: the fewest groups with N - 1 >= 2 D / G
            for the global batch N of each call.

    Terms: ``mi``, ``logdet_z1``, ``logdet_z2``, ``logdet_joint`` (and
    ``invariance`` when ``invariance_weight > 0``, ``entropy`` when ``entropy_weight > 0``).
    """

    def __init__(
        self,
        eps: float = 1e-3,
        standardize: bool = True,
        invariance_weight: float = 0.0,
        groups: int | Literal["auto"] = 1,
        entropy_weight: float = 0.0,
    ) -> None:
        super().__init__()
        if eps < 0:
            raise ValueError(f"EMILoss: eps must be >= 0, got {eps}")
        if invariance_weight < 0 or entropy_weight < 0:
            raise ValueError(f"EMILoss: the weights must be >= 0, got invariance_weight={invariance_weight}, entropy_weight={entropy_weight}")
        if groups != "auto" and (isinstance(groups, bool) or not isinstance(groups, int) or groups < 1):
            raise ValueError(f"EMILoss: groups must be an integer >= 1 or 'auto', got {groups!r}")
        self.eps = eps
        self.standardize = standardize
        self.invariance_weight = invariance_weight
        self.entropy_weight = entropy_weight
        self.groups = groups
        self._warned = False

    def groups_for(self, n: int, d: int) -> int:
        """The number of groups for a global batch of ``n`` embeddings of dimension ``d``."""
        if self.groups != "auto":
            if d % self.groups:
                raise ValueError(f"EMILoss: groups={self.groups} must divide the embedding size; got dimension {d}")
            return self.groups
        for groups in range(1, d + 1):
            if d % groups == 0 and 2 * (d // groups) <= n - 1:
                return groups
        raise ValueError(f"EMILoss: groups='auto' needs a global batch of at least 3 embeddings, got {n}")

    def _warn_if_vacuous(self, n: int, d: int, groups: int) -> None:
        forced = forced_correlations(n, d) * groups  # d is one group's size
        if forced and self.eps > 0 and not self._warned:
            self._warned = True
            per_pair = 0.5 * math.log((1 + self.eps) ** 2 / ((1 + self.eps) ** 2 - 1))
            warnings.warn(
                f"EMILoss: global batch N={n} with embedding size D={d} (N - 1 < 2D): {forced} canonical "
                f"correlations between the views are 1 for any embedding, about {forced * per_pair:.0f} nats of "
                f"the estimate that training cannot change; use D < (N - 1) / 2 = {(n - 1) / 2:g}",
                EMIBatchWarning,
                stacklevel=4,
            )

    def center(self, z: Tensor) -> Tensor:
        """A view's embeddings centred (and standardized when ``standardize``) over their batch."""
        if self.standardize:
            return functional.standardize(z, VARIANCE_FLOOR)
        return z - z.mean(dim=0)

    def compute(self, z1: Tensor, z2: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        z1 = self.center(gather_with_grad(z1))
        z2 = self.center(gather_with_grad(z2))
        n, d = z1.shape
        groups = self.groups_for(n, d)
        self._warn_if_vacuous(n, d // groups, groups)
        # the factorized matrices are in float64: a nearly collapsed (rank-one)
        # embedding at D = 2048 has condition number ~2D/eps, beyond float32 Cholesky;
        # groups are a leading batch dimension (G, N, D / G), their log-dets summed
        x1 = z1.double().reshape(n, groups, d // groups).transpose(0, 1)
        x2 = z2.double().reshape(n, groups, d // groups).transpose(0, 1)
        logdet_z1 = ridge_logdet([x1], self.eps, "C11 (covariance of z1)").sum()
        logdet_z2 = ridge_logdet([x2], self.eps, "C22 (covariance of z2)").sum()
        logdet_joint = ridge_logdet([x1, x2], self.eps, "C (joint covariance of [z1, z2])").sum()
        # the log-dets are large and nearly cancel: subtract before leaving float64
        mi = (0.5 * (logdet_z1 + logdet_z2 - logdet_joint)).to(z1.dtype)
        logdet_z1, logdet_z2, logdet_joint = (v.to(z1.dtype) for v in (logdet_z1, logdet_z2, logdet_joint))

        loss = -mi
        terms = {"mi": mi, "logdet_z1": logdet_z1, "logdet_z2": logdet_z2, "logdet_joint": logdet_joint}
        if self.invariance_weight > 0:
            invariance = (z1 - z2).pow(2).sum(dim=1).mean() / d
            loss = loss + self.invariance_weight * invariance
            terms["invariance"] = invariance
        if self.entropy_weight > 0:
            entropy = 0.5 * (logdet_z1 + logdet_z2)
            loss = loss - self.entropy_weight * entropy
            terms["entropy"] = entropy
        return loss, terms
