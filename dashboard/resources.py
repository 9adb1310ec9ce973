"""Shared read-only resources, loaded once per server process and handed to every session.

The warehouse connection, the scorer and the ProtoViT predictor are expensive to open and safe to share (the
warehouse is read-only with a cursor per call, the scorer is pure), so each process loads them once and every
session reuses them. Views never open files or connections, nor see these: they talk to the
:class:`dashboard.cockpit.Cockpit` built over them.

When something is missing the app must still answer with a page saying which command builds it, so loading never
raises: problems are collected in :attr:`Resources.problems`. A warehouse, model and stored scores that do not
belong together (see :mod:`models.versions`) are such a problem too: no page mixes two models' decisions.

A rebuilt warehouse or retrained model is picked up without restart: each new session compares the files on disk
with what was loaded and loads the new version if they changed, while open sessions keep the resources they
started with (the replaced warehouse file stays readable through its open connection until they end).
"""

from __future__ import annotations

import csv
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from PIL import Image

from models.versions import Mismatch, Versions, check_versions

if TYPE_CHECKING:
    from models import Scorer
    from protovit import Predictor
    from protovit.service import BackgroundTraining, ExplanationGate
    from warehouse import Warehouse

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

BUILD_WAREHOUSE = "python scripts/build_warehouse.py --out {path} --synthetic 307511"
TRAIN_SCORER = "python scripts/train_scorer.py --warehouse {warehouse} --out {path}"
SCORE_ONLY = " --score-only"
CATALOGUE_LIMIT = 70
TRAIN_PROTOVIT = "python scripts/train_protovit.py --data {images} --out {path}"
# With PROTOVIT_AUTOTRAIN=1 (scripts/serve.sh sets it), a server that finds product images but no trained run
# trains the default run in a background process and the image tab shows its progress.
AUTOTRAIN_PROTOVIT = "PROTOVIT_AUTOTRAIN"


@dataclass(frozen=True)
class DataPaths:
    """Where the dashboard reads its inputs; every path can be overridden by an environment variable."""

    warehouse: Path
    model_dir: Path
    protovit_run: Path
    protovit_images: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> DataPaths:
        """Read ``CREDIT_WAREHOUSE``, ``CREDIT_MODEL_DIR``, ``PROTOVIT_RUN`` and ``PROTOVIT_IMAGES``.

        Relative paths are relative to the repository root, so ``panel serve`` works from any directory.
        """
        env = os.environ if environ is None else environ

        def resolve(name: str, default: str) -> Path:
            path = Path(env.get(name) or default).expanduser()
            return path if path.is_absolute() else (ROOT / path).resolve()

        return cls(
            warehouse=resolve("CREDIT_WAREHOUSE", "data/warehouse.duckdb"),
            model_dir=resolve("CREDIT_MODEL_DIR", "data/model"),
            protovit_run=resolve("PROTOVIT_RUN", "runs/protovit"),
            protovit_images=resolve("PROTOVIT_IMAGES", "../shared/data/flipkart"),
        )


@dataclass(frozen=True)
class Problem:
    """Something the dashboard cannot load: the i18n key of the message, its path, and the command fixing it."""

    message_key: str
    path: Path
    command: str
    error: str = ""


@dataclass
class Resources:
    """What every session shares: the warehouse, the scorer, an optional ProtoViT predictor, and small caches."""

    paths: DataPaths
    warehouse: Warehouse | None = None
    scorer: Scorer | None = None
    predictor: Predictor | None = None
    problems: list[Problem] = field(default_factory=list)
    versions: Versions | None = None
    stamp: tuple = ()
    protovit_problem: Problem | None = None
    _predictor_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _predictor_loaded: bool = field(default=False, repr=False)
    _catalogue: list[tuple[str, str]] | None = field(default=None, repr=False)
    protovit_training: BackgroundTraining | None = None  # while the default run trains in the background
    explanations: ExplanationGate | None = None  # created with the predictor

    @property
    def ready(self) -> bool:
        """True when the warehouse and scorer are both usable (ProtoViT is optional)."""
        return not self.problems and self.warehouse is not None and self.scorer is not None

    def product_catalogue(self, limit: int = CATALOGUE_LIMIT) -> list[tuple[str, str]]:
        """(label, file name) of product images listed in ``manifest.csv``, a few per category, read once."""
        with self._predictor_lock:
            if self._catalogue is None:
                self._catalogue = _read_catalogue(self.paths.protovit_images, limit)
        return self._catalogue

    def open_product_image(self, file_name: str) -> Image.Image:
        """Open a catalogue image by file name; names outside the catalogue are refused (no path tricks)."""
        if file_name not in {name for _, name in self.product_catalogue()}:
            raise FileNotFoundError(file_name)
        with Image.open(self.paths.protovit_images / "images" / file_name) as image:
            return image.convert("RGB")

    def protovit(self) -> Predictor | None:
        """The ProtoViT predictor, loaded on first use (torch is heavy and only the image tab needs it), and again
        once a background training run has finished."""
        with self._predictor_lock:
            finished = self.predictor is None and (self.paths.protovit_run / "model.safetensors").is_file()
            if not self._predictor_loaded or finished:
                from protovit.service import ExplanationGate

                self.predictor, self.protovit_problem = _load_protovit(self.paths)
                self.explanations = self.explanations or ExplanationGate()
                self._predictor_loaded = True
                if self.predictor is None:
                    self._start_training()
        return self.predictor

    def start_protovit_if_untrained(self) -> None:
        """At server start: with PROTOVIT_AUTOTRAIN=1, product images and no trained run, start training now."""
        if (
            os.environ.get(AUTOTRAIN_PROTOVIT) == "1"
            and not (self.paths.protovit_run / "model.safetensors").is_file()
        ):
            self.protovit()

    def _start_training(self) -> None:
        """Train the default run in the background when allowed, images exist and no run is finished."""
        if self.protovit_training is not None or os.environ.get(AUTOTRAIN_PROTOVIT) != "1":
            return
        if not (self.paths.protovit_images / "manifest.csv").is_file():
            return
        from protovit.service import BackgroundTraining

        config = os.environ.get("PROTOVIT_AUTOTRAIN_CONFIG")  # another recipe than the default, e.g. in tests
        self.protovit_training = BackgroundTraining(
            self.paths.protovit_images, self.paths.protovit_run, Path(config) if config else None
        )
        self.protovit_training.start()


