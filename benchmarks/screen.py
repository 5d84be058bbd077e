"""Screen a recipe change on the search's proxy task, without a study.

    python benchmarks/screen.py --method dino --tag shipped
    python benchmarks/screen.py --method dino --tag bn --set model.method.head_batch_norm=true
    python benchmarks/screen.py --method imsvd --from-trial 12 --tag normalized --set model.method.normalize_logits=true

For methods the recipes plan does not search (BYOL, Barlow Twins, DINO and their EntRec
variants): when a published recipe fails on the CPU proxy (a collapse, a divergence), this
trains ``cifar10_cpu/<method>.yaml`` with ``--set`` overrides on the same proxy as
``search.py`` (45,000 training images; kNN-20 on 5,000 other training images, never the test
split), records the intermediate held-out kNN-20 every ``--report-every`` steps with the
training metrics logged at that step (for DINO: the teacher's entropy, its temperature), and
the final held-out kNN-20. One JSON row per tag in ``benchmarks/results/screen/<method>/``.

``--from-trial N`` starts from trial N of the method's recipe search (its settings as
``search.py`` trained them, read from ``benchmarks/results/search/<method>/trial_NNN.json``)
instead of the shipped recipe, so that a direction can be screened from a study's winner before
it ships; the trial's own held-out score is the reference (same proxy, steps and seed).
``--steps 0`` scores the untrained model (the seed's random initialization): the proxy's floor.
``--variant NAME`` applies a named change of ``cifar10_steps.py`` (e.g. ``plain_recipe``, the plain
loop's recipe) before the ``--set`` overrides; with ``--steps 2000`` it puts a reference recipe beside
a study's 2,000-step confirmation on the same held-out images.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from cifar10_budget import proxy_npz, write_row
from variants import VARIANTS
from search import PROXY_FIT, PROXY_HELD, ROOT, HeldOutReporter, held_out_knn, pretrain_args, proxy_args, trial_row


def override(text: str) -> list[str]:
    """``key=value`` as the two CLI arguments ``--key value``."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--set expects key=value, got {text!r}")
    return [f"--{key}", value]


def screen_overrides(variant: str | None, sets: list[list[str]]) -> list[str]:
    """The arguments a screen adds to its starting point: the named variant's, then each ``--set``
    (later arguments win)."""
    return (VARIANTS[variant] if variant else []) + [part for pair in sets for part in pair]


def screen_args(method: str, from_trial: int | None, data: Path, run_dir: Path, steps: int, seed: int) -> list[str]:
    """``infossl pretrain`` arguments of the screen's starting point: the shipped recipe, or
    trial ``from_trial`` of the method's search with the settings it was trained with."""
    if from_trial is None:
        return proxy_args(method, data, run_dir, steps, seed)
    trial = trial_row(method, from_trial)
    if not trial.is_file():
        raise FileNotFoundError(f"--from-trial {from_trial}: {trial} not found (run the {method} search first)")
    return pretrain_args(method, json.loads(trial.read_text())["row"]["settings"], data, run_dir, steps, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", required=True, help="a cifar10_cpu recipe name, e.g. dino")
    parser.add_argument("--tag", required=True, help="the row's name")
    parser.add_argument("--set", type=override, action="append", default=[], metavar="KEY=VALUE", help="a pretrain setting, e.g. model.method.prototypes=1024")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help="a named change of cifar10_steps.py, applied before --set")
    parser.add_argument("--from-trial", type=int, metavar="N", help="start from trial N of the method's recipe search, not the shipped recipe")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--report-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cifar10.npz")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "search")
    args = parser.parse_args()
    if not args.data.is_file():
        parser.error(f"--data: {args.data} not found (the CIFAR-10 npz, see ../shared/data/README.md)")
    torch.set_num_threads(min(torch.get_num_threads(), os.cpu_count() or 1))

    from infossl.cli.pretrain import build_cli, check_before_fit
    from infossl.eval.features import load_eval_splits

    data = proxy_npz(args.data, args.runs, PROXY_FIT, PROXY_HELD)
    overrides = screen_overrides(args.variant, args.set)
    run_dir = args.runs / f"screen_{args.method}_{args.tag}"
    try:
        pretrain = screen_args(args.method, args.from_trial, data, run_dir, args.steps, args.seed) + overrides
    except FileNotFoundError as error:
        parser.error(str(error))
    splits = load_eval_splits(data)
    started = time.perf_counter()
    cli = build_cli(pretrain)
    check_before_fit(cli)
    reporter = HeldOutReporter(splits, args.report_every, args.steps)
    cli.trainer.callbacks.append(reporter)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    steps = cli.trainer.global_step
    final_metrics = {key: round(float(value), 4) for key, value in cli.trainer.callback_metrics.items() if key.startswith("train/")}
    row = {
        "method": args.method, "tag": args.tag, "from_trial": args.from_trial, "variant": args.variant, "overrides": overrides, "arguments": pretrain, "seed": args.seed,
        "steps": steps, "intermediate": reporter.scores, "metrics": {**reporter.metrics, steps: final_metrics},
        "held_out_knn20": round(held_out_knn(cli.model, splits), 2),
        "seconds_per_step": round(cli.model.train_seconds / max(1, steps), 4),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    write_row(f"screen/{args.method}", args.tag, row)
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
