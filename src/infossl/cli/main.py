"""Entry point of the ``infossl`` command."""

from __future__ import annotations

import os
import sys

USAGE = """infossl [--debug] <command> [options]

commands:
  pretrain     pretrain an encoder: infossl pretrain --config cifar10/imsvd.yaml [--key value ...]
  quickstart   the embedded default: IMSVD on generated shapes, ~3.5 minutes on 2 CPU cores
  prepare      infossl prepare SRC OUT --image_size 256: an image folder as streaming shards (litdata)
  eval         infossl eval CHECKPOINT --data DATA: kNN, linear probe and diagnostics
  explain      infossl explain CHECKPOINT --data DATA --out DIR: figures and an index.html
  compare      infossl compare RUN_DIR...: one table (and plot) across runs
  export       infossl export CHECKPOINT OUT: backbone weights as OUT.pt and OUT.safetensors
  configs      list the configs shipped with infossl

'infossl COMMAND --help' explains a command; 'infossl pretrain --help' lists every
configuration key and 'infossl pretrain --model.method.help IMSVD' a method's.

Bad input (an unknown key, a missing file, a wrong array layout) is reported in one
line with exit status 2; --debug (or INFOSSL_DEBUG=1) shows its traceback too. Any
other error is a bug in infossl and always keeps its traceback."""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("INFOSSL_DEBUG", "") not in ("", "0")
    if argv and argv[0] == "--debug":
        debug, argv = True, argv[1:]
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    from infossl.cli.pretrain import RunInterrupted
    from infossl.errors import InputError
    from infossl.training.reliability import NonFiniteLossError

    try:
        if command == "pretrain":
            from infossl.cli.pretrain import pretrain

            pretrain(rest)
        elif command == "quickstart":
            from infossl.cli.quickstart import quickstart

            quickstart(rest)
        elif command == "eval":
            from infossl.cli.evaluate import run_eval

            run_eval(rest)
        elif command == "prepare":
            from infossl.cli.prepare import run_prepare

            run_prepare(rest)
        elif command == "explain":
            from infossl.cli.explain import run_explain

            run_explain(rest)
        elif command == "compare":
            from infossl.cli.compare import run_compare

            run_compare(rest)
        elif command == "export":
            from infossl.cli.options import command_parser

            parser = command_parser("infossl export", "Export the backbone weights of a checkpoint.")
            parser.add_argument("checkpoint")
            parser.add_argument("out", help="output path without suffix; writes OUT.pt and OUT.safetensors")
            ns = parser.parse_args(rest)
            from infossl.cli.export import export

            for path in export(ns.checkpoint, ns.out):
                print(f"wrote {path}")
        elif command == "configs":
            from infossl.cli.configs import config_root, packaged_configs

            print(f"configs shipped in {config_root()} (use as --config NAME):")
            for name in packaged_configs():
                print(f"  {name}")
        else:
            print(f"infossl: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
            return 2
    except InputError as error:
        if debug:
            raise
        print(f"infossl {command}: error: {error}", file=sys.stderr)
        return 2
    except NonFiniteLossError as error:
        if debug:
            raise
        print(f"infossl {command}: training diverged: {error}", file=sys.stderr)
        return 1
    except RunInterrupted as stop:
        print(f"infossl {command}: {stop}", file=sys.stderr)
        return stop.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
