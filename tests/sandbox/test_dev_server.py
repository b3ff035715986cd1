"""``make run`` as a first-time user meets it: the development server (``python -m sandbox``) in its
own process, on a port of its choosing, with the sandbox LMS. Its launch URLs use the port it serves
(no TOOL_BASE_URL set), and the sandbox course keeps what deep linking added across a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import requests

from sandbox.mount import SANDBOX_CLIENT_ID
from sandbox.platform.demo import DEMO_COURSE_ID
from tests.support.browser import Browser, forms
from tests.support.ralph import free_port

CHECKOUT = Path(__file__).resolve().parents[2]  # the sandbox is importable from here only


@contextmanager
def dev_server(instance: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``make run``'s server with a fresh environment (no TOOL_BASE_URL): yields its base URL."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"TOOL_BASE_URL", "PORT", "DATABASE_URL", "COMMONS_SANDBOX"}
    }
    environ.update(COMMONS_ENV="development", COMMONS_INSTANCE_PATH=str(instance), **(env or {}))
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", *args],
        cwd=CHECKOUT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = ""
        deadline = time.monotonic() + 60
        while "Sandbox LMS:" not in banner:
            line = process.stdout.readline() if process.stdout else ""
            assert line or process.poll() is None, f"the dev server exited: {banner}"
            assert time.monotonic() < deadline, f"no banner from the dev server: {banner}"
            banner += line
        sandbox = banner.split("Sandbox LMS:", 1)[1].split()[0]
        base = sandbox.removesuffix("/sandbox/")
        port = urlsplit(base).port
        for _ in range(100):  # the banner comes just before the server listens
            try:
                requests.get(f"http://127.0.0.1:{port}/lti/jwks", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_port_sets_every_url_the_tool_hands_out(tmp_path: Path) -> None:
    for args, env in ((("--port", str(free_port())), None), ((), {"PORT": str(free_port())})):
        with dev_server(tmp_path, *args, env=env) as base:
            expected = "http://localhost:" + (args[1] if args else env["PORT"])
            assert base == expected
            config = requests.get(expected + "/lti/config.json", timeout=10).json()
            assert config["oidc_initiation_url"] == expected + "/lti/login"
            assert config["public_jwk_url"] == expected + "/lti/jwks"
            course = requests.get(expected + "/sandbox/", timeout=10).text
            assert "localhost:5000" not in course


def _course_links(base: str) -> list[str]:
    page = requests.get(base + "/sandbox/", params={"context": DEMO_COURSE_ID}, timeout=10)
    assert page.status_code == 200
    return [f.fields.get("resource_link") for f in forms(page.text) if "resource_link" in f.fields]


def test_sandbox_course_keeps_deep_linked_placements_across_a_restart(tmp_path: Path) -> None:
    port = str(free_port())
    with dev_server(tmp_path, "--port", port) as base:
        seeded = _course_links(base)
        b = Browser()
        picker = b.autosubmit(
            b.get(
                base + "/sandbox/launch",
                params={
                    "client_id": SANDBOX_CLIENT_ID,
                    "user": "u-ines",
                    "message_type": "LtiDeepLinkingRequest",
                },
            )
        )
        assert picker.status_code == 200 and "Add Learning Commons" in picker.text, picker.text
        (form,) = [f for f in forms(picker.text) if "widget" in f.fields or f.method == "post"]
        back = b.submit(
            form,
            picker.url,
            extra={"widget": "board", "title_board": "Kept across restarts"},
        )
        assert back.status_code == 200, back.text[:300]
        returned = b.autosubmit(back)  # the signed response goes back to the sandbox LMS
        assert returned.status_code == 200
        added = set(_course_links(base)) - set(seeded)
        assert len(added) == 1
    assert (tmp_path / "sandbox_course.json").is_file()
    with dev_server(tmp_path, "--port", port) as base:
        assert set(_course_links(base)) == set(seeded) | added
        (rlid,) = added
        page = Browser()
        opened = page.autosubmit(
            page.get(
                base + "/sandbox/launch",
                params={"client_id": SANDBOX_CLIENT_ID, "user": "u-lea", "resource_link": rlid},
            )
        )
        assert opened.status_code == 200 and "Kept across restarts" in opened.text
