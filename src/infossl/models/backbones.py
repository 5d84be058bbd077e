"""Backbones: torchvision ResNets (optionally with the CIFAR stem), any timm
model by name, and a small convnet for CPU runs. Each returns pooled features."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

TORCHVISION_RESNETS = ("resnet18", "resnet34", "resnet50")


@dataclass(frozen=True)
class BackboneSpec:
    """Everything needed to rebuild a backbone (stored in checkpoints).

    Args:
        name: "convnet" (small CPU net), "resnet18", "resnet34", "resnet50"
            (torchvision) or "timm:<model name>" (any timm model).
        cifar_stem: for torchvision ResNets, replace the 7x7 stride-2 conv1 by a
            3x3 stride-1 conv and drop the max-pool (for 32x32 images).
        widths: channel widths of the convnet's blocks.
    """

    name: str = "convnet"
    cifar_stem: bool = True
    widths: tuple[int, ...] = (32, 64, 128, 256)

    def to_dict(self) -> dict:
        return {**asdict(self), "widths": list(self.widths)}


class ConvNet(nn.Module):
    """Blocks of 3x3 conv, batch norm, ReLU and 2x2 max-pool, then global
    average pooling: a fast backbone for CPU runs (32-64-128-256 by default)."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128, 256), in_channels: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = in_channels
        for width in widths:
            layers += [
                nn.Conv2d(c_in, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            c_in = width
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.num_features = c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.pool(self.features(x)), 1)


def torchvision_resnet(name: str, cifar_stem: bool) -> tuple[nn.Module, int]:
    import torchvision

    model = getattr(torchvision.models, name)(weights=None)
    if cifar_stem:
        model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        model.maxpool = nn.Identity()
    dim = model.fc.in_features
    model.fc = nn.Identity()
    return model, dim


def check_backbone_name(name: str) -> None:
    """Raise ValueError unless ``name`` is a backbone family infossl builds."""
    if name != "convnet" and name not in TORCHVISION_RESNETS and not name.startswith("timm:"):
        raise ValueError(f"unknown backbone {name!r}; expected 'convnet', one of {TORCHVISION_RESNETS} or 'timm:<model name>'")


def build_backbone(spec: BackboneSpec) -> tuple[nn.Module, int]:
    """The backbone and the dimension of its pooled features."""
    check_backbone_name(spec.name)
    if spec.name == "convnet":
        net = ConvNet(tuple(spec.widths))
        return net, net.num_features
    if spec.name in TORCHVISION_RESNETS:
        return torchvision_resnet(spec.name, spec.cifar_stem)
    import timm  # "timm:<model name>", the only family left

    model_name = spec.name.removeprefix("timm:")
    if model_name not in timm.list_models():
        raise ValueError(f"backbone {spec.name!r}: timm has no model {model_name!r}")
    model = timm.create_model(model_name, pretrained=False, num_classes=0)
    return model, model.num_features
