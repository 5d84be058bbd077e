"""Data-path benchmark: images/s per loader worker at 224 px for the three ways infossl reads an
image folder, and how many workers it takes to feed one GPU.

    python benchmarks/data_path.py                  # 256 generated JPEGs, 3 interleaved rounds
    python benchmarks/data_path.py --images 512 --rounds 5

Paths (each through infossl's own data module and loader, ``num_workers=0``, so the timed work is
exactly what one loader worker does):

- ``in_memory`` (``data.source image_folder``): images decoded and resized once at start-up into
  a uint8 tensor (the one-time cost is reported per image); a worker only indexes it. The random
  resized crop and the rest of the augmentation run batched on the training device.
- ``lazy_folder`` (``data.in_memory false``): a worker reads, decodes and resizes every image
  from the folder at every access; the augmentation runs batched on the device.
- ``litdata`` (``infossl prepare`` then ``data.source litdata``): a worker reads the shards,
  decodes each stored image (shorter side 256) once and cuts both views' random resized crops
  at 224; colour, blur and solarization run batched on the device.

The device-side augmentation is timed separately on this CPU, for reference only: in training it
runs on the GPU. The images are generated (ImageNet-like sizes, smooth content plus noise, JPEG
quality 90), so decoding costs what photographs of that size cost, give or take their content.

Feeding one GPU: NVIDIA's DeepLearningExamples ResNet-50 v1.5 (PyTorch) README reports 2,470
images/s training on one A100 80GB with mixed precision (DGX A100, 21.03 container). A two-view
SSL step passes both views through the backbone, so that GPU consumes 2,470 / 2 = 1,235 source
images/s; workers needed = ceil(1,235 / images/s per worker on this CPU).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from common import write_results

#: ResNet-50 v1.5 training throughput on one A100 80GB, mixed precision (NVIDIA DeepLearningExamples)
GPU_IMAGES_PER_S = 2470
GPU_SOURCE = "NVIDIA DeepLearningExamples, PyTorch ResNet50 v1.5 README, training performance, 1x A100 80GB, mixed precision"
VIEWS = 2
STORED_SIZE, CROP_SIZE = 256, 224


def write_images(root: Path, count: int, seed: int = 0) -> float:
    """``count`` JPEGs of ImageNet-like sizes in two class folders; returns their mean size in bytes."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    sizes = []
    for i in range(count):
        h, w = int(rng.integers(330, 500)), int(rng.integers(400, 500))
        coarse = Image.fromarray(rng.integers(0, 256, (h // 24, w // 24, 3), dtype=np.uint8)).resize((w, h), Image.Resampling.BICUBIC)
        pixels = np.asarray(coarse, dtype=np.int16) + rng.normal(0, 14, (h, w, 3)).astype(np.int16)
        folder = root / f"class{i % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{i}.jpg"
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=90)
        sizes.append(path.stat().st_size)
    return float(np.mean(sizes))


def data_module(source: str, path: Path, in_memory: bool, batch_size: int):
    from infossl.data.augment import AugmentConfig
    from infossl.data.datamodule import SSLDataModule

    augment = AugmentConfig(image_size=CROP_SIZE, crop_scale=(0.08, 1.0))
    module = SSLDataModule(source=source, path=str(path), image_size=STORED_SIZE, in_memory=in_memory,
                           batch_size=batch_size, num_workers=0, augment=augment, val_fraction=0.01)
    module.setup("fit")
    return module


def images_per_s(loader, batches: int) -> float:
    """Images/s of ``batches`` batches from a fresh pass over ``loader``."""
    count, start = 0, time.perf_counter()
    for i, (images, _) in enumerate(loader):
        count += (images[0] if isinstance(images, list) else images).shape[0]
        if i + 1 == batches:
            break
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=256, help="generated JPEGs (default 256)")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per path (median reported)")
    args = parser.parse_args()
    torch.set_num_threads(1)  # one loader worker is one process on one core
    warnings.filterwarnings("ignore")

    from infossl.data.shards import prepare_shards

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        mean_bytes = write_images(root / "images", args.images)
        started = time.perf_counter()
        prepare_shards(root / "images", root / "shards", image_size=STORED_SIZE, num_workers=1)
        prepare_s = time.perf_counter() - started
        started = time.perf_counter()
        modules = {"in_memory": data_module("image_folder", root / "images", True, args.batch_size)}
        load_s = time.perf_counter() - started
        modules["lazy_folder"] = data_module("image_folder", root / "images", False, args.batch_size)
        modules["litdata"] = data_module("litdata", root / "shards", True, args.batch_size)
        batches = min(len(modules["in_memory"].train_set), args.images) // args.batch_size - 1
        rates: dict[str, list[float]] = {name: [] for name in modules}
        augment_rates: dict[str, list[float]] = {name: [] for name in modules}
        for _ in range(args.rounds):  # interleaved, so that a drifting machine affects every path alike
            for name, module in modules.items():
                loader = module.train_dataloader()
                rates[name].append(images_per_s(loader, batches))
                images, _ = next(iter(loader))
                start = time.perf_counter()
                module.augment(images)
                augment_rates[name].append(args.batch_size / (time.perf_counter() - start))
        shard_bytes = sum(p.stat().st_size for p in (root / "shards").glob("*.bin")) / args.images

    needed = GPU_IMAGES_PER_S / VIEWS
    one_time = {"in_memory": load_s / args.images, "lazy_folder": 0.0, "litdata": prepare_s / args.images}
    stored = {"in_memory": 3 * STORED_SIZE * STORED_SIZE, "lazy_folder": mean_bytes, "litdata": shard_bytes}
    rows = []
    for name in modules:
        rate = statistics.median(rates[name])
        rows.append({
            "path": name,
            "images_per_s_per_worker": round(rate, 1),
            "rounds": [round(r, 1) for r in rates[name]],
            "workers_to_feed_one_gpu": math.ceil(needed / rate),
            "device_augment_images_per_s_on_this_cpu": round(statistics.median(augment_rates[name]), 1),
            "one_time_s_per_image": round(one_time[name], 5),
            "stored_bytes_per_image": round(stored[name]),
            "imagenet_storage_gb": round(stored[name] * 1_281_167 / 1e9, 1),
        })
        print(f"{name:12s} {rate:8.1f} images/s per worker  -> {rows[-1]['workers_to_feed_one_gpu']} workers for one GPU", file=sys.stderr)
    for row in rows:
        row.update({"gpu_images_per_s": GPU_IMAGES_PER_S, "gpu_source": GPU_SOURCE, "views": VIEWS, "source_images_per_s_needed": needed,
                    "generated_images": args.images, "generated_mean_jpeg_bytes": round(mean_bytes), "stored_size": STORED_SIZE,
                    "crop_size": CROP_SIZE, "batch_size": args.batch_size, "torch_threads": 1})
    print(write_results("data_path", rows))


if __name__ == "__main__":
    main()
