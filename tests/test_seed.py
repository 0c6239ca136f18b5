"""The demo data set: the fast generator is the published recipe, value for value."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa

from worker.seed import generate_batches, reference_rows


def test_generated_batches_equal_the_recipe_row_by_row():
    rows = 20_000
    generated = pa.Table.from_batches(list(generate_batches(rows, batch_rows=7_000)))

    expected = [
        (*row[:8], Decimal(f"{row[8]:.2f}"), row[9]) for row in reference_rows(rows)
    ]

    assert [tuple(r.values()) for r in generated.to_pylist()] == expected


def test_batches_are_bounded_and_cover_every_row():
    sizes = [batch.num_rows for batch in generate_batches(10_001, batch_rows=2_500)]

    assert sizes == [2_500, 2_500, 2_500, 2_500, 1]


def test_fifty_thousand_rows_give_the_published_revenue_and_tally():
    revenue, tally = Decimal(0), {}
    for row in reference_rows(50_000):
        revenue += Decimal(f"{row[8]:.2f}")
        tally[row[3]] = tally.get(row[3], 0) + 1

    assert revenue == Decimal("611815.02")
    assert tally == {
        "page_view": 29958,
        "search": 7598,
        "add_to_cart": 6014,
        "checkout": 3928,
        "purchase": 2502,
    }
