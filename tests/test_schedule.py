"""The learning-rate warm-up as a fraction of the run, and the CPU's default precision."""

from __future__ import annotations

import csv
import logging

import pytest
import torch

from infossl.cli.errors import ConfigError
from infossl.cli.pretrain import build_cli, pretrain
from infossl.training.optim import OptimConfig, warmup_cosine
from infossl.training.precision import cpu_flags, default_cpu_precision

from pipeline_helpers import CPU_TRAINER, TINY_DATA, run_args

QUIET = ["--knn.every_n_epochs", "0", "--diagnostics.every_n_epochs", "0", "--trainer.log_every_n_steps", "1"]


def logged_learning_rates(run_dir) -> list[float]:
    return [float(r["train/lr"]) for r in csv.DictReader((run_dir / "metrics.csv").open()) if r.get("train/lr")]


@pytest.mark.parametrize(("steps", "fraction"), [(10, 0.3), (20, 0.3)])
def test_warmup_fraction_scales_with_the_run(tmp_path, steps, fraction) -> None:
    cli = pretrain(["--config", "quickstart/imsvd.yaml", *TINY_DATA, *CPU_TRAINER, *run_args(tmp_path), *QUIET,
                    "--trainer.max_steps", str(steps), "--trainer.max_epochs", "-1",
                    "--model.optim.warmup_fraction", str(fraction)])
    config = cli.model.optim_config
    peak = config.lr * (16 / 256 if config.scale_lr_by_batch else 1.0)
    warmup = round(fraction * steps)  # 3 of 10 steps, 6 of 20: the same shape at any length
    expected = [peak * warmup_cosine(k, warmup, steps, config.min_lr_ratio) for k in range(steps)]
    assert logged_learning_rates(tmp_path) == pytest.approx(expected, rel=1e-6)
    assert expected[0] == pytest.approx(peak / warmup) and expected[warmup - 1] == expected[warmup] == pytest.approx(peak)


def test_warmup_fraction_is_checked() -> None:
    with pytest.raises(ValueError, match="warmup_fraction must be in"):
        OptimConfig(warmup_fraction=1.0)
    with pytest.raises(ConfigError, match="warmup_fraction"):
        build_cli(["--config", "quickstart/imsvd.yaml", *TINY_DATA, *CPU_TRAINER, "--model.optim.warmup_fraction", "-0.1"])


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert cpu_flags(cpuinfo) == {"fpu", "sse", "avx2", "avx512f", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == set()
    assert default_cpu_precision({"avx2", "amx_bf16"})[0] == "bf16-mixed"
    assert default_cpu_precision({"avx2", "avx512f"})[0] == "32-true"


TRAINER_WITHOUT_PRECISION = [a for a in CPU_TRAINER if a not in ("--trainer.precision", "32-true")]


@pytest.mark.parametrize(("flags", "precision"), [({"avx512_bf16"}, "bf16-mixed"), ({"avx2"}, "32-true")])
def test_unset_precision_on_a_cpu_follows_its_flags_and_is_logged(tmp_path, monkeypatch, caplog, flags, precision) -> None:
    monkeypatch.setattr("infossl.training.precision.cpu_flags", lambda: flags)
    with caplog.at_level(logging.INFO):
        cli = pretrain(["--config", "quickstart/imsvd.yaml", *TINY_DATA, *TRAINER_WITHOUT_PRECISION, *run_args(tmp_path), *QUIET,
                        "--trainer.max_steps", "2", "--model.backbone.widths", "[8, 16, 16, 32]"])
    assert cli.trainer.precision == precision
    assert f"trainer.precision={precision}" in caplog.text
    assert torch.isfinite(torch.tensor(float(cli.trainer.callback_metrics["train/loss"])))


def test_an_explicit_precision_is_kept(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("infossl.training.precision.cpu_flags", lambda: {"avx512_bf16"})
    cli = build_cli(["--config", "quickstart/imsvd.yaml", *TINY_DATA, *CPU_TRAINER, *run_args(tmp_path)])
    assert cli.trainer.precision == "32-true"


def test_warmup_fraction_of_a_time_budget() -> None:
    from infossl.methods import SimCLR
    from infossl.models.backbones import BackboneSpec
    from infossl.training import SSLModule

    config = OptimConfig(warmup_fraction=0.2, min_lr_ratio=0.01)
    module = SSLModule(SimCLR(projector=[16, 8]), BackboneSpec(widths=(8, 16)), config, time_budget_min=1.0)
    multipliers = []
    for seconds in (0.0, 6.0, 12.0, 36.0, 60.0, 90.0):  # progress 0, 0.1, 0.2, 0.6, 1, past the budget
        module.train_seconds = seconds
        multipliers.append(module._time_schedule(step=0, warmup_steps=0, config=config))
    assert multipliers == pytest.approx([1e-3, 0.5, 1.0, 0.505, 0.01, 0.01])
