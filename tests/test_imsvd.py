"""IMSVD: the known values and bounds of its loss (Niu et al.; see IMSVDLoss's docstring)."""

from __future__ import annotations

import math

import pytest
import torch

from infossl.losses import IMSVDLoss

ONE_HOT_LOGIT = 60.0  # softmax mass off the chosen state is e^-60, below the 1e-8 clamp


def one_hot_logits(states: torch.Tensor, k: int) -> torch.Tensor:
    """N x M integer states -> N x (M K) logits putting all mass on those states."""
    n, m = states.shape
    return (ONE_HOT_LOGIT * torch.nn.functional.one_hot(states, k)).reshape(n, m * k).double()


def independent_uniform_states(k: int, n_groups: int, m: int) -> torch.Tensor:
    """N = k * n_groups samples, M variables with var_i(a, b) = (a + i b) mod k.

    For prime k every variable uses its states uniformly and, for i != j, the
    pairs (var_i, var_j) are all distinct: uniform over k^2 pairs when
    n_groups = k, and N distinct pairs otherwise.
    """
    a = torch.arange(k).repeat(n_groups)
    b = torch.arange(n_groups).repeat_interleave(k)
    return torch.stack([(a + i * b) % k for i in range(m)], dim=1)


def test_collapse_gives_zero() -> None:
    k, m, n = 8, 4, 32
    states = torch.zeros(n, m, dtype=torch.long)
    z = one_hot_logits(states, k)
    out = IMSVDLoss(num_states=k)(z, z.clone())
    assert abs(out.loss.item()) < 1e-4
    for value in out.terms.values():
        assert abs(value.item()) < 1e-4


@pytest.mark.parametrize("k", [4, 32, 80])
def test_uniform_softmax_value(k: int) -> None:
    z = torch.zeros(16, 3 * k)
    out = IMSVDLoss(num_states=k)(z, z.clone())
    expected = math.log(k) - 2 * math.log(k) / k - 2 * math.log(k)
    assert out.loss.item() == pytest.approx(expected, abs=1e-4)
    assert out.terms["invariance"].item() == pytest.approx(math.log(k), abs=1e-4)
    assert out.terms["diagonal"].item() == pytest.approx(-2 * math.log(k) / k, abs=1e-4)
    assert out.terms["off_diagonal"].item() == pytest.approx(-2 * math.log(k), abs=1e-4)


def test_uniform_value_from_spec_for_k80() -> None:
    z = torch.zeros(8, 2 * 80)
    assert IMSVDLoss(num_states=80)(z, z).loss.item() == pytest.approx(-4.49, abs=0.01)


@pytest.mark.parametrize(("k", "n_groups", "m"), [(5, 5, 3), (7, 7, 4), (7, 3, 4), (11, 2, 2)])
def test_invariant_independent_one_hot_states(k: int, n_groups: int, m: int) -> None:
    states = independent_uniform_states(k, n_groups, m)
    n = states.shape[0]
    z = one_hot_logits(states, k)
    out = IMSVDLoss(num_states=k)(z, z.clone())
    expected = -math.log(k) - min(2 * math.log(k), math.log(n))
    assert out.loss.item() == pytest.approx(expected, abs=1e-4)
    assert out.terms["invariance"].item() == pytest.approx(0.0, abs=1e-4)
    assert out.terms["diagonal"].item() == pytest.approx(-math.log(k), abs=1e-4)


def test_one_hot_value_at_paper_k80() -> None:
    # two variables: (a, a + b mod K) pairs are distinct for any K; N = 2000 < K^2,
    # so the redundancy term is capped at log N (about -12.0 for K = 80, N = 2048)
    states = independent_uniform_states(80, 25, 2)
    z = one_hot_logits(states, 80)
    out = IMSVDLoss(num_states=80)(z, z.clone())
    assert out.loss.item() == pytest.approx(-math.log(80) - math.log(2000), abs=1e-4)
    assert out.loss.item() == pytest.approx(-12.0, abs=0.05)


def test_terms_respect_bounds_on_random_batches() -> None:
    torch.manual_seed(0)
    loss_fn = IMSVDLoss(num_states=6, temperature=0.3)
    bounds = loss_fn.bounds()
    for _ in range(20):
        z1, z2 = torch.randn(50, 24) * 5, torch.randn(50, 24) * 5
        out = loss_fn(z1, z2)
        for name, bound in bounds.items():
            assert out.terms[name].item() >= bound - 1e-5
        assert out.loss.item() >= -3 * math.log(6) - 1e-5


