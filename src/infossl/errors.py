"""The one exception type the command line reports without a traceback."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from the user: a configuration value, a data file or folder, or a
    checkpoint that cannot work, with a message naming it and what was expected.

    ``infossl`` prints it as one line and exits with status 2 (``infossl --debug``
    shows its traceback). Every other exception is treated as a bug in infossl and
    keeps its traceback. A subclass of ``ValueError``, so ``except ValueError`` in
    user code still catches it.
    """


class MissingPathError(InputError, FileNotFoundError):
    """A file or folder the user named does not exist (also a ``FileNotFoundError``)."""
