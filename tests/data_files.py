"""The test data carried in ``tests/data`` (see its README for origin and licence).

Tests name a file through :func:`data_path`; a missing file fails the test that needs it, with the
path in the message, instead of skipping it: a checkout without its test data is broken.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parent / "data"
CASE_DIR = DATA / "case"
MOODLE_CSV = DATA / "moodle" / "moodle_oecd_example.csv"


def data_path(path: Path) -> Path:
    """``path`` (under tests/data) if it exists; otherwise the test fails."""
    if not path.is_file():
        pytest.fail(f"test data file {path} is missing (tests/data/README.md lists every file)")
    return path


def case_package(name: str) -> dict[str, Any]:
    """One of the OpenSALT CASE packages in tests/data/case, parsed as it is."""
    return json.loads(data_path(CASE_DIR / name).read_text(encoding="utf-8"))


def moodle_text() -> str:
    return data_path(MOODLE_CSV).read_text(encoding="utf-8")
