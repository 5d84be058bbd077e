"""Screen a recipe change on the search's proxy task, without a study.

    python benchmarks/screen.py --method dino --tag shipped
    python benchmarks/screen.py --method dino --tag bn --set model.method.head_batch_norm=true

For methods the recipes plan does not search (BYOL, Barlow Twins, DINO and their EntRec
variants): when a published recipe fails on the CPU proxy (a collapse, a divergence), this
trains ``cifar10_cpu/<method>.yaml`` with ``--set`` overrides on the same proxy as
``search.py`` (45,000 training images; kNN-20 on 5,000 other training images, never the test
split), records the intermediate held-out kNN-20 every ``--report-every`` steps with the
training metrics logged at that step (for DINO: the teacher's entropy, its temperature), and
the final held-out kNN-20. One JSON row per tag in ``benchmarks/results/screen/<method>/``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from cifar10_budget import proxy_npz, write_row
from search import PROXY_FIT, PROXY_HELD, ROOT, HeldOutReporter, held_out_knn, proxy_args


def override(text: str) -> list[str]:
    """``key=value`` as the two CLI arguments ``--key value``."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--set expects key=value, got {text!r}")
    return [f"--{key}", value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", required=True, help="a cifar10_cpu recipe name, e.g. dino")
    parser.add_argument("--tag", required=True, help="the row's name")
    parser.add_argument("--set", type=override, action="append", default=[], metavar="KEY=VALUE", help="a pretrain setting, e.g. model.method.prototypes=1024")
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
    overrides = [part for pair in args.set for part in pair]
    pretrain = proxy_args(args.method, data, args.runs / f"screen_{args.method}_{args.tag}", args.steps, args.seed) + overrides
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
        "method": args.method, "tag": args.tag, "overrides": overrides, "arguments": pretrain, "seed": args.seed,
        "steps": steps, "intermediate": reporter.scores, "metrics": {**reporter.metrics, steps: final_metrics},
        "held_out_knn20": round(held_out_knn(cli.model, splits), 2),
        "seconds_per_step": round(cli.model.train_seconds / max(1, steps), 4),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    write_row(f"screen/{args.method}", args.tag, row)
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
