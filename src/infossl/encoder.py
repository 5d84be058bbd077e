"""Load a pretrained backbone from an infossl checkpoint, ready to embed images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from infossl.errors import InputError, MissingPathError
from infossl.models.backbones import BackboneSpec, build_backbone

#: bumped when the checkpoint layout changes; checked when loading
CHECKPOINT_FORMAT_VERSION = 1


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint dict, after checking it is an infossl checkpoint we can read."""
    path = Path(path)
    if not path.is_file():
        raise MissingPathError(f"checkpoint not found: {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise InputError(f"{path} is not a readable PyTorch checkpoint: {error}") from error
    checkpoint_info(checkpoint, str(path))
    return checkpoint


def checkpoint_info(checkpoint: Any, source: str = "checkpoint") -> dict[str, Any]:
    """The ``infossl`` section of a loaded checkpoint, after checking that this
    version can read it; ``source`` names the file in the error messages."""
    info = checkpoint.get("infossl") if isinstance(checkpoint, dict) else None
    if info is None or "state_dict" not in checkpoint:
        raise InputError(f"{source} is not an infossl checkpoint (no 'infossl' section or 'state_dict')")
    if info.get("format_version", 0) > CHECKPOINT_FORMAT_VERSION:
        raise InputError(
            f"{source} has checkpoint format {info['format_version']}; this infossl reads up to {CHECKPOINT_FORMAT_VERSION}"
        )
    return info


def backbone_state_dict(checkpoint: dict[str, Any]) -> dict[str, Tensor]:
    """The online backbone's weights (keys without the ``backbone.`` prefix)."""
    prefix = "backbone."
    return {k[len(prefix) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)}


class Encoder(nn.Module):
    """A pretrained backbone with the preprocessing it expects.

    ``encoder(images)`` takes a batch of RGB images, uint8 in [0, 255] or float
    in [0, 1], shape (N, 3, H, W); resizes them to ``image_size`` when needed,
    normalizes them and returns the pooled features (N, feature_dim).
    ``encoder.transform`` is the equivalent torchvision transform for single
    PIL images (giving normalized tensors).
    """

    def __init__(self, backbone: nn.Module, feature_dim: int, image_size: int | None, mean, std) -> None:
        super().__init__()
        self.backbone = backbone
        self.feature_dim = feature_dim
        self.image_size = image_size
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)

    @property
    def transform(self):
        from torchvision.transforms import v2

        steps = [v2.ToImage()]
        if self.image_size is not None:
            steps += [v2.Resize(self.image_size), v2.CenterCrop(self.image_size)]
        steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(self.mean.flatten().tolist(), self.std.flatten().tolist())]
        return v2.Compose(steps)

    def preprocess(self, images: Tensor) -> Tensor:
        if images.ndim != 4 or images.shape[1] != 3:
            raise InputError(f"Encoder expects images of shape (N, 3, H, W); got {tuple(images.shape)}")
        x = images.float() / 255 if images.dtype == torch.uint8 else images.float()
        if self.image_size is not None and x.shape[-2:] != (self.image_size, self.image_size):
            x = nn.functional.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear", antialias=True)
        return (x - self.mean) / self.std

    def forward(self, images: Tensor) -> Tensor:
        return self.backbone(self.preprocess(images))


def _method_spec(ckpt: dict[str, Any], path: Path) -> dict[str, Any]:
    """The method's class path and init args: from the checkpoint, or (checkpoints of
    infossl versions before they were stored there) from the run's config.yaml."""
    spec = ckpt["infossl"].get("method_spec")
    if spec is not None:
        return spec
    config_path = path.parent.parent / "config.yaml"
    if not config_path.is_file():
        raise InputError(f"{path} does not record its method's settings and no run config is at {config_path}")
    import yaml

    method = ((yaml.safe_load(config_path.read_text()) or {}).get("model") or {}).get("method")
    if not isinstance(method, dict) or "class_path" not in method:
        raise InputError(f"{config_path} has no model.method class_path")
    return method


def load_method(checkpoint: str | Path, device: str | torch.device = "cpu"):
    """The encoder and the method (projector and other heads, with its objective)
    of an infossl checkpoint, both in eval mode: ``encoder, method = load_method(path)``,
    then ``method.embed(encoder(images))`` gives the embeddings the objective saw."""
    path = Path(checkpoint)
    encoder, method = encoder_and_method_from(read_checkpoint(path), path)
    return encoder.eval().to(device), method.eval().to(device)


def encoder_and_method_from(ckpt: dict[str, Any], path: Path):
    """(encoder, method) from a checkpoint dict already read by :func:`read_checkpoint`."""
    from infossl.methods import build_method

    encoder = _encoder_from(ckpt)
    method = build_method(_method_spec(ckpt, path))
    method.build(encoder.backbone, encoder.feature_dim)
    prefix = "method."
    try:
        method.load_state_dict({k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)})
    except RuntimeError as error:
        raise InputError(f"{path}: the method's weights do not match its recorded settings: {str(error).splitlines()[0]}") from error
    return encoder, method


def load_encoder(checkpoint: str | Path, device: str | torch.device = "cpu") -> Encoder:
    """The backbone of an infossl checkpoint, in eval mode, with its preprocessing."""
    return _encoder_from(read_checkpoint(checkpoint)).eval().to(device)


def _encoder_from(ckpt: dict[str, Any]) -> Encoder:
    info = ckpt["infossl"]
    spec = BackboneSpec(**{**info["backbone"], "widths": tuple(info["backbone"]["widths"])})
    backbone, feature_dim = build_backbone(spec)
    try:
        backbone.load_state_dict(backbone_state_dict(ckpt))
    except RuntimeError as error:
        raise InputError(
            f"the checkpoint's weights do not match its recorded backbone {info['backbone']}: {str(error).splitlines()[0]}"
        ) from error
    pre = info.get("preprocess") or {}
    encoder = Encoder(
        backbone,
        feature_dim,
        pre.get("image_size"),
        pre.get("mean", (0.5, 0.5, 0.5)),
        pre.get("std", (0.5, 0.5, 0.5)),
    )
    return encoder
