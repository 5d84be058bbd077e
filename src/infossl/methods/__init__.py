"""The methods: each a small module choosing heads and an objective."""

from infossl.methods.barlow import BarlowTwins
from infossl.methods.base import (
    JointEmbeddingMethod,
    Method,
    TeacherStudentMethod,
    build_method,
)
from infossl.methods.byol import BYOL
from infossl.methods.dino import DINO, DiscreteDistillationMethod
from infossl.methods.emi import EMI
from infossl.methods.entrec import EntRec
from infossl.methods.entrec_byol import EntRecBYOL
from infossl.methods.entrec_dino import EntRecDINO
from infossl.methods.imsvd import IMSVD
from infossl.methods.simclr import SimCLR
from infossl.methods.vicreg import VICReg

METHODS: dict[str, type[Method]] = {
    cls.name: cls for cls in (IMSVD, EMI, EntRec, EntRecBYOL, EntRecDINO, SimCLR, BYOL, BarlowTwins, VICReg, DINO)
}

__all__ = [
    "BYOL",
    "DINO",
    "DiscreteDistillationMethod",
    "EMI",
    "METHODS",
    "BarlowTwins",
    "EntRec",
    "EntRecBYOL",
    "EntRecDINO",
    "IMSVD",
    "JointEmbeddingMethod",
    "Method",
    "SimCLR",
    "TeacherStudentMethod",
    "VICReg",
    "build_method",
]
