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
]
