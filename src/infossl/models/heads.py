"""Projection and prediction heads, with batch norm over the global batch."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from infossl.distributed import gather_with_grad, world_size


class GlobalBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d whose training statistics are those of the global batch.

    Under ``torch.distributed`` the inputs are gathered with gradients
    (``SyncBatchNorm`` refuses CPU tensors); each process then normalizes its
    own rows with the global mean and biased variance and updates the running
    statistics with the unbiased one, exactly as one process holding the whole
    batch would. With one process it is plain ``BatchNorm1d``.
    """

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or world_size() == 1:
            return super().forward(x)
        everyone = gather_with_grad(x)
        mean = everyone.mean(dim=0)
        var = everyone.var(dim=0, unbiased=False)
        if self.track_running_stats and self.running_mean is not None and self.running_var is not None:
            n = everyone.shape[0]
            with torch.no_grad():
                self.num_batches_tracked.add_(1)  # type: ignore[union-attr]
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.lerp_(mean.detach(), m)
                self.running_var.lerp_(var.detach() * n / max(n - 1, 1), m)
        out = (x - mean) * torch.rsqrt(var + self.eps)
        if self.affine:
            out = out * self.weight + self.bias
        return out


def mlp(in_dim: int, dims: Sequence[int], last_bias: bool = True) -> nn.Sequential:
    """Linear -> BatchNorm -> ReLU for each hidden layer, then a final Linear.

    ``dims`` lists the output sizes of the layers, e.g. (1024, 1024, 1024).
    """
    if len(dims) == 0:
        raise ValueError("a head needs at least one layer: got dims=[]")
    layers: list[nn.Module] = []
    c_in = in_dim
    for width in dims[:-1]:
        layers += [nn.Linear(c_in, width, bias=False), GlobalBatchNorm1d(width), nn.ReLU(inplace=True)]
        c_in = width
    layers.append(nn.Linear(c_in, dims[-1], bias=last_bias))
    return nn.Sequential(*layers)
