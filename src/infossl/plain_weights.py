"""Encoders from weights that infossl did not write: a plain ``state_dict`` of a backbone
(saved by a plain PyTorch loop, torchvision or timm), described by a :class:`BackboneSpec`.

The file may be a ``torch.save``'d state dict, a dict wrapping one under ``state_dict``,
``model`` or ``backbone`` (Lightning and many training scripts), or a ``.safetensors``
file. Key prefixes such as ``module.`` (DDP) or ``backbone.`` are stripped when that is
what makes the keys match. Every weight of the backbone must be present; weights it does
not have (a classifier head: torchvision's ``fc``, timm's ``head``) are ignored and reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor

from infossl.data.augment import IMAGENET_MEAN, IMAGENET_STD
from infossl.encoder import Encoder
from infossl.errors import InputError, MissingPathError
from infossl.models.backbones import BackboneSpec, build_backbone

#: keys under which training scripts commonly store the model's state dict
WRAPPER_KEYS = ("state_dict", "model", "backbone")


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """The tensors of a weights file (see the module docstring for what is accepted)."""
    path = Path(path)
    if not path.is_file():
        raise MissingPathError(f"weights not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as error:
            raise InputError(f"{path} is not a readable safetensors file: {error}") from error
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise InputError(f"{path} is not a readable PyTorch weights file: {error}") from error
    if isinstance(loaded, Mapping) and "infossl" in loaded:
        raise InputError(f"{path} is an infossl checkpoint: it records its backbone, so evaluate it without --backbone.* options")
    state = _tensors(loaded)
    for key in WRAPPER_KEYS:
        if state is None and isinstance(loaded, Mapping):
            state = _tensors(loaded.get(key))
    if not state:
        raise InputError(
            f"{path} holds no state dict: expected a dict of tensors, or one under {', '.join(repr(k) for k in WRAPPER_KEYS)}"
        )
    return state


def _tensors(value: object) -> dict[str, Tensor] | None:
    if isinstance(value, Mapping) and value and all(isinstance(v, Tensor) for v in value.values()):
        return dict(value)
    return None


def match_prefix(state: Mapping[str, Tensor], expected: Sequence[str]) -> tuple[dict[str, Tensor], str]:
    """``state`` with the dotted key prefix removed that makes most of its keys match
    ``expected`` (``""`` when none does better), and that prefix."""
    wanted = set(expected)
    candidates = {""}
    for key in state:
        parts = key.split(".")
        candidates.update(".".join(parts[:i]) + "." for i in range(1, len(parts)))

    def matches(prefix: str) -> int:
        return sum(1 for key in state if key.startswith(prefix) and key[len(prefix) :] in wanted)

    best = max(sorted(candidates), key=lambda prefix: (matches(prefix), -len(prefix)))
    stripped = {key[len(best) :]: value for key, value in state.items() if key.startswith(best)}
    stripped.update({key: value for key, value in state.items() if not key.startswith(best)})
    return stripped, best


def load_plain_encoder(
    path: str | Path,
    spec: BackboneSpec,
    image_size: int | None = None,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> tuple[Encoder, dict[str, object]]:
    """The encoder of a plain backbone state dict, and what loading it did
    (``{"prefix": stripped prefix, "ignored_keys": [...]}``). ``mean``/``std`` must be
    the normalization the weights were trained with (ImageNet's by default, as for
    torchvision and timm weights); ``image_size`` resizes inputs (None: as given)."""
    if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
        raise InputError(f"--preprocess.mean/std: 3 values each and std > 0 expected, got mean {list(mean)}, std {list(std)}")
    try:
        backbone, feature_dim = build_backbone(spec)
    except ValueError as error:  # an unknown backbone or timm model
        raise InputError(str(error)) from error
    expected = backbone.state_dict()
    state, prefix = match_prefix(read_state_dict(path), list(expected))
    missing = [key for key in expected if key not in state]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise InputError(
            f"{path} does not hold the weights of backbone {spec.to_dict()}: missing {shown} "
            f"(the file's keys start {', '.join(list(state)[:3])}); check --backbone.name and --backbone.widths"
        )
    wrong = [f"{key} {tuple(state[key].shape)} vs {tuple(value.shape)}" for key, value in expected.items() if state[key].shape != value.shape]
    if wrong:
        raise InputError(f"{path}: weight shapes differ from backbone {spec.to_dict()}: {'; '.join(wrong[:3])}")
    backbone.load_state_dict({key: state[key] for key in expected})
    ignored = sorted(key for key in state if key not in expected)
    encoder = Encoder(backbone, feature_dim, image_size, tuple(mean), tuple(std))
    return encoder.eval(), {"prefix": prefix, "ignored_keys": ignored}
