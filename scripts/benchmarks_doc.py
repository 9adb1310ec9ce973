"""The one writer of docs/benchmarks.md, shared by every benchmark script.

Each script owns the text between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` and leaves the rest of the
file as it is, so scripts can be re-run independently without overwriting each other's figures.
"""

from __future__ import annotations

import os
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(name: str, body: str, path: Path = BENCHMARKS) -> None:
    """Replace section ``name``'s text with ``body`` (appending the section if the file lacks it)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n"
    block = f"{begin}\n{body.strip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = f"{text.rstrip()}\n\n{block}\n"
    path.write_text(text, encoding="utf-8")


def load_average() -> str:
    """The 1/5/15-minute load averages, recorded with every figure: the 2-core machine is often shared."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())
