"""The DuckDB destination connector (Airbyte CDK)."""

from worker.destination_duckdb._destination import DestinationDuckDB, read_catalog, run
from worker.destination_duckdb._session import WriteSession, open_database
from worker.destination_duckdb._writer import TableWriter, columns_from_schema

__all__ = [
    "DestinationDuckDB",
    "TableWriter",
    "WriteSession",
    "columns_from_schema",
    "open_database",
    "read_catalog",
    "run",
]
