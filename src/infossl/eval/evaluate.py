"""Evaluate one checkpoint: kNN, linear probe and diagnostics (``infossl eval``)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from infossl.data.augment import IMAGENET_MEAN, IMAGENET_STD, AugmentConfig, MultiViewAugment
from infossl.data.sources import ImageSet
from infossl.diagnostics import effective_rank, representation_report
from infossl.encoder import Encoder, encoder_and_method_from, read_checkpoint
from infossl.errors import InputError
from infossl.eval.features import (
    EvalSplits,
    cached_features,
    check_image_size,
    encode_images,
)
from infossl.eval.knn import knn_evaluate
from infossl.eval.linear import ProbeConfig, linear_probe
from infossl.models.backbones import BackboneSpec
from infossl.plain_weights import load_plain_encoder

#: images of the test split used for the embedding diagnostics (two augmented views each)
DIAGNOSTIC_SAMPLES = 2048


@torch.no_grad()
def embed_views(
    encoder: torch.nn.Module, method: torch.nn.Module, images: torch.Tensor, seed: int = 0, batch_size: int = 512, device="cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Embeddings of two augmented views (SimCLR preset, fixed seed: the same views
    for every checkpoint) of uint8 ``images``."""
    augment = MultiViewAugment(AugmentConfig(preset="simclr", mean=(0.0,) * 3, std=(1.0,) * 3), images.shape[-1], seed=seed)
    views: list[list[torch.Tensor]] = [[], []]
    for batch in torch.split(images, batch_size):
        for i, view in enumerate(augment(batch.to(device))):
            # the augmentation gives [0, 1] floats: the encoder normalizes them
            views[i].append(method.embed(encoder(view)).double().cpu())
    return torch.cat(views[0]), torch.cat(views[1])


def diagnose_checkpoint(encoder, method, features: torch.Tensor, data: ImageSet, device="cpu") -> dict[str, float]:
    """:func:`representation_report` on (at most) :data:`DIAGNOSTIC_SAMPLES` test images."""
    n = min(DIAGNOSTIC_SAMPLES, len(data))
    index = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:n]
    z1, z2 = embed_views(encoder, method, data.images[index], device=device)
    return representation_report(features[index], z1, z2, method)


def evaluate_checkpoint(
    checkpoint: str | Path,
    splits: EvalSplits,
    ks: Sequence[int] = (20, 200),
    probes: Sequence[ProbeConfig] = (ProbeConfig(),),
    temperature: float = 0.07,
    batch_size: int = 512,
    device: str = "cpu",
    use_cache: bool = True,
    resize: bool = False,
    diagnostics: bool = True,
) -> dict[str, Any]:
    """kNN, linear probe(s) and diagnostics of a checkpoint's frozen backbone."""
    checkpoint = Path(checkpoint)
    ckpt = read_checkpoint(checkpoint)  # read once: the method and weights come from the same dict
    info = ckpt["infossl"]
    encoder, method = encoder_and_method_from(ckpt, checkpoint)
    encoder, method = encoder.eval().to(device), method.eval().to(device)
    check_image_size(splits.train, encoder.image_size, "the train split", resize)
    check_image_size(splits.test, encoder.image_size, "the test split", resize)
    results: dict[str, Any] = {"checkpoint": str(checkpoint), "method": info["method"], "backbone": info["backbone"]["name"]}
    features = lambda data, split: cached_features(encoder, checkpoint, data, split, batch_size, device, use_cache)  # noqa: E731
    results.update(
        evaluate_encoder(encoder, method if diagnostics else None, splits, ks, probes, temperature, features, device, diagnostics)
    )
    return results


