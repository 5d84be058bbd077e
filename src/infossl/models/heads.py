"""Projection and prediction heads, with batch norm over the global batch."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from infossl.distributed import all_reduce_sum_with_grad, world_size


class GlobalBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d whose training statistics are those of the global batch, in float32 at least.

    Under ``torch.distributed`` each process all-reduces per-channel sums, with
    gradients: its row count, the sum of its rows, then the sum of their squared
    deviations from the global mean (three all-reduces of C values per layer, not an
    all-gather of the N x C activations). Each process then normalizes its own rows with
    the global mean and biased variance and updates the running statistics with the
    unbiased one, exactly as one process holding the whole batch would. Statistics and
    normalization are computed in float32 (float64 inputs stay float64) whatever the
    autocast dtype, and the output keeps the input's dtype. With one process it is plain
    ``BatchNorm1d``. On GPUs, ``trainer.sync_batchnorm=true`` makes Lightning replace every
    batch norm, this one included, by torch's ``SyncBatchNorm`` (fused CUDA kernels).
    """

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or world_size() == 1:
            return super().forward(x)
        dtype = torch.promote_types(x.dtype, torch.float32)
        with torch.autocast(x.device.type, enabled=False):
            xf = x.to(dtype)
            count = all_reduce_sum_with_grad(torch.tensor([float(x.shape[0])], dtype=dtype, device=x.device))
            mean = all_reduce_sum_with_grad(xf.sum(dim=0)) / count
            var = all_reduce_sum_with_grad((xf - mean).square().sum(dim=0)) / count
            if self.track_running_stats and self.running_mean is not None and self.running_var is not None:
                n = float(count)
                with torch.no_grad():
                    self.num_batches_tracked.add_(1)  # type: ignore[union-attr]
                    m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                    self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), m)
                    self.running_var.lerp_((var.detach() * n / max(n - 1, 1)).to(self.running_var.dtype), m)
            out = (xf - mean) * torch.rsqrt(var + self.eps)
            if self.affine:
                out = out * self.weight.to(dtype) + self.bias.to(dtype)
        return out.to(x.dtype)


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


class DINOHead(nn.Module):
    """DINO's projection head (Caron et al., ICCV 2021): an MLP (Linear-GELU hidden layers,
    without batch norm by default, as DINO) down to a bottleneck, L2 normalization, then a
    weight-normalized linear layer without bias onto the prototypes, whose weight norms are
    fixed to 1 (DINO's ``norm_last_layer``): the logits are cosine similarities to the
    prototypes.

    Args:
        in_dim: backbone feature size.
        hidden: output sizes of the hidden layers (DINO: 2048, 2048).
        bottleneck: size of the normalized bottleneck (DINO: 256).
        prototypes: number of prototypes, the output size (DINO: 65,536).
        batch_norm: batch norm (over the global batch) after each hidden layer, DINO's
            ``use_bn_in_head`` option.
    """

    def __init__(self, in_dim: int, hidden: Sequence[int], bottleneck: int, prototypes: int, batch_norm: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = in_dim
        for width in hidden:
            layers += [nn.Linear(c_in, width), *([GlobalBatchNorm1d(width)] if batch_norm else []), nn.GELU()]
            c_in = width
        layers.append(nn.Linear(c_in, bottleneck))
        self.mlp = nn.Sequential(*layers)
        for module in self.mlp:
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        self.last_layer = nn.utils.parametrizations.weight_norm(nn.Linear(bottleneck, prototypes, bias=False))
        self.last_layer.parametrizations.weight.original0.data.fill_(1.0)
        self.last_layer.parametrizations.weight.original0.requires_grad_(False)

    def forward(self, features: Tensor) -> Tensor:
        z = nn.functional.normalize(self.mlp(features), dim=-1)
        return self.last_layer(z)
