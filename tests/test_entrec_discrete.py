"""EntRec's discrete-support objective: the formulas against a plain loop, bounds,
gradients, and clear errors for inputs that are not probability vectors."""

from __future__ import annotations

import math

import pytest
import torch

from infossl.losses import EntRecDiscreteLoss

EPS = 1e-7


def probabilities(n: int, p: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(scale * torch.randn(n, p, generator=g, dtype=torch.float64), dim=1)


def loop_reference(p1: torch.Tensor, p2: torch.Tensor, estimator: str) -> tuple[float, float, float]:
    """(loss, reconstruction, entropy) from the reference code's formulas, one number at a time."""
    n, k = p1.shape
    rows1, rows2 = p1.tolist(), p2.tolist()

    def entropy(rows: list[list[float]]) -> float:
        mean = [sum(row[j] for row in rows) / n for j in range(k)]
        if estimator == "average":
            return -sum(math.log(m + EPS) for m in mean) / k
        return -sum(m * math.log(m + EPS) for m in mean)

    reconstruction = sum(
        0.5 * (-sum(a[j] * math.log(b[j] + EPS) for j in range(k)) - sum(b[j] * math.log(a[j] + EPS) for j in range(k)))
        for a, b in zip(rows1, rows2)
    ) / n
    h = 0.5 * (entropy(rows1) + entropy(rows2))
    return reconstruction - h, reconstruction, h


@pytest.mark.parametrize("estimator", ["expectation", "average"])
def test_matches_a_loop_over_the_formulas(estimator: str) -> None:
    p1, p2 = probabilities(12, 7, 0), probabilities(12, 7, 1)
    out = EntRecDiscreteLoss(estimator)(p1, p2)
    loss, reconstruction, entropy = loop_reference(p1, p2, estimator)
    assert out.loss.item() == pytest.approx(loss, rel=1e-12)
    assert out.terms["reconstruction"].item() == pytest.approx(reconstruction, rel=1e-12)
    assert out.terms["entropy"].item() == pytest.approx(entropy, rel=1e-12)


@pytest.mark.parametrize("scale", [0.1, 1.0, 10.0, 100.0])
def test_entropy_bounds(scale: float) -> None:
    p = probabilities(32, 10, 2, scale)
    expectation = EntRecDiscreteLoss("expectation")(p, p).terms["entropy"].item()
    average = EntRecDiscreteLoss("average")(p, p).terms["entropy"].item()
    assert -1e-6 <= expectation <= math.log(10) + 1e-9
    assert average >= math.log(10) - 1e-6


def test_collapse_lowers_the_plug_in_entropy_and_raises_the_average_one() -> None:
    spread, collapsed = probabilities(32, 10, 3, 0.1), torch.zeros(32, 10, dtype=torch.float64)
    collapsed[:, 0] = 1.0
    expectation, average = EntRecDiscreteLoss("expectation"), EntRecDiscreteLoss("average")
    assert expectation(collapsed, collapsed).terms["entropy"] < 1e-5 < expectation(spread, spread).terms["entropy"]
    # "average" is maximized by collapse: the documented reason it is not the default
    assert average(collapsed, collapsed).terms["entropy"] > 10 > average(spread, spread).terms["entropy"]


def test_gradcheck_through_a_softmax() -> None:
    loss = EntRecDiscreteLoss()
    logits1 = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    logits2 = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: loss(torch.softmax(a, 1), torch.softmax(b, 1)).loss, (logits1, logits2))


def test_a_detached_target_reports_its_entropy_without_gradient() -> None:
    logits = torch.randn(8, 5, dtype=torch.float64, requires_grad=True)
    target = probabilities(8, 5, 4)
    out = EntRecDiscreteLoss()(torch.softmax(logits, 1), target)
    out.loss.backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    assert out.terms["entropy"].item() == pytest.approx(loop_reference(torch.softmax(logits, 1).detach(), target, "expectation")[2])


def test_inputs_that_are_not_probabilities_raise() -> None:
    with pytest.raises(ValueError, match="probability vectors"):
        EntRecDiscreteLoss()(torch.randn(4, 3), torch.softmax(torch.randn(4, 3), 1))
    with pytest.raises(ValueError, match="estimator"):
        EntRecDiscreteLoss("median")  # type: ignore[arg-type]
