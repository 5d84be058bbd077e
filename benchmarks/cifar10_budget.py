"""Accuracy of every method on CIFAR-10 at a fixed wall-clock training budget.

    python benchmarks/cifar10_budget.py --method imsvd             # one row (10 minutes of training)
    python benchmarks/cifar10_budget.py --all                      # every method, then the references
    python benchmarks/cifar10_budget.py --tune imsvd               # the 3 proxy trials of one method
    python benchmarks/cifar10_budget.py --reference random         # random-initialization floor
    python benchmarks/cifar10_budget.py --reference supervised     # supervised ceiling, same budget
    python benchmarks/cifar10_budget.py --study imsvd              # one-factor variants on the proxy data
    python benchmarks/cifar10_budget.py --method entrec --batch-size 64 --epochs 2   # batch-size table row

Every run uses the CPU recipe of its method (`cifar10_cpu/<method>.yaml`: the 4-block
convnet, the same augmentations, batch 256) with ``model.time_budget_min`` = the budget,
so the learning-rate schedule (and BYOL's EMA momentum) runs over the budget; training
time excludes evaluation. The checkpoint is then evaluated on the CIFAR-10 test split
(kNN k = 20 and 200 with the 50,000 training images as the bank, L-BFGS linear probe with
the weight decay chosen on held-out training images, effective rank).

Tuning (``--tune``): the same three trials for every method, each a 2-minute proxy run on
9,000 training images, scored by kNN-20 top-1 on 1,000 other *training* images (the test
split is never used): (1) the recipe; (2) the recipe's learning rate x 2; (3) the better of
those learning rates with the method's key hyper-parameter changed (TRIAL_PARAMS). A full
run uses the best trial's settings when its tuning rows exist (``--untuned`` to skip).

Studies (``--study``): one setting changed at a time from a method's baseline (STUDIES), on
the same proxy data, each variant trained for STUDY_EPOCHS epochs (a fixed amount of training,
not of time). Batch-size table (``--batch-size B --epochs E``): fixed epochs, the learning rate
scaled by the recipes' ``scale_lr_by_batch``; rows under ``cifar10_epochs/``.

Each run writes one JSON row to ``benchmarks/results/cifar10_budget/<tag>.json`` (tuning
rows under ``cifar10_budget_tuning/``, studies under ``cifar10_budget_study/``) with command,
commit, machine, date, the load average and a machine-speed probe before and after the run
(other work on the two cores, and the virtual machine's own drift, change how much a
wall-clock budget buys).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from common import RESULTS_DIR, command_line, git_commit, machine_info

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("imsvd", "emi", "entrec", "entrec_byol", "simclr", "byol", "barlow", "vicreg")
#: the method's key hyper-parameter and the alternative value tried in trial 3
TRIAL_PARAMS: dict[str, tuple[str, Any]] = {
    # K = 8: K^2 <= N = 256, so one-hot states can reach the redundancy bound (the IMSVD study's best setting)
    "imsvd": ("num_states", 8),
    "emi": ("eps", 1e-2),
    "entrec": ("kappa", 5.0),
    "entrec_byol": ("kappa", 5.0),
    "simclr": ("temperature", 0.5),
    "byol": ("base_momentum", 0.98),
    "barlow": ("lambda_offdiag", 0.01),
    "vicreg": ("sim_weight", 15.0),
}


#: one-factor studies on the tuning proxy (``--study METHOD``, STUDY_EPOCHS epochs each): what limits a method here.
#: Each variant: (name, learning rate or None for the recipe's, extra pretrain arguments).
STUDIES: dict[str, list[tuple[str, float | None, list[str]]]] = {
    # the straightforward IMSVD: K = 32, projector 1024-1024-1024, SGD lr 0.2
    "imsvd": [
        ("baseline", 0.2, []),
        ("lr 0.4", 0.4, []),
        ("lr 0.1", 0.1, []),
        ("K 16", 0.2, ["--model.method.num_states", "16"]),
        ("K 8", 0.2, ["--model.method.num_states", "8"]),
        ("temperature 0.5", 0.2, ["--model.method.temperature", "0.5"]),
        ("projector 2048", 0.2, ["--model.method.projector", "[2048, 2048, 2048]"]),
        ("batch 512", 0.2, ["--data.batch_size", "512"]),
        ("crop 0.08-1", 0.2, ["--data.augment.crop_scale", "[0.08, 1.0]"]),
    ],
    # EMI's estimate is partly constant when N - 1 < 2D (forced canonical correlations): smaller embeddings
    "emi": [
        ("D 1024", 0.2, ["--model.method.projector", "[1024, 1024, 1024]"]),
        ("D 256", 0.2, ["--model.method.projector", "[1024, 1024, 256]"]),
        ("D 128", 0.2, ["--model.method.projector", "[1024, 1024, 128]"]),
        ("D 64", 0.2, ["--model.method.projector", "[1024, 1024, 64]"]),
        # the optional invariance term (mean squared distance of the standardized views)
        ("invariance weight 1", 0.2, ["--model.method.invariance_weight", "1.0"]),
    ],
    # the reference the IMSVD, EMI and EntRec variants are measured against, trained the same way
    "simclr": [("baseline", 0.4, [])],
    "entrec": [
        ("baseline", 0.8, []),
        ("average estimator", 0.8, ["--model.method.estimator", "average"]),
        ("D 128", 0.8, ["--model.method.projector", "[1024, 128]"]),
    ],
}


def recipe(method: str, config: str | None = None) -> dict[str, Any]:
    """The resolved settings of ``cifar10_cpu/<method>.yaml`` (or of the file ``config``): its
    family base and its own keys merged, as ``infossl pretrain --print_config`` shows them, as
    nested dicts."""
    import contextlib
    import io

    import yaml

    from infossl.cli.pretrain import build_cli

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.suppress(SystemExit):
        build_cli(["--config", config or f"cifar10_cpu/{method}.yaml", "--print_config"])
    return yaml.safe_load(printed.getvalue())


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def machine_speed(seconds: float = 4.0) -> float:
    """Images/s of a fixed workload (the recipe's convnet, forward + backward on a batch of 256
    random 32 x 32 images) measured for ``seconds``: this virtual machine's speed drifts, and a
    wall-clock row is only comparable with the speed the machine had during the run."""
    from infossl.models.backbones import BackboneSpec, build_backbone

    torch.manual_seed(0)
    backbone, _ = build_backbone(BackboneSpec(name="convnet", widths=(32, 64, 128, 256)))
    images = torch.randn(256, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    backbone = backbone.to(memory_format=torch.channels_last)
    warm_up = time.perf_counter()
    while time.perf_counter() - warm_up < 2.0:  # a fresh process runs its first steps slower
        backbone(images).sum().backward()
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        backbone(images).sum().backward()
        done += len(images)
    return round(done / (time.perf_counter() - start), 1)


def write_row(folder: str, tag: str, row: dict[str, Any]) -> Path:
    path = RESULTS_DIR / folder / f"{tag}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": folder,
        "command": command_line(),
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine_info(),
        "row": row,
    }
    path.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {path}")
    return path


def proxy_npz(data: Path, runs: Path, fit: int = 9_000, held: int = 1_000) -> Path:
    """A proxy task from the training split only: ``fit`` training images to train on
    (x_train) and ``held`` other training images to score on (x_test), seeded."""
    out = runs / ("proxy_cifar10.npz" if (fit, held) == (9_000, 1_000) else f"proxy_cifar10_{fit}_{held}.npz")
    if not out.is_file():
        with np.load(data) as archive:
            x, y = archive["x_train"], archive["y_train"]
            order = np.random.default_rng(0).permutation(len(x))[: fit + held]
            train, score = order[:fit], order[fit:]
            runs.mkdir(parents=True, exist_ok=True)
            np.savez(out, x_train=x[train], y_train=y[train], x_test=x[score], y_test=y[score], classes=archive["classes"])
    return out


def pretrain_and_evaluate(
    method: str,
    data: Path,
    run_dir: Path,
    budget_min: float | None,
    batch_size: int,
    seed: int,
    lr: float | None,
    params: dict[str, Any],
    probe: bool = True,
    epochs: int | None = None,
    extra_args: list[str] | None = None,
    steps: int | None = None,
    precision: str = "32-true",
) -> dict[str, Any]:
    """Pretrain for ``budget_min`` minutes of training time (or ``epochs`` epochs, or
    ``steps`` optimizer steps, when given) and evaluate the checkpoint on ``data``'s test split."""
    from infossl.cli.pretrain import pretrain
    from infossl.eval.evaluate import default_output, evaluate_checkpoint
    from infossl.eval.features import load_eval_splits
    from infossl.eval.linear import ProbeConfig

    args = [
        "--config", f"cifar10_cpu/{method}.yaml",
        "--run_dir", str(run_dir),
        "--data.path", str(data),
        "--data.batch_size", str(batch_size),
        "--seed_everything", str(seed),
        *(["--model.optim.lr", str(lr)] if lr is not None else []),
        "--trainer.limit_val_batches", "0",
        "--trainer.enable_progress_bar", "false",
        "--knn.every_n_epochs", "0",
        "--diagnostics.every_n_epochs", "0",
        "--online_probe.enabled", "false",
        "--trainer.precision", precision,
    ]
    if steps is not None:  # the schedule runs over exactly these steps
        args += ["--trainer.max_steps", str(steps), "--trainer.max_epochs", "-1"]
    elif epochs is None:
        args += ["--model.time_budget_min", str(budget_min), "--trainer.max_epochs", "1000"]
    else:
        args += ["--trainer.max_epochs", str(epochs)]
    for key, value in params.items():
        args += [f"--model.method.{key}", str(value)]
    args += extra_args or []
    speed_before = machine_speed()
    load_before, started = load_average(), time.perf_counter()
    cli = pretrain(args)
    wall_s = time.perf_counter() - started
    load_after, speed_after = load_average(), machine_speed()
    module = cli.model
    steps = cli.trainer.global_step
    batch_size = cli.datamodule.batch_size  # the effective one (a study variant may override it)
    splits = load_eval_splits(data)
    probes = (ProbeConfig(),) if probe else ()
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    evaluated_step = torch.load(checkpoint, map_location="cpu", weights_only=False)["global_step"]
    if evaluated_step != steps:
        raise RuntimeError(f"{checkpoint} holds step {evaluated_step} but training ran {steps} steps: refusing to evaluate other weights than the final ones")
    results = evaluate_checkpoint(checkpoint, splits, ks=(20, 200), probes=probes, use_cache=False)
    default_output(checkpoint).write_text(json.dumps(results, indent=2) + "\n")  # for `infossl compare`
    diag = results.get("diagnostics", {})
    row = {
        "method": method,
        "seed": seed,
        "budget_min": budget_min if epochs is None and steps is None else None,
        "batch_size": batch_size,
        "precision": precision,
        "jitter_style": cli.datamodule.augment_config.jitter_style,
        "lr": module.optim_config.lr,
        "lr_scaled": module.optim_config.lr * (batch_size / 256 if module.optim_config.scale_lr_by_batch else 1.0),
        "optimizer": module.optim_config.name,
        "params": params,
        "steps": steps,
        "evaluated_step": evaluated_step,
        "images_seen": steps * batch_size,
        "epochs": round(steps * batch_size / len(splits.train), 2),
        "train_s": round(module.train_seconds, 1),
        "wall_s": round(wall_s, 1),
        "images_per_s": round(steps * batch_size / module.train_seconds, 1),
        "knn20_top1": round(100 * results["knn"]["knn20_top1"], 2),
        "knn200_top1": round(100 * results["knn"]["knn200_top1"], 2),
        "linear_top1": round(100 * results["linear"]["lbfgs"]["top1"], 2) if probe else None,
        "feature_rank": round(diag.get("feature_rank", float("nan")), 1),
        "embedding_rank": round(diag.get("embedding_rank", float("nan")), 1),
        "load_before": load_before,
        "load_after": load_after,
        "machine_speed": [speed_before, speed_after],
    }
    for key in ("effective_states", "invariant_information", "redundancy", "view_agreement", "diagonal_floor", "confidence", "view_mi_excess"):
        if key in diag:
            row[key] = round(diag[key], 3)
    final = cli.trainer.callback_metrics
    row["final_terms"] = {k[len("train/") :]: round(float(v), 4) for k, v in final.items() if k.startswith("train/") and k not in ("train/lr", "train/images_per_s")}
    return row


