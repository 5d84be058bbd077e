"""The batch-size robustness protocol (benchmarks/cifar10_steps.py --batch-size): a recipe moved
from batch 256 to B keeps its learning rate per image and its EMA teacher's decay per epoch."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from infossl.cli.pretrain import build_cli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import cifar10_steps  # noqa: E402

from pipeline_helpers import CPU_TRAINER, TINY_DATA  # noqa: E402


def effective(method: str, batch_size: int, extra: list[str]) -> tuple[float, float | None]:
    """The learning rate the optimizer starts from (after batch scaling) and the base momentum."""
    cli = build_cli(["--config", f"cifar10_cpu/{method}.yaml", *TINY_DATA, *CPU_TRAINER, *extra, "--data.batch_size", str(batch_size)])
    optim = cli.model.optim_config
    lr = optim.lr * (batch_size / 256 if optim.scale_lr_by_batch else 1.0)
    return lr, getattr(cli.model.method, "base_momentum", None)


@pytest.mark.parametrize(("method", "batch_size"), [("simclr", 64), ("byol", 128), ("byol", 64)])
def test_a_smaller_batch_scales_the_lr_linearly_and_keeps_the_momentum_per_epoch(method: str, batch_size: int) -> None:
    lr_256, momentum_256 = effective(method, 256, [])
    lr, momentum = effective(method, batch_size, cifar10_steps.batch_size_args(method, batch_size))
    assert lr == pytest.approx(lr_256 * batch_size / 256)
    if momentum_256 is None:
        assert momentum is None
    else:  # 256 / B steps at the new momentum decay the teacher as one step at the old
        assert momentum ** (256 / batch_size) == pytest.approx(momentum_256)


def test_a_recipe_without_batch_scaling_gets_its_lr_at_256_as_the_base(monkeypatch) -> None:
    recipe = {"model": {"optim": {"scale_lr_by_batch": False, "lr": 0.06}, "method": {"init_args": {}}}}
    monkeypatch.setattr("cifar10_budget.recipe", lambda method: recipe)
    args = cifar10_steps.batch_size_args("simclr", 64)
    assert args == ["--model.optim.scale_lr_by_batch", "true", "--model.optim.lr", "0.06"]


@pytest.mark.parametrize("variant", sorted(cifar10_steps.PROMOTED))
def test_a_promoted_variant_changes_only_its_settings_of_its_methods_recipe(variant: str) -> None:
    method, args = cifar10_steps.PROMOTED[variant]
    shipped = build_cli(["--config", f"cifar10_cpu/{method}.yaml", *TINY_DATA, *CPU_TRAINER]).model.method
    promoted = build_cli(["--config", f"cifar10_cpu/{method}.yaml", *TINY_DATA, *CPU_TRAINER,
                          *cifar10_steps.variant_args(method, variant)]).model.method
    changed = {key for key, value in promoted.settings().items() if shipped.settings().get(key) != value}
    assert changed and changed <= {arg.removeprefix("--model.method.") for arg in args[::2]}
    other = next(m for m in cifar10_steps.METHODS if m != method)
    with pytest.raises(ValueError, match=f"variant of {method}'s recipe"):
        cifar10_steps.variant_args(other, variant)
