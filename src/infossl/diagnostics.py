"""Information diagnostics of embeddings: what a representation has learned.

- :func:`effective_rank`: RankMe (Garrido et al., ICML 2023), exp of the entropy of
  the normalized singular values; D for an embedding with D equal singular
  values, 1 for a rank-one one.
- :func:`dimension_entropy`: per-dimension entropy (nats) of a ``bins``-bin
  histogram over each dimension's range; 0 for a constant dimension, at most
  log(bins).
- IMSVD (Niu et al.): :func:`state_probabilities`, :func:`joint_matrix`,
  :func:`effective_states` (exp of the entropy of each variable's marginal) and
  :func:`redundancy` (mean mutual information of the off-diagonal joint blocks).
- :func:`alignment` and :func:`uniformity` of L2-normalized embeddings (Wang and
  Isola, ICML 2020).
- EMI (Chang et al.): :func:`canonical_correlations` between the two views, from the
  ridged covariances of :class:`~infossl.losses.EMILoss` (-1/2 sum log(1 - rho^2) is the
  loss's MI estimate), and :func:`emi_diagnostics`.
- :func:`view_information`: the mutual information between two views' embeddings
  by EMI's second-order formula at a fixed N and D, minus the same estimate on
  shuffled pairs (the estimator's bias), so that methods can be compared.

All computed in float64.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from infossl.losses.emi import EMILoss, forced_correlations
from infossl.losses.imsvd import variable_logits


def _matrix(z: Tensor, name: str = "embedding") -> Tensor:
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"{name}: expected a 2-D (N >= 2, D) matrix, got shape {tuple(z.shape)}")
    if not bool(torch.isfinite(z).all()):
        raise ValueError(f"{name} contains NaN or Inf")
    return z.double()


def effective_rank(z: Tensor, eps: float = 1e-12) -> float:
    """RankMe: exp(-sum p_k log p_k), p_k = sigma_k / sum(sigma) of the (N, D) embedding."""
    singular_values = torch.linalg.svdvals(_matrix(z))
    if float(singular_values.sum()) == 0.0:
        return 0.0
    p = singular_values / singular_values.sum() + eps
    return math.exp(float(-(p * p.log()).sum()))


def singular_spectrum(z: Tensor) -> Tensor:
    """Singular values of the centred embedding, largest first, normalized to sum 1."""
    z = _matrix(z)
    s = torch.linalg.svdvals(z - z.mean(dim=0))
    return s / s.sum().clamp_min(1e-300)


def dimension_entropy(z: Tensor, bins: int = 32) -> Tensor:
    """Entropy (nats) of each dimension's ``bins``-bin histogram over its own range, shape (D,)."""
    z = _matrix(z)
    low, high = z.min(dim=0).values, z.max(dim=0).values
    width = (high - low).clamp_min(1e-300)
    index = ((z - low) / width * bins).floor().clamp(0, bins - 1).long()
    counts = torch.zeros(bins, z.shape[1], dtype=torch.float64).scatter_add_(0, index, torch.ones_like(z))
    p = counts / z.shape[0]
    entropy = -torch.special.xlogy(p, p).sum(dim=0)
    return torch.where(high > low, entropy, torch.zeros_like(entropy))


# ------------------------------------------------------------------- IMSVD
def state_probabilities(z: Tensor, num_states: int, temperature: float = 1.0, normalize_logits: bool = False) -> Tensor:
    """Soft assignments (N, M, K): softmax over the K states of each of the M variables
    (unclamped, in float64; the logits as :class:`~infossl.losses.IMSVDLoss` forms them)."""
    if z.ndim != 2:
        raise ValueError(f"state_probabilities: expected a 2-D (N, D) embedding, got shape {tuple(z.shape)}")
    return F.softmax(variable_logits(z.double(), num_states, temperature, normalize_logits), dim=-1)


def joint_matrix(p1: Tensor, p2: Tensor) -> Tensor:
    """J = P1^T P2 / N (MK x MK) from soft assignments (N, M, K) of two views (or one view twice)."""
    if p1.shape != p2.shape or p1.ndim != 3:
        raise ValueError(f"joint_matrix: expected two (N, M, K) tensors of one shape, got {tuple(p1.shape)}, {tuple(p2.shape)}")
    n = p1.shape[0]
    return p1.reshape(n, -1).double().T @ p2.reshape(n, -1).double() / n


def _entropy(p: Tensor, dim: int = -1) -> Tensor:
    return -torch.special.xlogy(p, p).sum(dim=dim)


def effective_states(marginals: Tensor) -> Tensor:
    """exp(entropy) of each variable's marginal (M, K) -> (M,): between 1 and K."""
    marginals = marginals.double()
    return _entropy(marginals / marginals.sum(dim=-1, keepdim=True)).exp()


