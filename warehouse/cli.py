"""Build the DuckDB warehouse from Kaggle Home Credit CSVs or from the synthetic generator.

    pad-build-warehouse --out data/warehouse.duckdb --synthetic 307511 [--seed 0]
    pad-build-warehouse --out data/warehouse.duckdb --source path/to/home-credit-csvs
    (or python scripts/build_warehouse.py ..., the same command)

The new file replaces ``--out`` atomically; on any error, a concurrent build of the same file, Ctrl-C or SIGTERM
the previous file is left untouched, the temporary file is removed and the exit code is non-zero.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from warehouse import WarehouseBusyError, WarehouseInputError, build_warehouse
from warehouse.build import STORAGE_VERSION
from warehouse.errors import BuildInterrupted


def _positive(text: str) -> int:
    value = int(text)
    if value < 10:
        raise argparse.ArgumentTypeError(f"need at least 10 applicants, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, required=True, help="warehouse file to (re)build, e.g. data/warehouse.duckdb"
    )
    origin = parser.add_mutually_exclusive_group(required=True)
    origin.add_argument(
        "--source", type=Path, help="folder with the Kaggle CSV files (application_train.csv required)"
    )
    origin.add_argument(
        "--synthetic", type=_positive, metavar="N", help="generate N synthetic training applicants"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed of the synthetic generator (default 0)"
    )
    parser.add_argument(
        "--storage-version",
        default=STORAGE_VERSION,
        help=f"oldest DuckDB release that must open the file (default {STORAGE_VERSION}; 'latest' for this one)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    try:
        build_warehouse(
            args.out,
            source=args.source,
            synthetic=args.synthetic,
            seed=args.seed,
            progress=not args.quiet,
            storage_version=args.storage_version,
        )
    except (WarehouseInputError, WarehouseBusyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BuildInterrupted as stop:
        print(
            f"interrupted by {signal.Signals(stop.signum).name}: temporary file removed, {args.out} unchanged",
            file=sys.stderr,
        )
        return 128 + stop.signum
    return 0
