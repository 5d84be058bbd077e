"""What every infossl objective shares: the return type, input checks and the
precision policy for batch statistics."""

from __future__ import annotations

import inspect
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from infossl.distributed import world_size


class LossOutput(NamedTuple):
    """``loss`` is the scalar to backpropagate; ``terms`` holds named, detached
    scalars for logging (unweighted values: see each loss for how they combine)."""

    loss: Tensor
    terms: dict[str, Tensor]


def statistics_dtype(*tensors: Tensor) -> torch.dtype:
    """float64 inputs stay float64; everything else is computed in float32."""
    return torch.float64 if any(t.dtype == torch.float64 for t in tensors) else torch.float32


class PairLoss(nn.Module):
    """Base class of the two-view objectives: ``loss(z1, z2) -> LossOutput``.

    It validates the pair (same 2-D shape, a large enough *global* batch),
    upcasts low-precision inputs and switches autocast off, so that subclasses
    compute every batch statistic in float32 or float64. Subclasses implement
    :meth:`compute` and gather across processes where they need batch statistics.
    """

    #: smallest global batch for which the objective is defined
    min_global_batch: int = 2

    def forward(self, z1: Tensor, z2: Tensor) -> LossOutput:
        name = type(self).__name__
        if z1.ndim != 2 or z2.ndim != 2:
            raise ValueError(
                f"{name} expects two 2-D tensors (batch, dim); got shapes "
                f"{tuple(z1.shape)} and {tuple(z2.shape)}"
            )
        if z1.shape != z2.shape:
            raise ValueError(
                f"{name} expects z1 and z2 of the same shape; got "
                f"{tuple(z1.shape)} and {tuple(z2.shape)}"
            )
        global_batch = z1.shape[0] * world_size()
        if global_batch < self.min_global_batch:
            raise ValueError(
                f"{name} needs a global batch of at least {self.min_global_batch} "
                f"samples; got local shape {tuple(z1.shape)} on {world_size()} process(es)"
            )
        if z1.shape[1] < 1:
            raise ValueError(f"{name} got embeddings of dimension 0: shape {tuple(z1.shape)}")
        dtype = statistics_dtype(z1, z2)
        if z1.dtype != dtype or z2.dtype != dtype:
            z1, z2 = z1.to(dtype), z2.to(dtype)
        if torch.is_autocast_enabled(z1.device.type):
            with torch.autocast(device_type=z1.device.type, enabled=False):
                loss, terms = self.compute(z1, z2)
        else:  # skip the context manager: it costs as much as a small loss
            loss, terms = self.compute(z1, z2)
        return LossOutput(loss, {key: value.detach() for key, value in terms.items()})

    def settings(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this loss, ``type(loss)(**loss.settings())``.

        As scikit-learn's ``get_params``: every ``__init__`` parameter is stored as
        the attribute of the same name (a convention each loss keeps and a test checks).
        """
        parameters = inspect.signature(type(self).__init__).parameters.values()
        return {p.name: getattr(self, p.name) for p in parameters if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}

    def compute(self, z1: Tensor, z2: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """The objective on local float32/float64 inputs: (loss, terms)."""
        raise NotImplementedError
