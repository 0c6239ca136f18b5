"""Phase markers and timings of one run.

Each phase prints ``::CRABBOX_PHASE::<name>`` as it starts, so a caller reading
stdout knows where the run is, and its seconds are kept for the evidence.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MARKER = "::CRABBOX_PHASE::"


class Phases:
    """Times named phases and announces each one on ``emit``."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        self.emit = emit
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.emit(f"{MARKER}{name}")
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.seconds[name] = round(self.seconds.get(name, 0.0) + elapsed, 6)

    def record(self, name: str, seconds: float) -> None:
        """Keep a phase that ran before this object existed (process start)."""
        self.emit(f"{MARKER}{name}")
        self.seconds[name] = round(seconds, 6)

    def as_list(self) -> list[dict]:
        return [{"name": n, "seconds": s} for n, s in self.seconds.items()]
