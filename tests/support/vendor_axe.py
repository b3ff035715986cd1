"""Vendor axe-core (the accessibility engine the browser tests run on every page) into tests/vendor/.

    .venv/bin/python -m tests.support.vendor_axe [VERSION]

Fetches the package with npm's own client (``npm pack``, which checks the registry's integrity
hash), and copies ``axe.min.js`` (its MPL-2.0 notice stays at the top of the file) to
tests/vendor/axe.min.js, with the version and the tarball's SHA-512 in tests/vendor/axe.version.
Nothing runs it at test time: the file is committed, so the suite needs no network.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "vendor"
DEFAULT_VERSION = "4.14.1"


def vendor(version: str = DEFAULT_VERSION) -> Path:
    with tempfile.TemporaryDirectory() as work:
        packed = subprocess.run(
            ["npm", "pack", f"axe-core@{version}", "--json"],
            cwd=work,
            check=True,
            capture_output=True,
            text=True,
        )
        (info,) = json.loads(packed.stdout)
        tarball = Path(work) / info["filename"]
        digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if info.get("integrity") and info["integrity"] != f"sha512-{digest}":
            raise SystemExit(f"integrity mismatch for {tarball.name}")
        with tarfile.open(tarball) as archive:
            source = archive.extractfile("package/axe.min.js")
            assert source is not None
            script = source.read()
    if not script.startswith(f"/*! axe v{version}".encode()):
        raise SystemExit("unexpected axe.min.js header")
    VENDOR.mkdir(exist_ok=True)
    target = VENDOR / "axe.min.js"
    target.write_bytes(script)
    (VENDOR / "axe.version").write_text(f"axe-core {version} sha512-{digest}\n")
    return target


if __name__ == "__main__":
    print(vendor(*sys.argv[1:2]))
