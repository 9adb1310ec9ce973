"""Build the DuckDB warehouse (same command as ``pad-build-warehouse``; see :mod:`warehouse.cli`)."""

import sys

from warehouse.cli import main

if __name__ == "__main__":
    sys.exit(main())
