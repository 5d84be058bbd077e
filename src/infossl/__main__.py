"""``python -m infossl`` is the ``infossl`` command."""

import sys

from infossl.cli.main import main

sys.exit(main())
