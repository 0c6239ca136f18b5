"""One plan finding: what is wrong, where in the spec, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """A spec mistake found before a lease (failure class F1)."""

    code: str
    path: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.code} at {self.path}: {self.message} Fix: {self.fix}"
