"""The colour-jitter formulas of the augmentation (data.augment.jitter_style)."""

from __future__ import annotations

import pytest
import torch

from infossl.data.augment import AugmentConfig, MultiViewAugment, ViewConfig
from infossl.errors import InputError


def jitter_only(style: str, jitter: tuple[float, float, float, float]) -> MultiViewAugment:
    """Views with colour jitter alone (always applied), no crop change, flip, grayscale or normalization."""
    view = ViewConfig(crop_scale=(1.0, 1.0), flip_p=0.0, jitter=jitter, jitter_p=1.0, grayscale_p=0.0)
    config = AugmentConfig(preset="custom", views=[view, view], jitter_style=style, mean=(0, 0, 0), std=(1, 1, 1))
    return MultiViewAugment(config, image_size=8, seed=0)


def images() -> torch.Tensor:
    # values in [0.45, 0.55]: no brightness factor in [0.6, 1.4] or offset in [-0.4, 0.4] leaves [0, 1]
    return torch.rand(16, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 0.1 + 0.45


def test_torchvision_brightness_multiplies_and_jiggle_brightness_adds() -> None:
    x = images()
    scaled = jitter_only("torchvision", (0.4, 0.0, 0.0, 0.0))(x)[0]
    factor = scaled / x  # one factor per image
    assert torch.allclose(factor, factor.mean((1, 2, 3), keepdim=True).expand_as(factor), atol=1e-4)
    assert not torch.allclose(factor, torch.ones_like(factor))
    shifted = jitter_only("jiggle", (0.4, 0.0, 0.0, 0.0))(x)[0]
    offset = shifted - x  # one offset per image
    assert torch.allclose(offset, offset.mean((1, 2, 3), keepdim=True).expand_as(offset), atol=1e-4)
    assert not torch.allclose(offset, torch.zeros_like(offset))


def test_torchvision_contrast_keeps_the_grayscale_mean_and_jiggle_contrast_scales_it() -> None:
    x = images()
    gray_mean = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1).mean((1, 2))
    blended = jitter_only("torchvision", (0.0, 0.4, 0.0, 0.0))(x)[0]
    blended_mean = (blended * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1).mean((1, 2))
    assert torch.allclose(blended_mean, gray_mean, atol=2e-3)  # (x - m) f + m keeps the mean m
    scaled = jitter_only("jiggle", (0.0, 0.4, 0.0, 0.0))(x)[0]
    factor = scaled / x
    assert torch.allclose(factor, factor.mean((1, 2, 3), keepdim=True).expand_as(factor), atol=1e-4)


def test_an_unknown_jitter_style_names_the_key() -> None:
    with pytest.raises(InputError, match="data.augment.jitter_style"):
        jitter_only("pil", (0.4, 0.4, 0.4, 0.1))


def test_the_default_jitter_uses_torchvision_formulas() -> None:
    import kornia.augmentation as K

    augment = MultiViewAugment(AugmentConfig(), image_size=8, seed=0)
    jitters = [type(m) for m in augment.modules() if isinstance(m, (K.ColorJitter, K.ColorJiggle))]
    assert jitters == [K.ColorJitter, K.ColorJitter]  # one per view
