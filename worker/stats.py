"""What moving a stream cost and produced, and where it landed."""

from __future__ import annotations

from dataclasses import dataclass, field

from worker import catalog


@dataclass
class StreamStats:
    """What moving one stream cost and produced."""

    name: str
    namespace: str
    target: str
    sync_mode: str
    records: int = 0
    bytes: int = 0
    batches: int = 0
    read_seconds: float = 0.0
    write_seconds: float = 0.0
    source_start_seconds: float = 0.0
    state: dict | None = None
    columns: list[dict] = field(default_factory=list)


def stream_stats(job, configured, table) -> StreamStats:
    """Empty figures for one configured stream, with its column mapping."""
    mode = next(
        m
        for m, pair in catalog.SYNC_MODES.items()
        if pair == (configured.sync_mode, configured.destination_sync_mode)
    )
    schema = target_schema(job, configured)
    return StreamStats(
        name=configured.stream.name,
        namespace=configured.stream.namespace,
        target=f'"{schema}"."{configured.stream.name}"',
        sync_mode=mode,
        columns=[
            {
                "name": n,
                "clickhouse_type": c.clickhouse,
                "duckdb_type": c.duckdb,
                "representation": c.representation,
            }
            for n, c in table.columns.items()
        ],
    )


def target_schema(job, configured) -> str:
    """The DuckDB schema a stream lands in."""
    return job.destination.get("schema") or configured.stream.namespace or "main"
