"""The recipes' Optuna search (benchmarks/search.py): every point of each method's space is a
valid ``infossl pretrain`` configuration, and trial 1 is exactly the shipped recipe."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import optuna
import pytest

from infossl.cli.pretrain import build_cli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import search

from pipeline_helpers import CPU_TRAINER, TINY_DATA

TINY = [*TINY_DATA, *CPU_TRAINER, "--model.backbone.widths", "[8, 16]"]


def resolved_model(args: list[str]):
    cli = build_cli([*args, *TINY])
    return cli.model, cli.datamodule


@pytest.mark.parametrize("method", sorted(search.SPACES))
def test_trial_one_is_the_recipe_the_study_began_from(method, tmp_path) -> None:
    settings = search.SPACES[method](optuna.trial.FixedTrial(search.trial_one_params(method)))
    trial_model, trial_data = resolved_model(search.pretrain_args(method, settings, Path("unused.npz"), tmp_path, 400, 0))
    shipped_model, shipped_data = resolved_model(["--config", search.study_config(method, tmp_path / "pinned"), "--run_dir", str(tmp_path),
                                                  "--data.augment.jitter_style", search.STUDY_JITTER])  # as every study ran
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


def test_a_screen_variant_comes_before_its_overrides(tmp_path) -> None:
    import screen

    overrides = screen.screen_overrides("plain_recipe", [screen.override("model.optim.lr=0.1")])
    model, data = resolved_model(search.proxy_args("simclr", Path("unused.npz"), tmp_path, 2000, 0) + overrides)
    assert (model.optim_config.name, model.optim_config.lr, model.optim_config.weight_decay) == ("sgd", 0.1, 5e-4)
    assert model.method.spec()["init_args"]["projector"] == [512, 128] and data.augment_config.crop_scale == (0.08, 1.0)


def written_recipe(method: str, params: dict, folder: Path):
    """A trial's point written as a recipe beside a copy of the base, resolved."""
    shutil.copy(search.RECIPES / "_base.yaml", folder / "_base.yaml")
    path = folder / f"{method}.yaml"
    path.write_text(search.recipe_overlay(method, params, "test"))
    assert path.read_text().startswith("# test\n# Trial 1, the recipe before the search: ")
    return resolved_model(["--config", str(path)])


def same_recipe(a, b) -> None:
    (model_a, data_a), (model_b, data_b) = a, b
    assert model_a.method.spec() == model_b.method.spec()
    assert model_a.optim_config == model_b.optim_config
    assert data_a.augment_config.crop_scale == data_b.augment_config.crop_scale


@pytest.mark.parametrize("method", sorted(search.SPACES))
def test_trial_one_written_as_a_recipe_is_the_recipe_the_study_began_from(method, tmp_path) -> None:
    pinned = resolved_model(["--config", search.study_config(method, tmp_path / "pinned")])
    same_recipe(written_recipe(method, search.trial_one_params(method), tmp_path), pinned)


def test_shipping_a_new_recipe_does_not_change_what_a_study_trains(tmp_path, monkeypatch) -> None:
    # a study pinned before the shipped recipe changed (a winner shipped with another schedule
    # floor): its trials keep the pinned recipe's unsearched settings
    monkeypatch.setattr(search, "RESULTS_DIR", tmp_path)
    search.pin_study_recipe("vicreg")
    pinned = tmp_path / "search" / "vicreg" / "recipe_before_search.yaml"
    assert pinned.read_text() == (search.RECIPES / "vicreg.yaml").read_text()
    pinned.write_text(pinned.read_text() + "model.optim.min_lr_ratio: 0.25\n")
    search.pin_study_recipe("vicreg")  # once: a pinned copy is kept
    assert pinned.read_text().endswith("min_lr_ratio: 0.25\n")
    settings = search.SPACES["vicreg"](optuna.trial.FixedTrial(search.trial_one_params("vicreg")))
    model, _ = resolved_model(search.pretrain_args("vicreg", settings, Path("unused.npz"), tmp_path, 400, 0))
    shipped, _ = resolved_model(["--config", "cifar10_cpu/vicreg.yaml"])
    assert model.optim_config.min_lr_ratio == 0.25 != shipped.optim_config.min_lr_ratio
    assert "min_lr_ratio: 0.25" in search.recipe_overlay("vicreg", search.trial_one_params("vicreg"), "test")


