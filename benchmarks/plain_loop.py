"""A reference SimCLR run in plain PyTorch, with no infossl code: what a careful user writes by hand.

    python benchmarks/plain_loop.py --steps 2000 --seed 0 --out runs/steps/plain_seed0

Recipe (lightly's and solo-learn's CIFAR-10 SimCLR settings, scaled to a short CPU run): the
4-block convnet (32-64-128-256, the CPU recipes' backbone), a 512-128 projector
(linear, batch norm, ReLU, linear), NT-Xent at temperature 0.2 over both views' 2N - 2
negatives, SGD with learning rate 0.06, momentum 0.9 and weight decay 5e-4 on every parameter,
a linear warm-up over the first 3% of the steps then a cosine to 0, float32, channels-last.
Views: random resized crop (area 0.08-1, aspect ratio 3/4-4/3) with a horizontal flip, colour
jitter (0.4, 0.4, 0.4, 0.1) with probability 0.8, grayscale with probability 0.2, CIFAR-10
normalization; drawn per sample but computed on the whole batch at once (one affine grid
sample for crop and flip, blends for the colour), from uint8 images held in memory.

It writes ``OUT/backbone.pt`` (the backbone's plain ``state_dict``; the keys match
``--backbone.name convnet`` of ``infossl eval``) and ``OUT/summary.json`` (settings, steps,
training seconds, images/s). ``benchmarks/cifar10_steps.py --method plain`` runs it and
evaluates the weights exactly like the infossl rows.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
GRAY = (0.299, 0.587, 0.114)  # ITU-R 601 luma weights


class ConvNet(nn.Module):
    """(3x3 conv, batch norm, ReLU, 2x2 max-pool) blocks, then global average pooling."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128, 256)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for width in widths:
            layers += [nn.Conv2d(c_in, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c_in = width
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dim = c_in

    def forward(self, x: Tensor) -> Tensor:
        return torch.flatten(self.pool(self.features(x)), 1)


def uniform(n: int, low: float, high: float, generator: torch.Generator) -> Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def crop_and_flip(x: Tensor, scale: tuple[float, float], generator: torch.Generator) -> Tensor:
    """Random resized crops with horizontal flips, one affine grid per sample."""
    n = x.shape[0]
    area = uniform(n, *scale, generator)
    ratio = torch.exp(uniform(n, math.log(3 / 4), math.log(4 / 3), generator))
    width = torch.sqrt(area * ratio).clamp(max=1.0)  # fractions of the image side
    height = torch.sqrt(area / ratio).clamp(max=1.0)
    cx = (1 - width) * (2 * torch.rand(n, generator=generator) - 1)  # crop centre in [-1, 1] coordinates
    cy = (1 - height) * (2 * torch.rand(n, generator=generator) - 1)
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = width * flip, cx
    theta[:, 1, 1], theta[:, 1, 2] = height, cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def grayscale(x: Tensor) -> Tensor:
    weights = torch.tensor(GRAY).view(1, 3, 1, 1)
    return (x * weights).sum(1, keepdim=True)


def colour(x: Tensor, generator: torch.Generator, strength=(0.4, 0.4, 0.4, 0.1), p: float = 0.8, gray_p: float = 0.2) -> Tensor:
    """Colour jitter (brightness, contrast, saturation, hue) with probability ``p``, then
    grayscale with probability ``gray_p``, each drawn per sample."""
    n = x.shape[0]
    apply = (torch.rand(n, generator=generator) < p).float().view(n, 1, 1, 1)
    b, c, s, h = strength
    brightness = uniform(n, 1 - b, 1 + b, generator).view(n, 1, 1, 1)
    contrast = uniform(n, 1 - c, 1 + c, generator).view(n, 1, 1, 1)
    saturation = uniform(n, 1 - s, 1 + s, generator).view(n, 1, 1, 1)
    hue = uniform(n, -h, h, generator) * 2 * math.pi
    y = (x * brightness).clamp(0, 1)
    mean = grayscale(y).mean((2, 3), keepdim=True)
    y = ((y - mean) * contrast + mean).clamp(0, 1)
    gray = grayscale(y)
    y = ((y - gray) * saturation + gray).clamp(0, 1)
    # hue: rotate the chroma plane of YIQ
    to_yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    yiq = torch.einsum("ij,njhw->nihw", to_yiq, y)
    cos, sin = torch.cos(hue).view(n, 1, 1), torch.sin(hue).view(n, 1, 1)
    i, q = yiq[:, 1], yiq[:, 2]
    yiq = torch.stack([yiq[:, 0], cos * i - sin * q, sin * i + cos * q], 1)
    y = torch.einsum("ij,njhw->nihw", torch.linalg.inv(to_yiq), yiq).clamp(0, 1)
    x = apply * y + (1 - apply) * x
    to_gray = (torch.rand(n, generator=generator) < gray_p).float().view(n, 1, 1, 1)
    return to_gray * grayscale(x).expand_as(x) + (1 - to_gray) * x


def view(images: Tensor, crop_scale: tuple[float, float], generator: torch.Generator) -> Tensor:
    x = crop_and_flip(images.float().div_(255), crop_scale, generator)
    x = colour(x, generator)
    mean, std = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1), torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous(memory_format=torch.channels_last)


def nt_xent(z1: Tensor, z2: Tensor, temperature: float) -> Tensor:
    """SimCLR's loss: each view's positive is the other view of its image, the other 2N - 2 are negatives."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.T / temperature
    logits.fill_diagonal_(float("-inf"))
    n = z1.shape[0]
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return F.cross_entropy(logits, targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10.npz")
    parser.add_argument("--out", type=Path, required=True, help="folder for backbone.pt and summary.json")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=0.06)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--temperature", type=float, default=0.2)
    parser.add_argument("--warmup", type=float, default=0.03, help="warm-up as a fraction of the steps")
    parser.add_argument("--crop-min", type=float, default=0.08, help="smallest crop area")
    parser.add_argument("--limit", type=int, help="train on the first N training images only (quick checks)")
    args = parser.parse_args()
    if not args.data.is_file():
        parser.error(f"--data: {args.data} not found (the CIFAR-10 npz)")

    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    with np.load(args.data) as archive:
        images = torch.from_numpy(archive["x_train"][: args.limit]).permute(0, 3, 1, 2).contiguous()
    if len(images) < args.batch_size:
        parser.error(f"--batch-size {args.batch_size} exceeds the {len(images)} training images")
    backbone = ConvNet().to(memory_format=torch.channels_last)
    projector = nn.Sequential(nn.Linear(backbone.dim, 512, bias=False), nn.BatchNorm1d(512), nn.ReLU(inplace=True), nn.Linear(512, 128))
    parameters = [*backbone.parameters(), *projector.parameters()]
    optimizer = torch.optim.SGD(parameters, lr=args.lr, momentum=0.9, weight_decay=args.weight_decay)
    warmup = max(1, round(args.warmup * args.steps))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, args.steps - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    per_epoch = len(images) // args.batch_size  # the last incomplete batch of an epoch is dropped
    order = torch.randperm(len(images), generator=generator)
    started = time.perf_counter()
    losses = []
    for step in range(args.steps):
        if step % per_epoch == 0 and step:
            order = torch.randperm(len(images), generator=generator)
        index = order[(step % per_epoch) * args.batch_size : (step % per_epoch + 1) * args.batch_size]
        batch = images[index]
        x1, x2 = view(batch, (args.crop_min, 1.0), generator), view(batch, (args.crop_min, 1.0), generator)
        loss = nt_xent(projector(backbone(x1)), projector(backbone(x2)), args.temperature)
        if not torch.isfinite(loss):
            raise SystemExit(f"non-finite loss at step {step}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step}: loss {loss.item():.4f}, lr {optimizer.param_groups[0]['lr']:.4g}, {time.perf_counter() - started:.0f} s", flush=True)
    train_s = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(backbone.state_dict(), args.out / "backbone.pt")
    summary = {
        "steps": args.steps,
        "batch_size": args.batch_size,
        "images_seen": args.steps * args.batch_size,
        "train_images": len(images),
        "seed": args.seed,
        "train_s": round(train_s, 1),
        "images_per_s": round(args.steps * args.batch_size / train_s, 1),
        "final_loss": round(float(np.mean(losses[-20:])), 4),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k not in ("out", "data")},
        "torch_threads": torch.get_num_threads(),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
