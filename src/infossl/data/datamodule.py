"""The Lightning data module: sources -> in-memory uint8 batches -> augmented views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import Dataset

from infossl.data.augment import AugmentConfig, MultiViewAugment, Normalize
from infossl.data.lazy_folder import FolderImages
from infossl.data.sources import ImageSet, load_image_folder, load_npz, load_torchvision
from infossl.data.synthetic import make_shapes
from infossl.errors import InputError

Source = Literal["synthetic", "npz", "image_folder", "unlabeled_folder", "cifar10", "cifar100", "stl10", "litdata"]


class ImageBatches(Dataset):
    """Indexes an :class:`ImageSet` (or a lazily decoded folder); ``__getitems__``
    returns a whole stacked batch."""

    def __init__(self, data: ImageSet) -> None:
        self.data = data
        self.labels = data.labels if data.labels is not None else torch.full((len(data),), -1, dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.data.get(torch.tensor([index]))[0], self.labels[index]

    def __getitems__(self, indices: list[int]) -> tuple[Tensor, Tensor]:
        index = torch.as_tensor(indices)
        return self.data.get(index), self.labels[index]


def keep_batch(batch: Any) -> Any:
    """Collate function for datasets that already return stacked batches."""
    return batch


@dataclass
class SyntheticConfig:
    """Sizes of the procedurally generated shapes set (source "synthetic")."""

    train_size: int = 4000
    test_size: int = 1000
    image_size: int = 32


class SSLDataModule(L.LightningDataModule):
    """Pretraining data: a source, a global batch size and multi-view augmentation.

    Args:
        source: where images come from: "synthetic" (generated shapes),
            "npz" (the CIFAR-10 npz layout), "image_folder" (class sub-folders),
            "unlabeled_folder" (all images below ``path``), torchvision's
            "cifar10", "cifar100", "stl10", or "litdata" (streaming shards written
            by ``infossl prepare``, for data sets too large for memory).
        path: file or folder of the source (root folder for torchvision sets; for
            "litdata" the shards' folder, or an object-store URL).
        val_path: labelled evaluation folder for "image_folder" (else
            ``val_fraction`` of ``path`` is held out with ``seed``); for "litdata",
            optional labelled shards for the monitors.
        val_fraction: held-out share when there is no separate evaluation split.
        image_size: decode size for image folders (images are resized and
            centre-cropped once at load time).
        in_memory: decode image folders once at start-up into memory (default);
            false decodes them per batch (use data.num_workers) after a header
            check of every file at start-up, for folders too large for memory.
        strict: fail at start-up, listing them, when image files are broken
            (default: skip them with a warning listing them).
        batch_size: global batch size, split evenly across processes.
        num_workers: data loader workers (in-memory batches rarely need any).
        download: let torchvision download its data sets (needs network).
        seed: seed of the shuffling, the split and the augmentation RNG.
        augment: multi-view augmentation settings.
        synthetic: sizes for the "synthetic" source.
    """

    def __init__(
        self,
        source: Source = "synthetic",
        path: str | None = None,
        val_path: str | None = None,
        val_fraction: float = 0.1,
        image_size: int = 64,
        in_memory: bool = True,
        strict: bool = False,
        batch_size: int = 256,
        num_workers: int = 0,
        download: bool = False,
        seed: int = 0,
        augment: AugmentConfig = AugmentConfig(),  # noqa: B008 (dataclass defaults are copied by the CLI)
        synthetic: SyntheticConfig = SyntheticConfig(),  # noqa: B008
    ) -> None:
        super().__init__()
        if source not in ("synthetic", "cifar10", "cifar100", "stl10") and path is None:
            raise InputError(f"data.path is required for data.source={source!r}")
        if batch_size < 2:
            raise InputError(f"data.batch_size must be >= 2, got {batch_size}")
        if not 0.0 < val_fraction < 1.0:
            raise InputError(f"data.val_fraction must be in (0, 1), got {val_fraction}")
        self.source, self.path, self.val_path = source, path, val_path
        self.val_fraction, self.image_size = val_fraction, image_size
        self.in_memory, self.strict = in_memory, strict
        self.batch_size, self.num_workers, self.download, self.seed = batch_size, num_workers, download, seed
        self.augment_config, self.synthetic = augment, synthetic
        self.train_set: ImageSet | None = None
        self.val_set: ImageSet | None = None
        self.augment: MultiViewAugment | None = None
        self._pending_rng: Tensor | None = None

    # ----------------------------------------------------------------- loading
    def _load(self) -> tuple[ImageSet, ImageSet | None]:
        if self.source == "synthetic":
            s = self.synthetic
            return make_shapes(s.train_size, s.image_size, self.seed), make_shapes(s.test_size, s.image_size, self.seed + 1)
        if self.source == "npz":
            return load_npz(self.path)  # type: ignore[arg-type]
        if self.source in ("cifar10", "cifar100", "stl10"):
            return load_torchvision(self.source, self.path or "data", self.download)
        labelled = self.source == "image_folder"
        data = self._folder(self.path, labelled)  # type: ignore[arg-type]
        if not labelled:
            return data, None
        if self.val_path is not None:
            return data, self._folder(self.val_path, True)
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(self.seed))
        n_val = max(1, int(round(self.val_fraction * len(data))))
        return data.subset(order[n_val:]), data.subset(order[:n_val])

    def _folder(self, path: str, labelled: bool):
        if self.in_memory:
            return load_image_folder(path, self.image_size, labelled=labelled, strict=self.strict)
        return FolderImages.scan(path, self.image_size, labelled=labelled, strict=self.strict)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        if self.source == "litdata":
            self._setup_shards()
            return
        self.train_set, self.val_set = self._load()
        if self.val_set is not None and self.val_set.labels is None:
            self.val_set = None
        world = self.world_size
        if self.batch_size % world != 0:
            raise InputError(f"data.batch_size={self.batch_size} is not divisible by the {world} processes")
        if len(self.train_set) < self.batch_size:
            raise InputError(
                f"data.batch_size={self.batch_size} is larger than the {len(self.train_set)} training images"
            )
        self.augment = MultiViewAugment(self.augment_config, self.train_set.image_size, seed=self.seed)
        if self._pending_rng is not None:
            self.augment.load_state_dict_rng(self._pending_rng)
        self.eval_transform = Normalize(self.augment_config.mean, self.augment_config.std)

    def _setup_shards(self) -> None:
        from infossl.data.shards import ShardViews, read_summary

        summary = None if "://" in str(self.path) else read_summary(self.path)
        size = self.augment_config.image_size or (summary or {}).get("image_size")
        if size is None:
            raise InputError("data.augment.image_size is required with shards at a URL (their image size cannot be read here)")
        views = [(view.crop_scale, view_size) for view, view_size in self.augment_config.sized_views(size)]
        self.train_set = ShardViews(self.path, size, views, self.seed, train=True)
        self.val_set = ShardViews(self.val_path, size, None, self.seed, train=False) if self.val_path else None
        self.augment = MultiViewAugment(self.augment_config, size, seed=self.seed, cropped=True)
        if self._pending_rng is not None:
            self.augment.load_state_dict_rng(self._pending_rng)
        self.eval_transform = Normalize(self.augment_config.mean, self.augment_config.std)

    # ------------------------------------------------------------- properties
    @property
    def world_size(self) -> int:
        """Processes sharing the global batch (1 before a trainer is attached)."""
        return self.trainer.world_size if self.trainer is not None else 1

    @property
    def num_classes(self) -> int:
        return self.val_set.num_classes if self.val_set is not None else 0

    def preprocess_info(self) -> dict[str, Any]:
        """What an encoder trained on this data expects at inference."""
        size = self.augment_config.image_size or (self.train_set.image_size if self.train_set is not None else None)
        return {"image_size": size, "mean": list(self.augment_config.mean), "std": list(self.augment_config.std)}

    def steps_per_epoch(self) -> int:
        """Optimizer batches per epoch and process (drop_last), without building a loader."""
        world = self.world_size
        if self.source == "litdata":  # litdata splits the shards' items evenly over processes
            per_process = self.batch_size // world
            return self.train_set.get_len(self.num_workers, per_process) // per_process  # type: ignore[union-attr]
        return (len(self.train_set) // world) // (self.batch_size // world)  # type: ignore[arg-type]

    # ------------------------------------------------------------ dataloaders
    def _loader(self, data: ImageSet, batch_size: int, train: bool):
        from torchdata.stateful_dataloader import StatefulDataLoader
        from torchdata.stateful_dataloader.sampler import StatefulDistributedSampler

        world = self.world_size
        rank = self.trainer.global_rank if self.trainer is not None else 0
        dataset = ImageBatches(data)
        sampler = StatefulDistributedSampler(
            dataset, num_replicas=world, rank=rank, shuffle=train, seed=self.seed, drop_last=train
        )
        return StatefulDataLoader(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            drop_last=train,
            num_workers=self.num_workers,
            collate_fn=keep_batch,
            persistent_workers=self.num_workers > 0,
        )

    def _shard_loader(self, data, batch_size: int, train: bool):
        from litdata import StreamingDataLoader

        return StreamingDataLoader(
            data, batch_size=batch_size, num_workers=self.num_workers, drop_last=train, persistent_workers=self.num_workers > 0
        )

    def train_dataloader(self):
        world = self.world_size
        if self.source == "litdata":
            return self._shard_loader(self.train_set, self.batch_size // world, train=True)
        return self._loader(self.train_set, self.batch_size // world, train=True)  # type: ignore[arg-type]

    def val_dataloader(self):
        if self.val_set is None:
            return []
        if self.source == "litdata":
            return self._shard_loader(self.val_set, 512, train=False)
        return self._loader(self.val_set, 512, train=False)

    # ------------------------------------------------------------ augmentation
    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        images, labels = batch
        if self.trainer is not None and self.trainer.training:
            if self.augment is None:
                raise RuntimeError("SSLDataModule.setup() must run before training batches are augmented")
            device = images[0].device if isinstance(images, (list, tuple)) else images.device  # shards: one batch per view
            return self.augment.to(device)(images), labels
        return self.eval_transform.to(images.device)(images), labels

    # ----------------------------------------------------------- checkpointing
    def state_dict(self) -> dict[str, Any]:
        return {"augment_rng": self.augment.state_dict_rng()} if self.augment is not None else {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if "augment_rng" in state_dict:
            self._pending_rng = state_dict["augment_rng"]
            if self.augment is not None:
                self.augment.load_state_dict_rng(self._pending_rng)
