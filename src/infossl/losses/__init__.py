"""The two-view objectives of infossl, each a plain ``torch.nn.Module``.

``out = loss(z1, z2)`` returns :class:`LossOutput` ``(loss, terms)``. Batch
statistics are computed on the global batch under ``torch.distributed``.
"""

from infossl.losses.barlow_twins import BarlowTwinsLoss
from infossl.losses.base import LossOutput, PairLoss
from infossl.losses.byol import BYOLLoss
from infossl.losses.dino import DINOLoss
from infossl.losses.emi import EMILoss
from infossl.losses.entrec import EntRecLoss
from infossl.losses.entrec_discrete import EntRecDiscreteLoss
from infossl.losses.imsvd import IMSVDLoss
from infossl.losses.infonce import InfoNCELoss
from infossl.losses.vicreg import VICRegLoss

__all__ = [
    "BYOLLoss",
    "BarlowTwinsLoss",
    "DINOLoss",
    "EMILoss",
    "EntRecDiscreteLoss",
    "EntRecLoss",
    "IMSVDLoss",
    "InfoNCELoss",
    "LossOutput",
    "PairLoss",
    "VICRegLoss",
]
