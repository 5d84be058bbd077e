"""Weighted k-nearest-neighbour classification on L2-normalized features.

The protocol of Wu et al. (2018), used by most SSL papers: cosine similarity
between a test feature and every training feature, the k most similar training
samples vote for their class with weight exp(similarity / temperature).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def _check(train_features: Tensor, train_labels: Tensor, test_features: Tensor) -> None:
    if train_features.ndim != 2 or test_features.ndim != 2:
        raise ValueError(
            f"knn: features must be 2-D (N, D); got train {tuple(train_features.shape)}, test {tuple(test_features.shape)}"
        )
    if train_features.shape[0] != train_labels.shape[0]:
        raise ValueError(f"knn: {train_features.shape[0]} training features but {train_labels.shape[0]} labels")
    if train_features.shape[1] != test_features.shape[1]:
        raise ValueError(f"knn: training features have dimension {train_features.shape[1]}, test features {test_features.shape[1]}")
    if train_features.shape[0] == 0:
        raise ValueError("knn: the memory bank is empty")


@torch.no_grad()
def knn_scores(
    train_features: Tensor,
    train_labels: Tensor,
    test_features: Tensor,
    num_classes: int,
    ks: Sequence[int] = (20,),
    temperature: float = 0.07,
    chunk_size: int = 1024,
) -> dict[int, Tensor]:
    """Class scores (n_test, num_classes) for each k in ``ks``.

    The neighbours are found once for the largest k (``topk`` is sorted, so the
    first k columns are the k nearest); test samples go through in chunks of
    ``chunk_size`` so that only a (chunk_size x n_train) similarity block is
    ever held in memory.
    """
    _check(train_features, train_labels, test_features)
    bank = F.normalize(train_features.float(), dim=1)
    labels = train_labels.to(bank.device)
    k_max = min(max(ks), bank.shape[0])
    scores: dict[int, list[Tensor]] = {k: [] for k in ks}
    for chunk in torch.split(F.normalize(test_features.float().to(bank.device), dim=1), chunk_size):
        similarity, index = (chunk @ bank.T).topk(k_max, dim=1)
        weights = (similarity / temperature).exp()
        neighbour_labels = labels[index]
        for k in ks:
            kk = min(k, k_max)
            votes = torch.zeros(chunk.shape[0], num_classes, device=chunk.device)
            votes.scatter_add_(1, neighbour_labels[:, :kk], weights[:, :kk])
            scores[k].append(votes)
    return {k: torch.cat(v) for k, v in scores.items()}


def knn_predict(
    train_features: Tensor,
    train_labels: Tensor,
    test_features: Tensor,
    num_classes: int,
    k: int = 20,
    temperature: float = 0.07,
    chunk_size: int = 1024,
) -> Tensor:
    """Class scores (n_test, num_classes) of the weighted kNN classifier with one k."""
    return knn_scores(train_features, train_labels, test_features, num_classes, (k,), temperature, chunk_size)[k]


def topk_accuracy(scores: Tensor, labels: Tensor, k: int = 1) -> float:
    """Share (in [0, 1]) of rows whose label is among the ``k`` highest scores."""
    k = min(k, scores.shape[1])
    hits = (scores.topk(k, dim=1).indices == labels.to(scores.device).view(-1, 1)).any(dim=1)
    return hits.float().mean().item()


def knn_evaluate(
    train_features: Tensor,
    train_labels: Tensor,
    test_features: Tensor,
    test_labels: Tensor,
    ks: Sequence[int] = (20, 200),
    temperature: float = 0.07,
    chunk_size: int = 1024,
) -> dict[str, float]:
    """Top-1 and top-5 accuracy for each k: ``{"knn20_top1": ..., "knn20_top5": ...}``."""
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    scores = knn_scores(train_features, train_labels, test_features, num_classes, ks, temperature, chunk_size)
    results = {}
    for k, s in scores.items():
        results[f"knn{k}_top1"] = topk_accuracy(s, test_labels, 1)
        results[f"knn{k}_top5"] = topk_accuracy(s, test_labels, 5)
    return results


def knn_accuracy(
    train_features: Tensor, train_labels: Tensor, test_features: Tensor, test_labels: Tensor, k: int = 20
) -> float:
    """Top-1 accuracy (in [0, 1]) of the weighted kNN classifier."""
    return knn_evaluate(train_features, train_labels, test_features, test_labels, ks=(k,))[f"knn{k}_top1"]


@torch.no_grad()
def extract_features(backbone: torch.nn.Module, loader, transform, device: torch.device) -> tuple[Tensor, Tensor]:
    """Backbone features and labels over a loader of (uint8 images, labels)."""
    was_training = backbone.training
    backbone.eval()
    features, labels = [], []
    for images, y in loader:
        features.append(backbone(transform(images.to(device))).float().cpu())
        labels.append(y)
    backbone.train(was_training)
    return torch.cat(features), torch.cat(labels)
