"""Serve the dashboard (same command as ``pad-serve``; see :mod:`dashboard.serve`)."""

from dashboard.serve import main

if __name__ == "__main__":
    main()
