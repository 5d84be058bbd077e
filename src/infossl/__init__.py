"""infossl: self-supervised representation learning by information maximization."""

from infossl.losses import (
    BarlowTwinsLoss,
    BYOLLoss,
    EMILoss,
    EntRecLoss,
    IMSVDLoss,
    InfoNCELoss,
    LossOutput,
    VICRegLoss,
)

__version__ = "0.1.0"


def load_encoder(checkpoint, device="cpu"):
    """The backbone of an infossl checkpoint with its preprocessing (see :mod:`infossl.encoder`)."""
    from infossl.encoder import load_encoder as _load

    return _load(checkpoint, device)


def load_method(checkpoint, device="cpu"):
    """``(encoder, method)`` of an infossl checkpoint (see :func:`infossl.encoder.load_method`)."""
    from infossl.encoder import load_method as _load

    return _load(checkpoint, device)


__all__ = [
    "BYOLLoss",
    "BarlowTwinsLoss",
    "EMILoss",
    "EntRecLoss",
    "IMSVDLoss",
    "InfoNCELoss",
    "LossOutput",
    "VICRegLoss",
    "__version__",
    "load_encoder",
    "load_method",
]