def tuned_settings(method: str) -> tuple[float | None, dict[str, Any], str]:
    """The best proxy trial's learning rate and parameters (recipe when untuned)."""
    folder = RESULTS_DIR / "cifar10_budget_tuning"
    rows = [json.loads(p.read_text())["row"] for p in sorted(folder.glob(f"{method}_trial*.json"))]
    if not rows:
        return None, {}, "recipe (untuned)"
    best = max(rows, key=lambda r: r["knn20_top1"])
    return best["lr"], best["params"], f"trial {best['trial']} of {len(rows)}"


def stale_rows(method: str) -> list[str]:
    """The method's 10-minute rows (paths under the results folder) that are out of date:
    trained with another learning rate or parameters than its best tuning trial's, or
    evaluated at an earlier checkpoint than the run's final step (rows measured before
    ``evaluated_step`` was recorded could not rule that out)."""
    lr, params, _ = tuned_settings(method)
    stale = []
    for path in sorted((RESULTS_DIR / "cifar10_budget").glob(f"{method}_seed*.json")):
        row = json.loads(path.read_text())["row"]
        if row["method"] != method:
            continue
        retuned = lr is not None and (row["lr"] != lr or row["params"] != params)
        if retuned or row.get("evaluated_step") != row["steps"]:
            stale.append(str(path.relative_to(RESULTS_DIR)))
    return stale