@pytest.mark.parametrize("method", sorted(search.SPACES))
def test_a_drawn_trial_written_as_a_recipe_trains_its_settings(method, tmp_path) -> None:
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3)).ask()
    search.SPACES[method](trial)
    settings = {k: search.significant(v) for k, v in search.SPACES[method](optuna.trial.FixedTrial(trial.params)).items()}
    as_trained = resolved_model(search.pretrain_args(method, settings, Path("unused.npz"), tmp_path, 400, 0))
    same_recipe(written_recipe(method, trial.params, tmp_path), as_trained)


def test_a_screen_from_a_search_trial_trains_that_trial_with_the_overrides_on_top(tmp_path, monkeypatch) -> None:
    import screen

    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=5)).ask()
    settings = search.SPACES["imsvd"](trial)
    folder = tmp_path / "search" / "imsvd"
    folder.mkdir(parents=True)
    (folder / "trial_007.json").write_text(json.dumps({"row": {"settings": settings}}))
    monkeypatch.setattr(search, "RESULTS_DIR", tmp_path)
    args = screen.screen_args("imsvd", 7, Path("unused.npz"), tmp_path, 400, 0) + ["--model.method.normalize_logits", "true"]
    model, _ = resolved_model(args)
    as_trained, _ = resolved_model(search.pretrain_args("imsvd", settings, Path("unused.npz"), tmp_path, 400, 0))
    assert model.method.spec() == {**as_trained.method.spec(), "init_args": {**as_trained.method.spec()["init_args"], "normalize_logits": True}}
    assert model.optim_config == as_trained.optim_config
    with pytest.raises(FileNotFoundError, match="trial_008.json not found"):
        screen.screen_args("imsvd", 8, Path("unused.npz"), tmp_path, 400, 0)


def test_a_study_rebuilt_from_its_rows_is_the_same_study(tmp_path, monkeypatch) -> None:
    # trials 1-4 of a study as run_trial records them (trial 3 interrupted and run again as 4),
    # then a new storage (a fresh clone) rebuilt from the rows
    monkeypatch.setattr(search, "RESULTS_DIR", tmp_path)
    original = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1))
    outcomes = {1: ("complete", 41.5, {100: 38.0}), 2: ("pruned", None, {100: 20.0, 200: 19.5}), 4: ("failed", None, {})}
    folder = tmp_path / "search" / "vicreg"
    folder.mkdir(parents=True)
    for number in range(1, 5):
        trial = original.ask()
        search.SPACES["vicreg"](trial)
        if number not in outcomes:
            original.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        state, value, intermediate = outcomes[number]
        row = {"trial": number, "params": trial.params, "state": state, "intermediate": {str(k): v for k, v in intermediate.items()}}
        if value is not None:
            row["held_out_knn20"] = value
        (folder / f"trial_{number:03d}.json").write_text(json.dumps({"row": row}))
    study = search.study_for("vicreg", tmp_path / "runs", seed=0)
    assert len(study.trials) == 4
    assert [t.state.name for t in study.trials] == ["COMPLETE", "PRUNED", "FAIL", "FAIL"]
    assert study.best_trial.number == 0 and study.best_value == 41.5
    for number in (1, 2, 4):
        assert study.trials[number - 1].params == original.trials[number - 1].params
        assert study.trials[number - 1].intermediate_values == outcomes[number][2]
    assert not study.trials[2].params  # the interrupted number: no point, so not counted
    assert [search.drew_a_point(t) for t in study.trials] == [True, True, False, True]
    # reopened, the storage holds the rebuilt study once (no second restore)
    assert len(search.study_for("vicreg", tmp_path / "runs", seed=0).trials) == 4
    (folder / "trial_002.json").write_text(json.dumps({"row": {"trial": 2, "params": {"optimizer": "adam"}, "state": "pruned"}}))
    with pytest.raises(ValueError, match="trial_002.json: its parameters are not a point of the vicreg space"):
        search.study_for("vicreg", tmp_path / "other_runs", seed=0)
