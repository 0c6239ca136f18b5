"""The benchmark's targets: ratios between measured methods and their verdicts.

Every target is a ratio (or a rate) taken from figures of one benchmark run,
so the machine's speed cancels out. A target whose inputs were not measured
is reported as such, never as met.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass

MET, MISSED, NOT_MEASURED = "MET", "MISSED", "NOT MEASURED"


@dataclass(frozen=True)
class Target:
    """One target: how its value is computed and the bound it must reach."""

    name: str
    statement: str
    bound: float
    at_least: bool
    value_of: Callable[[dict, dict], float]


@dataclass
class Verdict:
    """A target's measured value next to its bound."""

    name: str
    statement: str
    value: float | None
    bound: float
    verdict: str
    margin: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def _rate(results: dict, method: str) -> float:
    return results[method]["rows_per_second"]


def _fast_move_share(base: dict, big: dict) -> float:
    return _rate(base, "fast_move") / _rate(base, "raw_bound")


def _verified_time(base: dict, big: dict) -> float:
    return base["fast_verified"]["wall_seconds"] / base["raw_bound"]["wall_seconds"]


def _protocol_rate(base: dict, big: dict) -> float:
    return _rate(base, "protocol")


def _over_reference(base: dict, big: dict) -> float:
    return _rate(base, "fast_verified") / _rate(base, "reference")


def _memory_growth(base: dict, big: dict) -> float:
    peak = "peak_rss_bytes"
    return big["fast_verified"][peak] / base["fast_verified"][peak]


TARGETS = (
    Target(
        "fast_move_vs_raw",
        "fast move rows/s >= 0.8x raw bound rows/s",
        0.8,
        True,
        _fast_move_share,
    ),
    Target(
        "verified_time_vs_raw",
        "whole verified sync time <= 2x raw bound time",
        2.0,
        False,
        _verified_time,
    ),
    Target(
        "protocol_records_per_second",
        "protocol transport >= 250,000 records/s",
        250_000,
        True,
        _protocol_rate,
    ),
    Target(
        "fast_vs_reference",
        "fast transport rows/s >= 6x reference method",
        6.0,
        True,
        _over_reference,
    ),
    Target(
        "memory_big_vs_base",
        "fast peak memory at big rows <= 1.5x at base rows",
        1.5,
        False,
        _memory_growth,
    ),
)


def judge(base: dict, big: dict) -> list[Verdict]:
    """The verdict of every target on the results of the two row counts."""
    return [_judge_one(target, base, big) for target in TARGETS]


def _judge_one(target: Target, base: dict, big: dict) -> Verdict:
    try:
        value = target.value_of(base, big)
    except (KeyError, TypeError, ZeroDivisionError):
        return Verdict(
            target.name, target.statement, None, target.bound, NOT_MEASURED, None
        )

    reaches = operator.ge if target.at_least else operator.le
    verdict = MET if reaches(value, target.bound) else MISSED
    margin = value / target.bound if target.at_least else target.bound / value
    return Verdict(
        target.name,
        target.statement,
        round(value, 3),
        target.bound,
        verdict,
        round(margin, 3),
    )
