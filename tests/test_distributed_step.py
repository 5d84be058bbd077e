"""One full training step under DDP (2 gloo processes) equals one process with the combined batch.

Backbone (the convnet with its batch norm in eval mode) + the method's projector
(GlobalBatchNorm1d in training mode, so it normalizes with global batch
statistics) + the objective, wrapped in DistributedDataParallel; one SGD step.
Loss and updated parameters must match the single-process step on the same
16 images, for every method: in float64, and in float32 under CPU bf16 autocast
(where the projector's batch norm keeps float32 statistics). The backbones' own
batch norm (online and teacher) is in eval mode: it uses each process's
statistics in training, by design, unless trainer.sync_batchnorm converts it. A negative control
reruns the bf16 step with the batch norm's statistics in the autocast dtype, the
code before the fix, and must fail.
"""

from __future__ import annotations


from unittest import mock

import pytest
import torch
import torch.distributed as dist
from torch import nn

from infossl.methods import BYOL, DINO, EMI, IMSVD, VICReg, BarlowTwins, EntRec, EntRecBYOL, EntRecDINO, SimCLR
from infossl.distributed import gather_with_grad
from infossl.models.backbones import BackboneSpec, build_backbone
from infossl.models.heads import GlobalBatchNorm1d

from process_group import run_in_process_group

WORLD_SIZE = 2
GLOBAL_BATCH = 16
METHODS = {
    "imsvd": lambda: IMSVD(projector=(32, 24), num_states=4),
    "emi": lambda: EMI(projector=(32, 6)),
    "entrec": lambda: EntRec(projector=(32, 8)),
    "barlow": lambda: BarlowTwins(projector=(32, 8)),
    "simclr": lambda: SimCLR(projector=(32, 8)),
    "vicreg": lambda: VICReg(projector=(32, 8)),
    "byol": lambda: BYOL(projector=(32, 8), predictor=(32, 8)),
    "entrec_byol": lambda: EntRecBYOL(projector=(32, 8), predictor=(32, 8)),
    # DINO's centre (a buffer: the EMA of the teacher's global-batch mean) is in the compared state
    "dino": lambda: DINO(projector=(32, 8), prototypes=16),
    "entrec_dino": lambda: EntRecDINO(projector=(32, 8), prototypes=16),
    "dino_head_batch_norm": lambda: DINO(projector=(32, 8), prototypes=16, head_batch_norm=True),
}


class Model(nn.Module):
    def __init__(self, name: str, bf16: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.backbone, dim = build_backbone(BackboneSpec(name="convnet", widths=(4, 8, 8, 8)))
        self.method = METHODS[name]()
        self.method.build(self.backbone, dim)
        self.bf16 = bf16
        self.to(torch.float32 if bf16 else torch.float64)

    def train(self, mode: bool = True) -> "Model":
        super().train(mode)
        # the backbones' batch norm (the online one and a teacher's copy) in eval mode: it uses each
        # process's own statistics in training (unless trainer.sync_batchnorm), by design
        for module in self.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
        return self

    def forward(self, view1: torch.Tensor, view2: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            return self.method.training_loss(self.backbone, [view1, view2])[0].loss


def views(dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(GLOBAL_BATCH, 3, 16, 16, generator=g, dtype=torch.float64)
    pair = x + 0.1 * torch.randn(x.shape, generator=g, dtype=torch.float64), x + 0.1 * torch.randn(x.shape, generator=g, dtype=torch.float64)
    return pair[0].to(dtype), pair[1].to(dtype)


def step(name: str, rows: slice, distributed: bool, bf16: bool = False) -> tuple[float, dict[str, torch.Tensor]]:
    model = Model(name, bf16).train()
    wrapped = nn.parallel.DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    v1, v2 = views(torch.float32 if bf16 else torch.float64)
    loss = wrapped(v1[rows], v2[rows])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    value = loss.detach().float().clone() if bf16 else loss.detach().clone()
    if distributed:  # the global loss is the mean of the per-process losses
        dist.all_reduce(value)
        value /= WORLD_SIZE
    return value.item(), {k: v.detach().clone() for k, v in model.state_dict().items()}


def statistics_in_autocast_dtype(self, x: torch.Tensor) -> torch.Tensor:
    """GlobalBatchNorm1d.forward as it was before the fix (a negative control): the gathered
    activations' statistics in their own (autocast) dtype."""
    everyone = gather_with_grad(x)
    mean, var = everyone.mean(dim=0), everyone.var(dim=0, unbiased=False)
    with torch.no_grad():
        self.running_mean.lerp_(mean.detach(), self.momentum)
        self.running_var.lerp_(var.detach(), self.momentum)
    return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


def _per_rank(rank: int) -> dict:
    per = GLOBAL_BATCH // WORLD_SIZE
    rows = slice(rank * per, (rank + 1) * per)
    results = {name: step(name, rows, True) for name in METHODS}
    results.update({f"{name}_bf16": step(name, rows, True, bf16=True) for name in METHODS})
    # negative control: DINO's centre from each process's own rows (the all-reduce patched out)
    with mock.patch("infossl.losses.dino.world_size", lambda: 1):
        results["control_dino_local_center"] = step("dino", rows, True)
    with mock.patch.object(GlobalBatchNorm1d, "forward", statistics_in_autocast_dtype):
        try:
            results["control_bf16"] = step("simclr", rows, True, bf16=True)
        except RuntimeError as error:
            results["control_bf16"] = str(error)
    return results


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


# bf16 autocast rounds the inputs of every matrix product and convolution, and the per-process
# and whole-batch runs round differently shaped products: the losses agree to 1e-3 (measured: to
# the printed 5 digits) and each updated parameter to 5% of the step's largest parameter change
# (measured: at most 1.4%, BYOL's)
BF16_LOSS_RTOL, BF16_STEP_SHARE = 1e-3, 0.05


@pytest.mark.parametrize("name", sorted(METHODS))
def test_one_bf16_ddp_step_equals_one_process_with_the_combined_batch(ddp_results, name: str) -> None:
    loss, params = step(name, slice(None), False, bf16=True)
    initial = Model(name, bf16=True).state_dict()
    keys = [k for k in params if "num_batches_tracked" not in k]
    largest_change = max((params[k] - initial[k]).abs().max().item() for k in keys)
    assert largest_change > 0.1  # the step really moved the weights
    for rank in range(WORLD_SIZE):
        ddp_loss, ddp_params = ddp_results[rank][f"{name}_bf16"]
        assert ddp_loss == pytest.approx(loss, rel=BF16_LOSS_RTOL)
        for key in keys:
            assert ddp_params[key].dtype == params[key].dtype == torch.float32, key  # running statistics stay float32
            torch.testing.assert_close(ddp_params[key], params[key], rtol=0, atol=BF16_STEP_SHARE * largest_change, msg=f"{name} {key}")


def test_negative_control_statistics_in_the_autocast_dtype_fail(ddp_results) -> None:
    # the projector's batch norm as it was: the float32 running statistics cannot take bf16 values
    outcome = ddp_results[0]["control_bf16"]
    assert isinstance(outcome, str) and "dtype" in outcome, outcome


def test_negative_control_a_per_process_dino_centre_differs(ddp_results) -> None:
    _, params = step("dino", slice(None), False)
    key = "method.loss.center"
    centres = [ddp_results[rank]["control_dino_local_center"][1][key] for rank in range(WORLD_SIZE)]
    assert not torch.allclose(centres[0], centres[1]) and not torch.allclose(centres[0], params[key])
