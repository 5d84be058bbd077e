"""Speed against lightly, side by side in one process (needs the `bench` extra: pip install -e ".[bench]").

    python benchmarks/speed.py            # writes benchmarks/results/speed_losses.json, speed_step.json, speed_objectives.json
    python benchmarks/speed.py --quick    # small shapes and few repetitions (writes nothing)

1. Loss forward+backward for the objectives both libraries have, N in {256, 512},
   D in {128, 1024, 2048}: repetitions of ours and lightly's alternate, medians, ratio.
   InfoNCE vs NTXentLoss (temperature 0.2), Barlow Twins (lambda 0.0051), VICReg (25/25/1),
   BYOL (our 2 - 2 cos vs lightly's negative cosine: the same cost).
2. A training step with the same backbone (the CPU recipe's convnet), projector (1024-256),
   loss (NT-Xent), SGD and data (CIFAR-10 images), float32, each side with and without
   channels-last: infossl's pipeline (Lightning Trainer, uint8 batches, batched augmentation on
   the device), a plain PyTorch loop with lightly's SimCLRTransform in a DataLoader (at the
   fastest of num_workers 0, 1, 2) and lightly's NTXentLoss, and the batched plain loop of
   benchmarks/plain_loop.py (a stronger baseline: per-sample augmentation computed on whole
   uint8 batches). The sides alternate in rounds (order reversed every round); images/s is the
   median over rounds, each round the median of its steps. Also the share of a step spent in
   augmentation (augmentation alone / whole step).
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


def build_model(channels_last: bool = False):
    from infossl.methods import SimCLR
    from infossl.models.backbones import BackboneSpec, build_backbone

    torch.manual_seed(0)
    backbone, dim = build_backbone(BackboneSpec(name="convnet", widths=(32, 64, 128, 256)))
    if channels_last:
        backbone = backbone.to(memory_format=torch.channels_last)
    method = SimCLR(projector=(1024, 256), temperature=0.2)
    method.build(backbone, dim)
    return backbone, method


def step_seconds(step: Callable[[], Any], steps: int, warmup: int = 2) -> float:
    """Median seconds of ``steps`` calls of ``step`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        step()
    return statistics.median(timed(step) for _ in range(steps))


def lightly_side(images: np.ndarray, batch: int, workers: int, channels_last: bool) -> Callable[[], None]:
    """One step of a plain loop with lightly's SimCLRTransform (PIL, per image) in a DataLoader
    and lightly's NTXentLoss, the model in ``channels_last`` as on the infossl side."""
    from lightly.loss import NTXentLoss
    from lightly.transforms import SimCLRTransform

    transform = SimCLRTransform(input_size=32, gaussian_blur=0.0, min_scale=0.2, cj_strength=0.5)
    loader = torch.utils.data.DataLoader(
        CifarPIL(images, transform), batch_size=batch, shuffle=True, drop_last=True, num_workers=workers,
        persistent_workers=workers > 0,
    )
    backbone, method = build_model(channels_last)
    model = torch.nn.Sequential(backbone, method.projector)
    criterion = NTXentLoss(temperature=0.2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-5)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    state = {"batches": iter(loader)}

    def step() -> None:
        try:
            x1, x2 = next(state["batches"])
        except StopIteration:
            state["batches"] = iter(loader)
            x1, x2 = next(state["batches"])
        loss = criterion(model(x1.contiguous(memory_format=fmt)), model(x2.contiguous(memory_format=fmt)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def batched_plain_side(images: np.ndarray, batch: int, channels_last: bool) -> Callable[[], None]:
    """One step of ``benchmarks/plain_loop.py`` (plain PyTorch, batched per-sample augmentation of
    uint8 tensors), with the same model, loss and optimizer as the other sides."""
    import plain_loop

    backbone, method = build_model(channels_last)
    model = torch.nn.Sequential(backbone, method.projector)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-5)
    data = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    generator = torch.Generator().manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format

    def step() -> None:
        x = data[torch.randint(len(data), (batch,), generator=generator)]
        v1, v2 = (plain_loop.view(x, (0.2, 1.0), generator).contiguous(memory_format=fmt) for _ in range(2))
        loss = plain_loop.nt_xent(model(v1), model(v2), 0.2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def infossl_pipeline(npz: Path, batch: int, steps: int, channels_last: bool, run_dir: Path) -> float:
    """Median seconds of a whole step of ``infossl pretrain`` (load, augment, forward, backward,
    update), from the images/s it logs per step; the trainer's start-up is not counted."""
    from infossl.cli.pretrain import pretrain

    args = [
        "--config", "cifar10_cpu/simclr.yaml", "--data.path", str(npz), "--data.batch_size", str(batch),
        "--run_dir", str(run_dir), "--trainer.max_steps", str(steps + 2), "--trainer.log_every_n_steps", "1",
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
        "--trainer.limit_val_batches", "0", "--knn.every_n_epochs", "0", "--diagnostics.every_n_epochs", "0",
        "--online_probe.enabled", "false", "--model.optim.name", "sgd", "--model.optim.lr", "0.1",
        "--model.optim.scale_lr_by_batch", "false", "--model.channels_last", str(channels_last).lower(),
        "--model.method.projector", "[1024, 256]", "--data.augment.jitter", "[0.4, 0.4, 0.4, 0.1]",
        "--trainer.precision", "32-true",  # as the other sides: float32 also where the CPU has native bf16
    ]
    import csv

    pretrain(args)
    rate = [float(r["train/images_per_s"]) for r in csv.DictReader((run_dir / "metrics.csv").open()) if r.get("train/images_per_s")]
    return batch / statistics.median(rate[1:])


def augmentation_seconds(images: np.ndarray, batch: int) -> dict[str, float]:
    """Augmentation alone, per batch of two views: lightly's transform in the main process,
    infossl's batched kornia pipeline, the plain loop's batched one."""
    import plain_loop
    from lightly.transforms import SimCLRTransform

    from infossl.data.augment import CIFAR10_MEAN, CIFAR10_STD, AugmentConfig, MultiViewAugment

    transform = SimCLRTransform(input_size=32, gaussian_blur=0.0, min_scale=0.2, cj_strength=0.5)
    it = iter(torch.utils.data.DataLoader(CifarPIL(images, transform), batch_size=batch, shuffle=True, num_workers=0))
    augment = MultiViewAugment(AugmentConfig(preset="simclr", mean=CIFAR10_MEAN, std=CIFAR10_STD), 32, seed=0)
    x = torch.from_numpy(images[:batch]).permute(0, 3, 1, 2).contiguous()
    generator = torch.Generator().manual_seed(0)
    return {
        "lightly": step_seconds(lambda: next(it), 3, warmup=1),
        "infossl": step_seconds(lambda: augment(x), 5),
        "plain": step_seconds(lambda: [plain_loop.view(x, (0.2, 1.0), generator) for _ in range(2)], 5),
    }


def bench_step(data: Path, quick: bool, tmp: Path) -> list[dict[str, Any]]:
    """Whole training steps, the sides measured in interleaved rounds (the order reversed every
    round) so that all see the same machine state; per side the median over rounds."""
    batch, steps, rounds = (64, 3, 2) if quick else (256, 10, 3)
    with np.load(data) as a:
        images = a["x_train"][: max(batch * (steps + 4), 4096)]
        npz = tmp / "subset.npz"
        np.savez(npz, x_train=images, y_train=a["y_train"][: len(images)], x_test=a["x_test"][:512], y_test=a["y_test"][:512], classes=a["classes"])
    # lightly's loader at its fastest worker count on this machine (chosen once, channels-last)
    workers = min((0, 1, 2), key=lambda w: step_seconds(lightly_side(images, batch, w, True), steps))
    sides: dict[str, Callable[[], float]] = {}
    for channels_last in (False, True):
        lightly_step = lightly_side(images, batch, workers, channels_last)
        plain_step = batched_plain_side(images, batch, channels_last)
        sides[f"plain loop + lightly (num_workers={workers}, channels_last={channels_last})"] = lambda s=lightly_step: step_seconds(s, steps)
        sides[f"batched plain loop (benchmarks/plain_loop.py, channels_last={channels_last})"] = lambda s=plain_step: step_seconds(s, steps)
        sides[f"infossl (channels_last={channels_last})"] = (
            lambda c=channels_last: infossl_pipeline(npz, batch, steps, c, tmp / f"run_{c}")
        )
    measured: dict[str, list[float]] = {name: [] for name in sides}
    order = list(sides)
    for r in range(rounds):
        for name in order if r % 2 == 0 else order[::-1]:
            measured[name].append(sides[name]())
            print(f"round {r + 1}: {name}: {batch / measured[name][-1]:.0f} images/s", flush=True)
    augment = augmentation_seconds(images, batch)
    rows = []
    for name, seconds in measured.items():
        step_s = statistics.median(seconds)
        side = "lightly" if "lightly" in name else "plain" if name.startswith("batched") else "infossl"
        rows.append({
            "pipeline": name, "batch": batch, "rounds": rounds, "steps_per_round": steps,
            "step_s": round(step_s, 4), "images_per_s": round(batch / step_s, 1),
            "images_per_s_rounds": [round(batch / s, 1) for s in seconds],
            "augment_s": round(augment[side], 4), "augment_share": round(augment[side] / step_s, 3),
        })
    for channels_last in (False, True):
        same = [r for r in rows if r["pipeline"].endswith(f"channels_last={channels_last})")]
        lightly_rate = next(r["images_per_s"] for r in same if "lightly" in r["pipeline"])
        plain_rate = next(r["images_per_s"] for r in same if r["pipeline"].startswith("batched"))
        for row in same:
            row["vs_lightly_loop"] = round(row["images_per_s"] / lightly_rate, 2)
            row["vs_batched_plain_loop"] = round(row["images_per_s"] / plain_rate, 2)
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
