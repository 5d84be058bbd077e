"""Every method trains end to end; every shipped recipe builds and runs two steps."""

from __future__ import annotations

import math

import lightning as L
import pytest
import torch

from infossl.cli.configs import packaged_configs
from infossl.cli.pretrain import build_cli
from infossl.data import SSLDataModule, SyntheticConfig
from infossl.methods import BYOL, DINO, EMI, IMSVD, BarlowTwins, EntRec, EntRecBYOL, EntRecDINO, SimCLR, VICReg
from infossl.models import BackboneSpec
from infossl.training import OptimConfig, SSLModule

from pipeline_helpers import CPU_TRAINER, TINY_DATA, run_args

METHODS = {
    "imsvd": lambda: IMSVD(projector=(32, 32), num_states=8),
    "emi": lambda: EMI(projector=(32, 16)),
    "entrec": lambda: EntRec(projector=(32, 16)),
    "entrec_byol": lambda: EntRecBYOL(projector=(32, 16), predictor=(32, 16)),
    "simclr": lambda: SimCLR(projector=(32, 16)),
    "byol": lambda: BYOL(projector=(32, 16), predictor=(32, 16)),
    "barlow": lambda: BarlowTwins(projector=(32, 16)),
    "vicreg": lambda: VICReg(projector=(32, 16)),
    "dino": lambda: DINO(projector=(32, 16), prototypes=64),
    "entrec_dino": lambda: EntRecDINO(projector=(32, 16), prototypes=64),
}


def tiny_trainer(**kwargs) -> L.Trainer:
    return L.Trainer(
        accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, use_distributed_sampler=False, **kwargs,
    )


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_trains_two_steps(name: str) -> None:
    L.seed_everything(0)
    method = METHODS[name]()
    assert method.name == name
    model = SSLModule(method, BackboneSpec(widths=(8, 16, 16, 16)))
    before = [p.detach().clone() for p in model.backbone.parameters()]
    data = SSLDataModule(batch_size=16, synthetic=SyntheticConfig(train_size=64, test_size=32))
    trainer = tiny_trainer(max_steps=2)
    trainer.fit(model, datamodule=data)
    assert trainer.global_step == 2
    loss = trainer.callback_metrics["train/loss"].item()
    assert math.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.backbone.parameters()))


def test_teacher_follows_the_online_network_by_ema() -> None:
    L.seed_everything(0)
    method = BYOL(projector=(32, 16), predictor=(32, 16), base_momentum=0.5)
    model = SSLModule(method, BackboneSpec(widths=(8, 16, 16, 16)))
    teacher_before = [p.clone() for p in method.teacher_backbone.parameters()]
    tiny_trainer(max_steps=1).fit(model, datamodule=SSLDataModule(batch_size=16, synthetic=SyntheticConfig(64, 32)))
    for t0, t1, online in zip(teacher_before, method.teacher_backbone.parameters(), model.backbone.parameters()):
        # momentum 0.5 at progress 0: teacher = (teacher + online) / 2
        torch.testing.assert_close(t1, 0.5 * t0 + 0.5 * online.detach())
    assert all(not p.requires_grad for p in method.teacher_backbone.parameters())


def _recipe_case(config: str):
    # the ResNet recipes differ from the CPU ones (which all run) only by the backbone, and
    # test_configs checks every recipe's values: one ResNet-18 recipe runs by default, the
    # others and the ResNet-50 one with -m slow
    heavy = (config.startswith("cifar10/") and config != "cifar10/imsvd.yaml") or config.startswith("imagenet/")
    return pytest.param(config, marks=pytest.mark.slow) if heavy else config


@pytest.mark.parametrize("config", [_recipe_case(c) for c in packaged_configs()])
def test_shipped_recipe_builds_and_runs_two_steps(config: str, tmp_path) -> None:
    # the recipe's model as published; data, batch and image size shrunk for the CPU
    shrink = [
        *TINY_DATA, "--data.batch_size", "8", "--data.augment.image_size", "32",
        *CPU_TRAINER, "--trainer.max_steps", "2", "--knn.every_n_epochs", "0",
    ]
    cli = build_cli(["--config", config, *shrink, *run_args(tmp_path)])
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    assert cli.trainer.global_step == 2
    assert math.isfinite(cli.trainer.callback_metrics["train/loss"].item())
    assert (tmp_path / "config.yaml").is_file() and (tmp_path / "checkpoints" / "last.ckpt").is_file()


def test_the_schedule_is_given_the_global_batch_size() -> None:
    spec = BackboneSpec(widths=(8, 16, 16, 16))
    scaled = OptimConfig(lr=0.5, scale_lr_by_batch=True, warmup_epochs=0)
    with pytest.raises(ValueError, match="scale_lr_by_batch needs the global batch size"):
        SSLModule(SimCLR(projector=(32, 16)), spec, scaled)
    data = SSLDataModule(batch_size=16, synthetic=SyntheticConfig(64, 32))
    with pytest.raises(ValueError, match="batch_size=32.*differs from the data module's batch_size=16"):
        tiny_trainer(max_steps=1).fit(SSLModule(SimCLR(projector=(32, 16)), spec, scaled, batch_size=32), datamodule=data)
    trainer = tiny_trainer(max_steps=1)
    trainer.fit(SSLModule(SimCLR(projector=(32, 16)), spec, scaled, batch_size=16), datamodule=data)
    assert trainer.optimizers[0].param_groups[0]["initial_lr"] == pytest.approx(0.5 * 16 / 256)
