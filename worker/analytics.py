"""Analytics computed on the destination after a proven move.

The demo's analytics read the moved ``events`` table in DuckDB: the top
countries by revenue and the funnel by event type. They are aggregates; no
row leaves the engine.
"""

from __future__ import annotations

import duckdb

from worker.errors import ConfigError

FUNNEL = ("page_view", "search", "add_to_cart", "checkout", "purchase")


def demo(con: duckdb.DuckDBPyConnection, table: str, top: int = 5) -> dict:
    """Top countries by revenue and the event-type funnel of the demo table."""
    try:
        countries = con.execute(
            f"SELECT country, sum(revenue)::VARCHAR, count(*) FILTER "
            f"(WHERE event_type = 'purchase') FROM {table} GROUP BY country "
            f"ORDER BY sum(revenue) DESC, country LIMIT {int(top)}"
        ).fetchall()
        steps = dict(
            (event, (events, users))
            for event, events, users in con.execute(
                f"SELECT event_type, count(*), count(DISTINCT user_id) FROM {table} "
                "GROUP BY event_type"
            ).fetchall()
        )
    except duckdb.Error as error:
        raise ConfigError(
            f"The demo analytics need the demo events columns in {table}: {error}"
        ) from error

    funnel = []
    first = steps.get(FUNNEL[0], (0, 0))[0] or 1
    for event in FUNNEL:
        events, users = steps.get(event, (0, 0))
        funnel.append(
            {
                "event_type": event,
                "events": events,
                "users": users,
                "share_of_page_views": round(events / first, 4),
            }
        )
    return {
        "top_countries_by_revenue": [
            {"country": c, "revenue": r, "purchases": p} for c, r, p in countries
        ],
        "funnel": funnel,
    }


ANALYTICS = {"demo": demo}
