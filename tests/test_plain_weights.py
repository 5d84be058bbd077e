"""``infossl eval`` on plain backbone weights (a state dict infossl did not write)."""

from __future__ import annotations

import json

import pytest
import torch
import torchvision

from infossl.cli.main import main
from infossl.cli.pretrain import pretrain
from infossl.encoder import load_encoder, read_checkpoint
from infossl.errors import InputError
from infossl.models.backbones import BackboneSpec
from infossl.plain_weights import load_plain_encoder, match_prefix

from pipeline_helpers import CPU_TRAINER, TINY_DATA, run_args
from test_eval_cli import write_npz

WIDTHS = ["8", "16", "16", "32"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("plain")
    pretrain(["--config", "quickstart/imsvd.yaml", *TINY_DATA, *CPU_TRAINER, *run_args(root / "run"),
              "--model.backbone.widths", f"[{', '.join(WIDTHS)}]", "--trainer.max_steps", "3",
              "--knn.every_n_epochs", "0", "--diagnostics.every_n_epochs", "0"])
    checkpoint = root / "run" / "checkpoints" / "last.ckpt"
    return checkpoint, write_npz(root / "shapes.npz")


def plain_args(weights, npz, mean, std) -> list[str]:
    return ["eval", str(weights), "--data", str(npz), "--k", "5", "20", "--json", "--no_diagnostics",
            "--backbone.name", "convnet", "--backbone.widths", *WIDTHS,
            "--preprocess.mean", *map(str, mean), "--preprocess.std", *map(str, std)]


def test_a_plain_state_dict_evaluates_exactly_like_the_checkpoint_it_came_from(trained, tmp_path, capsys) -> None:
    checkpoint, npz = trained
    encoder = load_encoder(checkpoint)
    # as a DDP-wrapped training script would save it, with a classifier head beside the backbone
    state = {f"module.{k}": v for k, v in encoder.backbone.state_dict().items()}
    state["module.fc.weight"] = torch.zeros(10, 32)
    weights = tmp_path / "backbone.pt"
    torch.save(state, weights)
    assert main(["eval", str(checkpoint), "--data", str(npz), "--k", "5", "20", "--json", "--no_diagnostics"]) == 0
    reference = json.loads(capsys.readouterr().out)
    pre = read_checkpoint(checkpoint)["infossl"]["preprocess"]
    assert main(plain_args(weights, npz, pre["mean"], pre["std"])) == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["knn"] == reference["knn"]
    assert plain["linear"]["lbfgs"]["top1"] == reference["linear"]["lbfgs"]["top1"]
    assert plain["prefix"] == "module." and plain["ignored_keys"] == ["fc.weight"]
    assert plain["method"] is None and plain["backbone_spec"]["widths"] == [8, 16, 16, 32]
    assert json.loads((tmp_path / "backbone.eval.json").read_text()) == plain
    # other preprocessing is another encoder: its features are cached apart, not reused
    assert main(plain_args(weights, npz, (0.4, 0.5, 0.6), (0.2, 0.3, 0.2))) == 0
    cached = sorted((tmp_path / "backbone.pt.features").glob("train-*.pt"))
    assert len(cached) == 2
    first, second = (torch.load(path, weights_only=True) for path in cached)
    assert first.shape == second.shape and not torch.allclose(first, second)


def test_wrapped_and_safetensors_files_load_the_same_weights(trained, tmp_path) -> None:
    from safetensors.torch import save_file

    backbone = load_encoder(trained[0]).backbone
    torch.save({"epoch": 3, "state_dict": {f"backbone.{k}": v for k, v in backbone.state_dict().items()}}, tmp_path / "wrapped.ckpt")
    save_file(backbone.state_dict(), str(tmp_path / "weights.safetensors"))
    spec = BackboneSpec(name="convnet", widths=(8, 16, 16, 32))
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    expected = backbone.eval()(((images.float() / 255) - 0.5) / 0.25)
    for name in ("wrapped.ckpt", "weights.safetensors"):
        encoder, loaded = load_plain_encoder(tmp_path / name, spec, mean=(0.5,) * 3, std=(0.25,) * 3)
        torch.testing.assert_close(encoder(images), expected)
        assert loaded["ignored_keys"] == []


def test_torchvision_resnet_weights_load_without_their_classifier(tmp_path) -> None:
    model = torchvision.models.resnet18(weights=None, num_classes=10).eval()
    torch.save(model.state_dict(), tmp_path / "resnet18.pth")
    encoder, loaded = load_plain_encoder(tmp_path / "resnet18.pth", BackboneSpec(name="resnet18", cifar_stem=False), image_size=64)
    assert loaded == {"prefix": "", "ignored_keys": ["fc.bias", "fc.weight"]}
    images = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    model.fc = torch.nn.Identity()
    torch.testing.assert_close(encoder(images), model(encoder.preprocess(images)))


def test_prefix_matching_prefers_the_prefix_that_matches_most_keys() -> None:
    expected = ["features.0.weight", "features.1.weight"]
    state = {"model.backbone.features.0.weight": torch.ones(1), "model.backbone.features.1.weight": torch.ones(1), "model.head.w": torch.ones(1)}
    stripped, prefix = match_prefix(state, expected)
    assert prefix == "model.backbone." and set(expected) <= set(stripped)
    assert match_prefix({"features.0.weight": torch.ones(1)}, expected)[1] == ""


def test_weights_of_another_backbone_are_a_clear_error(trained, tmp_path, capsys) -> None:
    backbone = load_encoder(trained[0]).backbone
    torch.save(backbone.state_dict(), tmp_path / "backbone.pt")
    with pytest.raises(InputError, match="missing features.16.weight"):
        load_plain_encoder(tmp_path / "backbone.pt", BackboneSpec(name="convnet", widths=(8, 16, 16, 32, 64)))
    with pytest.raises(InputError, match="shapes differ"):
        load_plain_encoder(tmp_path / "backbone.pt", BackboneSpec(name="convnet", widths=(8, 16, 16, 64)))
    # the command line: one line, exit 2, before any data is read
    assert main(["eval", str(trained[0]), "--data", "missing.npz", "--backbone.name", "convnet"]) == 2
    assert "is an infossl checkpoint" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "backbone.pt"), "--data", "missing.npz", "--backbone.name", "resnet9"]) == 2
    assert "--backbone.name: unknown backbone 'resnet9'; expected 'convnet'" in capsys.readouterr().err
    torch.save({"step": 3}, tmp_path / "other.pt")
    assert main(["eval", str(tmp_path / "other.pt"), "--data", "missing.npz", "--backbone.name", "convnet"]) == 2
    assert "holds no state dict" in capsys.readouterr().err
