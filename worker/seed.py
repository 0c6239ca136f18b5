"""The deterministic demo data set: ``analytics.events``.

The rows follow the published recipe exactly: one ``random.Random(42)``, and
for each row the draws in a fixed order (event type, revenue for purchases
only, user, session, channel, device, country, url). At 50,000 rows the total
revenue is 611,815.02. Rows are generated and inserted in bounded batches, so
any row count loads in constant memory.

Run it as ``python -m worker.seed --url chdb:///path --rows 50000``.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import logging
import random
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from worker.clickhouse import connect

logger = logging.getLogger(__name__)

EVENT_TYPES = ["page_view", "search", "add_to_cart", "checkout", "purchase"]
EVENT_WEIGHTS = [60, 15, 12, 8, 5]
CHANNELS = ["organic", "paid_search", "email", "social", "referral"]
DEVICES = ["desktop", "mobile", "tablet"]
DEVICE_WEIGHTS = [45, 45, 10]
COUNTRIES = ["US", "DE", "IL", "GB", "BR", "IN", "JP", "CA", "FR", "AU"]
FIRST_TS = 1717200000
TS_STEP = 7
SEED = 42

TABLE_DDL = """
CREATE TABLE {database}.{table}
(
    event_id UInt64,
    user_id UInt32,
    session_id UInt32,
    event_type LowCardinality(String),
    channel LowCardinality(String),
    device LowCardinality(String),
    country LowCardinality(String),
    url String,
    revenue Decimal(12, 2),
    ts DateTime
)
ENGINE = MergeTree
ORDER BY (ts, event_id)
"""

SCHEMA = pa.schema(
    [
        ("event_id", pa.uint64()),
        ("user_id", pa.uint32()),
        ("session_id", pa.uint32()),
        ("event_type", pa.string()),
        ("channel", pa.string()),
        ("device", pa.string()),
        ("country", pa.string()),
        ("url", pa.string()),
        ("revenue", pa.decimal128(12, 2)),
        ("ts", pa.uint32()),
    ]
)


def reference_rows(rows: int) -> Iterator[tuple]:
    """Yield the rows as the published recipe states it, draw by draw.

    This is the readable statement of the recipe; :func:`generate_batches`
    produces the same values faster and is tested against it.
    """
    rng = random.Random(SEED)
    for i in range(rows):
        event_type = rng.choices(EVENT_TYPES, weights=EVENT_WEIGHTS)[0]
        revenue = round(rng.uniform(8.0, 480.0), 2) if event_type == "purchase" else 0
        user_id = rng.randint(1, 9000)
        session_id = rng.randint(1, 30000)
        channel = rng.choice(CHANNELS)
        device = rng.choices(DEVICES, weights=DEVICE_WEIGHTS)[0]
        country = rng.choice(COUNTRIES)
        url = "/p/" + str(rng.randint(100, 999))
        yield (
            i + 1,
            user_id,
            session_id,
            event_type,
            channel,
            device,
            country,
            url,
            revenue,
            FIRST_TS + TS_STEP * i,
        )


def generate_batches(rows: int, batch_rows: int = 200_000) -> Iterator[pa.RecordBatch]:
    """Yield the data set as Arrow record batches of at most ``batch_rows``.

    The draws are those of :func:`reference_rows`, made through the same
    ``random.Random`` primitives that ``choices``, ``choice``, ``randint`` and
    ``uniform`` call, so every value is identical.
    """
    rng = random.Random(SEED)
    draw = rng.random
    below = rng._randbelow
    event_cum = list(itertools.accumulate(EVENT_WEIGHTS))
    device_cum = list(itertools.accumulate(DEVICE_WEIGHTS))
    event_total, device_total = event_cum[-1], device_cum[-1]
    purchase = EVENT_TYPES.index("purchase")

    for start in range(0, rows, batch_rows):
        count = min(batch_rows, rows - start)
        events = np.empty(count, np.int8)
        cents = np.zeros(count, np.int64)
        users = np.empty(count, np.uint32)
        sessions = np.empty(count, np.uint32)
        channels = np.empty(count, np.int8)
        devices = np.empty(count, np.int8)
        countries = np.empty(count, np.int8)
        urls = np.empty(count, np.int16)

        for j in range(count):
            event = bisect.bisect(event_cum, draw() * event_total, 0, 4)
            events[j] = event
            if event == purchase:
                cents[j] = round(round(8.0 + 472.0 * draw(), 2) * 100)
            users[j] = 1 + below(9000)
            sessions[j] = 1 + below(30000)
            channels[j] = below(5)
            devices[j] = bisect.bisect(device_cum, draw() * device_total, 0, 2)
            countries[j] = below(10)
            urls[j] = 100 + below(900)

        yield _batch(
            start, events, cents, users, sessions, channels, devices, countries, urls
        )


def _batch(
    start, events, cents, users, sessions, channels, devices, countries, urls
) -> pa.RecordBatch:
    count = len(events)
    ids = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    ts = (FIRST_TS + TS_STEP * (ids.astype(np.int64) - 1)).astype(np.uint32)
    url_labels = pa.array([f"/p/{n}" for n in range(100, 1000)])
    columns = [
        pa.array(ids),
        pa.array(users),
        pa.array(sessions),
        _labels(EVENT_TYPES, events),
        _labels(CHANNELS, channels),
        _labels(DEVICES, devices),
        _labels(COUNTRIES, countries),
        url_labels.take(pa.array(urls - 100)),
        _decimal_from_cents(cents),
        pa.array(ts),
    ]
    return pa.RecordBatch.from_arrays(columns, schema=SCHEMA)


def _labels(values: list[str], codes: np.ndarray) -> pa.Array:
    return pa.array(values).take(pa.array(codes))


def _decimal_from_cents(cents: np.ndarray) -> pa.Array:
    """Exact ``Decimal(12, 2)`` values from non-negative integer cents."""
    words = np.zeros((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    buffer = pa.py_buffer(words.tobytes())
    return pa.Array.from_buffers(pa.decimal128(12, 2), len(cents), [None, buffer])


def seed(
    url: str,
    rows: int,
    database: str = "analytics",
    table: str = "events",
    batch_rows: int = 200_000,
    username: str | None = None,
    password: str | None = None,
) -> int:
    """Create ``database.table`` afresh and load ``rows`` demo rows into it."""
    client = connect(url, username, password)
    client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    client.command(f"DROP TABLE IF EXISTS {database}.{table}")
    client.command(TABLE_DDL.format(database=database, table=table))

    loaded = 0
    for batch in generate_batches(rows, batch_rows):
        client.insert_arrow(f"{database}.{table}", pa.Table.from_batches([batch]))
        loaded += batch.num_rows
        logger.debug("seeded %d of %d rows", loaded, rows)
    logger.info("seeded %s.%s with %d rows", database, table, loaded)
    return loaded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="chdb:///dir or http(s)://")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--database", default="analytics")
    parser.add_argument("--table", default="events")
    args = parser.parse_args(argv)
    seed(args.url, args.rows, args.database, args.table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
