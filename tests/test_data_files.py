"""tests/data holds every file its README lists, byte for byte (the hashes in the README)."""

from __future__ import annotations

import hashlib
import re

from tests.data_files import DATA


def _listed() -> dict[str, str]:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|$", readme, flags=re.M))
    moodle = re.search(r"`moodle/([^`]+)` — .*?SHA-256\s+`([0-9a-f]{64})`", readme, flags=re.S)
    assert moodle, "the README names the Moodle CSV and its hash"
    listed = {f"case/{name}": digest for name, digest in rows.items()}
    listed[f"moodle/{moodle.group(1)}"] = moodle.group(2)
    return listed


def test_every_listed_file_is_present_and_unmodified() -> None:
    listed = _listed()
    assert len(listed) == 8
    for relative, digest in listed.items():
        path = DATA / relative
        assert path.is_file(), f"{path} is missing"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{path} was modified"
    assert (DATA / "case" / "LICENSE-opensalt.txt").is_file()


def test_no_unlisted_data_files() -> None:
    listed = set(_listed())
    present = {
        str(p.relative_to(DATA))
        for p in DATA.rglob("*")
        if p.is_file() and p.name not in {"README.md", "LICENSE-opensalt.txt"}
    }
    assert present == listed
