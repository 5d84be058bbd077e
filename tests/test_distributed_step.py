"""One full training step under DDP (2 gloo processes) equals one process with the combined batch.

Backbone (the convnet with its batch norm in eval mode) + the method's projector
(GlobalBatchNorm1d in training mode, so it normalizes with global batch
statistics) + the objective, wrapped in DistributedDataParallel; one SGD step.
Loss and updated parameters must match the single-process step on the same
16 images, in float64.
"""

from __future__ import annotations


import pytest
import torch
import torch.distributed as dist
from torch import nn

from infossl.methods import EMI, IMSVD, BarlowTwins, EntRec
from infossl.models.backbones import BackboneSpec, build_backbone

from process_group import run_in_process_group

WORLD_SIZE = 2
GLOBAL_BATCH = 16
METHODS = {
    "imsvd": lambda: IMSVD(projector=(32, 24), num_states=4),
    "emi": lambda: EMI(projector=(32, 6)),
    "entrec": lambda: EntRec(projector=(32, 8)),
    "barlow": lambda: BarlowTwins(projector=(32, 8)),
}


class Model(nn.Module):
    def __init__(self, name: str) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.backbone, dim = build_backbone(BackboneSpec(name="convnet", widths=(4, 8, 8, 8)))
        self.method = METHODS[name]()
        self.method.build(self.backbone, dim)
        self.double()

    def train(self, mode: bool = True) -> "Model":
        super().train(mode)
        for module in self.backbone.modules():  # backbone batch norm in eval mode (local statistics otherwise)
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
        return self

    def forward(self, view1: torch.Tensor, view2: torch.Tensor) -> torch.Tensor:
        return self.method.training_loss(self.backbone, [view1, view2])[0].loss


def views() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(GLOBAL_BATCH, 3, 16, 16, generator=g, dtype=torch.float64)
    return x + 0.1 * torch.randn(x.shape, generator=g, dtype=torch.float64), x + 0.1 * torch.randn(x.shape, generator=g, dtype=torch.float64)


def step(name: str, rows: slice, distributed: bool) -> tuple[float, dict[str, torch.Tensor]]:
    model = Model(name).train()
    wrapped = nn.parallel.DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    v1, v2 = views()
    loss = wrapped(v1[rows], v2[rows])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    value = loss.detach().clone()
    if distributed:  # the global loss is the mean of the per-process losses
        dist.all_reduce(value)
        value /= WORLD_SIZE
    return value.item(), {k: v.detach().clone() for k, v in model.state_dict().items()}


def _per_rank(rank: int) -> dict:
    per = GLOBAL_BATCH // WORLD_SIZE
    return {name: step(name, slice(rank * per, (rank + 1) * per), True) for name in METHODS}


@pytest.fixture(scope="module")
def ddp_results(tmp_path_factory) -> list[dict]:
    return run_in_process_group(_per_rank, WORLD_SIZE, tmp_path_factory.mktemp("ddp_step"))


@pytest.mark.parametrize("name", sorted(METHODS))
def test_one_ddp_step_equals_one_process_with_the_combined_batch(ddp_results, name: str) -> None:
    loss, params = step(name, slice(None), False)
    for rank in range(WORLD_SIZE):
        ddp_loss, ddp_params = ddp_results[rank][name]
        assert ddp_loss == pytest.approx(loss, rel=1e-10, abs=1e-12)
        changed = 0
        for key, value in params.items():
            if "num_batches_tracked" in key:
                continue
            torch.testing.assert_close(ddp_params[key], value, rtol=1e-9, atol=1e-12, msg=f"{name} {key}")
            changed += int(not torch.equal(value, Model(name).state_dict()[key]))
        assert changed > 4  # the step really updated the parameters
