"""Weighted k-nearest-neighbour classification on L2-normalized features."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


@torch.no_grad()
def knn_predict(
    train_features: Tensor,
    train_labels: Tensor,
    test_features: Tensor,
    num_classes: int,
    k: int = 20,
    temperature: float = 0.07,
    chunk_size: int = 1024,
) -> Tensor:
    """Class scores (n_test, num_classes): the k most similar training samples
    (cosine similarity) vote with weight exp(similarity / temperature).
    Test samples are processed in chunks so that large banks fit in memory."""
    if train_features.shape[0] != train_labels.shape[0]:
        raise ValueError(f"knn: {train_features.shape[0]} training features but {train_labels.shape[0]} labels")
    bank = F.normalize(train_features.float(), dim=1)
    k = min(k, bank.shape[0])
    scores = []
    for chunk in torch.split(F.normalize(test_features.float(), dim=1), chunk_size):
        similarity, index = (chunk @ bank.T).topk(k, dim=1)
        weights = (similarity / temperature).exp()
        votes = torch.zeros(chunk.shape[0], num_classes, device=chunk.device)
        votes.scatter_add_(1, train_labels[index], weights)
        scores.append(votes)
    return torch.cat(scores)


def knn_accuracy(
    train_features: Tensor, train_labels: Tensor, test_features: Tensor, test_labels: Tensor, k: int = 20
) -> float:
    """Top-1 accuracy (in [0, 1]) of the weighted kNN classifier."""
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    scores = knn_predict(train_features, train_labels, test_features, num_classes, k=k)
    return (scores.argmax(1) == test_labels).float().mean().item()


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
