"""kNN, linear probe and information diagnostics on constructed inputs with known answers."""

from __future__ import annotations

import math

import pytest
import torch

from infossl import diagnostics as dg
from infossl.eval.knn import knn_evaluate, knn_scores
from infossl.eval.linear import ProbeConfig, linear_probe


def clustered(n: int, dim: int, classes: int, spread: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=torch.Generator().manual_seed(123)) * 3
    labels = torch.randint(0, classes, (n,), generator=g)
    return centres[labels] + spread * torch.randn(n, dim, generator=g), labels


def test_knn_and_probe_are_near_perfect_on_separated_features() -> None:
    x, y = clustered(2000, 32, 5, 1.0, seed=0)
    xt, yt = clustered(500, 32, 5, 1.0, seed=1)
    knn = knn_evaluate(x, y, xt, yt, ks=(20, 200))
    assert knn["knn20_top1"] > 0.99 and knn["knn200_top1"] > 0.99
    probe = linear_probe(x, y, xt, yt, ProbeConfig(weight_decays=(1e-4, 1e-2)))
    assert probe["top1"] > 0.99 and probe["top5"] == 1.0
    sgd = linear_probe(x, y, xt, yt, ProbeConfig(solver="sgd", epochs=5, weight_decays=(0.0,)))
    assert sgd["top1"] > 0.99


def test_knn_and_probe_are_at_chance_on_random_labels() -> None:
    x, _ = clustered(3000, 32, 5, 1.0, seed=0)
    xt, _ = clustered(2000, 32, 5, 1.0, seed=1)
    g = torch.Generator().manual_seed(7)
    y, yt = torch.randint(0, 10, (3000,), generator=g), torch.randint(0, 10, (2000,), generator=g)
    assert abs(knn_evaluate(x, y, xt, yt, ks=(20,))["knn20_top1"] - 0.1) < 0.035
    assert abs(linear_probe(x, y, xt, yt)["top1"] - 0.1) < 0.035


def test_knn_chunking_matches_the_unchunked_computation() -> None:
    x, y = clustered(700, 16, 4, 3.0, seed=2)
    xt, _ = clustered(301, 16, 4, 3.0, seed=3)
    whole = knn_scores(x, y, xt, 4, ks=(5, 50), chunk_size=10_000)
    chunked = knn_scores(x, y, xt, 4, ks=(5, 50), chunk_size=7)
    for k in (5, 50):  # float32 matrix products of other shapes round differently: 1e-5
        torch.testing.assert_close(chunked[k], whole[k], rtol=1e-5, atol=0)
        assert torch.equal(chunked[k].argmax(1), whole[k].argmax(1))
    # smaller k from the larger k's neighbours = k computed alone
    torch.testing.assert_close(knn_scores(x, y, xt, 4, ks=(5,))[5], whole[5])


def test_knn_votes_by_hand() -> None:
    bank = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    labels = torch.tensor([0, 1, 1])
    query = torch.tensor([[1.0, 0.0]])
    scores = knn_scores(bank, labels, query, 2, ks=(2,), temperature=0.5)[2]
    # neighbours: bank[0] (cos 1) and bank[2] (cos 1/sqrt 2)
    expected = torch.tensor([[math.exp(1 / 0.5), math.exp(2**-0.5 / 0.5)]])
    torch.testing.assert_close(scores, expected.float())


def test_probe_never_looks_at_the_test_labels() -> None:
    x, y = clustered(800, 16, 4, 4.0, seed=4)
    xt, yt = clustered(300, 16, 4, 4.0, seed=5)
    config = ProbeConfig(weight_decays=(1e-5, 1e-2, 1.0))
    a = linear_probe(x, y, xt, yt, config)
    b = linear_probe(x, y, xt, torch.randint(0, 4, yt.shape, generator=torch.Generator().manual_seed(0)), config)
    assert a["weight_decay"] == b["weight_decay"] and a["holdout_top1"] == b["holdout_top1"]


