"""Configured catalogs: which streams a sync moves, and how.

A stream selection names a table and its modes; :func:`configure` discovers
the table through the source and returns the configured catalog both
connectors read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airbyte_cdk.models import (
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    ConfiguredAirbyteStream,
    DestinationSyncMode,
    SyncMode,
)

from worker.clickhouse import connect
from worker.errors import ConfigError
from worker.source_clickhouse import describe, stream

SYNC_MODES = {
    "full_refresh_overwrite": (SyncMode.full_refresh, DestinationSyncMode.overwrite),
    "full_refresh_append": (SyncMode.full_refresh, DestinationSyncMode.append),
    "incremental_append": (SyncMode.incremental, DestinationSyncMode.append),
    "incremental_append_dedup": (
        SyncMode.incremental,
        DestinationSyncMode.append_dedup,
    ),
}


def configure(
    source: Mapping[str, Any], selections: Sequence[Mapping[str, Any]]
) -> ConfiguredAirbyteCatalog:
    """Discover each selected table and configure it as a stream.

    A selection is ``{"name": table, "sync_mode": one of SYNC_MODES,
    "cursor_field": column?, "primary_key": [columns]?}``.
    """
    client = connect(source["url"], source.get("username"), source.get("password"))
    database = source.get("database") or "default"
    streams = []
    for selection in selections:
        table = describe(
            client, selection.get("namespace") or database, selection["name"]
        )
        mode = selection.get("sync_mode", "full_refresh_overwrite")
        if mode not in SYNC_MODES:
            raise ConfigError(
                f"The sync_mode {mode!r} of stream {selection['name']} is unknown; "
                f"use one of {sorted(SYNC_MODES)}."
            )
        sync_mode, destination_mode = SYNC_MODES[mode]
        primary_key = selection.get("primary_key") or table.primary_key
        cursor = selection.get("cursor_field")
        if cursor and cursor not in table.columns:
            raise ConfigError(
                f"The cursor_field {cursor!r} is not a column of {table.name}; pick "
                f"one of {table.cursor_candidates or list(table.columns)}."
            )
        streams.append(
            ConfiguredAirbyteStream(
                stream=stream(table),
                sync_mode=sync_mode,
                destination_sync_mode=destination_mode,
                cursor_field=[cursor]
                if cursor
                else (
                    table.cursor_candidates[:1]
                    if sync_mode == SyncMode.incremental
                    else None
                ),
                primary_key=[[k] for k in primary_key] or None,
            )
        )
    return ConfiguredAirbyteCatalog(streams=streams)


def dump(catalog: ConfiguredAirbyteCatalog) -> dict:
    """The catalog as the JSON the connectors read with ``--catalog``."""
    return ConfiguredAirbyteCatalogSerializer.dump(catalog)
