"""The published reference receipt and the comparison of a demo run with it.

The reference moved the deterministic demo data set (50,000 rows) and
published its data-dependent figures; a demo at that size must reproduce
them exactly. Timings and byte counts depend on the machine and the wire
format, so they are reported, not compared.
"""

from __future__ import annotations

PUBLISHED_ROWS = 50_000
PUBLISHED = {
    "rows": "50000",
    "revenue": "611815.02",
    "tally:event_type": {
        "page_view": "29958",
        "search": "7598",
        "add_to_cart": "6014",
        "checkout": "3928",
        "purchase": "2502",
    },
}


def figures(metrics: dict) -> dict:
    """The data-dependent figures of a run, read from its metrics."""
    found: dict = {
        "rows": None,
        "revenue": None,
        "tally:event_type": None,
        "content_sha256": None,
    }
    for check in metrics.get("checks", []):
        for comparison in check["comparisons"]:
            name = comparison["name"]
            if name == "row_count":
                found["rows"] = comparison["destination"]
            elif name == "sum:revenue":
                found["revenue"] = comparison["destination"]
            elif name in ("tally:event_type", "content_sha256"):
                found[name] = comparison["destination"]
    return found


def compare(metrics: dict) -> dict | None:
    """Figure by figure, whether the run reproduces the published receipt.

    None when the run moved a different number of rows than the reference.
    """
    if metrics.get("records") != PUBLISHED_ROWS:
        return None
    found = figures(metrics)
    return {name: found.get(name) == value for name, value in PUBLISHED.items()}
