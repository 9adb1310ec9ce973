"""LightGBM imported without the optional libraries its package loads eagerly.

``import lightgbm`` imports scikit-learn, pandas and pyarrow whenever they are installed (for its scikit-learn
estimators and DataFrame inputs). This package gives LightGBM NumPy arrays only, so a serving process would carry
those libraries, a large share of its memory, for nothing. :func:`import_lightgbm` hides them from the importing
thread while LightGBM's package loads; LightGBM then works as without them (``lightgbm.compat`` falls back), and
any later ``import sklearn`` (training) loads scikit-learn as usual. This package only uses what works without them
(``train``, ``Dataset`` and ``Booster`` on NumPy arrays), so LightGBM behaves the same for it however it was
imported, and a process that loaded those libraries first (training, tests) is served just as well.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType

OPTIONAL_LIBRARIES = ("sklearn", "pandas", "pyarrow", "dask", "matplotlib", "graphviz")
_import_lock = threading.Lock()


class _HideFromThread:
    """A ``sys.meta_path`` finder that reports the optional libraries as absent, to one thread only."""

    def __init__(self, thread: int) -> None:
        self.thread = thread

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if threading.get_ident() == self.thread and name.partition(".")[0] in OPTIONAL_LIBRARIES:
            raise ModuleNotFoundError(f"{name} is not needed by this package's use of LightGBM", name=name)
        return None


def import_lightgbm() -> ModuleType:
    """The ``lightgbm`` module, imported once per process without the optional libraries.

    Returns:
        The ``lightgbm`` package.
    """
    with _import_lock:
        if "lightgbm" in sys.modules:
            return sys.modules["lightgbm"]
        finder = _HideFromThread(threading.get_ident())
        sys.meta_path.insert(0, finder)
        try:
            import lightgbm
        finally:
            sys.meta_path.remove(finder)
        return lightgbm
