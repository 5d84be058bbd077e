"""The command line: config errors before any work, configs listing, export and encoders."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import torch
import torchvision
from safetensors.torch import load_file

from infossl import load_encoder
from infossl.cli.errors import ConfigError
from infossl.cli.main import main
from infossl.cli.pretrain import build_cli, pretrain
from infossl.errors import MissingPathError

from pipeline_helpers import CPU_TRAINER, TINY_DATA, run_args

BASE = ["--config", "quickstart/imsvd.yaml", *TINY_DATA, *CPU_TRAINER]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (["--data.batch_sizee", "3"], r"'data.batch_sizee'.*Did you mean 'data.batch_size'.*Valid keys: .*data.source"),
        (["--model.method.num_statez", "3"], r"'model.method.num_statez'.*Did you mean 'num_states'.*projector, final_temperature, num_states, temperature"),
        (["--data.batch_size", "abc"], r"(?s)data.batch_size.*Expected a <class 'int'>"),
        (["--data.source", "imagenet"], r"(?s)data.source.*'synthetic', 'npz'"),
    ],
)
def test_unknown_keys_and_wrong_types_name_the_key_and_choices(override, expected, tmp_path) -> None:
    with pytest.raises(ConfigError, match=expected):
        build_cli([*BASE, *run_args(tmp_path), *override])
    assert not (tmp_path / "checkpoints").exists()


def test_num_states_not_dividing_the_projector_fails_before_training(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"num_states=7 must divide the projector output \(projector\[-1\]\) of dimension D=512"):
        build_cli([*BASE, *run_args(tmp_path), "--model.method.num_states", "7"])
    assert not (tmp_path / "checkpoints").exists()


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (["--model.method.num_states", "0"], "num_states must be >= 2, got 0"),
        (["--data.augment.preset", "simclr2"], r"data.augment.preset.*'simclr', 'asymmetric', 'custom'"),
        (["--trainer.max_epoch", "3"], "unknown configuration key 'trainer.max_epoch'. Did you mean 'trainer.max_epochs'"),
        (["--model.method.estimator", "average"], "unknown configuration key 'model.method.estimator'.*Valid keys: projector, final_temperature, num_states"),
    ],
)
def test_bad_values_and_typod_prefixes_exit_2_in_one_line(override, expected, capsys, tmp_path) -> None:
    assert main(["pretrain", *BASE, *run_args(tmp_path), *override]) == 2
    err = capsys.readouterr().err
    assert re.search(expected, err), err
    assert "Traceback" not in err


def test_every_loss_setting_is_a_configuration_key(tmp_path) -> None:
    cli = build_cli([*BASE, *run_args(tmp_path), "--model.method.off_diagonal_weight", "0.5", "--model.method.temperature", "0.7"])
    loss = cli.model.method.loss
    assert (loss.off_diagonal_weight, loss.temperature, loss.num_states) == (0.5, 0.7, 16)
    cli = build_cli([*BASE, *run_args(tmp_path), "--model.method", "infossl.methods.EntRecBYOL", "--model.method.projector", "[32,16]",
                     "--model.method.predictor", "[32,16]", "--model.method.estimator", "average", "--model.method.kappa", "3"])
    assert (cli.model.method.loss.estimator, cli.model.method.loss.kappa) == ("average", 3.0)


def test_help_explains_methods_and_offers_only_concrete_ones(capsys) -> None:
    with pytest.raises(SystemExit):
        build_cli(["--model.method.help", "IMSVD"])
    text = capsys.readouterr().out
    assert "information-maximized soft variable discretization (Niu et al.)" in text
    assert "--model.method.off_diagonal_weight" in text and "redundancy" in text
    with pytest.raises(SystemExit):
        build_cli(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    offered = re.search(r"known subclasses: (infossl\.methods\..*?)\)", text).group(1)
    assert "infossl.methods.IMSVD" in offered and "infossl.methods.EntRecBYOL" in offered
    assert "infossl.methods.DINO" in offered and "infossl.methods.EntRecDINO" in offered
    abstract = ("infossl.methods.Method,", "JointEmbeddingMethod", "TeacherStudentMethod", "DiscreteDistillationMethod")
    assert all(name not in offered for name in abstract)


def test_an_unexpected_error_keeps_its_traceback(tmp_path) -> None:
    # a bug (here: an exception infossl does not expect) is never turned into a one-line message:
    # main() lets it propagate, so Python prints its traceback and exits with status 1
    with pytest.raises(ValueError, match="planted bug"):
        main(["pretrain", *BASE, *run_args(tmp_path), "--trainer.max_steps", "2", "--trainer.callbacks+=pipeline_helpers.RaiseAtStep"])
    # --debug lets an input error propagate too, with its traceback
    with pytest.raises(MissingPathError, match="checkpoint not found"):
        main(["--debug", "eval", str(tmp_path / "missing.ckpt"), "--data", "x.npz"])


def test_unknown_config_file_lists_the_shipped_ones() -> None:
    with pytest.raises(FileNotFoundError, match="cifar10/imsvd.yaml"):
        build_cli(["--config", "cifar10/nope.yaml"])


def test_main_reports_errors_with_exit_code_2(capsys) -> None:
    assert main(["pretrain", *BASE, "--data.nope", "1"]) == 2
    assert "unknown configuration key 'data.nope'" in capsys.readouterr().err
    assert main(["configs"]) == 0
    listing = capsys.readouterr().out
    assert "cifar10/imsvd.yaml" in listing and "imagenet/imsvd.yaml" in listing


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="--resume: no checkpoint"):
        pretrain([*BASE, *run_args(tmp_path), "--resume", "true"])


def test_a_fresh_run_into_an_existing_folder_replaces_its_metrics_and_checkpoint(tmp_path) -> None:
    import csv

    args = [*BASE, *run_args(tmp_path), "--trainer.log_every_n_steps", "1"]
    pretrain([*args, "--trainer.max_steps", "3"])
    # the second run is not a resume: its metrics and last.ckpt replace the first run's
    with pytest.warns(UserWarning, match="holds a checkpoint of an earlier run; this new run replaces it"):
        pretrain([*args, "--trainer.max_steps", "2"])
    steps = [r["step"] for r in csv.DictReader((tmp_path / "metrics.csv").open()) if r.get("train/loss")]
    assert steps == ["0", "1"]
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("*.ckpt")) == ["last.ckpt"]
    assert torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)["global_step"] == 2


def test_run_folder_export_and_encoder_round_trip(tmp_path) -> None:
    run = tmp_path / "run"
    cli = pretrain([*BASE, *run_args(run), "--trainer.max_steps", "2", "--trainer.log_every_n_steps", "1", "--model.backbone.name", "resnet18",
                    "--model.backbone.cifar_stem", "false"])
    assert (run / "config.yaml").is_file()
    assert "train/loss" in (run / "metrics.csv").read_text().splitlines()[0]
    assert list(run.glob("events.out.tfevents.*")), "TensorBoard log missing"
    checkpoint = run / "checkpoints" / "last.ckpt"

    encoder = load_encoder(checkpoint)
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    backbone = cli.model.backbone.eval()
    with torch.no_grad():
        expected = backbone(cli.datamodule.eval_transform(images))
        torch.testing.assert_close(encoder(images), expected)

    assert main(["export", str(checkpoint), str(tmp_path / "resnet")]) == 0
    plain = torchvision.models.resnet18(weights=None)
    plain.fc = torch.nn.Identity()  # infossl backbones end at the pooled features
    plain.load_state_dict(torch.load(tmp_path / "resnet.pt", weights_only=True))
    plain.load_state_dict(load_file(str(tmp_path / "resnet.safetensors")))
    with torch.no_grad():
        torch.testing.assert_close(plain.eval()(cli.datamodule.eval_transform(images)), expected)


def test_cifar_stem_export_loads_into_torchvision_after_two_replacements(tmp_path) -> None:
    run = tmp_path / "run"
    pretrain([*BASE, *run_args(run), "--trainer.max_steps", "1", "--model.backbone.name", "resnet18"])
    main(["export", str(run / "checkpoints" / "last.ckpt"), str(tmp_path / "cifar_resnet")])
    plain = torchvision.models.resnet18(weights=None)
    plain.conv1 = torch.nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    plain.maxpool = torch.nn.Identity()
    plain.fc = torch.nn.Identity()
    plain.load_state_dict(load_file(str(tmp_path / "cifar_resnet.safetensors")))


def test_not_an_infossl_checkpoint(tmp_path) -> None:
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.ckpt")
    with pytest.raises(ValueError, match="not an infossl checkpoint"):
        load_encoder(tmp_path / "other.ckpt")
    assert main(["export", str(tmp_path / "other.ckpt"), str(tmp_path / "out")]) == 2


def test_python_dash_m_entry_point() -> None:
    # `python -m infossl` runs the CLI, and a subcommand's help names it as users type it
    out = subprocess.run([sys.executable, "-m", "infossl", "quickstart", "--help"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("usage: infossl quickstart")
