"""The IMSVD method's options: the temperature schedule and normalized logits reach the
loss, the diagnostics and the explanations alike."""

from __future__ import annotations

import pytest
import torch

from infossl.methods import IMSVD, build_method
from infossl.methods.base import cosine_interpolate, cosine_momentum


def test_cosine_interpolate_ends_where_it_should_and_is_the_ema_momentum_schedule() -> None:
    assert cosine_interpolate(1.0, 0.2, 0.0) == pytest.approx(1.0)
    assert cosine_interpolate(1.0, 0.2, 0.5) == pytest.approx(0.6)
    assert cosine_interpolate(1.0, 0.2, 1.0) == pytest.approx(0.2)
    assert cosine_interpolate(1.0, 0.2, 1.5) == pytest.approx(0.2)  # clamped
    for progress in (0.0, 0.3, 0.7, 1.0):
        assert cosine_momentum(0.99, progress) == pytest.approx(1 - 0.01 * (1 + torch.cos(torch.tensor(torch.pi * progress)).item()) / 2)


def test_the_temperature_follows_a_half_cosine_from_start_to_final() -> None:
    method = IMSVD(projector=(16, 8), num_states=4, temperature=1.0, final_temperature=0.2)
    for progress, expected in [(0.0, 1.0), (0.5, 0.6), (1.0, 0.2)]:
        method.on_step_start(progress)
        assert method.loss.temperature == pytest.approx(expected)
        assert method.on_step_end(torch.nn.Identity(), progress) == {"temperature": pytest.approx(expected)}


def test_a_rebuilt_method_keeps_the_schedule_and_explains_at_the_final_temperature() -> None:
    method = IMSVD(projector=(16, 8), num_states=4, temperature=1.0, final_temperature=0.25, normalize_logits=True)
    method.on_step_start(0.1)  # mid-training state must not leak into the settings
    settings = method.settings()
    assert settings["temperature"] == 1.0 and settings["final_temperature"] == 0.25 and settings["normalize_logits"] is True
    rebuilt = build_method(method.spec())
    assert rebuilt.settings() == settings
    z = torch.randn(6, 8)
    expected = torch.softmax(rebuilt.loss.soft_states(z).log(), dim=-1)  # the loss's own (clamped) states
    torch.testing.assert_close(rebuilt.state_probabilities(z).float(), expected, atol=1e-6, rtol=0)
    assert rebuilt.loss.temperature == 0.25


def test_a_constant_temperature_is_the_default_and_logs_nothing() -> None:
    method = IMSVD(projector=(16, 8), num_states=4, temperature=0.7)
    method.on_step_start(0.5)
    assert method.loss.temperature == 0.7 and method.on_step_end(torch.nn.Identity(), 0.5) == {}
    assert method.settings()["final_temperature"] is None


def test_diagnostics_see_the_normalized_states() -> None:
    z1 = torch.randn(32, 8, generator=torch.Generator().manual_seed(0)) * 500  # without normalization: one-hot
    plain = IMSVD(projector=(16, 8), num_states=4, temperature=1.0).diagnostics(z1, z1)
    normalized = IMSVD(projector=(16, 8), num_states=4, temperature=1.0, normalize_logits=True).diagnostics(z1, z1)
    assert plain["confidence"] > 0.99
    # standardized logits of K = 4 states are at most sqrt(3), so at T = 1 no state exceeds
    # e^sqrt(3) / (e^sqrt(3) + 3 e^(-1/sqrt(3))) = 0.77: the temperature sets the sharpness
    assert normalized["confidence"] <= 0.77


def test_a_bad_final_temperature_raises() -> None:
    with pytest.raises(ValueError, match="final_temperature"):
        IMSVD(projector=(16, 8), num_states=4, final_temperature=0.0)
