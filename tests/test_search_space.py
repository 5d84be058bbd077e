"""The recipes' Optuna search (benchmarks/search.py): every point of each method's space is a
valid ``infossl pretrain`` configuration, and trial 1 is exactly the shipped recipe."""

from __future__ import annotations

import sys
from pathlib import Path

import optuna
import pytest

from infossl.cli.pretrain import build_cli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import search  # noqa: E402

from pipeline_helpers import CPU_TRAINER, TINY_DATA  # noqa: E402

TINY = [*TINY_DATA, *CPU_TRAINER, "--model.backbone.widths", "[8, 16]"]


def resolved_model(args: list[str]):
    cli = build_cli([*args, *TINY])
    return cli.model, cli.datamodule


@pytest.mark.parametrize("method", sorted(search.SPACES))
def test_trial_one_is_the_shipped_recipe(method, tmp_path) -> None:
    settings = search.SPACES[method](optuna.trial.FixedTrial(search.shipped_params(method)))
    trial_model, trial_data = resolved_model(search.pretrain_args(method, settings, Path("unused.npz"), tmp_path, 400, 0))
    shipped_model, shipped_data = resolved_model(["--config", f"cifar10_cpu/{method}.yaml", "--run_dir", str(tmp_path)])
    assert trial_model.optim_config == shipped_model.optim_config
    assert trial_model.method.settings() == shipped_model.method.settings()
    assert trial_data.augment_config == shipped_data.augment_config


@pytest.mark.parametrize("method", sorted(search.SPACES))
def test_sampled_points_build(method, tmp_path) -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(3):
        trial = study.ask()
        settings = search.SPACES[method](trial)
        model, data = resolved_model(search.pretrain_args(method, settings, Path("unused.npz"), tmp_path, 400, 0))
        assert model.optim_config.name == settings["optimizer"] and model.optim_config.lr == settings["lr"]
        assert list(model.method.projector_dims) == settings["projector"]
        assert data.augment_config.crop_scale[0] == settings["crop_min"]
        study.tell(trial, 0.0)


def test_screen_overrides_reach_the_recipe(tmp_path) -> None:
    import screen

    overrides = screen.override("model.method.head_batch_norm=true") + screen.override("model.method.prototypes=256")
    model, _ = resolved_model(search.proxy_args("dino", Path("unused.npz"), tmp_path, 400, 0) + overrides)
    assert model.method.head_batch_norm is True and model.method.prototypes == 256
    with pytest.raises(Exception, match="key=value"):
        screen.override("model.method.prototypes")
