"""The cockpit: the one service the dashboard's views, shell and benchmark talk to.

Views only turn what it returns into components; they never reach the warehouse, the scorer or the ProtoViT
predictor themselves. Everything a view asks for goes through here: the client snapshot (profile, features, score,
explanation), comparison groups and percentiles, the feature ranking of the compare view, the neighbour search,
histograms and score distribution, what-if rescoring, the product images, the start-up warm-up and the per-process
caches (so many managers looking at similar clients share them). A view can therefore be tested with a cockpit on
the small fixtures, and the data layer can change without touching views.

Every answer comes from the warehouse's one implementation of each question (percentiles, histogram bins,
nearest neighbours): the cockpit adds caching and composition, never a second definition.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from dashboard.resources import DataPaths, Problem, Resources, get_resources, in_parallel
from models import Explanation, FieldSpec, WhatIfError
from models.counterfactual import Counterfactual, what_it_would_take
from warehouse import Cohort

if TYPE_CHECKING:
    from pathlib import Path

    from PIL import Image

    from models import Scorer
    from models.versions import Versions
    from protovit import Predictor
    from protovit.explain import Reasoning
    from protovit.service import TrainingProgress
    from warehouse import Warehouse

__all__ = [
    "CRITERIA",
    "DEFAULT_CRITERIA",
    "NEAREST_K",
    "ClientSnapshot",
    "Cockpit",
    "Cohort",
    "Counterfactual",
    "Explanation",
    "FieldSpec",
    "Group",
    "WhatIfError",
    "get_cockpit",
    "similar_cohort",
]

NEAREST_K = 50
NEAREST_FEATURES = 8
WARM_PERCENTILE_FEATURES = 10  # x 3 population-wide groups: within the warehouse's cache of 32
CACHE_SIZE = 512  # most "similar clients" cohorts are centred on one client: entries are rarely reused
SCORE_BINS = 50

# criterion key -> (Cohort field, application column it filters; None for the bands around the client's value)
CRITERIA: dict[str, tuple[str, str | None]] = {
    "age": ("age_range", None),
    "income": ("income_range", None),
    "contract": ("contract_type", "NAME_CONTRACT_TYPE"),
    "gender": ("gender", "CODE_GENDER"),
    "family": ("family_status", "NAME_FAMILY_STATUS"),
    "education": ("education", "NAME_EDUCATION_TYPE"),
}
DEFAULT_CRITERIA = ("age", "income", "contract")
AGE_BAND_YEARS = 5.0
INCOME_BAND = 0.25

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClientSnapshot:
    """Everything the client-centric views need about one client, computed once per client and language.

    The raw application row is read only when a view asks for it (what-if), not on every client switch.
    """

    sk_id: int
    profile: dict[str, Any]
    features: pl.DataFrame
    explanation: Explanation
    warehouse: Warehouse | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def application(self) -> pl.DataFrame:
        """The raw application row (for what-if edits), read on first use."""
        return self.warehouse.application_row(self.sk_id)

    def value(self, feature: str) -> Any:
        """The client's value of a feature (model units), None when missing or not a feature."""
        if feature not in self.features.columns:
            return None
        value = self.features[feature][0]
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


@dataclass(frozen=True)
class Group:
    """One comparison group: its key ('all' | 'decision' | 'similar' | 'nearest'), cohort, size, default rate."""

    key: str
    cohort: Cohort | None
    n: int
    default_rate: float | None


def similar_cohort(profile: Mapping[str, Any], criteria: tuple[str, ...]) -> Cohort | None:
    """The explainable "similar clients" cohort: the ticked criteria, centred on the client's own values.

    Criteria whose client value is missing are skipped (a filter on "missing" would not be explainable).
    """
    fields: dict[str, Any] = {}
    for key in criteria:
        cohort_field, _ = CRITERIA[key]
        if key == "age" and profile.get("age_years") is not None:
            age = float(profile["age_years"])
            fields[cohort_field] = (age - AGE_BAND_YEARS, age + AGE_BAND_YEARS)
        elif key == "income" and profile.get("annual_income") is not None:
            income = float(profile["annual_income"])
            fields[cohort_field] = (income * (1 - INCOME_BAND), income * (1 + INCOME_BAND))
        elif key not in ("age", "income") and profile.get(cohort_field) is not None:
            fields[cohort_field] = profile[cohort_field]
    return Cohort(**fields) if fields else None


