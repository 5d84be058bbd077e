"""EMI: properties of the second-order mutual-information estimate (Chang et al., arXiv 2409.04747)."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from infossl.losses import EMILoss
from infossl.losses.emi import EMIBatchWarning, forced_correlations, ridge_logdet

from conftest import random_pair


def gaussian_views(n: int, d: int, rho: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Jointly Gaussian views with correlation rho in every dimension."""
    g = torch.Generator().manual_seed(seed)
    z1 = torch.randn(n, d, generator=g, dtype=torch.float64)
    noise = torch.randn(n, d, generator=g, dtype=torch.float64)
    return z1, rho * z1 + math.sqrt(1 - rho**2) * noise


def analytic_mi(d: int, rho: float) -> float:
    return -d / 2 * math.log(1 - rho**2)


def test_invariant_to_invertible_linear_maps_of_each_view() -> None:
    z1, z2 = gaussian_views(4000, 4, 0.7)
    g = torch.Generator().manual_seed(1)
    a = torch.eye(4, dtype=torch.float64) + 0.5 * torch.randn(4, 4, generator=g, dtype=torch.float64)
    b = 3.0 * torch.randn(4, 4, generator=g, dtype=torch.float64)
    assert torch.linalg.matrix_rank(a) == 4 and torch.linalg.matrix_rank(b) == 4
    for standardize in (True, False):
        loss_fn = EMILoss(eps=1e-9, standardize=standardize)
        before = loss_fn(z1, z2).terms["mi"].item()
        after = loss_fn(z1 @ a + 5.0, z2 @ b - 2.0).terms["mi"].item()
        assert after == pytest.approx(before, rel=1e-6)


def test_standardization_absorbs_rescaling_exactly_even_with_the_ridge() -> None:
    z1, z2 = gaussian_views(4000, 4, 0.7)
    a = torch.diag(torch.tensor([10.0, 0.1, 1.0, 3.0], dtype=torch.float64))
    loss_fn = EMILoss()  # standardization makes the default ridge scale-free
    assert loss_fn(z1 @ a, z2).terms["mi"].item() == pytest.approx(loss_fn(z1, z2).terms["mi"].item(), rel=1e-9)


def test_mi_grows_and_loss_falls_with_dependence() -> None:
    loss_fn = EMILoss()
    values = [loss_fn(*gaussian_views(2000, 8, rho)) for rho in (0.0, 0.2, 0.4, 0.6, 0.8, 0.95)]
    mis = [out.terms["mi"].item() for out in values]
    losses = [out.loss.item() for out in values]
    assert mis == sorted(mis) and len(set(mis)) == len(mis)
    assert losses == sorted(losses, reverse=True)


def test_approaches_analytic_gaussian_mi_as_n_grows() -> None:
    d, rho = 4, 0.6
    loss_fn = EMILoss(eps=0.0)
    errors = [
        abs(loss_fn(*gaussian_views(n, d, rho, seed=3)).terms["mi"].item() - analytic_mi(d, rho))
        for n in (100, 1000, 100000)
    ]
    assert errors[-1] < 0.01
    assert errors[-1] < errors[0]
    # with the default ridge the estimate stays within the ridge's known bias
    with_ridge = EMILoss()(*gaussian_views(100000, d, rho, seed=3)).terms["mi"].item()
    ridge_mi = d / 2 * math.log((1 + 1e-3) ** 2 / ((1 + 1e-3) ** 2 - rho**2))
    assert with_ridge == pytest.approx(ridge_mi, abs=0.01)


def test_logdets_combine_into_mi() -> None:
    out = EMILoss()(*gaussian_views(200, 5, 0.5))
    t = out.terms
    assert t["mi"].item() == pytest.approx(0.5 * (t["logdet_z1"] + t["logdet_z2"] - t["logdet_joint"]).item())
    assert out.loss.item() == pytest.approx(-t["mi"].item())