def evaluate_weights(
    weights: str | Path,
    backbone: BackboneSpec,
    splits: EvalSplits,
    image_size: int | None = None,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    ks: Sequence[int] = (20, 200),
    probes: Sequence[ProbeConfig] = (ProbeConfig(),),
    temperature: float = 0.07,
    batch_size: int = 512,
    device: str = "cpu",
    use_cache: bool = True,
    diagnostics: bool = True,
    prepared: tuple[Encoder, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """kNN, linear probe(s) and the feature rank of a plain backbone state dict (a plain
    PyTorch loop's, torchvision's, timm's) described by ``backbone``, with the
    normalization it was trained with; see :mod:`infossl.plain_weights`. ``prepared``:
    what :func:`~infossl.plain_weights.load_plain_encoder` already returned for these
    arguments (the file is then not read again)."""
    weights = Path(weights)
    encoder, loaded = prepared if prepared is not None else load_plain_encoder(weights, backbone, image_size, mean, std)
    encoder = encoder.to(device)
    results: dict[str, Any] = {
        "checkpoint": str(weights), "method": None, "backbone": backbone.name, "backbone_spec": backbone.to_dict(),
        "preprocess": {"image_size": image_size, "mean": list(mean), "std": list(std)}, **loaded,
    }
    variant = hashlib.sha1(json.dumps([backbone.to_dict(), results["preprocess"]]).encode()).hexdigest()[:10]
    features = lambda data, split: cached_features(encoder, weights, data, split, batch_size, device, use_cache, variant)  # noqa: E731
    results.update(evaluate_encoder(encoder, None, splits, ks, probes, temperature, features, device, diagnostics))
    return results


def evaluate_encoder(
    encoder: torch.nn.Module,
    method: torch.nn.Module | None,
    splits: EvalSplits,
    ks: Sequence[int] = (20, 200),
    probes: Sequence[ProbeConfig] = (ProbeConfig(),),
    temperature: float = 0.07,
    features=None,
    device: str = "cpu",
    diagnostics: bool = True,
) -> dict[str, Any]:
    """kNN, linear probe(s) and diagnostics of any encoder (uint8 images -> features).
    ``features(data, split)`` overrides how features are computed (e.g. cached);
    without ``method`` only the backbone features' effective rank is reported."""
    if features is None:
        features = lambda data, split: encode_images(encoder, data.images, 512, device, desc=f"{split} features")  # noqa: E731
    started = time.perf_counter()
    train, test = features(splits.train, "train"), features(splits.test, "test")
    feature_seconds = time.perf_counter() - started
    if not (torch.isfinite(train).all() and torch.isfinite(test).all()):
        raise InputError("the backbone gives NaN or Inf features; the weights are broken")
    results: dict[str, Any] = {
        "feature_dim": train.shape[1],
        "data": splits.description,
        "train_size": len(splits.train),
        "test_size": len(splits.test),
        "num_classes": int(max(splits.train.labels.max(), splits.test.labels.max())) + 1,
        "feature_seconds": round(feature_seconds, 2),
    }
    started = time.perf_counter()
    results["knn"] = knn_evaluate(train, splits.train.labels, test, splits.test.labels, ks, temperature)
    results["knn_seconds"] = round(time.perf_counter() - started, 2)
    results["linear"] = {}
    for probe in probes:
        started = time.perf_counter()
        outcome = linear_probe(train, splits.train.labels, test, splits.test.labels, probe)
        outcome["seconds"] = round(time.perf_counter() - started, 2)
        results["linear"][probe.solver] = outcome
    if method is not None:
        results["diagnostics"] = diagnose_checkpoint(encoder, method, test, splits.test, device)
    elif diagnostics:
        results["diagnostics"] = {"feature_rank": effective_rank(test[:DIAGNOSTIC_SAMPLES]), "feature_dim": test.shape[1]}
    return results


def default_output(checkpoint: str | Path) -> Path:
    """Where ``infossl eval`` writes its JSON: beside the checkpoint."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.stem + ".eval.json")


def format_table(results: dict[str, Any]) -> str:
    """A plain-text table of the accuracies (in %) and the main diagnostics."""
    method = results["method"] or "none (plain backbone weights)"
    rows = [("method", method), ("backbone", f"{results['backbone']} ({results['feature_dim']}-d)")]
    rows.append(("data", f"{results['data']}: {results['train_size']} train / {results['test_size']} test"))
    knn = results["knn"]
    for key in sorted((k for k in knn if k.endswith("_top1")), key=lambda name: int(name[3:-5])):
        k = key[len("knn") : -len("_top1")]
        rows.append((f"kNN k={k} top-1 / top-5", f"{100 * knn[key]:.2f} / {100 * knn[f'knn{k}_top5']:.2f}"))
    for solver, outcome in results["linear"].items():
        rows.append(
            (f"linear ({solver}) top-1 / top-5", f"{100 * outcome['top1']:.2f} / {100 * outcome['top5']:.2f}  (wd {outcome['weight_decay']:g})")
        )
    for key, value in (results.get("diagnostics") or {}).items():
        rows.append((key, f"{value:.4g}" if isinstance(value, float) else str(value)))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