class Cockpit:
    """The dashboard's single façade over the shared warehouse, scorer and ProtoViT predictor of one process."""

    def __init__(self, resources: Resources) -> None:
        """Args:
        resources: what :func:`dashboard.resources.load_resources` opened; the cockpit reads nothing else.
        """
        self.resources = resources
        self._warm_lock = threading.Lock()
        self._warmed = False
        if resources.ready:
            warehouse = self.warehouse
            # Results depending only on a small hashable spec (feature, cohort) are shared by every session.
            self._cohort_stats = functools.lru_cache(maxsize=CACHE_SIZE)(warehouse.cohort_stats)
            self._histogram = functools.lru_cache(maxsize=CACHE_SIZE)(warehouse.histogram)
            self._group_default_rates = functools.lru_cache(maxsize=CACHE_SIZE)(warehouse.group_default_rates)
            self._bivariate = functools.lru_cache(maxsize=256)(warehouse.bivariate)

    # -- what is loaded --------------------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """True when the warehouse and the scorer are both usable (ProtoViT is optional)."""
        return self.resources.ready

    @property
    def problems(self) -> list[Problem]:
        """What could not be loaded, each with the command that builds it."""
        return self.resources.problems

    @property
    def versions(self) -> Versions | None:
        """Data build id and model id in use (shown in the page footer); None when loading failed earlier."""
        return self.resources.versions

    @property
    def warehouse_path(self) -> Path:
        """Where the warehouse file is (or should be)."""
        return self.resources.paths.warehouse

    @property
    def warehouse(self) -> Warehouse:
        return self.resources.warehouse

    @property
    def scorer(self) -> Scorer:
        return self.resources.scorer

    # -- the scorer's policy and artifact ----------------------------------------------------------------------
    @property
    def threshold(self) -> float:
        """The policy threshold: refuse at or above this probability of default."""
        return self.scorer.threshold

    @property
    def grey_zone(self) -> float:
        """Half-width of the band around the threshold where a decision deserves a second look."""
        return self.scorer.grey_zone

    @property
    def metrics(self) -> dict[str, Any]:
        return self.scorer.metrics

    @property
    def fairness(self) -> pl.DataFrame:
        return self.scorer.fairness

    @property
    def cost_curve(self) -> pl.DataFrame:
        """``threshold, cost`` sorted by threshold."""
        return self.scorer.cost_curve.sort("threshold")

    @property
    def model_card(self) -> str:
        """The model card (Markdown, written in English)."""
        return self.scorer.model_card

    def global_importance(self, limit: int | None = None) -> list[tuple[str, float]]:
        """(feature, mean |contribution|) of the most important features, most important first.

        Args:
            limit: how many to return; all when None.
        """
        top = self.scorer.global_importance.sort("mean_abs_shap", descending=True)
        if limit is not None:
            top = top.head(limit)
        return [(row["feature"], float(row["mean_abs_shap"])) for row in top.iter_rows(named=True)]

    # -- one client ----------------------------------------------------------------------------------------
    def search_clients(self, prefix: str, limit: int = 20) -> list[int]:
        """Ids starting with the digits typed, smallest first; ``[]`` for anything but digits."""
        return self.warehouse.search_clients(prefix, limit=limit)

    def stored_decisions(self, sk_ids: list[int]) -> dict[int, str]:
        """Decision ('granted' | 'refused') stored for each id by the published scorer; ids without a stored
        score are left out."""
        return self.warehouse.stored_decisions(sk_ids)

    def snapshot(self, sk_id: int, lang: str) -> ClientSnapshot | None:
        """Read the client's profile and features and explain the score.

        Args:
            sk_id: the client id.
            lang: language of the explanation's words ('fr' | 'en').

        Returns:
            The snapshot, or None if the client is unknown.
        """
        warehouse = self.warehouse
        # Two independent point queries: DuckDB releases the GIL and gives each call its own cursor.
        features, profile = in_parallel(
            lambda: warehouse.client_features(sk_id), lambda: warehouse.client_profile(sk_id)
        )
        if features.height == 0:
            return None
        return ClientSnapshot(
            sk_id=sk_id,
            profile=profile or {},
            features=features,
            explanation=self.scorer.explain(features, lang=lang),
            warehouse=warehouse,
        )

    # -- what if -------------------------------------------------------------------------------------------
    def editable_fields(self, lang: str) -> list[FieldSpec]:
        """The fields a what-if or new-client form offers, with units, ranges and choices."""
        return self.scorer.editable_fields(lang)

    def field_values(self, snapshot: ClientSnapshot) -> dict[str, Any]:
        """The client's current values of the editable fields, in human units."""
        return self.scorer.field_values(snapshot.application)

    def what_if(self, snapshot: ClientSnapshot, changes: Mapping[str, Any], lang: str) -> Explanation:
        """Rescore the client with ``changes`` (human units); the stored file is never changed.

        Raises:
            WhatIfError: a value outside its allowed range, naming the field.
        """
        return self.scorer.what_if(snapshot.application, snapshot.features, changes, lang=lang)

    def what_it_would_take(self, snapshot: ClientSnapshot) -> Counterfactual:
        """The smallest realistic loan changes that bring a refused or grey-zone client under the limit."""
        return what_it_would_take(self.scorer, snapshot.application, snapshot.features)

    def new_client(self, values: Mapping[str, Any], lang: str) -> Explanation:
        """Score a client entered through the form (no history).

        Raises:
            WhatIfError: a missing or out-of-range value, naming the field.
        """
        return self.scorer.new_client(values, lang=lang)

    # -- comparisons -----------------------------------------------------------------------------------------
    @functools.cached_property
    def _ranked(self) -> tuple[tuple[str, bool], ...]:
        catalog = self.warehouse.feature_catalog()
        categorical = dict(zip(catalog["name"].to_list(), catalog["is_categorical"].to_list(), strict=True))
        importance = self.scorer.global_importance.sort("mean_abs_shap", descending=True)
        ranked = [name for name in importance["feature"].to_list() if name in categorical]
        rest = [name for name in categorical if name not in ranked]
        return tuple((name, categorical[name]) for name in [*ranked, *rest])

    def ranked_features(self) -> tuple[tuple[str, bool], ...]:
        """(feature, is categorical) of every feature, in order of global importance (for pickers)."""
        return self._ranked

    def is_categorical(self, feature: str) -> bool:
        return dict(self._ranked).get(feature, False)

    def numeric_features(self) -> list[str]:
        """Numeric features in order of global importance."""
        return [name for name, categorical in self._ranked if not categorical]

    def knn_features(self) -> tuple[str, ...]:
        """The standardised features of the nearest-neighbour group: the most important numeric ones."""
        return tuple(self.numeric_features()[:NEAREST_FEATURES])

    def comparison_groups(
        self, snapshot: ClientSnapshot, criteria: tuple[str, ...], k: int = NEAREST_K
    ) -> list[Group]:
        """The four comparison groups of a client, sizes and rates answered concurrently.

        Args:
            snapshot: the client shown.
            criteria: keys of :data:`CRITERIA` defining the similar-clients group.
            k: size of the nearest-neighbour group.

        Returns:
            ``all``, ``decision`` (same decision), ``similar`` and ``nearest`` groups, in that order.
        """
        nearest = self.warehouse.nearest_clients(snapshot.sk_id, self.knn_features(), k=k)
        cohorts = [
            ("all", None),
            ("decision", Cohort(decision=snapshot.explanation.decision)),
            ("similar", similar_cohort(snapshot.profile, criteria)),
            ("nearest", Cohort(client_ids=tuple(sorted(nearest["SK_ID_CURR"].to_list())))),
        ]
        stats = in_parallel(*[functools.partial(self._cohort_stats, cohort) for _, cohort in cohorts])
        return [
            Group(key, cohort, int(stat["n"]), stat["default_rate"])
            for (key, cohort), stat in zip(cohorts, stats, strict=True)
        ]

    def percentile_of(self, feature: str, value: float | None, cohort: Cohort | None) -> float | None:
        """Share of the cohort's non-missing values strictly below ``value``; None for a missing value."""
        if value is None:
            return None
        return self.warehouse.percentile_of(feature, float(value), cohort)

    def client_percentiles(
        self, feature: str, value: float | None, groups: list[Group]
    ) -> list[float | None]:
        """The client's position in each group, queried concurrently.

        Args:
            feature: a numeric feature.
            value: the client's value of it (None when missing).
            groups: what :meth:`comparison_groups` returned.

        Returns:
            Per group, the share (0-1) below ``value``; None for a missing value or an empty group.

        Raises:
            ValueError: an unknown or categorical feature.
        """

        def share(group: Group) -> float | None:
            return self.percentile_of(feature, value, group.cohort) if group.n else None

        return in_parallel(*[functools.partial(share, group) for group in groups])

    def histogram(self, feature: str, cohort: Cohort | None = None, bins: int = 30) -> pl.DataFrame:
        """Counts of a cohort on the population-wide bins of a numeric feature (cached per process).

        Returns:
            ``bin_start, bin_end, count, n_default``, every bin included.

        Raises:
            ValueError: an unknown or categorical feature.
        """
        return self._histogram(feature, cohort, bins=bins)

    def bin_edges(self, feature: str, bins: int) -> list[float]:
        return self.warehouse.bin_edges(feature, bins)

    def bin_of(self, feature: str, value: float, bins: int) -> int:
        """The histogram bin holding ``value`` (end bins absorb the outliers)."""
        return self.warehouse.bin_of(feature, value, bins)

    def group_default_rates(self, feature: str, cohort: Cohort | None) -> pl.DataFrame:
        """``group, n, default_rate`` per level (numeric features in population-wide quintile bands)."""
        return self._group_default_rates(feature, cohort)

    def bivariate(self, x: str, y: str, bins: int) -> pl.DataFrame:
        """``x_bin, y_bin, count, default_rate`` over all clients on the population-wide bins of x and y."""
        return self._bivariate(x, y, None, bins=bins)

    # -- portfolio -----------------------------------------------------------------------------------------
    @functools.cached_property
    def _score_histogram(self) -> pl.DataFrame | None:
        return self.warehouse.score_histogram(SCORE_BINS) if self.warehouse.has_scores() else None

    def score_histogram(self) -> pl.DataFrame | None:
        """Clients per probability bin (``bin_start, bin_end, count, n_default``); None without stored scores."""
        return self._score_histogram

    @functools.cached_property
    def _approval_rate(self) -> float | None:
        return self.warehouse.share_scored_below(self.threshold) if self.warehouse.has_scores() else None

    def approval_rate(self) -> float | None:
        """Share of the scored clients granted at the policy threshold; None without stored scores."""
        return self._approval_rate

    # -- warm-up ---------------------------------------------------------------------------------------------
    def warm_up(self, percentile_features: int = WARM_PERCENTILE_FEATURES) -> None:
        """Build what the first comparison needs (feature ranking, neighbour index, score distribution,
        population percentiles of the most important numeric features), so the first manager does not wait."""
        self.warehouse.neighbour_index(self.knn_features())
        self.score_histogram()
        self.approval_rate()
        for feature in self.numeric_features()[:percentile_features]:
            for cohort in (None, Cohort(decision="granted"), Cohort(decision="refused")):
                self.warehouse.percentile_of(feature, 0.0, cohort)

    def warm_up_in_background(self) -> threading.Thread | None:
        """Start :meth:`warm_up` in a daemon thread, once per cockpit; returns the thread (None if already started)."""
        with self._warm_lock:
            if self._warmed:
                return None
            self._warmed = True

        def build() -> None:
            try:
                self.warm_up()
                self.resources.start_protovit_if_untrained()
            except Exception:  # a failed warm-up only means the first user builds the caches
                log.exception("warm-up failed")

        thread = threading.Thread(target=build, name="dashboard-warm-up", daemon=True)
        thread.start()
        return thread

    # -- product images (ProtoViT) ---------------------------------------------------------------------------
    def predictor(self) -> Predictor | None:
        """The ProtoViT predictor, loaded on first use (torch is heavy and only the image tab needs it)."""
        return self.resources.protovit()

    @property
    def protovit_problem(self) -> Problem | None:
        """Why the predictor is missing, with the command that trains one."""
        return self.resources.protovit_problem

    @property
    def images_folder(self) -> Path:
        return self.resources.paths.protovit_images

    def product_catalogue(self) -> list[tuple[str, str]]:
        """(label, file name) of the catalogue's product images, a few per category."""
        return self.resources.product_catalogue()

    def open_product_image(self, file_name: str) -> Image.Image:
        """A catalogue image by file name.

        Raises:
            FileNotFoundError: a name outside the catalogue.
        """
        return self.resources.open_product_image(file_name)

    def protovit_training(self) -> TrainingProgress | None:
        """Progress of the default run training in the background, or None when none trains here."""
        training = self.resources.protovit_training
        return None if training is None else training.progress()

    def explain_image(self, image: Image.Image) -> Reasoning:
        """The predictor's contrastive "this looks like that" reasoning about ``image``.

        Raises:
            LookupError: no ProtoViT run is loaded.
            ImageRefused: reason "busy", the process already runs its maximum of explanations.
        """
        from protovit.service import BusyError

        predictor = self.predictor()
        if predictor is None:
            raise LookupError("no ProtoViT run loaded")
        try:
            with self.resources.explanations.slot():
                return predictor.explain(image)
        except BusyError as error:
            raise ImageRefused("busy") from error

    def explain_upload(self, data: bytes) -> Reasoning:
        """Check and decode uploaded bytes (PNG/JPEG by content, pixel cap before decoding), then explain them.

        Raises:
            ImageRefused: not a usable PNG or JPEG (``reason`` says why), or "busy".
            LookupError: as :meth:`explain_image`.
        """
        from protovit.service import UploadError, open_upload

        try:
            image = open_upload(data)
        except UploadError as error:
            raise ImageRefused(error.reason) from error
        return self.explain_image(image)


class ImageRefused(ValueError):
    """An image the tab will not explain; ``reason`` is "bytes", "format", "pixels", "bomb", "damaged" (the upload)
    or "busy" (too many explanations running in this process)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_COCKPITS: dict[DataPaths, Cockpit] = {}
_COCKPITS_LOCK = threading.Lock()


def cockpit_for(resources: Resources) -> Cockpit:
    """The one cockpit of ``resources`` (its caches live as long as the resources).

    Only the latest cockpit per data paths is kept here: after a hot swap the previous one lives on only in the
    sessions that hold it, and goes (closing the replaced warehouse file) when they end.
    """
    with _COCKPITS_LOCK:
        cockpit = _COCKPITS.get(resources.paths)
        if cockpit is None or cockpit.resources is not resources:
            cockpit = _COCKPITS[resources.paths] = Cockpit(resources)
        return cockpit


def get_cockpit(loader: Callable[[], Resources] = get_resources) -> Cockpit:
    """The process-wide cockpit over the resources named by the environment (see :func:`get_resources`)."""
    return cockpit_for(loader())