def test_effective_rank_is_d_for_orthogonal_and_1_for_rank_one() -> None:
    q, _ = torch.linalg.qr(torch.randn(64, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    assert dg.effective_rank(q) == pytest.approx(64, rel=1e-6)
    assert dg.effective_rank(torch.cat([q[:16], q[:16]]) * 3) == pytest.approx(16, rel=1e-6)
    rank_one = torch.randn(100, 1, dtype=torch.float64) @ torch.randn(1, 32, dtype=torch.float64)
    assert dg.effective_rank(rank_one) == pytest.approx(1.0, rel=1e-6)


def test_dimension_entropy_bounds() -> None:
    z = torch.cat([torch.linspace(0, 1, 3200).view(-1, 1), torch.full((3200, 1), 2.0)], dim=1)
    entropy = dg.dimension_entropy(z, bins=32)
    assert entropy[0] == pytest.approx(math.log(32), rel=1e-3)
    assert entropy[1] == 0.0


def test_effective_states_are_exact() -> None:
    k = 8
    marginals = torch.stack([torch.full((k,), 1 / k), torch.eye(k)[3], torch.tensor([0.5, 0.5] + [0.0] * (k - 2))])
    torch.testing.assert_close(dg.effective_states(marginals), torch.tensor([8.0, 1.0, 2.0], dtype=torch.float64))


def one_hot_variables(states: torch.Tensor, k: int) -> torch.Tensor:
    """(N, M) integer states -> (N, M, K) one-hot assignments."""
    return torch.nn.functional.one_hot(states, k).double()


def test_redundancy_is_exact_on_constructed_joints() -> None:
    k = 4
    # all K^2 combinations of variables a and b (independent, uniform); c copies a
    a, b = torch.arange(k * k) // k, torch.arange(k * k) % k
    p = one_hot_variables(torch.stack([a, b, a], dim=1), k)
    mi = dg.block_mutual_information(dg.joint_matrix(p, p), k)
    expected = torch.tensor(
        [[math.log(k), 0.0, math.log(k)], [0.0, math.log(k), 0.0], [math.log(k), 0.0, math.log(k)]], dtype=torch.float64
    )
    torch.testing.assert_close(mi, expected, atol=1e-12, rtol=0)
    # off-diagonal pairs (a,b),(a,c),(b,c) twice each: MI 0, log K, 0
    assert dg.redundancy(dg.joint_matrix(p, p), k) == pytest.approx(math.log(k) / 3)
    report = dg.imsvd_diagnostics(torch.log(p.clamp_min(1e-30)).reshape(k * k, -1).float(), torch.log(p.clamp_min(1e-30)).reshape(k * k, -1).float(), k)
    assert report["effective_states"] == pytest.approx(k, rel=1e-6)
    assert report["invariant_information"] == pytest.approx(math.log(k), rel=1e-6)
    assert report["redundancy"] == pytest.approx(math.log(k) / 3, rel=1e-6)
    # identical one-hot views: full agreement and confidence; the floor is the bound -log K
    assert report["view_agreement"] == pytest.approx(1.0, rel=1e-6)
    assert report["confidence"] == pytest.approx(1.0, rel=1e-6)
    assert report["diagonal_floor"] == pytest.approx(-math.log(k), rel=1e-6)


def test_imsvd_diagonal_term_is_bounded_by_the_floor_at_its_view_agreement() -> None:
    from infossl.losses import IMSVDLoss

    k, g = 8, torch.Generator().manual_seed(0)
    for scale in (0.3, 3.0, 30.0):
        z1 = scale * torch.randn(64, 4 * k, generator=g, dtype=torch.float64)
        z2 = z1 + scale * torch.randn(64, 4 * k, generator=g, dtype=torch.float64)
        report = dg.imsvd_diagnostics(z1, z2, k)
        diagonal = float(IMSVDLoss(k)(z1, z2).terms["diagonal"])
        assert 0 < report["view_agreement"] < 1 and 1 / k < report["confidence"] < 1
        assert diagonal >= report["diagonal_floor"] - 1e-9  # s log(s/K) <= sum_k J_kk log J_kk
        assert report["diagonal_floor"] > -math.log(k)  # not reachable without full agreement
    # uniform soft assignments: agreement 1/K, floor (1/K) log(1/K^2) = the diagonal term itself
    report = dg.imsvd_diagnostics(torch.zeros(16, 2 * k), torch.zeros(16, 2 * k), k)
    assert report["view_agreement"] == pytest.approx(1 / k) and report["confidence"] == pytest.approx(1 / k)
    assert report["diagonal_floor"] == pytest.approx(-2 * math.log(k) / k)


def test_alignment_and_uniformity_known_values() -> None:
    z = torch.randn(50, 8, generator=torch.Generator().manual_seed(0))
    assert dg.alignment(z, 2 * z) == pytest.approx(0.0, abs=1e-12)
    assert dg.alignment(z, -z) == pytest.approx(4.0)
    antipodal = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    assert dg.uniformity(antipodal) == pytest.approx(-8.0)


def test_view_information_is_near_zero_for_independent_views_and_large_for_dependent_ones() -> None:
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(2048, 128, generator=g), torch.randn(2048, 128, generator=g)
    independent = dg.view_information(z1, z2, dim=32)
    assert abs(independent["mi_excess"]) < 0.1
    dependent = dg.view_information(z1, z1 + 0.3 * z2, dim=32)
    assert dependent["mi_excess"] > 20
    assert dependent["mi_shuffled"] == pytest.approx(independent["mi_shuffled"], abs=0.3)


def test_diagnostics_reject_nan() -> None:
    z = torch.randn(10, 4)
    z[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        dg.effective_rank(z)
