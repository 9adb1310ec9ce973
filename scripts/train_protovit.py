"""Train ProtoViT (or a baseline): same command as ``pad-train-protovit``; see :mod:`protovit.cli`."""

from protovit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
