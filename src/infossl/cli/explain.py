"""``infossl explain CHECKPOINT --data ... --out DIR``: figures and an index.html."""

from __future__ import annotations

import argparse
from pathlib import Path

from infossl.cli.options import add_option, command_parser
from infossl.errors import InputError, MissingPathError


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "infossl explain",
        "Explain a pretrained checkpoint with figures (PNG) and an index.html: singular-value "
        "spectrum and a 2-D feature map for every method; for IMSVD the joint matrix, state usage and the "
        "images behind each state.",
    )
    parser.add_argument("checkpoint", help="an infossl checkpoint")
    parser.add_argument("--data", required=True, help="npz file (its test split is used) or an image folder")
    parser.add_argument("--out", type=Path, help="output folder (default: CHECKPOINT stem + _explain beside it)")
    parser.add_argument("--variables", type=int, nargs="+", help="IMSVD variables to show images for (default: the 3 most used)")
    parser.add_argument("--zoom", type=int, default=4, help="variables in the zoomed joint heatmap")
    parser.add_argument("--map", choices=["pca", "umap"], default="pca", help="2-D map of the features (umap if installed)")
    add_option(parser, "--max_images", type=int, default=5000, help="use at most this many images (seeded subset)")
    add_option(parser, "--batch_size", type=int, default=512)
    parser.add_argument("--device", default="auto", help="cpu, cuda, ... (auto: cuda when available)")
    return parser


def load_explain_images(data: str | Path, image_size: int | None):
    """The test split of an npz; a labelled folder (class sub-folders) or any image folder."""
    from infossl.data.sources import load_image_folder, load_npz

    path = Path(data)
    if path.is_file():
        return load_npz(path)[1]
    if not path.is_dir():
        raise MissingPathError(f"--data: no file or folder at {path}")
    if image_size is None:
        raise InputError("image folders need an image size; the checkpoint records none")
    has_classes = any(p.is_dir() for p in path.iterdir())
    return load_image_folder(path, image_size, labelled=has_classes)


def run_explain(argv: list[str]):
    args = build_parser().parse_args(argv)
    import torch

    from infossl.encoder import read_checkpoint
    from infossl.eval.explain import explain_checkpoint
    from infossl.eval.features import check_image_size

    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    info = read_checkpoint(args.checkpoint)["infossl"]
    image_size = (info.get("preprocess") or {}).get("image_size")
    data = load_explain_images(args.data, image_size)
    check_image_size(data, image_size, str(args.data), resize=False)
    checkpoint = Path(args.checkpoint)
    out = args.out or checkpoint.with_name(checkpoint.stem + "_explain")
    explanation = explain_checkpoint(
        checkpoint, data, out, args.variables, args.zoom, args.map, args.max_images, args.batch_size, device
    )
    for key, value in explanation.summary.items():
        print(f"{key}: {value}")
    print(f"wrote {len(explanation.figures)} figures and {out / 'index.html'}")
    return explanation