def test_mi_is_non_negative_in_float32() -> None:
    torch.manual_seed(0)
    for n, d in [(8, 4), (64, 16), (500, 32)]:
        z1, z2 = torch.randn(n, d), torch.randn(n, d)
        assert EMILoss()(z1, z2).terms["mi"].item() >= -1e-5


def test_singular_covariance_is_finite_with_the_ridge() -> None:
    torch.manual_seed(0)
    z1, z2 = torch.randn(16, 64), torch.randn(16, 64)  # N <= 2D: C is singular without eps
    out = EMILoss()(z1, z2)
    assert torch.isfinite(out.loss)
    with pytest.raises(ValueError, match="not positive definite"):
        EMILoss(eps=0.0)(z1, z2)


def test_non_finite_embeddings_are_named_in_the_error() -> None:
    z = torch.randn(32, 4)
    z[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN or Inf"):
        EMILoss()(z, torch.randn(32, 4))


def test_invariance_term_is_optional() -> None:
    z1, z2 = gaussian_views(100, 4, 0.5)
    assert "invariance" not in EMILoss()(z1, z2).terms
    out = EMILoss(invariance_weight=2.0)(z1, z2)
    assert out.loss.item() == pytest.approx(-out.terms["mi"].item() + 2.0 * out.terms["invariance"].item())
    assert out.terms["invariance"].item() > 0


def test_entropy_term_is_the_views_logdets_and_penalizes_a_redundant_dimension() -> None:
    z1, z2 = gaussian_views(2000, 4, 0.8, seed=1)
    out = EMILoss(entropy_weight=0.5)(z1, z2)
    assert "entropy" not in EMILoss()(z1, z2).terms
    entropy = 0.5 * (out.terms["logdet_z1"] + out.terms["logdet_z2"])
    assert out.terms["entropy"].item() == pytest.approx(entropy.item(), rel=1e-6)
    assert out.loss.item() == pytest.approx(-out.terms["mi"].item() - 0.5 * entropy.item(), rel=1e-6)
    # replace the last dimension by a copy of the first: the MI barely changes (a copy is worth
    # about nothing to it), the entropy falls by about log eps, so only the entropy term objects
    copied = [torch.cat([z[:, :3], z[:, :1]], dim=1) for z in (z1, z2)]
    three = EMILoss(eps=1e-3)(z1[:, :3], z2[:, :3])
    plain, weighted = EMILoss(eps=1e-3)(*copied), EMILoss(eps=1e-3, entropy_weight=1.0)(*copied)
    assert abs(plain.terms["mi"].item() - three.terms["mi"].item()) < 0.05
    assert weighted.terms["entropy"].item() < -0.5 * (-math.log(1e-3))  # at least half of -log eps lost
    assert weighted.loss.item() > EMILoss(eps=1e-3, entropy_weight=1.0)(z1, z2).loss.item() + 3
    with pytest.raises(ValueError, match="weights must be >= 0"):
        EMILoss(entropy_weight=-1.0)


@pytest.mark.parametrize(("n", "p"), [(6, 10), (10, 6), (8, 8)])
def test_gram_and_covariance_forms_of_the_ridge_logdet_agree(n: int, p: int) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, p, generator=g, dtype=torch.float64)
    x = x - x.mean(dim=0)
    eps = 0.05
    direct = torch.logdet(x.T @ x / n + eps * torch.eye(p, dtype=torch.float64))
    parts = [x[:, : p // 2], x[:, p // 2 :]]
    assert ridge_logdet(parts, eps, "test").item() == pytest.approx(direct.item(), rel=1e-10)


def test_nearly_collapsed_float32_embedding_at_paper_dimension() -> None:
    # rank-one plus tiny noise: condition number ~ 2D / eps, too much for float32 Cholesky
    torch.manual_seed(0)
    base = torch.randn(64, 1)
    z1 = base.repeat(1, 2048) + 1e-3 * torch.randn(64, 2048)
    z2 = base.repeat(1, 2048) + 1e-3 * torch.randn(64, 2048)
    out = EMILoss()(z1, z2)
    assert torch.isfinite(out.loss) and out.terms["mi"].item() > 0


@pytest.mark.parametrize(("n", "d", "forced"), [(32, 64, 31), (32, 16, 1), (33, 16, 0), (32, 8, 0)])
def test_forced_correlations_count_the_dimensions_a_small_batch_cannot_tell_apart(n: int, d: int, forced: int) -> None:
    assert forced_correlations(n, d) == forced


def test_independent_views_score_the_forced_correlations_when_the_batch_is_small() -> None:
    # N - 1 = 31 < D = 64: the estimate of two *independent* batches is at least the 31
    # forced correlations' worth, so it says nothing about the embedding; a warning says so
    g = torch.Generator().manual_seed(0)
    z1, z2 = (torch.randn(32, 64, generator=g, dtype=torch.float64) for _ in range(2))
    loss = EMILoss(eps=1e-3)
    with pytest.warns(EMIBatchWarning, match=r"31 canonical correlations .* D < \(N - 1\) / 2 = 15.5"):
        mi = float(loss(z1, z2).terms["mi"])
    per_pair = 0.5 * math.log(1.001**2 / (1.001**2 - 1))
    assert mi >= 31 * per_pair
    # once per loss object; a large enough batch gives no warning and a small estimate
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", EMIBatchWarning)
        loss(z1, z2)
        big = torch.randn(512, 8, generator=g, dtype=torch.float64), torch.randn(512, 8, generator=g, dtype=torch.float64)
        assert float(EMILoss()(*big).terms["mi"]) < 0.1


def test_groups_sum_the_mi_of_consecutive_blocks() -> None:
    z1, z2 = random_pair(64, 12)
    grouped = EMILoss(groups=3)(z1, z2)
    blocks = [EMILoss()(z1[:, 4 * g : 4 * g + 4], z2[:, 4 * g : 4 * g + 4]) for g in range(3)]
    for key in ("mi", "logdet_z1", "logdet_z2", "logdet_joint"):
        torch.testing.assert_close(grouped.terms[key], sum(b.terms[key] for b in blocks))
    # dependence across groups is not counted: the grouped MI is below the full one here
    assert grouped.terms["mi"] < EMILoss()(z1, z2).terms["mi"]
    with pytest.raises(ValueError, match="groups=5 must divide"):
        EMILoss(groups=5)(z1, z2)


def test_groups_keep_a_small_batch_well_posed() -> None:
    # N = 64 < 2D = 128: the full estimate has forced correlations, blocks of 8 do not
    z1, z2 = random_pair(64, 64)
    with pytest.warns(EMIBatchWarning):
        EMILoss()(z1, z2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EMIBatchWarning)
        EMILoss(groups=8)(z1, z2)


@pytest.mark.parametrize(("n", "d", "expected"), [(256, 64, 1), (256, 128, 2), (256, 256, 4), (256, 1024, 16), (64, 48, 2), (10, 12, 3), (3, 7, 7)])
def test_auto_groups_are_the_fewest_whose_blocks_are_well_posed(n: int, d: int, expected: int) -> None:
    assert EMILoss(groups="auto").groups_for(n, d) == expected
    assert 2 * (d // expected) <= n - 1 and forced_correlations(n, d // expected) == 0


def test_auto_groups_compute_the_chosen_block_estimate_without_warning() -> None:
    z1, z2 = random_pair(64, 48)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EMIBatchWarning)
        auto = EMILoss(groups="auto")(z1, z2)
    torch.testing.assert_close(auto.terms["mi"], EMILoss(groups=2)(z1, z2).terms["mi"])


@pytest.mark.parametrize("groups", [0, -2, 1.5, "two", True])
def test_bad_groups_raise(groups) -> None:
    with pytest.raises(ValueError, match="groups must be an integer >= 1 or 'auto'"):
        EMILoss(groups=groups)


def test_auto_groups_need_three_embeddings() -> None:
    with pytest.raises(ValueError, match="at least 3 embeddings"):
        EMILoss(groups="auto").groups_for(2, 8)


def test_ledoit_wolf_shrinkage_of_standardized_views_is_the_ridge() -> None:
    # (1 - a) C + a I for every covariance (tr C / p = 1 after standardization) gives the MI of
    # the ridge eps = a / (1 - a): the documented reason there is no separate shrinkage option
    z1, z2 = random_pair(40, 6)
    a = 0.2
    s1 = (z1 - z1.mean(0)) / z1.std(0, unbiased=False)
    s2 = (z2 - z2.mean(0)) / z2.std(0, unbiased=False)
    joint = torch.cat([s1, s2], dim=1)
    cov = joint.T @ joint / 40
    shrunk = (1 - a) * cov + a * torch.eye(12, dtype=cov.dtype)
    mi = 0.5 * (torch.logdet(shrunk[:6, :6]) + torch.logdet(shrunk[6:, 6:]) - torch.logdet(shrunk))
    assert float(EMILoss(eps=a / (1 - a))(z1, z2).terms["mi"]) == pytest.approx(float(mi), rel=1e-6)


@pytest.mark.parametrize(("groups", "standardize", "eps"), [(1, True, 1e-3), (3, True, 1e-2), ("auto", False, 1e-3)])
def test_canonical_correlations_give_the_loss_estimate_exactly(groups, standardize, eps) -> None:
    from infossl.diagnostics import canonical_correlations, emi_diagnostics

    z1, z2 = random_pair(40, 12)
    loss = EMILoss(eps=eps, standardize=standardize, groups=groups)
    rho = canonical_correlations(z1, z2, loss)
    assert rho.shape == (loss.groups_for(40, 12), 12 // loss.groups_for(40, 12))
    assert bool((rho >= 0).all() and (rho < 1).all())
    from_correlations = float(-0.5 * torch.log1p(-rho.pow(2)).sum())
    assert from_correlations == pytest.approx(float(loss(z1, z2).terms["mi"]), rel=1e-9)
    assert emi_diagnostics(z1, z2, loss)["mi_estimate"] == pytest.approx(from_correlations, rel=1e-12)


def test_canonical_correlations_recover_known_correlations() -> None:
    from infossl.diagnostics import canonical_correlations

    g = torch.Generator().manual_seed(4)
    n, correlations = 200_000, torch.tensor([0.9, 0.6, 0.3, 0.0], dtype=torch.float64)
    x = torch.randn(n, 4, generator=g, dtype=torch.float64)
    y = correlations * x + (1 - correlations.pow(2)).sqrt() * torch.randn(n, 4, generator=g, dtype=torch.float64)
    mix = torch.randn(4, 4, generator=g, dtype=torch.float64)  # an invertible map of one view leaves them unchanged
    rho = canonical_correlations(x, y @ mix, EMILoss(eps=1e-9, standardize=False))[0]
    torch.testing.assert_close(rho, correlations, atol=0.01, rtol=0)


def test_the_emi_method_reports_its_canonical_correlations() -> None:
    from infossl.methods import EMI

    z1, z2 = random_pair(64, 16)
    report = EMI(projector=(32, 16), groups=2).diagnostics(z1, z2)
    assert set(report) == {"canonical_mean", "canonical_median", "canonical_strong", "mi_estimate", "forced_correlations"}
    assert 0 < report["canonical_mean"] < 1 and report["forced_correlations"] == 0
    assert report["mi_estimate"] == pytest.approx(float(EMILoss(groups=2)(z1, z2).terms["mi"]), rel=1e-9)


def test_canonical_correlations_of_a_singular_view_without_a_ridge_raise() -> None:
    from infossl.diagnostics import canonical_correlations

    z1, z2 = random_pair(20, 4)
    z1[:, 3] = z1[:, 2]  # two equal dimensions: a singular covariance
    with pytest.raises(ValueError, match="covariance of view 1 is singular at eps=0"):
        canonical_correlations(z1, z2, EMILoss(eps=0.0, standardize=False))
