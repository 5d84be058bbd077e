"""One flag style for every subcommand: the Lightning CLI's underscores.

``infossl pretrain`` takes ``--data.batch_size``; the argparse-based subcommands
(eval, explain, compare, export) take ``--batch_size`` likewise. The hyphenated
spellings they used before (``--batch-size``) stay accepted as hidden aliases,
since committed result rows record their commands.
"""

from __future__ import annotations

import argparse
from typing import Any


def command_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An argparse parser that refuses abbreviations: ``--probe_epoch`` is an error,
    never silently taken for ``--probe_epochs``."""
    return argparse.ArgumentParser(prog=prog, description=description, allow_abbrev=False)


def add_option(parser: argparse.ArgumentParser, flag: str, **kwargs: Any) -> argparse.Action:
    """Add ``--flag_name`` (shown in help) and its hyphenated alias ``--flag-name`` (hidden)."""
    action = parser.add_argument(flag, **kwargs)
    alias = flag.replace("_", "-")
    if alias != flag:
        hidden = {k: v for k, v in kwargs.items() if k not in ("help", "default", "metavar")}
        parser.add_argument(alias, dest=action.dest, help=argparse.SUPPRESS, default=argparse.SUPPRESS, **hidden)
    return action