def tune(method: str, data: Path, runs: Path, proxy_min: float, seed: int) -> None:
    proxy = proxy_npz(data, runs)
    base_lr = recipe(method)["model"]["optim"]["lr"]
    key, alternative = TRIAL_PARAMS[method]
    done: dict[int, dict[str, Any]] = {}
    for trial in (1, 2, 3):
        if trial == 3:
            better = max((done[1], done[2]), key=lambda r: r["knn20_top1"])
            lr, params = better["lr"], {key: alternative}
        else:
            lr, params = (base_lr if trial == 1 else 2 * base_lr), {}
        row = pretrain_and_evaluate(method, proxy, runs / f"tune_{method}_{trial}", proxy_min, 256, seed, lr, params, probe=False)
        row.update({"trial": trial, "proxy": "9,000 training images, scored on 1,000 held-out training images"})
        done[trial] = row
        write_row("cifar10_budget_tuning", f"{method}_trial{trial}", row)


#: training length of a study variant: epochs of the 9,000 proxy images (about the images a
#: 2-minute proxy run sees), a fixed amount of training rather than of time, because this
#: machine's speed drifts by up to a third between runs and a variant's own speed is not the question
STUDY_EPOCHS = 4


def study(method: str, data: Path, runs: Path, seed: int) -> None:
    """The one-factor variants of STUDIES[method] on the tuning proxy (missing rows only)."""
    proxy = proxy_npz(data, runs)
    for name, lr, extra in STUDIES[method]:
        tag = f"{method}_" + name.replace(" ", "_").replace(".", "")
        if (RESULTS_DIR / "cifar10_budget_study" / f"{tag}.json").is_file():
            continue
        row = pretrain_and_evaluate(method, proxy, runs / f"study_{tag}", None, 256, seed, lr, {}, probe=False, epochs=STUDY_EPOCHS, extra_args=extra)
        row.update({"variant": name, "arguments": extra, "proxy": "9,000 training images, scored on 1,000 held-out training images"})
        write_row("cifar10_budget_study", tag, row)