def block_mutual_information(joint: Tensor, num_states: int) -> Tensor:
    """Mutual information (nats) of every K x K block of a joint matrix (M x M result)."""
    joint = joint.double()
    if joint.ndim != 2 or joint.shape[0] != joint.shape[1] or joint.shape[0] % num_states != 0:
        raise ValueError(f"joint matrix of shape {tuple(joint.shape)} is not M K x M K for K = {num_states}")
    m = joint.shape[0] // num_states
    blocks = joint.view(m, num_states, m, num_states).permute(0, 2, 1, 3)  # (M, M, K, K)
    blocks = blocks / blocks.sum(dim=(-1, -2), keepdim=True)
    rows, cols = blocks.sum(dim=-1, keepdim=True), blocks.sum(dim=-2, keepdim=True)
    ratio = blocks / (rows * cols).clamp_min(1e-300)
    return (torch.special.xlogy(blocks, ratio.clamp_min(1e-300))).sum(dim=(-1, -2))


def redundancy(joint: Tensor, num_states: int) -> float:
    """Mean mutual information (nats) of the off-diagonal blocks J_ij, i != j."""
    mi = block_mutual_information(joint, num_states)
    m = mi.shape[0]
    off = ~torch.eye(m, dtype=torch.bool)
    return float(mi[off].mean())


def imsvd_diagnostics(z1: Tensor, z2: Tensor, num_states: int, temperature: float = 1.0, normalize_logits: bool = False) -> dict[str, float]:
    """State usage, invariance and redundancy of IMSVD embeddings of two views.

    ``effective_states``: mean over variables of exp(entropy of the marginal);
    ``invariant_information``: mean MI between a variable in view 1 and the same
    variable in view 2 (diagonal blocks of the cross-view joint, at most log K);
    ``redundancy``: mean MI between different variables of one view;
    ``view_agreement``: mean over variables of trace(J_ii), the probability that both
    views put a variable in the same state. The diagonal term sum_k J_ii(k,k) log J_ii(k,k)
    of diagonal mass s is at least s log(s / K) (log-sum inequality), so it can reach
    its bound -log K only when s = 1: ``diagonal_floor`` = s log(s / K) at this agreement;
    ``confidence``: mean over images and variables of the largest state probability
    (1 for one-hot assignments, 1/K for uniform ones).
    """
    p1, p2 = (state_probabilities(z, num_states, temperature, normalize_logits) for z in (z1, z2))
    cross_joint = joint_matrix(p1, p2)
    cross = block_mutual_information(cross_joint, num_states)
    states = effective_states(p1.mean(dim=0))
    m = p1.shape[1]
    diagonal_blocks = cross_joint.view(m, num_states, m, num_states).diagonal(dim1=0, dim2=2)  # K x K x M
    agreement = diagonal_blocks.diagonal(dim1=0, dim2=1).sum(dim=-1)  # per variable
    floor = torch.xlogy(agreement, agreement / num_states)
    return {
        "effective_states": float(states.mean()),
        "effective_states_min": float(states.min()),
        "invariant_information": float(cross.diagonal().mean()),
        "redundancy": redundancy(joint_matrix(p1, p1), num_states),
        "view_agreement": float(agreement.mean()),
        "diagonal_floor": float(floor.mean()),
        "confidence": float(torch.cat([p1, p2]).amax(dim=-1).mean()),
    }


# -------------------------------------------------------------- geometry
def alignment(z1: Tensor, z2: Tensor, alpha: float = 2.0) -> float:
    """E ||f(x) - f(y)||^alpha over positive pairs of L2-normalized embeddings (lower is better)."""
    a, b = F.normalize(_matrix(z1, "view 1"), dim=1), F.normalize(_matrix(z2, "view 2"), dim=1)
    return float((a - b).norm(dim=1).pow(alpha).mean())


def uniformity(z: Tensor, t: float = 2.0) -> float:
    """log E exp(-t ||f(x) - f(y)||^2) over distinct pairs of L2-normalized embeddings (lower is better)."""
    a = F.normalize(_matrix(z), dim=1)
    distances = torch.pdist(a).pow(2)
    return float(torch.logsumexp(-t * distances, dim=0) - math.log(distances.numel()))