def test_joint_blocks_match_a_loop_over_variables() -> None:
    torch.manual_seed(1)
    k, m, n = 3, 3, 7
    z1, z2 = torch.randn(n, m * k, dtype=torch.float64), torch.randn(n, m * k, dtype=torch.float64)
    out = IMSVDLoss(num_states=k, temperature=0.5)(z1, z2)
    p1 = torch.softmax(z1.reshape(n, m, k) / 0.5, -1).clamp(min=1e-8)
    p2 = torch.softmax(z2.reshape(n, m, k) / 0.5, -1).clamp(min=1e-8)
    diagonal, off_diagonal = 0.0, 0.0
    for i in range(m):
        for j in range(m):
            block = sum(torch.outer(p1[s, i], p2[s, j]) for s in range(n)) / n
            plogp = block * torch.log(block)
            if i == j:
                diagonal += torch.diagonal(plogp).sum().item() / m
            else:
                off_diagonal += plogp.sum().item() / (m * (m - 1))
    invariance = -sum(math.log((p1[s, i] * p2[s, i]).sum()) for s in range(n) for i in range(m)) / (n * m)
    assert out.terms["diagonal"].item() == pytest.approx(diagonal, rel=1e-10)
    assert out.terms["off_diagonal"].item() == pytest.approx(off_diagonal, rel=1e-10)
    assert out.terms["invariance"].item() == pytest.approx(invariance, rel=1e-10)


def test_weights_scale_terms() -> None:
    z1, z2 = torch.randn(10, 8), torch.randn(10, 8)
    terms = IMSVDLoss(num_states=4)(z1, z2).terms
    weighted = IMSVDLoss(num_states=4, invariance_weight=2.0, diagonal_weight=0.5, off_diagonal_weight=0.0)
    expected = 2.0 * terms["invariance"] + 0.5 * terms["diagonal"]
    assert weighted(z1, z2).loss.item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize(
    ("shape", "num_states", "message"),
    [((8, 30), 4, "num_states=4 must divide .* D=30"), ((8, 4), 4, "D=4 into M = D / num_states >= 2")],
)
def test_bad_splits_raise(shape: tuple[int, int], num_states: int, message: str) -> None:
    z = torch.randn(*shape)
    with pytest.raises(ValueError, match=message) as info:
        IMSVDLoss(num_states=num_states)(z, z)
    assert str(shape) in str(info.value)


def test_bad_hyper_parameters_raise() -> None:
    with pytest.raises(ValueError, match="num_states"):
        IMSVDLoss(num_states=1)
    with pytest.raises(ValueError, match="temperature"):
        IMSVDLoss(temperature=0.0)


def test_normalized_logits_match_standardizing_each_variable_by_hand() -> None:
    torch.manual_seed(2)
    k, m, n, temperature = 5, 3, 9, 0.4
    z1, z2 = torch.randn(n, m * k, dtype=torch.float64) * 3, torch.randn(n, m * k, dtype=torch.float64) * 3

    def standardized(z: torch.Tensor) -> torch.Tensor:
        rows = []
        for s in range(n):
            for i in range(m):
                logits = z[s, i * k:(i + 1) * k]
                mean = logits.mean()
                std = ((logits - mean).pow(2).mean() + 1e-6).sqrt()
                rows.append((logits - mean) / std)
        return torch.stack(rows).reshape(n, m * k)

    normalized = IMSVDLoss(num_states=k, temperature=temperature, normalize_logits=True)(z1, z2)
    by_hand = IMSVDLoss(num_states=k, temperature=temperature)(standardized(z1), standardized(z2))
    for name in ("invariance", "diagonal", "off_diagonal"):
        assert normalized.terms[name].item() == pytest.approx(by_hand.terms[name].item(), rel=1e-10)


def test_normalized_logits_ignore_the_scale_and_offset_of_each_variable() -> None:
    torch.manual_seed(3)
    k, m, n = 4, 3, 16
    z1, z2 = torch.randn(n, m * k, dtype=torch.float64), torch.randn(n, m * k, dtype=torch.float64)
    scale = torch.rand(n, m, 1, dtype=torch.float64) * 10 + 0.5  # per image and variable
    offset = torch.randn(n, m, 1, dtype=torch.float64) * 5

    def transformed(z: torch.Tensor) -> torch.Tensor:
        return (z.view(n, m, k) * scale + offset).reshape(n, m * k)

    plain, normalized = IMSVDLoss(num_states=k), IMSVDLoss(num_states=k, normalize_logits=True)
    assert normalized(transformed(z1), transformed(z2)).loss.item() == pytest.approx(normalized(z1, z2).loss.item(), rel=1e-6)
    # without the option the same transform changes the loss: the test can tell them apart
    assert abs(plain(transformed(z1), transformed(z2)).loss.item() - plain(z1, z2).loss.item()) > 0.1
