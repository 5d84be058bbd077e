"""Backbones and projection heads."""

from infossl.models.backbones import BackboneSpec, build_backbone
from infossl.models.heads import GlobalBatchNorm1d, mlp

__all__ = ["BackboneSpec", "GlobalBatchNorm1d", "build_backbone", "mlp"]