def _read_catalogue(folder: Path, limit: int) -> list[tuple[str, str]]:
    manifest = folder / "manifest.csv"
    if not manifest.exists():
        return []
    per_category: dict[str, list[tuple[str, str]]] = {}
    with manifest.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if (folder / "images" / row["image"]).exists():
                per_category.setdefault(row["category"], []).append(
                    (f"{row['category']} – {row['product_name']}", row["image"])
                )
    per_class = max(1, limit // max(len(per_category), 1))
    return sorted(item for items in per_category.values() for item in items[:per_class])


def _load_protovit(paths: DataPaths) -> tuple[Predictor | None, Problem | None]:
    command = TRAIN_PROTOVIT.format(images=_display(paths.protovit_images), path=_display(paths.protovit_run))
    if not (paths.protovit_run / "model.safetensors").is_file():
        return None, Problem("images.missing_run", paths.protovit_run, command)
    try:
        from protovit import load_run

        return load_run(paths.protovit_run), None
    except Exception as error:  # a broken run must not take the dashboard down
        return None, Problem(
            "images.missing_run", paths.protovit_run, command, f"{type(error).__name__}: {error}"
        )


def _display(path: Path) -> str:
    """Show paths relative to the repository when possible: the commands are meant to be copied."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def load_resources(paths: DataPaths) -> Resources:
    """Open the warehouse and the scorer at ``paths``, recording rather than raising what is missing."""
    resources = Resources(paths=paths)
    build_warehouse = BUILD_WAREHOUSE.format(path=_display(paths.warehouse))
    train_scorer = TRAIN_SCORER.format(warehouse=_display(paths.warehouse), path=_display(paths.model_dir))
    if not paths.warehouse.exists():
        resources.problems.append(Problem("app.missing_warehouse", paths.warehouse, build_warehouse))
    if not paths.model_dir.exists():
        resources.problems.append(Problem("app.missing_model", paths.model_dir, train_scorer))
    if resources.problems:
        return resources
    try:
        from warehouse import Warehouse

        # A bounded buffer cache keeps a long-running server's memory steady (README: configuration).
        memory = os.environ.get("CREDIT_WAREHOUSE_MEMORY", "128MB")
        resources.warehouse = Warehouse(paths.warehouse, memory_limit=memory)
    except Exception as error:
        resources.problems.append(
            Problem("app.broken_resource", paths.warehouse, build_warehouse, _describe(error))
        )
        return resources
    try:
        from models import Scorer

        resources.scorer = Scorer.load(paths.model_dir)
        resources.scorer.check_against(resources.warehouse)
    except Exception as error:
        resources.problems.append(
            Problem("app.broken_resource", paths.model_dir, train_scorer, _describe(error))
        )
        return resources
    resources.versions = check_versions(resources.warehouse, resources.scorer)
    fixes = {
        Mismatch.WAREHOUSE_UNRECORDED: (paths.warehouse, f"{build_warehouse} && {train_scorer}"),
        Mismatch.MODEL_FOR_OTHER_DATA: (paths.model_dir, train_scorer),
        Mismatch.SCORES_FROM_OTHER_MODEL: (paths.warehouse, train_scorer + SCORE_ONLY),
    }
    for mismatch in resources.versions.mismatches:
        path, command = fixes[mismatch]
        resources.problems.append(Problem(f"app.version_{mismatch.value}", path, command))
    return resources


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


_QUERY_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dashboard-queries")


def in_parallel(*calls: Callable[[], T]) -> list[T]:
    """Run independent warehouse reads concurrently and return their results in order.

    DuckDB releases the GIL and the warehouse gives each call its own cursor, so a handful of point queries or
    small aggregates finish in about the time of the slowest one instead of their sum.
    """
    futures = [_QUERY_POOL.submit(call) for call in calls]
    return [future.result() for future in futures]


_LOADED: dict[DataPaths, Resources] = {}
_LOAD_LOCK = threading.Lock()


def files_stamp(paths: DataPaths) -> tuple:
    """What identifies the versions on disk: the warehouse file's and the model metadata's inode and time.

    Builds replace files (``os.replace``), so a new version is a new inode; two ``stat`` calls per new session.
    """
    stamp = []
    for path in (paths.warehouse, paths.model_dir / "metadata.json"):
        try:
            info = path.stat()
            stamp.append((info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size))
        except OSError:
            stamp.append(None)
    return tuple(stamp)


def get_resources() -> Resources:
    """The process-wide :class:`Resources` for the paths in the environment, for a new session.

    Loaded once per version of the files: when the warehouse or the model changed on disk (or the last load
    failed), the next session loads them again, so a rebuild needs no restart. Sessions already open keep the
    :class:`Resources` they got.
    """
    paths = DataPaths.from_env()
    stamp = files_stamp(paths)
    with _LOAD_LOCK:
        resources = _LOADED.get(paths)
        if resources is None or not resources.ready or resources.stamp != stamp:
            resources = _LOADED[paths] = load_resources(paths)
            resources.stamp = stamp
        return resources
