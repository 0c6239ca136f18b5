"""The ClickHouse source connector (Airbyte CDK)."""

from worker.source_clickhouse._discover import Table, describe, list_tables
from worker.source_clickhouse._reader import Checkpoint, StreamReader
from worker.source_clickhouse._source import SourceClickHouse, paging_key, run, stream

__all__ = [
    "Checkpoint",
    "SourceClickHouse",
    "StreamReader",
    "Table",
    "describe",
    "list_tables",
    "paging_key",
    "run",
    "stream",
]