def supervised_reference(
    data: Path, run_dir: Path, budget_min: float | None, batch_size: int, seed: int, steps: int | None = None,
    jitter_style: str = "torchvision",
) -> dict[str, Any]:
    """The same backbone and augmentation trained with labels (cross-entropy on one view), for
    ``budget_min`` minutes of training time or, when given, ``steps`` optimizer steps (float32)."""
    import lightning as L

    from infossl.data import SSLDataModule
    from infossl.data.augment import CIFAR10_MEAN, CIFAR10_STD, AugmentConfig
    from infossl.encoder import Encoder
    from infossl.eval.evaluate import evaluate_encoder
    from infossl.eval.features import load_eval_splits
    from infossl.models.backbones import BackboneSpec, build_backbone
    from infossl.training.optim import cosine_decay

    base = recipe("simclr")
    spec = BackboneSpec(name="convnet", widths=tuple(base["model"]["backbone"]["widths"]))

    class Supervised(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.backbone, dim = build_backbone(spec)
            self.head = torch.nn.Linear(dim, 10)
            self.train_seconds, self._last = 0.0, None

        def training_step(self, batch, batch_idx):
            views, labels = batch
            loss = torch.nn.functional.cross_entropy(self.head(self.backbone(views[0])), labels)
            self.log("train/loss", loss)
            return loss

        def on_train_batch_end(self, *args) -> None:
            now = time.perf_counter()
            self.train_seconds += now - (self._last or now)
            self._last = now
            if budget_min is not None and self.train_seconds >= 60 * budget_min:
                self.trainer.should_stop = True

        def progress(self) -> float:
            return self.trainer.global_step / steps if steps is not None else self.train_seconds / (60 * budget_min)

        def configure_optimizers(self):
            optimizer = torch.optim.SGD(self.parameters(), lr=0.1 * batch_size / 256, momentum=0.9, weight_decay=5e-4)
            schedule = lambda step: cosine_decay(self.progress(), 0.001)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.LambdaLR(optimizer, schedule), "interval": "step"}}

    L.seed_everything(seed)
    datamodule = SSLDataModule(source="npz", path=str(data), batch_size=batch_size, seed=seed, augment=AugmentConfig(preset="simclr", mean=CIFAR10_MEAN, std=CIFAR10_STD, jitter_style=jitter_style))
    module = Supervised()
    trainer = L.Trainer(
        accelerator="cpu", max_epochs=-1 if steps else 1000, max_steps=steps or -1, precision="32-true",
        limit_val_batches=0, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, use_distributed_sampler=False, default_root_dir=str(run_dir),
    )
    load_before = load_average()
    trainer.fit(module, datamodule=datamodule)
    splits = load_eval_splits(data)
    encoder = Encoder(module.backbone, module.head.in_features, 32, CIFAR10_MEAN, CIFAR10_STD)
    results = evaluate_encoder(encoder, None, splits)
    done = trainer.global_step
    return {
        "method": "supervised (reference)",
        "seed": seed,
        "jitter_style": jitter_style,
        "budget_min": budget_min,
        "batch_size": batch_size,
        "images_seen": done * batch_size,
        "lr": 0.1 * batch_size / 256,
        "optimizer": "sgd",
        "steps": done,
        "epochs": round(done * batch_size / len(splits.train), 2),
        "train_s": round(module.train_seconds, 1),
        "images_per_s": round(done * batch_size / max(module.train_seconds, 1e-9), 1),
        "knn20_top1": round(100 * results["knn"]["knn20_top1"], 2),
        "knn200_top1": round(100 * results["knn"]["knn200_top1"], 2),
        "linear_top1": round(100 * results["linear"]["lbfgs"]["top1"], 2),
        "feature_rank": round(results["diagnostics"]["feature_rank"], 1),
        "load_before": load_before,
        "load_after": load_average(),
    }


