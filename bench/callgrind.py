"""The first instruction-count benchmark's command, kept: `python -m bench.callgrind` is now
`python -m bench.instructions`, which has its scenarios under the same names (keyless,
keyed-futures, json, batch) and the C loops and confluent-kafka beside them."""

import sys

from bench.instructions.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
