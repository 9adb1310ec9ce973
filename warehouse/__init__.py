"""DuckDB warehouse of the credit cockpit: build (Kaggle CSVs or synthetic data), features, cohort queries."""

from warehouse.build import build_warehouse, write_scores
from warehouse.errors import WarehouseBusyError, WarehouseInputError
from warehouse.features import recompute_application_features
from warehouse.source import Cohort, Warehouse

__all__ = [
    "Cohort",
    "Warehouse",
    "WarehouseBusyError",
    "WarehouseInputError",
    "build_warehouse",
    "recompute_application_features",
    "write_scores",
]
