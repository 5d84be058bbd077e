"""Batched multi-view augmentation with per-sample random parameters (kornia).

The data loader yields uint8 batches; augmentation runs on whole batches on the
training device (a GPU when there is one), so it never becomes a per-image
Python loop. Randomness comes from a dedicated, checkpointable RNG state, so a
resumed run draws the same augmentations as an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor, nn

from infossl.errors import InputError

#: the default normalization, as in torchvision's and timm's pretrained models
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: CIFAR-10's training-set statistics, set by the shipped CIFAR-10 recipes
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


@dataclass
class ViewConfig:
    """Random transforms of one view (probabilities in [0, 1])."""

    crop_scale: tuple[float, float] = (0.2, 1.0)
    flip_p: float = 0.5
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)
    jitter_p: float = 0.8
    grayscale_p: float = 0.2
    blur_p: float = 0.0
    solarize_p: float = 0.0


@dataclass
class AugmentConfig:
    """Multi-view augmentation.

    Args:
        preset: "simclr" (two identical views: IMSVD's CIFAR recipe),
            "asymmetric" (VICReg/BYOL pair: blur p=1.0 / 0.1, solarization p=0 / 0.2),
            or "custom" (use ``views`` as given).
        image_size: output size of the random resized crop (None: the data's size).
        crop_scale: crop area range for the presets.
        jitter: colour-jitter strengths (brightness, contrast, saturation, hue)
            for the presets ("asymmetric" uses saturation 0.2 as published).
        jitter_p, grayscale_p: probabilities of colour jitter and grayscale.
        mean, std: per-channel normalization of [0, 1] images; ImageNet's statistics
            by default (the torchvision and timm convention), whatever the data: set
            your data's own (the CIFAR-10 recipes set CIFAR-10's).
        views: per-view settings, used when preset is "custom".
        jitter_style: the colour-jitter formulas. "torchvision" (the default):
            torchvision's ``ColorJitter`` (kornia's ``ColorJitter``), which lightly,
            solo-learn and the PyTorch ports of SimCLR, BYOL, VICReg and DINO use:
            brightness multiplies the image, contrast blends it with its grayscale mean,
            saturation with its grayscale, hue shifts in HSV. "jiggle": kornia's
            ``ColorJiggle``, this library's default until SimCLR measured better with
            torchvision's formulas (docs/benchmarks.md): brightness adds an offset, contrast
            multiplies the image, saturation and hue are changed in HSV. Both apply the
            four steps in a random order.
        local_crops: multi-crop (Caron et al., SwAV and DINO): this many small crops per
            image in addition to the two global views (0: two views only). Local crops are
            views 2, 3, ...: colour jitter and grayscale as the first global view, blur with
            probability 0.5, no solarization (DINO's local views).
        local_image_size: output size of the local crops (None: half the global size).
        local_crop_scale: crop area range of the local crops (DINO: 0.05-0.14 of the image,
            with the global crops at 0.14-1).
    """

    preset: Literal["simclr", "asymmetric", "custom"] = "simclr"
    image_size: int | None = None
    crop_scale: tuple[float, float] = (0.2, 1.0)
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)
    jitter_p: float = 0.8
    grayscale_p: float = 0.2
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    views: list[ViewConfig] = field(default_factory=lambda: [ViewConfig(), ViewConfig()])
    jitter_style: Literal["torchvision", "jiggle"] = "torchvision"
    local_crops: int = 0
    local_image_size: int | None = None
    local_crop_scale: tuple[float, float] = (0.05, 0.14)

    def resolved_views(self) -> list[ViewConfig]:
        common = {"crop_scale": self.crop_scale, "jitter_p": self.jitter_p, "grayscale_p": self.grayscale_p}
        if self.preset == "simclr":
            return [ViewConfig(jitter=self.jitter, **common) for _ in range(2)]
        if self.preset == "asymmetric":
            b, c, _, h = self.jitter
            return [
                ViewConfig(jitter=(b, c, 0.2, h), blur_p=1.0, solarize_p=0.0, **common),
                ViewConfig(jitter=(b, c, 0.2, h), blur_p=0.1, solarize_p=0.2, **common),
            ]
        if self.preset == "custom":
            if len(self.views) < 2:
                raise InputError(f"data.augment.views: need at least 2 views, got {len(self.views)}")
            return list(self.views)
        raise InputError(f"data.augment.preset={self.preset!r}; expected 'simclr', 'asymmetric' or 'custom'")


    def sized_views(self, image_size: int) -> list[tuple[ViewConfig, int]]:
        """Every view with its output size: the global views at ``image_size`` (or
        ``self.image_size``), then the local crops at ``local_image_size``."""
        if self.local_crops < 0:
            raise InputError(f"data.augment.local_crops must be >= 0, got {self.local_crops}")
        size = self.image_size or image_size
        views = [(view, size) for view in self.resolved_views()]
        if self.local_crops:
            local_size = self.local_image_size or max(8, size // 2)
            if local_size < 8:
                raise InputError(f"data.augment.local_image_size must be at least 8, got {local_size}")
            first = views[0][0]
            local = ViewConfig(crop_scale=self.local_crop_scale, flip_p=first.flip_p, jitter=first.jitter,
                               jitter_p=first.jitter_p, grayscale_p=first.grayscale_p, blur_p=0.5, solarize_p=0.0)
            views += [(local, local_size)] * self.local_crops
        return views


def _view_pipeline(view: ViewConfig, size: int, crop: bool = True, jitter_style: str = "torchvision") -> nn.Module:
    import kornia.augmentation as K

    jitters = {"torchvision": K.ColorJitter, "jiggle": K.ColorJiggle}
    if jitter_style not in jitters:
        raise InputError(f"data.augment.jitter_style={jitter_style!r}; expected 'torchvision' or 'jiggle'")

    ops: list[nn.Module] = [K.RandomResizedCrop((size, size), scale=view.crop_scale)] if crop else []
    if view.flip_p > 0:
        ops.append(K.RandomHorizontalFlip(p=view.flip_p))
    if view.jitter_p > 0:
        ops.append(jitters[jitter_style](*view.jitter, p=view.jitter_p))
    if view.grayscale_p > 0:
        ops.append(K.RandomGrayscale(p=view.grayscale_p))
    if view.blur_p > 0:
        kernel = max(3, (size // 10) | 1)  # ~10% of the image, odd
        ops.append(K.RandomGaussianBlur((kernel, kernel), (0.1, 2.0), p=view.blur_p))
    if view.solarize_p > 0:
        ops.append(K.RandomSolarize(thresholds=0.0, additions=0.0, p=view.solarize_p))
    return K.AugmentationSequential(*ops)


class Normalize(nn.Module):
    """uint8 or [0, 1] float images -> normalized float images."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if x.dtype == torch.uint8:
            x = x.float().div_(255)
        return (x - self.mean) / self.std


def _as_float(images: Tensor) -> Tensor:
    return images.float().div_(255) if images.dtype == torch.uint8 else images


class MultiViewAugment(nn.Module):
    """uint8 batch (N, 3, H, W) -> list of normalized augmented views: the two global
    views, then ``config.local_crops`` local crops at their own (smaller) size.

    With ``cropped=True`` the input is already one batch per view, each view's random
    resized crop cut at its output size by the data loader (streaming shards, whose
    images differ in size); the rest of each view's pipeline runs here, batched."""

    def __init__(self, config: AugmentConfig, image_size: int, seed: int = 0, cropped: bool = False) -> None:
        super().__init__()
        self.cropped = cropped
        self.views = nn.ModuleList(
            _view_pipeline(v, size, crop=not cropped, jitter_style=config.jitter_style) for v, size in config.sized_views(image_size)
        )
        self.normalize = Normalize(config.mean, config.std)
        generator = torch.Generator().manual_seed(seed)
        self.rng_state = generator.get_state()

    @torch.no_grad()
    def forward(self, images: Tensor | list[Tensor]) -> list[Tensor]:
        if self.cropped != isinstance(images, (list, tuple)):
            raise InputError("MultiViewAugment: pass one batch, or with cropped=True one batch per view")
        if self.cropped:
            if len(images) != len(self.views):
                raise InputError(f"MultiViewAugment: {len(images)} cropped views for {len(self.views)} view pipelines")
            inputs = [_as_float(x) for x in images]
        else:
            inputs = [_as_float(images)] * len(self.views)  # converted once, shared by every view
        device = inputs[0].device
        devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.random.set_rng_state(self.rng_state)
            if devices:
                torch.cuda.manual_seed(int(torch.randint(0, 2**31 - 1, ())))
            views = [self.normalize(view(x)) for view, x in zip(self.views, inputs)]
            self.rng_state = torch.random.get_rng_state()
        return views

    def state_dict_rng(self) -> Tensor:
        return self.rng_state.clone()

    def load_state_dict_rng(self, state: Tensor) -> None:
        self.rng_state = state.clone()
