"""Run every benchmark script; each one prints its figures and records them in its section of docs/benchmarks.md.

Usage: ``python scripts/bench.py [warehouse scorer dashboard protovit]`` (all by default). Benchmarks are run
one after the other so they do not compete for the machine's cores.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
BENCHMARKS = ("warehouse", "scorer", "dashboard", "protovit")


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; choose among {', '.join(BENCHMARKS)}",
            file=sys.stderr,
        )
        return 2
    failed = []
    for name in chosen:
        print(f"==> bench_{name}.py", flush=True)
        if subprocess.run([sys.executable, str(SCRIPTS / f"bench_{name}.py")]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
