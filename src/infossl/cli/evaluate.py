"""``infossl eval CHECKPOINT --data ...``: kNN, linear probe and diagnostics of a frozen encoder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from infossl.cli.errors import ConfigError
from infossl.cli.options import add_option, command_parser
from infossl.data.augment import CIFAR10_MEAN, CIFAR10_STD, IMAGENET_MEAN, IMAGENET_STD
from infossl.models.backbones import BackboneSpec, check_backbone_name


def _boolean(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "infossl eval",
        "Evaluate a pretrained checkpoint: weighted kNN, linear probe and information diagnostics "
        "of its frozen backbone. Features are computed once and cached beside the checkpoint.",
    )
    parser.add_argument(
        "checkpoint",
        help="an infossl checkpoint, e.g. runs/default/checkpoints/last.ckpt, or with --backbone.name a plain "
        "state dict of a backbone (torch.save'd or .safetensors: a plain PyTorch loop's, torchvision's, timm's)",
    )
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
    plain = parser.add_argument_group(
        "plain weights", "evaluate a backbone state dict that infossl did not write (CHECKPOINT is then that file)"
    )
    plain.add_argument("--backbone.name", help="convnet, resnet18, resnet34, resnet50 or timm:<model name>")
    plain.add_argument(
        "--backbone.widths", type=int, nargs="+", default=list(BackboneSpec.widths), help="the convnet's block widths (default: 32 64 128 256)"
    )
    plain.add_argument(
        "--backbone.cifar_stem", type=_boolean, default=BackboneSpec.cifar_stem,
        help="torchvision ResNets: 3x3 stride-1 first conv without max-pool (default: true)",
    )
    plain.add_argument("--preprocess.image_size", type=int, help="resize images to this size (default: as the data gives them)")
    plain.add_argument(
        "--preprocess.mean", type=float, nargs=3, default=list(IMAGENET_MEAN),
        help=f"normalization the weights were trained with (default: ImageNet's; CIFAR-10's is {' '.join(map(str, CIFAR10_MEAN))})",
    )
    plain.add_argument(
        "--preprocess.std", type=float, nargs=3, default=list(IMAGENET_STD),
        help=f"(default: ImageNet's; CIFAR-10's is {' '.join(map(str, CIFAR10_STD))})",
    )
    parser.add_argument("--out", type=Path, help="results JSON (default: CHECKPOINT stem + .eval.json beside it)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    return parser


def run_eval(argv: list[str]) -> dict:
    args = build_parser().parse_args(argv)
    import torch

    from infossl.encoder import read_checkpoint
    from infossl.eval.evaluate import default_output, evaluate_checkpoint, evaluate_weights, format_table
    from infossl.eval.features import load_eval_splits
    from infossl.eval.linear import ProbeConfig
    from infossl.plain_weights import load_plain_encoder

    if min(args.k) < 1:
        raise ConfigError(f"--k: neighbours must be >= 1, got {args.k}")
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    plain = getattr(args, "backbone.name") is not None
    if plain:
        name = getattr(args, "backbone.name")
        try:
            check_backbone_name(name)
        except ValueError as error:
            raise ConfigError(f"--backbone.name: {error}") from None
        backbone = BackboneSpec(name=name, widths=tuple(getattr(args, "backbone.widths")), cifar_stem=getattr(args, "backbone.cifar_stem"))
        image_size = getattr(args, "preprocess.image_size")
        # built and loaded once, before the data: a wrong file, name or shape fails fast
        prepared = load_plain_encoder(
            args.checkpoint, backbone, image_size, getattr(args, "preprocess.mean"), getattr(args, "preprocess.std")
        )
    else:
        info = read_checkpoint(args.checkpoint)["infossl"]  # fails fast on a wrong file, before loading data
        image_size = (info.get("preprocess") or {}).get("image_size")
    splits = load_eval_splits(args.data, image_size, args.train, args.test, args.split_fraction, args.seed)
    solvers = {"lbfgs": ["lbfgs"], "sgd": ["sgd"], "both": ["lbfgs", "sgd"], "none": []}[args.probe]
    probes = [
        ProbeConfig(solver=s, weight_decays=tuple(args.weight_decays), epochs=args.probe_epochs, lr=args.probe_lr, seed=args.seed)
        for s in solvers
    ]
    common = dict(
        ks=args.k, probes=probes, temperature=args.temperature, batch_size=args.batch_size,
        device=device, use_cache=not args.no_cache, diagnostics=not args.no_diagnostics,
    )
    if plain:
        results = evaluate_weights(
            args.checkpoint, backbone, splits, image_size, getattr(args, "preprocess.mean"), getattr(args, "preprocess.std"),
            prepared=prepared, **common,
        )
    else:
        results = evaluate_checkpoint(args.checkpoint, splits, resize=args.resize, **common)
    out = args.out or default_output(args.checkpoint)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(format_table(results))
        print(f"\nwrote {out}")
    return results