# ------------------------------------------------------ cross-view information
def _project(z1: Tensor, z2: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    """Both views on the top ``dim`` principal directions of the pooled views."""
    pooled = torch.cat([z1, z2])
    mean = pooled.mean(dim=0)
    _, _, vh = torch.linalg.svd(pooled - mean, full_matrices=False)
    basis = vh[:dim].T
    return (z1 - mean) @ basis, (z2 - mean) @ basis


def view_information(
    z1: Tensor, z2: Tensor, dim: int = 64, num_samples: int = 2048, eps: float = 1e-3, seed: int = 0
) -> dict[str, float]:
    """EMI's second-order mutual information between two views' embeddings.

    Both views are reduced to their ``dim`` leading principal directions and
    ``num_samples`` pairs are used, the same for every method, so values are
    comparable across methods and embedding widths. ``mi_shuffled`` is the same
    estimate with view 2 shuffled (independent pairs: the estimator's bias);
    ``mi_excess`` = ``mi`` - ``mi_shuffled``.
    """
    z1, z2 = _matrix(z1, "view 1"), _matrix(z2, "view 2")
    if z1.shape != z2.shape:
        raise ValueError(f"view_information: views differ in shape: {tuple(z1.shape)} vs {tuple(z2.shape)}")
    generator = torch.Generator().manual_seed(seed)
    n = min(num_samples, z1.shape[0])
    if n <= 2 * min(dim, z1.shape[1]):
        raise ValueError(f"view_information: {n} samples are too few for a {dim}-dimensional estimate (need > {2 * dim})")
    keep = torch.randperm(z1.shape[0], generator=generator)[:n]
    a, b = _project(z1[keep], z2[keep], dim)
    estimator = EMILoss(eps=eps)
    mi = float(estimator(a, b).terms["mi"])
    shuffled = float(estimator(a, b[torch.randperm(n, generator=generator)]).terms["mi"])
    return {"mi": mi, "mi_shuffled": shuffled, "mi_excess": mi - shuffled, "dim": a.shape[1], "num_samples": n}


def canonical_correlations(z1: Tensor, z2: Tensor, loss: EMILoss) -> Tensor:
    """Canonical correlations (G, d), descending in each of the loss's G groups of d dimensions,
    between two views' embeddings (N, D) as :class:`~infossl.losses.EMILoss` sees them: centred
    (standardized when the loss standardizes), with its ridge ``eps`` on each view's covariance.
    They are the singular values of L1^-1 C12 L2^-T where L L^T = C_ii + eps I; since
    det C = det C11 det C22 det(I - M M^T) for the ridged joint covariance C, the loss's estimate
    is -1/2 sum log(1 - rho^2) over all of them."""
    z1, z2 = _matrix(z1, "view 1"), _matrix(z2, "view 2")
    if z1.shape != z2.shape:
        raise ValueError(f"canonical_correlations: views differ in shape: {tuple(z1.shape)} vs {tuple(z2.shape)}")
    n, d = z1.shape
    groups = loss.groups_for(n, d)
    a, b = (loss.center(z.double()).reshape(n, groups, d // groups).transpose(0, 1) for z in (z1, z2))
    eye = torch.eye(d // groups, dtype=torch.float64)
    factors = []
    for name, x in (("view 1", a), ("view 2", b)):
        factor, info = torch.linalg.cholesky_ex(x.transpose(-1, -2) @ x / n + loss.eps * eye)
        if bool(info.any()):
            raise ValueError(f"canonical_correlations: the covariance of {name} is singular at eps={loss.eps}; use eps > 0")
        factors.append(factor)
    l1, l2 = factors
    cross = a.transpose(-1, -2) @ b / n
    whitened = torch.linalg.solve_triangular(l1, cross, upper=False)  # L1^-1 C12
    whitened = torch.linalg.solve_triangular(l2, whitened.transpose(-1, -2), upper=False).transpose(-1, -2)  # (L2^-1 C21 L1^-T)^T
    return torch.linalg.svdvals(whitened)


def emi_diagnostics(z1: Tensor, z2: Tensor, loss: EMILoss) -> dict[str, float]:
    """What EMI's estimate is made of on two views' embeddings: ``canonical_mean`` and
    ``canonical_median`` (the canonical correlations of :func:`canonical_correlations`),
    ``canonical_strong`` (the share above 0.9), ``mi_estimate`` (the loss's MI, nats) and
    ``forced_correlations`` (how many correlations equal 1 for any embedding at this N)."""
    rho = canonical_correlations(z1, z2, loss)  # (groups, D / groups)
    n, d = z1.shape
    groups = rho.shape[0]
    flat = rho.flatten()
    mi = -0.5 * torch.log1p(-flat.clamp(max=1 - 1e-15).pow(2)).sum()
    return {
        "canonical_mean": float(flat.mean()),
        "canonical_median": float(flat.median()),
        "canonical_strong": float((flat > 0.9).double().mean()),
        "mi_estimate": float(mi),
        "forced_correlations": float(forced_correlations(n, d // groups) * groups),
    }


def representation_report(features: Tensor, z1: Tensor, z2: Tensor, method=None, view_dim: int = 64) -> dict[str, float]:
    """Every diagnostic for backbone ``features`` (N, F) of un-augmented images and
    the embeddings ``z1``, ``z2`` (N, D) of two augmented views of the same images;
    ``method`` adds its own (IMSVD: state usage, invariance, redundancy)."""
    report = {
        "feature_rank": effective_rank(features),
        "feature_dim": features.shape[1],
        "embedding_rank": effective_rank(z1),
        "embedding_dim": z1.shape[1],
        "embedding_entropy": float(dimension_entropy(z1).mean()),
        "alignment": alignment(z1, z2),
        "uniformity": uniformity(z1[:4096]),
    }
    dim = min(view_dim, z1.shape[1], (z1.shape[0] - 1) // 2)
    if dim >= 1:
        info = view_information(z1, z2, dim=dim)
        report.update({f"view_{k}": v for k, v in info.items()})
    if method is not None:
        report.update(method.diagnostics(z1, z2))
    return report
