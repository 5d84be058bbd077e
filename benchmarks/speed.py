"""Speed against lightly, side by side in one process (needs the `bench` extra: pip install -e ".[bench]").

    python benchmarks/speed.py            # writes benchmarks/results/speed_losses.json, speed_step.json, speed_objectives.json
    python benchmarks/speed.py --quick    # small shapes and few repetitions (writes nothing)

1. Loss forward+backward for the objectives both libraries have, N in {256, 512},
   D in {128, 1024, 2048}: repetitions of ours and lightly's alternate, medians, ratio.
   InfoNCE vs NTXentLoss (temperature 0.2), Barlow Twins (lambda 0.0051), VICReg (25/25/1),
   BYOL (our 2 - 2 cos vs lightly's negative cosine: the same cost).
2. A training step with the same backbone (the CPU recipe's convnet), projector (1024-256),
   loss (NT-Xent), SGD and data (CIFAR-10 images): infossl's pipeline (Lightning Trainer, uint8
   batches, batched augmentation on the device) against a plain PyTorch loop with lightly's
   SimCLRTransform in a DataLoader at the fastest of num_workers 0, 1, 2. Images/s and the share
   of a step spent in augmentation (augmentation alone / whole step).
3. The information objectives at their paper shapes relative to one CIFAR ResNet-18 step
   (two views of 256 images, forward + backward + SGD), and their growth with N and D.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from common import write_results

ROOT = Path(__file__).resolve().parent.parent


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved_times(fns: dict[str, Callable[[], Any]], repeats: int, warmup: int = 2) -> dict[str, list[float]]:
    """Seconds of every call of each function, calls alternating so that both see the same
    machine state; the order flips every repetition, so neither always runs right after the other."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns)
    for repetition in range(repeats):
        for name in order if repetition % 2 == 0 else order[::-1]:
            times[name].append(timed(fns[name]))
    return times


