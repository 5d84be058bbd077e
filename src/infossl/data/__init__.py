"""Data sources, the synthetic shapes set, augmentation and the data module."""

from infossl.data.augment import AugmentConfig, MultiViewAugment, ViewConfig
from infossl.data.datamodule import SSLDataModule, SyntheticConfig
from infossl.data.sources import ImageSet, load_image_folder, load_npz, load_torchvision
from infossl.data.synthetic import make_shapes

__all__ = [
    "AugmentConfig",
    "ImageSet",
    "MultiViewAugment",
    "SSLDataModule",
    "SyntheticConfig",
    "ViewConfig",
    "load_image_folder",
    "load_npz",
    "load_torchvision",
    "make_shapes",
]
