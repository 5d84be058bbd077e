"""Process-group helpers shared by the losses (and later the training code).

Every batch statistic in infossl is computed on the *global* batch. Under
``torch.distributed`` with world size W > 1, :func:`gather_with_grad` all-gathers
the per-process tensors and keeps the autograd graph intact, so a loss computed
on the gathered tensor behaves exactly as if one process held the whole batch.
"""

from __future__ import annotations

import torch
import torch.distributed as dist


def world_size() -> int:
    """Number of processes in the default group (1 when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def rank() -> int:
    """Rank of this process in the default group (0 when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return 0


class _GatherWithGrad(torch.autograd.Function):
    """All-gather forward; backward sums the incoming gradients over processes
    and returns this process's slice.

    Each process computes its loss from the gathered tensor, so the gradient of
    the *sum* of the per-process losses with respect to this process's rows
    arrives spread over all processes: summing them (all-reduce) recovers it.
    DDP then averages parameter gradients over the W processes, which turns the
    sum back into the gradient of the mean loss, as on one process.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.local_rows = x.shape[0]
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        grad = grad.contiguous()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        start = dist.get_rank() * ctx.local_rows
        return grad[start : start + ctx.local_rows]


class _AllReduceSum(torch.autograd.Function):
    """All-reduce (sum) forward; backward sums the incoming gradients over processes.

    Every process uses the summed tensor in its own loss, so the gradient of the sum of
    the per-process losses with respect to this process's addend is the sum of all
    processes' gradients with respect to the result.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        total = x.clone().contiguous()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        grad = grad.clone().contiguous()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad


def all_reduce_sum_with_grad(x: torch.Tensor) -> torch.Tensor:
    """The sum of ``x`` over all processes, with gradients (``x`` itself when not distributed)."""
    if world_size() == 1:
        return x
    return _AllReduceSum.apply(x)


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` (rows = samples) from all processes, with gradients.

    Returns ``x`` unchanged when not distributed. All processes must hold the
    same number of rows (equal per-process batches).
    """
    if world_size() == 1:
        return x
    return _GatherWithGrad.apply(x)


def local_rows(global_rows: int) -> slice:
    """Slice of the rows of a gathered tensor that belong to this process."""
    per_process = global_rows // world_size()
    return slice(rank() * per_process, (rank() + 1) * per_process)
