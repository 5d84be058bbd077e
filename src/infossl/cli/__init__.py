"""The ``infossl`` command line."""
