"""python -m fastprod.kafka_local ARGS: the launcher of an installed fastprod (`fastprod bench
--local` runs it so, in a subprocess whose stdout is the bootstrap address)."""

import sys

from .command import main

sys.exit(main())