def random_reference(data: Path, seed: int) -> dict[str, Any]:
    from infossl.data.augment import CIFAR10_MEAN, CIFAR10_STD
    from infossl.encoder import Encoder
    from infossl.eval.evaluate import evaluate_encoder
    from infossl.eval.features import load_eval_splits
    from infossl.models.backbones import BackboneSpec, build_backbone

    torch.manual_seed(seed)
    backbone, dim = build_backbone(BackboneSpec(name="convnet", widths=tuple(recipe("simclr")["model"]["backbone"]["widths"])))
    results = evaluate_encoder(Encoder(backbone, dim, 32, CIFAR10_MEAN, CIFAR10_STD), None, load_eval_splits(data))
    return {
        "method": "random init (reference)",
        "seed": seed,
        "budget_min": 0,
        "knn20_top1": round(100 * results["knn"]["knn20_top1"], 2),
        "knn200_top1": round(100 * results["knn"]["knn200_top1"], 2),
        "linear_top1": round(100 * results["linear"]["lbfgs"]["top1"], 2),
        "feature_rank": round(results["diagnostics"]["feature_rank"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--method", choices=METHODS)
    what.add_argument("--all", action="store_true", help="every method (tuned settings when available), then the references")
    what.add_argument("--tune", choices=METHODS, help="run the three proxy trials of a method")
    what.add_argument("--reference", choices=["random", "supervised"])
    what.add_argument("--study", choices=sorted(STUDIES), help="one-factor variants of a method on the proxy data (fixed epochs)")
    what.add_argument("--best", type=int, metavar="K", help="print the K methods with the best seed-0 linear probe and exit")
    what.add_argument("--stale", choices=METHODS, help="print the method's out-of-date 10-minute rows (other settings than its best trial, or not evaluated at the final step), and exit")
    parser.add_argument("--budget-min", type=float, default=10.0, help="training minutes per run")
    parser.add_argument("--proxy-min", type=float, default=2.0, help="training minutes per tuning trial")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, help="train for this many epochs instead of --budget-min (rows go to cifar10_epochs/)")
    parser.add_argument("--lr-scale", type=float, default=1.0, help="multiply the learning rate (the recipes already scale it by batch / 256)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--untuned", action="store_true", help="use the recipe even when tuning rows exist")
    parser.add_argument("--tag", help="result name (default: METHOD_seedSEED)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cifar10.npz")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "budget", help="run folders (checkpoints, logs)")
    args = parser.parse_args()
    if not args.data.is_file():
        parser.error(f"--data: {args.data} not found (the CIFAR-10 npz, see ../shared/data/README.md)")
    torch.set_num_threads(min(torch.get_num_threads(), os.cpu_count() or 1))

    if args.best:
        rows = [json.loads(p.read_text())["row"] for p in sorted((RESULTS_DIR / "cifar10_budget").glob("*_seed0.json"))]
        rows = [r for r in rows if r["method"] in METHODS and r.get("linear_top1") is not None]
        print(" ".join(r["method"] for r in sorted(rows, key=lambda r: -r["linear_top1"])[: args.best]))
        return
    if args.stale:
        print(" ".join(stale_rows(args.stale)))
        return
    if args.study:
        study(args.study, args.data, args.runs, args.seed)
        return
    if args.tune:
        tune(args.tune, args.data, args.runs, args.proxy_min, args.seed)
        return
    if args.reference == "random":
        write_row("cifar10_budget", args.tag or "random_init", random_reference(args.data, args.seed))
        return
    if args.reference == "supervised":
        tag = args.tag or f"supervised_seed{args.seed}"
        write_row("cifar10_budget", tag, supervised_reference(args.data, args.runs / tag, args.budget_min, args.batch_size, args.seed))
        return
    for method in METHODS if args.all else [args.method]:
        lr, params, source = (None, {}, "recipe") if args.untuned else tuned_settings(method)
        if lr is None:
            lr = recipe(method)["model"]["optim"]["lr"]
        lr *= args.lr_scale
        if args.epochs is None:
            folder, default_tag = "cifar10_budget", f"{method}_seed{args.seed}" + (f"_b{args.batch_size}" if args.batch_size != 256 else "")
        else:
            folder, default_tag = "cifar10_epochs", f"{method}_b{args.batch_size}_e{args.epochs}" + (f"_seed{args.seed}" if args.seed else "")
        tag = args.tag if args.tag and not args.all else default_tag
        row = pretrain_and_evaluate(method, args.data, args.runs / tag, args.budget_min, args.batch_size, args.seed, lr, params, epochs=args.epochs)
        row["settings"] = source
        write_row(folder, tag, row)
    if args.all:
        write_row("cifar10_budget", "random_init", random_reference(args.data, args.seed))
        write_row("cifar10_budget", f"supervised_seed{args.seed}", supervised_reference(args.data, args.runs / "supervised", args.budget_min, args.batch_size, args.seed))


if __name__ == "__main__":
    main()
