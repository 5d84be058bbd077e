"""Configuration errors: parse errors turned into messages that list the valid choices."""

from __future__ import annotations

import difflib
import importlib
import re

from infossl.errors import InputError


class ConfigError(InputError):
    """A configuration key or value that cannot work; raised before any training."""


def _class_parameters(class_path: str) -> list[str]:
    """The configuration keys of a class as jsonargparse sees them (including the
    loss arguments a method forwards with ``**loss_args``)."""
    from jsonargparse import ArgumentParser

    module_name, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), name)
        parser = ArgumentParser()
        parser.add_class_arguments(cls, "init")
    except (ImportError, AttributeError, ValueError):
        return []
    return [key.removeprefix("init.") for key in parser.get_defaults().keys()]  # keys(): every nested key, flattened (iterating a Namespace is not)


def _suggest(bad: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(bad, valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"{hint} Valid keys: {', '.join(valid)}"


def explain(message: str, valid_keys: list[str]) -> str:
    """Append the valid keys (and the closest one) to a jsonargparse error."""
    message = message.strip()
    # --group.key on the command line
    match = re.search(r"unrecognized arguments: --([\w.]+)", message)
    if match:
        key = match.group(1)
        group = key.rpartition(".")[0]
        siblings = [k for k in valid_keys if k.rpartition(".")[0] == group] or valid_keys
        return f"unknown configuration key {key!r}.{_suggest(key, siblings)}"
    # unknown key inside a group of a config file
    match = re.search(r"Group '([\w.]+)' does not accept option '(\w+)'", message)
    if match:
        group, option = match.groups()
        siblings = [k for k in valid_keys if k.rpartition(".")[0] == group]
        return f"unknown configuration key '{group}.{option}'.{_suggest(f'{group}.{option}', siblings)}"
    # unknown init argument of a class given by class_path (e.g. model.method)
    match = re.search(r"Parser key \"([\w.]+)\":\s*Problem with given class_path '([\w.]+)':\s*Option '(\w+)' is not accepted", message)
    if match:
        key, class_path, option = match.groups()
        parameters = _class_parameters(class_path)
        return (
            f"unknown configuration key '{key}.{option}' for {class_path}."
            f"{_suggest(option, parameters)}"
        )
    return " ".join(line.strip() for line in message.splitlines())  # jsonargparse's indented lines, in one
