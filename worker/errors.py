"""The one error hierarchy of the worker.

Each error carries the failure class and the process exit code the worker's
commands return for it (the README lists them)::

    WorkerError                 exit 1, an unexpected fault
    ├── ConfigError             F1, exit 2: a connector config, catalog or job file
    ├── SourceError             F4, exit 4: ClickHouse refused or failed
    │   └── UnknownStreamError  F4, exit 4: a table that does not exist
    ├── DestinationError        F4, exit 4: DuckDB refused or failed
    │   └── ProtocolError       F4, exit 4: a message on stdin that is not protocol
    ├── PartialWriteError       F5, exit 5: the target may hold part of a write
    └── CheckFailure            F6, exit 6: a parity check did not pass
"""

from __future__ import annotations


class WorkerError(Exception):
    """Base of every error the worker raises on purpose."""

    failure_class: str | None = None
    exit_code: int = 1


class ConfigError(WorkerError):
    """A config, catalog, state or job file is malformed or inconsistent."""

    failure_class = "F1"
    exit_code = 2


class SourceError(WorkerError):
    """ClickHouse could not be reached or refused a query."""

    failure_class = "F4"
    exit_code = 4


class UnknownStreamError(SourceError):
    """A stream names a table the source does not have."""


class DestinationError(WorkerError):
    """DuckDB could not be opened or refused a write."""

    failure_class = "F4"
    exit_code = 4


class ProtocolError(DestinationError):
    """A line on the destination's stdin is not a valid Airbyte message."""


class PartialWriteError(WorkerError):
    """The target may hold part of a write; verify it before any retry."""

    failure_class = "F5"
    exit_code = 5


class CheckFailure(WorkerError):
    """A parity check ran and the source and destination disagree."""

    failure_class = "F6"
    exit_code = 6
