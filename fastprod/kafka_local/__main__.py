"""python -m fastprod.kafka_local ARGS: the launcher, as scripts/kafka-local runs it."""

import sys

from .command import main

sys.exit(main())
