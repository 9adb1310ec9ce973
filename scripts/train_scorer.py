"""Train the credit scorer (same command as ``pad-train-scorer``; see :mod:`models.cli`)."""

import sys

from models.cli import main

if __name__ == "__main__":
    sys.exit(main())
