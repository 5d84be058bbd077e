"""What every objective guarantees: the return type, gradients (gradcheck),
precision under autocast, finite values on degenerate batches and clear errors
for shapes that cannot work."""

from __future__ import annotations

import pytest
import torch

from infossl.losses import LossOutput

from conftest import LOSS_CASES, random_pair

EXPECTED_TERMS = {
    "imsvd": {"invariance", "diagonal", "off_diagonal"},
    "imsvd_normalized": {"invariance", "diagonal", "off_diagonal"},
    "emi": {"mi", "logdet_z1", "logdet_z2", "logdet_joint"},
    "emi_groups": {"mi", "logdet_z1", "logdet_z2", "logdet_joint"},
    "emi_auto_groups": {"mi", "logdet_z1", "logdet_z2", "logdet_joint"},
    "emi_entropy": {"mi", "logdet_z1", "logdet_z2", "logdet_joint", "invariance", "entropy"},
    "entrec": {"reconstruction", "entropy"},
    "entrec_average": {"reconstruction", "entropy"},
    "infonce": {"infonce"},
    "byol": {"cosine"},
    "barlow": {"on_diagonal", "off_diagonal"},
    "vicreg": {"invariance", "variance", "covariance"},
    "dino": {"cross_entropy", "teacher_entropy"},
}


def test_every_case_is_covered() -> None:
    assert set(EXPECTED_TERMS) == set(LOSS_CASES)


def test_returns_loss_output_with_named_detached_terms(loss_case) -> None:
    name, loss_fn, d = loss_case
    z1, z2 = random_pair(8, d, dtype=torch.float32)
    z1.requires_grad_()
    out = loss_fn(z1, z2)
    assert isinstance(out, LossOutput)
    loss, terms = out  # unpacks like a tuple
    assert loss.ndim == 0 and loss.requires_grad
    assert set(terms) == EXPECTED_TERMS[name]
    assert all(t.ndim == 0 and not t.requires_grad for t in terms.values())


def test_gradcheck_float64(loss_case) -> None:
    _, loss_fn, d = loss_case
    z1, z2 = random_pair(6, d)
    z1.requires_grad_()
    z2.requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: loss_fn(a, b).loss, (z1, z2), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_inputs_are_upcast_under_autocast(loss_case, dtype: torch.dtype) -> None:
    _, loss_fn, d = loss_case
    torch.manual_seed(0)
    x = torch.randn(16, 8)
    head = torch.nn.Linear(8, 2 * d)
    with torch.autocast("cpu", dtype=dtype):
        z = head(x)
        assert z.dtype == dtype  # autocast really produced low-precision embeddings
        out = loss_fn(z[:, :d], z[:, d:])
    assert out.loss.dtype == torch.float32
    assert torch.isfinite(out.loss)
    reference = loss_fn(z[:, :d].float(), z[:, d:].float())
    assert out.loss.item() == pytest.approx(reference.loss.item(), rel=1e-6, abs=1e-6)
    out.loss.backward()
    assert torch.isfinite(head.weight.grad).all()


def test_float64_stays_float64(loss_case) -> None:
    _, loss_fn, d = loss_case
    assert loss_fn(*random_pair(8, d)).loss.dtype == torch.float64


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_collapsed_embeddings_give_finite_loss_and_gradients(loss_case, dtype: torch.dtype) -> None:
    _, loss_fn, d = loss_case
    z1 = torch.full((16, d), 0.7, dtype=dtype, requires_grad=True)
    z2 = torch.full((16, d), 0.7, dtype=dtype, requires_grad=True)
    out = loss_fn(z1, z2)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    assert torch.isfinite(z1.grad).all() and torch.isfinite(z2.grad).all()


def test_batch_smaller_than_twice_the_dimension_is_finite(loss_case) -> None:
    _, loss_fn, d = loss_case
    z1, z2 = random_pair(3, d, dtype=torch.float32)  # every case has d >= 3, so N <= 2D
    assert torch.isfinite(loss_fn(z1, z2).loss)


@pytest.mark.parametrize(
    ("shape1", "shape2"),
    [((8, 12), (8, 24)), ((8, 12), (6, 12)), ((12,), (12,)), ((2, 4, 12), (2, 4, 12))],
)
def test_shapes_that_cannot_work_raise_with_the_shapes(loss_case, shape1, shape2) -> None:
    _, loss_fn, _ = loss_case
    with pytest.raises(ValueError) as info:
        loss_fn(torch.randn(*shape1), torch.randn(*shape2))
    assert str(tuple(shape1)) in str(info.value)


def test_a_batch_of_one_raises_where_batch_statistics_are_needed(loss_case) -> None:
    name, loss_fn, d = loss_case
    z = torch.randn(1, d)
    if name in ("byol", "dino"):  # no batch statistic: one sample is a valid batch
        assert torch.isfinite(loss_fn(z, z).loss)
        return
    with pytest.raises(ValueError, match=r"global batch of at least 2.*\(1, "):
        loss_fn(z, z)
