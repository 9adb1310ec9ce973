"""The shared benchmarks.md writer replaces only its own section."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from benchmarks_doc import load_average, write_section

sys.path.pop(0)


def test_section_is_replaced_and_others_kept(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\n<!-- a:begin -->\nold a\n<!-- a:end -->\n\n<!-- b:begin -->\nold b\n<!-- b:end -->\n"
    )
    write_section("a", "new a\n", doc)
    text = doc.read_text()
    assert "new a" in text and "old a" not in text and "old b" in text
    assert text.index("<!-- a:begin -->") < text.index("new a") < text.index("<!-- a:end -->")


def test_missing_section_and_missing_file_are_created(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    write_section("a", "figures a", doc)
    write_section("b", "figures b", doc)
    write_section("a", "figures a2", doc)
    text = doc.read_text()
    assert text.startswith("# Benchmarks") and text.count("<!-- a:begin -->") == 1
    assert "figures a2" in text and "figures b" in text and "figures a\n" not in text


def test_load_average_has_three_figures() -> None:
    assert len(load_average().split(" / ")) == 3
