"""``python -m fastprod``: the command line (see fastprod.cli)."""

import sys

from fastprod.cli import main

sys.exit(main())
