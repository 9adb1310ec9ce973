"""Exceptions raised by the warehouse package."""


class WarehouseInputError(Exception):
    """Bad build input (missing file, column, delimiter, unparseable value); the message names file and column."""


class WarehouseBusyError(RuntimeError):
    """The warehouse file is locked by a read-write connection elsewhere, so it cannot be replaced safely now."""
