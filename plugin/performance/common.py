"""Helpers every part of the competency package shares (one place, public)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

#: values in one SQL ``IN (…)`` list at the most (SQLite and PostgreSQL both take this many)
IN_LIST_SIZE = 500


def chunks(values: Sequence[T], size: int = IN_LIST_SIZE) -> Iterator[list[T]]:
    """``values`` in consecutive slices of at most ``size``, for ``IN`` lists of bounded length."""
    for start in range(0, len(values), size):
        yield list(values[start : start + size])
