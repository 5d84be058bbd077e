"""A run stopped mid-epoch and resumed ends with the same weights as a run that
was never stopped (CPU, float32, no compilation)."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from infossl.cli.pretrain import pretrain

from pipeline_helpers import CPU_TRAINER, TINY_DATA, run_args


class StopAtStep(L.Callback):
    """Ends training after ``step`` optimizer steps, as an interruption would."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step >= self.step:
            trainer.should_stop = True


def weights(cli) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in cli.model.state_dict().items()}


@pytest.mark.parametrize("method", ["infossl.methods.IMSVD", "infossl.methods.BYOL"])
def test_stopped_and_resumed_run_matches_an_uninterrupted_one(tmp_path, method: str, monkeypatch) -> None:
    # 64 images, batch 16: 4 steps per epoch, 2 epochs; interrupted after step 3 (mid-epoch)
    args = [
        "--config", "quickstart/imsvd.yaml", *TINY_DATA, *CPU_TRAINER,
        "--trainer.max_epochs", "2", "--checkpoint.every_n_train_steps", "1",
        "--model.method", method, "--model.method.projector", "[64,64]", "--model.backbone.widths", "[8,16,16,16]",
        "--model.channels_last", "false", "--trainer.deterministic", "true",
    ]
    if method.endswith("BYOL"):
        args += ["--model.method.predictor", "[64,64]"]
    reference = pretrain([*args, *run_args(tmp_path / "reference")])
    assert reference.trainer.global_step == 8

    import infossl.cli.pretrain as pretrain_module

    original = pretrain_module.PretrainCLI.instantiate_trainer

    def with_stop(self, **kwargs):
        trainer = original(self, **kwargs)
        trainer.callbacks.append(StopAtStep(3))
        return trainer

    monkeypatch.setattr(pretrain_module.PretrainCLI, "instantiate_trainer", with_stop)
    first = pretrain([*args, *run_args(tmp_path / "interrupted")])
    assert first.trainer.global_step == 3
    monkeypatch.setattr(pretrain_module.PretrainCLI, "instantiate_trainer", original)

    resumed = pretrain([*args, *run_args(tmp_path / "interrupted"), "--resume", "true"])
    assert resumed.trainer.global_step == 8
    expected, actual = weights(reference), weights(resumed)
    assert expected.keys() == actual.keys()
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], rtol=0, atol=1e-6, msg=key)