def interleaved(fns: dict[str, Callable[[], Any]], repeats: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds of each function (see :func:`interleaved_times`)."""
    return {name: statistics.median(t) for name, t in interleaved_times(fns, repeats, warmup).items()}


# ----------------------------------------------------------------- 1. losses
def loss_pairs():
    from lightly import loss as lightly_loss

    from infossl.losses import BarlowTwinsLoss, BYOLLoss, InfoNCELoss, VICRegLoss

    return {
        "infonce / NTXentLoss": (lambda: InfoNCELoss(temperature=0.2), lambda: lightly_loss.NTXentLoss(temperature=0.2), True),
        "barlow / BarlowTwinsLoss": (lambda: BarlowTwinsLoss(), lambda: lightly_loss.BarlowTwinsLoss(lambda_param=0.0051), True),
        "vicreg / VICRegLoss": (lambda: VICRegLoss(), lambda: lightly_loss.VICRegLoss(), False),
        "byol / NegativeCosineSimilarity": (lambda: BYOLLoss(), lambda: lightly_loss.NegativeCosineSimilarity(), False),
    }


def bench_losses(quick: bool) -> list[dict[str, Any]]:
    rows = []
    for name, (ours_factory, theirs_factory, same_value) in loss_pairs().items():
        ours, theirs = ours_factory(), theirs_factory()
        for n in (256,) if quick else (256, 512):
            for d in (128,) if quick else (128, 1024, 2048):
                g = torch.Generator().manual_seed(0)
                base = torch.randn(n, d, generator=g)
                z1 = (base + 0.5 * torch.randn(n, d, generator=g)).requires_grad_()
                z2 = (base + 0.5 * torch.randn(n, d, generator=g)).requires_grad_()

                def run_ours():
                    ours(z1, z2).loss.backward()

                def run_theirs():
                    theirs(z1, z2).backward()

                with torch.no_grad():
                    ours_value, theirs_value = float(ours(z1, z2).loss), float(theirs(z1, z2))
                times = interleaved_times({"ours": run_ours, "lightly": run_theirs}, repeats=5 if quick else 41)
                medians = {name: statistics.median(t) for name, t in times.items()}
                # the ratio within each repetition (the two calls ran back to back): its quartiles
                # show how far the machine's noise moves the ratio
                paired = sorted(a / b for a, b in zip(times["ours"], times["lightly"]))
                quartiles = statistics.quantiles(paired, n=4)
                row = {
                    "objective": name,
                    "n": n,
                    "d": d,
                    "infossl_ms": round(1000 * medians["ours"], 3),
                    "lightly_ms": round(1000 * medians["lightly"], 3),
                    "ratio": round(medians["ours"] / medians["lightly"], 3),
                    "paired_ratio_quartiles": [round(quartiles[0], 3), round(quartiles[2], 3)],
                    "values_agree": abs(ours_value - theirs_value) <= 1e-4 * max(1.0, abs(theirs_value)) if same_value else None,
                }
                print(row)
                rows.append(row)
    return rows


# ------------------------------------------------------------ 2. train step
class CifarPIL(torch.utils.data.Dataset):
    def __init__(self, images: np.ndarray, transform) -> None:
        self.images, self.transform = images, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i]))


def build_model():
    from infossl.methods import SimCLR
    from infossl.models.backbones import BackboneSpec, build_backbone

    torch.manual_seed(0)
    backbone, dim = build_backbone(BackboneSpec(name="convnet", widths=(32, 64, 128, 256)))
    method = SimCLR(projector=(1024, 256), temperature=0.2)
    method.build(backbone, dim)
    return backbone, method


def plain_lightly_loop(images: np.ndarray, batch: int, workers: int, steps: int) -> dict[str, float]:
    from lightly.loss import NTXentLoss
    from lightly.transforms import SimCLRTransform

    transform = SimCLRTransform(input_size=32, gaussian_blur=0.0, min_scale=0.2, cj_strength=0.5)
    loader = torch.utils.data.DataLoader(
        CifarPIL(images, transform), batch_size=batch, shuffle=True, drop_last=True, num_workers=workers,
        persistent_workers=workers > 0,
    )
    backbone, method = build_model()
    model = torch.nn.Sequential(backbone, method.projector)
    criterion = NTXentLoss(temperature=0.2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-5)
    batches = iter(loader)
    times = []
    for step in range(steps + 2):
        start = time.perf_counter()
        (x1, x2) = next(batches)
        loss = criterion(model(x1), model(x2))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step >= 2:  # the first steps start the workers
            times.append(time.perf_counter() - start)
    # augmentation alone: the loader's own rate, main process
    alone = torch.utils.data.DataLoader(CifarPIL(images, transform), batch_size=batch, shuffle=True, num_workers=0)
    it = iter(alone)
    augment_s = statistics.median(timed(lambda: next(it)) for _ in range(3))
    step_s = statistics.median(times)
    return {"step_s": step_s, "images_per_s": batch / step_s, "augment_s": augment_s}


def infossl_pipeline(npz: Path, batch: int, steps: int, channels_last: bool, run_dir: Path) -> dict[str, float]:
    from infossl.cli.pretrain import pretrain
    from infossl.data.augment import CIFAR10_MEAN, CIFAR10_STD, AugmentConfig, MultiViewAugment

    args = [
        "--config", "cifar10_cpu/simclr.yaml", "--data.path", str(npz), "--data.batch_size", str(batch),
        "--run_dir", str(run_dir), "--trainer.max_steps", str(steps + 2), "--trainer.log_every_n_steps", "1",
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
        "--trainer.limit_val_batches", "0", "--knn.every_n_epochs", "0", "--diagnostics.every_n_epochs", "0",
        "--online_probe.enabled", "false", "--model.optim.name", "sgd", "--model.optim.lr", "0.1",
        "--model.optim.scale_lr_by_batch", "false", "--model.channels_last", str(channels_last).lower(),
        "--model.method.projector", "[1024, 256]", "--data.augment.jitter", "[0.4, 0.4, 0.4, 0.1]",
        "--trainer.precision", "32-true",  # as the lightly side: float32 also where the CPU has native bf16
    ]
    import csv

    pretrain(args)
    rate = [float(r["train/images_per_s"]) for r in csv.DictReader((run_dir / "metrics.csv").open()) if r.get("train/images_per_s")]
    images_per_s = statistics.median(rate[1:])  # each value: one whole step (load, augment, forward, backward, update)
    augment = MultiViewAugment(AugmentConfig(preset="simclr", mean=CIFAR10_MEAN, std=CIFAR10_STD), 32, seed=0)
    with np.load(npz) as a:
        x = torch.from_numpy(a["x_train"][:batch]).permute(0, 3, 1, 2).contiguous()
    augment(x)
    augment_s = statistics.median(timed(lambda: augment(x)) for _ in range(5))
    return {"step_s": batch / images_per_s, "images_per_s": images_per_s, "augment_s": augment_s}


def bench_step(data: Path, quick: bool, tmp: Path) -> list[dict[str, Any]]:
    batch, steps = (64, 4) if quick else (256, 12)
    with np.load(data) as a:
        images = a["x_train"][: batch * (steps + 4)]
        npz = tmp / "subset.npz"
        np.savez(npz, x_train=images, y_train=a["y_train"][: len(images)], x_test=a["x_test"][:512], y_test=a["y_test"][:512], classes=a["classes"])
    rows = []
    for workers in (0, 1, 2):
        r = plain_lightly_loop(images, batch, workers, steps)
        rows.append({"pipeline": f"plain loop + lightly (num_workers={workers})", "batch": batch, **{k: round(v, 4) for k, v in r.items()}})
        print(rows[-1])
    for channels_last in (False, True):
        r = infossl_pipeline(npz, batch, steps, channels_last, tmp / f"run_{channels_last}")
        rows.append({"pipeline": f"infossl (channels_last={channels_last})", "batch": batch, **{k: round(v, 4) for k, v in r.items()}})
        print(rows[-1])
    for row in rows:
        row["augment_share"] = round(row["augment_s"] / row["step_s"], 3)
    best_plain = max((r for r in rows if r["pipeline"].startswith("plain")), key=lambda r: r["images_per_s"])
    for row in rows:
        row["vs_best_plain"] = round(row["images_per_s"] / best_plain["images_per_s"], 2)
    return rows


# -------------------------------------------------------- 3. objective cost
def bench_objectives(quick: bool) -> list[dict[str, Any]]:
    import torchvision

    from infossl.losses import EMILoss, EntRecLoss, IMSVDLoss

    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    model.maxpool = torch.nn.Identity()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    n = 32 if quick else 256
    x1, x2 = torch.randn(n, 3, 32, 32), torch.randn(n, 3, 32, 32)

    def resnet_step():
        loss = model(x1).square().mean() + model(x2).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    resnet_s = interleaved({"resnet": resnet_step}, repeats=2 if quick else 3, warmup=1)["resnet"]
    print({"resnet18_step_s": resnet_s, "batch": n})
    shapes = [
        ("imsvd", lambda: IMSVDLoss(num_states=80), [(256, 8160), (512, 8160), (256, 4080)]),
        ("emi", lambda: EMILoss(), [(256, 2048), (512, 2048), (256, 1024)]),
        ("entrec", lambda: EntRecLoss(), [(4096, 128), (2048, 128), (4096, 256)]),
    ]
    rows = []
    for name, factory, cases in shapes:
        loss_fn = factory()
        for ni, d in cases[:1] if quick else cases:
            g = torch.Generator().manual_seed(0)
            z1 = torch.randn(ni, d, generator=g).requires_grad_()
            z2 = (z1.detach() + torch.randn(ni, d, generator=g)).requires_grad_()
            seconds = interleaved({"loss": lambda: loss_fn(z1, z2).loss.backward()}, repeats=2 if quick else 5, warmup=1)["loss"]
            row = {"objective": name, "n": ni, "d": d, "loss_s": round(seconds, 4), "resnet18_step_s": round(resnet_s, 3),
                   "relative_to_resnet18_step": round(seconds / resnet_s, 3)}
            print(row)
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["losses", "step", "objectives"])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cifar10.npz")
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        parts = {
            "speed_losses": lambda: bench_losses(args.quick),
            "speed_step": lambda: bench_step(args.data, args.quick, Path(tmp)),
            "speed_objectives": lambda: bench_objectives(args.quick),
        }
        for name, run in parts.items():
            if args.only and not name.endswith(args.only):
                continue
            rows = run()
            if not args.quick:
                print("wrote", write_results(name, rows))


if __name__ == "__main__":
    main()
