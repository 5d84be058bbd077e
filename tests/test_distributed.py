"""Distributed equivalence, with 2 processes on the gloo backend (CPU).

For every objective: the mean over processes of the per-process losses equals
the loss of one process holding the whole batch, and each process's gradient
with respect to its own rows, divided by the world size (as DDP averages),
equals the corresponding rows of the single-process gradient.
"""

from __future__ import annotations


from unittest import mock

import pytest
import torch
import torch.distributed as dist

from conftest import LOSS_CASES, random_pair
from infossl.distributed import _AllReduceSum
from infossl.losses import EntRecDiscreteLoss
from infossl.models import mlp

from process_group import run_in_process_group

WORLD_SIZE = 2
GLOBAL_BATCH = 8
# case -> (objective, whether the second argument is a detached teacher target)
CASES = {name: (name, False) for name in LOSS_CASES}
CASES.update({"entrec_teacher": ("entrec", True), "byol_teacher": ("byol", True)})
# EntRec's discrete objective takes probability vectors: the rows are logits through a softmax
DISCRETE = {"entrec_discrete": "expectation", "entrec_discrete_average": "average"}
DISCRETE_PROTOTYPES = 6
CASES.update({name: (name, False) for name in DISCRETE})
CASES["entrec_discrete_teacher"] = ("entrec_discrete", True)


def _inputs(objective: str) -> tuple[torch.Tensor, torch.Tensor]:
    dim = DISCRETE_PROTOTYPES if objective in DISCRETE else LOSS_CASES[objective][1]
    return random_pair(GLOBAL_BATCH, dim, seed=42)


def _run_case(objective: str, detach_target: bool, rows: slice) -> tuple[float, torch.Tensor, torch.Tensor | None]:
    z1, z2 = (z[rows].clone().requires_grad_() for z in _inputs(objective))
    if objective in DISCRETE:
        loss_fn = EntRecDiscreteLoss(DISCRETE[objective])
        a, b = torch.softmax(z1, dim=1), torch.softmax(z2, dim=1)
    else:
        loss_fn, (a, b) = LOSS_CASES[objective][0](), (z1, z2)
    out = loss_fn(a, b.detach() if detach_target else b)
    out.loss.backward()
    return out.loss.item(), z1.grad, z2.grad


def _run_head(rows: slice) -> tuple[float, torch.Tensor, list[torch.Tensor]]:
    """A projector with GlobalBatchNorm1d: loss = mean over rows of |head(x)|^2.
    Returns the loss, the input gradient and the parameter gradients (summed
    over processes, as DDP's all-reduce does before dividing by W)."""
    torch.manual_seed(0)
    head = mlp(5, (6, 6, 3)).double()
    x = random_pair(GLOBAL_BATCH, 5, seed=5)[0][rows].clone().requires_grad_()
    loss = head(x).pow(2).sum(dim=1).mean()
    loss.backward()
    grads = [p.grad.clone() for p in head.parameters()]
    if dist.is_initialized():
        for g in grads:
            dist.all_reduce(g)
    return loss.item(), x.grad, grads


def _per_rank(rank: int) -> dict:
    per_process = GLOBAL_BATCH // WORLD_SIZE
    rows = slice(rank * per_process, (rank + 1) * per_process)
    results = {case: _run_case(*spec, rows) for case, spec in CASES.items()}
    results["global_batchnorm_head"] = _run_head(rows)
    # negative control: the batch norm's all-reduced sums without their backward all-reduce
    with mock.patch.object(_AllReduceSum, "backward", staticmethod(lambda ctx, grad: grad)):
        results["global_batchnorm_head_local_gradient"] = _run_head(rows)
        results["entrec_discrete_local_gradient"] = _run_case("entrec_discrete", False, rows)
    return results


@pytest.fixture(scope="module")
def per_rank_results(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """Spawn the process group once and run every objective in it."""
    return run_in_process_group(_per_rank, WORLD_SIZE, tmp_path_factory.mktemp("ddp"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_one_process_holding_the_whole_batch(per_rank_results, case: str) -> None:
    objective, detach_target = CASES[case]
    loss, grad1, grad2 = _run_case(objective, detach_target, slice(None))

    mean_loss = sum(r[case][0] for r in per_rank_results) / WORLD_SIZE
    assert mean_loss == pytest.approx(loss, rel=1e-10, abs=1e-12)

    per_process = GLOBAL_BATCH // WORLD_SIZE
    for rank, results in enumerate(per_rank_results):
        _, rank_grad1, rank_grad2 = results[case]
        rows = slice(rank * per_process, (rank + 1) * per_process)
        torch.testing.assert_close(rank_grad1 / WORLD_SIZE, grad1[rows], rtol=1e-9, atol=1e-12)
        if detach_target:
            assert rank_grad2 is None and grad2 is None
        else:
            torch.testing.assert_close(rank_grad2 / WORLD_SIZE, grad2[rows], rtol=1e-9, atol=1e-12)


def test_projector_batch_norm_uses_global_statistics(per_rank_results) -> None:
    loss, grad_x, grad_params = _run_head(slice(None))
    ranks = [r["global_batchnorm_head"] for r in per_rank_results]
    assert sum(r[0] for r in ranks) / WORLD_SIZE == pytest.approx(loss, rel=1e-10)
    per_process = GLOBAL_BATCH // WORLD_SIZE
    for rank, (_, rank_grad_x, summed_params) in enumerate(ranks):
        rows = slice(rank * per_process, (rank + 1) * per_process)
        torch.testing.assert_close(rank_grad_x / WORLD_SIZE, grad_x[rows], rtol=1e-9, atol=1e-12)
        for summed, single in zip(summed_params, grad_params):
            torch.testing.assert_close(summed / WORLD_SIZE, single, rtol=1e-9, atol=1e-12)


def test_gradients_are_not_trivial(per_rank_results) -> None:
    # guards against a comparison of zeros with zeros
    for case in [*CASES, "global_batchnorm_head"]:
        assert per_rank_results[0][case][1].abs().max() > 1e-6


def test_negative_control_without_the_backward_all_reduce_the_gradients_differ(per_rank_results) -> None:
    _, grad_x, _ = _run_head(slice(None))
    per_process = GLOBAL_BATCH // WORLD_SIZE
    rank_grad_x = per_rank_results[0]["global_batchnorm_head_local_gradient"][1]
    assert not torch.allclose(rank_grad_x / WORLD_SIZE, grad_x[:per_process], rtol=1e-3, atol=1e-6)


def test_negative_control_a_local_batch_mean_gradient_differs_for_entrec_discrete(per_rank_results) -> None:
    _, grad1, _ = _run_case("entrec_discrete", False, slice(None))
    per_process = GLOBAL_BATCH // WORLD_SIZE
    rank_grad1 = per_rank_results[0]["entrec_discrete_local_gradient"][1]
    assert not torch.allclose(rank_grad1 / WORLD_SIZE, grad1[:per_process], rtol=1e-3, atol=1e-6)
