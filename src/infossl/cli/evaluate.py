"""``infossl eval CHECKPOINT --data ...``: kNN, linear probe and diagnostics of a frozen encoder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from infossl.cli.errors import ConfigError
from infossl.cli.options import add_option, command_parser


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "infossl eval",
        "Evaluate a pretrained checkpoint: weighted kNN, linear probe and information diagnostics "
        "of its frozen backbone. Features are computed once and cached beside the checkpoint.",
    )
    parser.add_argument("checkpoint", help="an infossl checkpoint, e.g. runs/default/checkpoints/last.ckpt")
    parser.add_argument("--data", help="npz file (x_train/y_train/x_test/y_test) or one labelled image folder")
    parser.add_argument("--train", help="labelled image folder for the train split (with --test)")
    parser.add_argument("--test", help="labelled image folder for the test split (with --train)")
    add_option(parser, "--split_fraction", type=float, default=0.2, help="test share when --data is one folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of the folder split and the probe's held-out part")
    parser.add_argument("--k", type=int, nargs="+", default=[20, 200], help="neighbours for kNN (default: 20 200)")
    parser.add_argument("--temperature", type=float, default=0.07, help="kNN vote temperature")
    parser.add_argument(
        "--probe", choices=["lbfgs", "sgd", "both", "none"], default="lbfgs",
        help="linear probe: full-batch L-BFGS (fast, default), SGD for --probe_epochs with a cosine schedule, both, or none",
    )
    add_option(parser, "--probe_epochs", type=int, default=100, help="epochs of the SGD probe")
    add_option(parser, "--probe_lr", type=float, default=0.1, help="learning rate of the SGD probe")
    add_option(
        parser, "--weight_decays", type=float, nargs="+", default=[1e-5, 1e-4, 1e-3, 1e-2],
        help="probe weight decays, chosen on a held-out part of the train split",
    )
    add_option(parser, "--batch_size", type=int, default=512, help="images per forward pass")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, ... (auto: cuda when available)")
    parser.add_argument("--resize", action="store_true", help="accept images of another size than the checkpoint's")
    add_option(parser, "--no_cache", action="store_true", help="recompute features and do not cache them")
    add_option(parser, "--no_diagnostics", action="store_true", help="skip the information diagnostics")
    parser.add_argument("--out", type=Path, help="results JSON (default: CHECKPOINT stem + .eval.json beside it)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    return parser


def run_eval(argv: list[str]) -> dict:
    args = build_parser().parse_args(argv)
    import torch

    from infossl.encoder import read_checkpoint
    from infossl.eval.evaluate import default_output, evaluate_checkpoint, format_table
    from infossl.eval.features import load_eval_splits
    from infossl.eval.linear import ProbeConfig

    if min(args.k) < 1:
        raise ConfigError(f"--k: neighbours must be >= 1, got {args.k}")
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    info = read_checkpoint(args.checkpoint)["infossl"]  # fails fast on a wrong file, before loading data
    image_size = (info.get("preprocess") or {}).get("image_size")
    splits = load_eval_splits(args.data, image_size, args.train, args.test, args.split_fraction, args.seed)
    solvers = {"lbfgs": ["lbfgs"], "sgd": ["sgd"], "both": ["lbfgs", "sgd"], "none": []}[args.probe]
    probes = [
        ProbeConfig(solver=s, weight_decays=tuple(args.weight_decays), epochs=args.probe_epochs, lr=args.probe_lr, seed=args.seed)
        for s in solvers
    ]
    results = evaluate_checkpoint(
        args.checkpoint, splits, ks=args.k, probes=probes, temperature=args.temperature, batch_size=args.batch_size,
        device=device, use_cache=not args.no_cache, resize=args.resize, diagnostics=not args.no_diagnostics,
    )
    out = args.out or default_output(args.checkpoint)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(format_table(results))
        print(f"\nwrote {out}")
    return results
