"""``infossl prepare SRC OUT``: an image folder as streaming shards (Lightning's litdata)."""

from __future__ import annotations

import argparse

from infossl.cli.options import add_option, command_parser


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "infossl prepare",
        "Convert an image folder into litdata shards for `--data.source litdata`: each image decoded once, "
        "resized so that its shorter side is --image_size, JPEG-encoded, with its label; files that cannot "
        "be decoded are skipped with a warning naming them.",
    )
    parser.add_argument("source", help="image folder: one sub-folder per class (or any images with --unlabelled)")
    parser.add_argument("out", help="new or empty folder for the shards")
    add_option(parser, "--image_size", type=int, default=256, help="shorter side of the stored images (default: 256)")
    parser.add_argument("--unlabelled", action="store_true", help="every image below SOURCE, without labels")
    add_option(parser, "--num_workers", type=int, help="worker processes (default: one per CPU)")
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality of the stored images (default: 95)")
    return parser


def run_prepare(argv: list[str]) -> dict:
    args = build_parser().parse_args(argv)
    from infossl.data.shards import prepare_shards

    summary = prepare_shards(args.source, args.out, args.image_size, not args.unlabelled, args.num_workers, args.quality)
    print(f"wrote {summary['images']} images ({len(summary['skipped'])} skipped) to {args.out}")
    return summary
