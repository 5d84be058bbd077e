"""The configs shipped inside the package, and ``--config`` path resolution."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from infossl.errors import MissingPathError


def config_root() -> Path:
    return Path(str(resources.files("infossl") / "configs"))


def packaged_configs() -> list[str]:
    """Names like ``cifar10/imsvd.yaml`` of every shipped recipe (a family's shared
    ``_base.yaml``, which its recipes include with ``config: _base.yaml``, is left out)."""
    root = config_root()
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.yaml") if not p.name.startswith("_"))


def resolve_config(value: str) -> str:
    """A ``--config`` value: an existing file, or a shipped config name
    (``cifar10/imsvd.yaml`` or ``configs/cifar10/imsvd.yaml``)."""
    if Path(value).is_file():
        return value
    name = value.removeprefix("configs/")
    candidate = config_root() / name
    if candidate.is_file():
        return str(candidate)
    raise MissingPathError(
        f"--config {value}: no such file, and no shipped config of that name; shipped configs: "
        + ", ".join(packaged_configs())
    )


def resolve_config_args(args: list[str]) -> list[str]:
    """Rewrite every ``--config X`` / ``--config=X`` in ``args`` with :func:`resolve_config`."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--config" and i + 1 < len(args):
            out += [arg, resolve_config(args[i + 1])]
            i += 2
            continue
        if arg.startswith("--config="):
            arg = "--config=" + resolve_config(arg.split("=", 1)[1])
        out.append(arg)
        i += 1
    return out
