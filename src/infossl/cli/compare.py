"""``infossl compare RUN_DIR...``: one table (and a plot) across pretraining runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from infossl.cli.options import add_option, command_parser
from infossl.errors import MissingPathError


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "infossl compare",
        "Compare pretraining runs: method, backbone, epochs, training time, throughput, kNN and "
        "linear accuracy, effective rank; best first. Accuracies come from 'infossl eval' results "
        "(checkpoints/last.eval.json) when present, else from the training-time monitors.",
    )
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (with config.yaml and metrics.csv)")
    parser.add_argument("--plot", type=Path, default=Path("compare.png"), help="PNG plot to write (default compare.png)")
    add_option(parser, "--no_plot", action="store_true", help="do not write a plot")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    return parser


def run_compare(argv: list[str]) -> list[dict]:
    args = build_parser().parse_args(argv)
    from infossl.eval.runs import format_table, plot_comparison, sort_key, summarize_run

    missing = [str(r) for r in args.runs if not r.is_dir()]
    if missing:
        raise MissingPathError(f"run folders not found: {', '.join(missing)}")
    summaries = sorted((summarize_run(r) for r in args.runs), key=sort_key)
    if args.json:
        print(json.dumps(summaries, indent=2))
    else:
        print(format_table(summaries, markdown=args.markdown))
    if not args.no_plot:
        print(f"wrote {plot_comparison(summaries, args.plot)}")
    return summaries
