"""Exceptions raised by the warehouse package."""


class WarehouseInputError(Exception):
    """Bad build input (missing file, column, delimiter, unparseable value); the message names file and column."""


class WarehouseBusyError(RuntimeError):
    """The warehouse file is locked by a read-write connection or another build, so it cannot be replaced now."""


class BuildInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM reached a build: a ``KeyboardInterrupt`` so that no ``except Exception`` swallows it,
    carrying the signal number so the command line exits with the conventional ``128 + signal`` status."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
