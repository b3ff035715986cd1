"""Fixtures the LTI tests share."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import _postgres_database


@pytest.fixture
def fresh_url(tmp_path) -> Iterator[str]:
    """An empty database of its own, of the kind the suite runs on (the session's database is
    already at head): for tests that run migrations down and up on data."""
    if os.environ.get("TEST_DATABASE") == "postgres":
        yield from _postgres_database()
    else:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
