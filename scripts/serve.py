"""Serve the dashboard (same command as ``pad-serve``; see :mod:`dashboard.serve`)."""

import sys

from dashboard.serve import main

if __name__ == "__main__":
    sys.exit(main())
