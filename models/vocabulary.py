"""Human labels and values for the scorer, from the warehouse dictionary (the one place they are written).

A feature the dictionary does not know (a column a future warehouse adds) keeps its technical name rather than
failing the explanation of a client.
"""

from __future__ import annotations

from functools import cache, lru_cache

from warehouse import dictionary


@cache
def label(name: str, lang: str) -> str:
    try:
        return dictionary.label(name, lang)
    except KeyError:
        return name


@cache
def _known(name: str) -> bool:
    try:
        dictionary.describe(name)
    except KeyError:
        return False
    return True


@lru_cache(maxsize=200_000)
def display(name: str, value: object, lang: str) -> str:
    """The value in human units ("43 ans", "202 500 €", "manquant"); cached, as many values repeat."""
    if _known(name):
        return dictionary.humanize(name, value, lang)
    if value is None:
        return dictionary.level_label(name, None, lang)  # "manquant" / "missing"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dictionary.format_measure(value, lang)
    return str(value)


def level_label(column: str, level: str, lang: str) -> str:
    return dictionary.level_label(column, level, lang)
