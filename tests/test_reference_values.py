"""EntRec, InfoNCE, Barlow Twins, VICReg and BYOL against direct, loop-based
references written from the formulas in the losses' docstrings (EntRec: Rodriguez-Galvez et al.;
the baselines: their papers)."""

from __future__ import annotations

import math

import pytest
import torch

from infossl.losses import BarlowTwinsLoss, BYOLLoss, EntRecLoss, InfoNCELoss, VICRegLoss

from conftest import random_pair

N, D = 7, 4


def unit(v: torch.Tensor) -> torch.Tensor:
    return v / math.sqrt(sum(x * x for x in v.tolist()))


def dot(a: torch.Tensor, b: torch.Tensor) -> float:
    return sum(x * y for x, y in zip(a.tolist(), b.tolist()))


@pytest.fixture
def pair() -> tuple[torch.Tensor, torch.Tensor]:
    return random_pair(N, D, seed=7)


def reference_entropy(z: torch.Tensor, kappa: float, estimator: str) -> float:
    n = len(z)
    log_p = [
        math.log(sum(math.exp(kappa * dot(unit(z[i]), unit(z[j]))) for j in range(n))) - math.log(n)
        for i in range(n)
    ]
    if estimator == "average":
        return -sum(log_p) / n
    normalizer = sum(math.exp(v) for v in log_p)
    return -sum(math.exp(v) / normalizer * v for v in log_p)


@pytest.mark.parametrize("estimator", ["expectation", "average"])
@pytest.mark.parametrize("kappa", [1.0, 10.0])
def test_entrec(pair, estimator: str, kappa: float) -> None:
    z1, z2 = pair
    out = EntRecLoss(kappa=kappa, estimator=estimator)(z1, z2)
    reconstruction = kappa * sum(dot(unit(z1[i]), unit(z2[i])) for i in range(N)) / N
    entropy = 0.5 * (reference_entropy(z1, kappa, estimator) + reference_entropy(z2, kappa, estimator))
    assert out.terms["reconstruction"].item() == pytest.approx(reconstruction, rel=1e-10)
    assert out.terms["entropy"].item() == pytest.approx(entropy, rel=1e-10)
    assert out.loss.item() == pytest.approx(-(reconstruction + entropy), rel=1e-10)


def test_entrec_teacher_target_carries_no_gradient(pair) -> None:
    z1, z2 = pair
    z1 = z1.clone().requires_grad_()
    z2 = z2.clone().requires_grad_()
    EntRecLoss()(z1, z2.detach()).loss.backward()
    assert z1.grad is not None and z2.grad is None


@pytest.mark.parametrize("temperature", [0.2, 1.0])
def test_infonce(pair, temperature: float) -> None:
    z1, z2 = pair
    out = InfoNCELoss(temperature=temperature)(z1, z2)
    everyone = [unit(v) for v in torch.cat([z1, z2])]
    total = 0.0
    for a in range(2 * N):
        positive = (a + N) % (2 * N)
        numerator = math.exp(dot(everyone[a], everyone[positive]) / temperature)
        denominator = sum(math.exp(dot(everyone[a], everyone[b]) / temperature) for b in range(2 * N) if b != a)
        total += -math.log(numerator / denominator)
    assert out.loss.item() == pytest.approx(total / (2 * N), rel=1e-10)
    assert out.terms["infonce"].item() == pytest.approx(out.loss.item())


def test_byol(pair) -> None:
    z1, z2 = pair
    out = BYOLLoss()(z1, z2)
    cosines = [dot(unit(z1[i]), unit(z2[i])) for i in range(N)]
    assert out.loss.item() == pytest.approx(sum(2 - 2 * c for c in cosines) / N, rel=1e-10)
    assert out.terms["cosine"].item() == pytest.approx(sum(cosines) / N, rel=1e-10)


def standardized_columns(z: torch.Tensor, eps: float) -> list[list[float]]:
    columns = []
    for d in range(z.shape[1]):
        col = z[:, d].tolist()
        mean = sum(col) / len(col)
        var = sum((x - mean) ** 2 for x in col) / len(col)  # biased, as batch norm
        columns.append([(x - mean) / math.sqrt(var + eps) for x in col])
    return columns


@pytest.mark.parametrize("lambda_offdiag", [0.0051, 0.5])
def test_barlow_twins(pair, lambda_offdiag: float) -> None:
    z1, z2 = pair
    out = BarlowTwinsLoss(lambda_offdiag=lambda_offdiag)(z1, z2)
    a, b = standardized_columns(z1, 1e-5), standardized_columns(z2, 1e-5)
    c = [[sum(x * y for x, y in zip(a[i], b[j])) / N for j in range(D)] for i in range(D)]
    on = sum((1 - c[i][i]) ** 2 for i in range(D))
    off = sum(c[i][j] ** 2 for i in range(D) for j in range(D) if i != j)
    assert out.terms["on_diagonal"].item() == pytest.approx(on, rel=1e-10)
    assert out.terms["off_diagonal"].item() == pytest.approx(off, rel=1e-10)
    assert out.loss.item() == pytest.approx(on + lambda_offdiag * off, rel=1e-10)


def reference_vicreg_parts(z: torch.Tensor) -> tuple[float, float]:
    n, d = z.shape
    cols = [z[:, k].tolist() for k in range(d)]
    means = [sum(col) / n for col in cols]
    cov = [
        [sum((cols[i][s] - means[i]) * (cols[j][s] - means[j]) for s in range(n)) / (n - 1) for j in range(d)]
        for i in range(d)
    ]
    variance = sum(max(0.0, 1 - math.sqrt(cov[k][k] + 1e-4)) for k in range(d)) / d
    covariance = sum(cov[i][j] ** 2 for i in range(d) for j in range(d) if i != j) / d
    return variance, covariance


@pytest.mark.parametrize("scale", [0.3, 3.0])
def test_vicreg_counts_the_variance_term_once(scale: float) -> None:
    # scale 0.3 puts the standard deviations below 1, so the hinge is active
    z1, z2 = random_pair(N, D, seed=11)
    z1, z2 = scale * z1, scale * z2
    out = VICRegLoss()(z1, z2)
    invariance = sum((x - y) ** 2 for x, y in zip(z1.flatten().tolist(), z2.flatten().tolist())) / (N * D)
    v1, c1 = reference_vicreg_parts(z1)
    v2, c2 = reference_vicreg_parts(z2)
    assert out.terms["invariance"].item() == pytest.approx(invariance, rel=1e-10)
    assert out.terms["variance"].item() == pytest.approx((v1 + v2) / 2, rel=1e-10)
    assert out.terms["covariance"].item() == pytest.approx(c1 + c2, rel=1e-10)
    expected = 25 * invariance + 25 * (v1 + v2) / 2 + 1 * (c1 + c2)
    assert out.loss.item() == pytest.approx(expected, rel=1e-10)
    if scale < 1:
        assert out.terms["variance"].item() > 0.1
