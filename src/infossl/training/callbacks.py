"""Monitors attached as Lightning callbacks (never inside a method's step)."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_warn
from torch import nn

from infossl.data.augment import MultiViewAugment
from infossl.diagnostics import representation_report
from infossl.eval.knn import extract_features, knn_accuracy


class OnlineLinearProbe(L.Callback):
    """A linear classifier trained on detached backbone features of the first
    augmented view, alongside pretraining; its accuracy on the validation split
    is logged each validation epoch. Inactive when the data have no labels.

    Args:
        lr: learning rate of the probe's Adam optimizer.
        enabled: switch the probe off.
    """

    def __init__(self, lr: float = 1e-3, enabled: bool = True) -> None:
        self.lr, self.enabled = lr, enabled
        self.probe: nn.Linear | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self._correct = self._count = 0
        self._pending_state: dict[str, Any] | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        num_classes = getattr(trainer.datamodule, "num_classes", 0)
        if not self.enabled or num_classes < 2 or self.probe is not None:
            return
        generator = torch.Generator().manual_seed(0)
        self.probe = nn.Linear(pl_module.feature_dim, num_classes)
        with torch.no_grad():
            nn.init.normal_(self.probe.weight, std=0.01, generator=generator)
            self.probe.bias.zero_()
        self.probe.to(pl_module.device)
        self.optimizer = torch.optim.Adam(self.probe.parameters(), lr=self.lr)
        if self._pending_state is not None:
            self.load_state_dict(self._pending_state)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.probe is None or outputs is None:
            return
        labels = outputs["labels"]
        keep = labels >= 0
        if not bool(keep.any()):
            return
        self.probe.to(pl_module.device)
        with torch.enable_grad():
            logits = self.probe(outputs["features"][keep].float())
            loss = F.cross_entropy(logits, labels[keep])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        accuracy = (logits.argmax(1) == labels[keep]).float().mean()
        pl_module.log("probe/train_acc", accuracy, on_step=False, on_epoch=True, sync_dist=True)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if self.probe is None or trainer.sanity_checking:
            return
        with torch.no_grad():
            predicted = self.probe(outputs["features"]).argmax(1)
        self._correct += int((predicted == outputs["labels"]).sum())
        self._count += len(predicted)

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if self._count:
            pl_module.log("probe/val_acc", self._correct / self._count, prog_bar=True, sync_dist=True)
        self._correct = self._count = 0

    def state_dict(self) -> dict[str, Any]:
        if self.probe is None:
            return {}
        return {"probe": self.probe.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not state_dict:
            return
        if self.probe is None:
            self._pending_state = state_dict
            return
        self.probe.load_state_dict(state_dict["probe"])
        self.optimizer.load_state_dict(state_dict["optimizer"])


class KNNMonitor(L.Callback):
    """Weighted kNN top-1 accuracy of the backbone every ``every_n_epochs``:
    un-augmented training images as the memory bank, the validation split as
    queries. Inactive when the data have no labels.

    Args:
        every_n_epochs: how often to evaluate (0 switches it off).
        k: neighbours.
        max_bank: at most this many training images in the bank (a seeded subset).
    """

    def __init__(self, every_n_epochs: int = 1, k: int = 20, max_bank: int = 10000) -> None:
        self.every_n_epochs, self.k, self.max_bank = every_n_epochs, k, max_bank

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        dm = trainer.datamodule
        if (
            self.every_n_epochs <= 0
            or trainer.sanity_checking
            or getattr(dm, "val_set", None) is None
            or (trainer.current_epoch + 1) % self.every_n_epochs != 0
        ):
            return
        accuracy = evaluate_knn(pl_module.backbone, dm, pl_module.device, self.k, self.max_bank)
        if accuracy is not None:
            pl_module.log("knn/val_acc", accuracy, prog_bar=True, rank_zero_only=True)


def evaluate_knn(backbone: nn.Module, datamodule: Any, device: torch.device, k: int = 20, max_bank: int = 10000) -> float | None:
    """kNN accuracy of ``backbone`` on a set-up :class:`SSLDataModule`."""
    train, val = datamodule.train_set, datamodule.val_set
    if train is None or val is None or train.labels is None:
        return None
    if len(train) > max_bank:
        train = train.subset(torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:max_bank])
    transform = datamodule.eval_transform.to(device)
    bank, bank_labels = extract_features(backbone, train.batches(512), transform, device)
    queries, labels = extract_features(backbone, val.batches(512), transform, device)
    return knn_accuracy(bank, bank_labels, queries, labels, k=k)


class DiagnosticsMonitor(L.Callback):
    """Information diagnostics (:func:`infossl.diagnostics.representation_report`)
    every ``every_n_epochs`` training epochs, logged as ``diag/<name>``: effective
    rank of features and embeddings, embedding entropy, alignment, uniformity,
    cross-view information, and for IMSVD state usage and redundancy.

    Computed on a fixed, seeded subset of ``num_samples`` validation images (training
    images when there is no validation split) with two augmented views from a
    separate, fixed-seed augmentation: the training augmentation's random state is
    untouched, so resumed runs stay identical.

    Args:
        every_n_epochs: how often (0 switches it off).
        num_samples: images used.
    """

    def __init__(self, every_n_epochs: int = 1, num_samples: int = 1024) -> None:
        self.every_n_epochs, self.num_samples = every_n_epochs, num_samples

    @torch.no_grad()
    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        dm = trainer.datamodule
        if self.every_n_epochs <= 0 or (trainer.current_epoch + 1) % self.every_n_epochs != 0:
            return
        data = getattr(dm, "val_set", None) or getattr(dm, "train_set", None)
        if data is None or len(data) < 8:
            return
        index = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[: self.num_samples]
        images = data.get(index).to(pl_module.device)
        augment = MultiViewAugment(dm.augment_config, images.shape[-1], seed=12345).to(pl_module.device)
        modules = (pl_module.backbone, pl_module.method)
        modes = [m.training for m in modules]
        for m in modules:
            m.eval()
        try:
            features = torch.cat([pl_module.backbone(dm.eval_transform.to(images.device)(b)).float() for b in images.split(512)])
            views = [augment(b) for b in images.split(512)]
            z1 = torch.cat([pl_module.method.embed(pl_module.backbone(v[0])).float() for v in views])
            z2 = torch.cat([pl_module.method.embed(pl_module.backbone(v[1])).float() for v in views])
        finally:
            for m, mode in zip(modules, modes):
                m.train(mode)
        try:
            report = representation_report(features.cpu(), z1.cpu(), z2.cpu(), pl_module.method)
        except ValueError as error:  # e.g. non-finite embeddings: the loss check reports those
            rank_zero_warn(f"diagnostics skipped: {error}")
            return
        for key, value in report.items():
            if isinstance(value, float):
                pl_module.log(f"diag/{key}", value, rank_zero_only=True)
