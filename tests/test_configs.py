"""Settings live in one place: recipes inherit a family base, methods forward their
loss's settings, and checkpoints rebuild their method from a class path and init args."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
import torch
import yaml

import infossl
from infossl.cli.configs import packaged_configs
from infossl.cli.pretrain import build_cli
from infossl.methods import METHODS, build_method

from conftest import LOSS_CASES

DATA = Path(__file__).parent / "data"
# every shipped recipe's resolved values (``infossl pretrain --config NAME --print_config``),
# recorded before the recipes were split into a family base and per-method overlays; a
# recipe change made on purpose updates this file with it
RESOLVED = json.loads((DATA / "resolved_configs.json").read_text())


def flatten(tree: object, prefix: str = "") -> dict[str, object]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, object] = {}
    for key, value in tree.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else key))
    return out


def resolved(name: str) -> dict[str, object]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), pytest.raises(SystemExit):
        build_cli(["--config", name, "--print_config"])
    return flatten(yaml.safe_load(printed.getvalue()))


def test_the_shipped_recipes_are_the_recorded_ones() -> None:
    assert packaged_configs() == sorted(RESOLVED)


@pytest.mark.parametrize("name", sorted(RESOLVED))
def test_each_recipe_resolves_to_its_recorded_values(name: str) -> None:
    now = resolved(name)
    expected = flatten(RESOLVED[name])
    changed = {key: (value, now.get(key, "<missing>")) for key, value in expected.items() if now.get(key, "<missing>") != value}
    assert not changed, f"{name}: recorded -> now: {changed}"
    # keys that did not exist when the values were recorded are loss settings that became
    # reachable from the method; they keep the loss's defaults
    added = {key: value for key, value in now.items() if key not in expected}
    assert all(key.startswith("model.method.init_args.") for key in added), added


def test_a_recipe_is_its_base_plus_what_differs() -> None:
    overlay = (Path(infossl.__file__).parent / "configs" / "cifar10_cpu" / "simclr.yaml").read_text()
    assert overlay.count("\n") < 15 and "config: _base.yaml" in overlay
    values = resolved("cifar10_cpu/simclr.yaml")
    assert values["model.backbone.name"] == "convnet" and values["model.optim.name"] == "sgd"  # the base's
    assert values["model.optim.warmup_fraction"] == 0.03 and values["model.optim.lr"] == 0.06  # the overlay's
    assert values["data.augment.mean"] == [0.4914, 0.4822, 0.4465]  # CIFAR-10's own, set by the base


@pytest.mark.parametrize("name", sorted(LOSS_CASES))
def test_loss_settings_rebuild_the_loss(name: str) -> None:
    loss = LOSS_CASES[name][0]()
    again = type(loss)(**loss.settings())
    assert again.settings() == loss.settings()
    z1, z2 = torch.randn(8, LOSS_CASES[name][1], dtype=torch.float64), torch.randn(8, LOSS_CASES[name][1], dtype=torch.float64)
    torch.testing.assert_close(again(z1, z2).loss, loss(z1, z2).loss)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_a_method_spec_rebuilds_an_equal_method(name: str) -> None:
    method = METHODS[name]()
    spec = method.spec()
    assert spec["class_path"].startswith("infossl.methods.")
    rebuilt = build_method(json.loads(json.dumps(spec)))  # specs survive a plain-data round trip
    assert type(rebuilt) is type(method) and rebuilt.spec() == spec


def test_a_method_with_changed_loss_settings_keeps_them() -> None:
    method = build_method({"class_path": "infossl.methods.IMSVD", "init_args": {"projector": [64, 48], "num_states": 8, "off_diagonal_weight": 0.25}})
    assert method.spec()["init_args"] == {
        "projector": [64, 48], "num_states": 8, "temperature": 1.0, "invariance_weight": 1.0, "diagonal_weight": 1.0,
        "off_diagonal_weight": 0.25, "normalize_logits": False, "final_temperature": None,
    }


@pytest.mark.parametrize("name", ["imsvd", "entrecbyol"])
def test_checkpoints_written_before_the_settings_change_still_load(name: str) -> None:
    # made by infossl before methods forwarded their loss settings (1-step runs of a tiny model)
    expected = json.loads((DATA / "legacy_checkpoints" / "expected.json").read_text())[name]
    encoder, method = infossl.load_method(DATA / "legacy_checkpoints" / f"{name}.ckpt")
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(method.embed(encoder(images)), torch.tensor(expected["embedding"]))
    for key, value in expected["method_spec"]["init_args"].items():
        assert method.spec()["init_args"][key] == value
