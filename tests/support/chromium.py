"""Headless Chromium for the browser tests: a cookie policy per run, and axe-core on every page.

Cookie policies (``MODES``), each a fresh Chromium profile per browser context:

- ``allowed``: third-party cookies allowed (the profile's cookie controls off);
- ``phaseout``: ``--test-third-party-cookie-phaseout``, Chromium's third-party cookie phase-out.
  Unpartitioned third-party cookies are dropped, but Chromium 156 keeps *partitioned* ones (CHIPS)
  for the LMS's iframe, so the tool's ``Partitioned`` launch and state cookies still work;
- ``blocked``: the tool's site may keep no cookies at all (a content setting in the profile), as in
  a browser that blocks every third-party cookie, partitioned or not. The launch then binds its
  OIDC state through LTI Platform Storage and the pages carry URL tokens.

``PATH`` says which way each policy makes a launch go: ``cookie`` (pages name their launch with
``ls=`` and the cookie proves it) or ``url`` (pages carry ``lc=`` URL tokens).

Every document loaded in a context made here (the LMS page, the tool in its iframe, pages opened on
their own) is checked with axe-core (tests/vendor/axe.min.js) once it has loaded; the results come
back through an exposed binding. :func:`wait_for_axe` waits for a frame's check;
:meth:`Chromium.finish` waits for all of them and fails on any serious or critical violation.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Frame, Page, Playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
#: axe-core, vendored by ``python -m tests.support.vendor_axe`` (tests/vendor/README.md)
AXE_JS = Path(__file__).resolve().parent.parent / "vendor" / "axe.min.js"
MODES = ("allowed", "phaseout", "blocked")
PATH = {"allowed": "cookie", "phaseout": "cookie", "blocked": "url"}
SEVERE = ("serious", "critical")

# Runs in every document at its start: once the page has loaded, axe checks it (frames are checked
# in their own documents, so axe does not descend into iframes) and reports the serious and critical
# violations; ``window.__commonsAxe`` is the promise of that report.
_AXE_RUNNER = """
(() => {
  if (!/^https?:$/.test(location.protocol) || window.__commonsAxeArmed) { return; }
  window.__commonsAxeArmed = true;
  const check = () => axe.run(document, { resultTypes: ["violations"], iframes: false })
    .then((result) => result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.map((n) => n.target.join(" ") + " " + n.html.slice(0, 160) + " — " +
                       [...n.any, ...n.all, ...n.none].map((c) => c.message).join(" ")) })))
    .catch((error) => [{ id: "axe-error", impact: "critical", help: String(error), nodes: [] }])
    .then((found) => window.__commonsAxeReport(location.href, found));
  // one check after another (axe runs one at a time): at load, and whenever a test asks
  window.__commonsAxeCheck = () => {
    window.__commonsAxe = (window.__commonsAxe || Promise.resolve()).then(check);
    return window.__commonsAxe;
  };
  window.addEventListener("load", () => window.__commonsAxeCheck());
})();
"""
_WAIT_FOR_AXE = """
() => new Promise((resolve) => {
  const started = Date.now();
  const wait = () => {
    if (window.__commonsAxe) { window.__commonsAxe.then(() => resolve(true)); }
    else if (!window.__commonsAxeArmed || Date.now() - started > 10000) { resolve(false); }
    else { setTimeout(wait, 25); }
  };
  wait();
})
"""


def wait_for_axe(frame: Frame | Page) -> None:
    """Wait until axe has checked the document now in ``frame`` (its report is then in)."""
    try:
        frame.evaluate(_WAIT_FOR_AXE)
    except Exception:  # the frame navigated or closed meanwhile: nothing to wait for
        return


def check_now(frame: Frame | Page) -> None:
    """Check the document in ``frame`` as it is now (a state reached without loading a page,
    such as an open list), and wait for the report."""
    frame.evaluate("() => window.__commonsAxeCheck()")


def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


@dataclass
class AxeReport:
    url: str
    violations: list[dict[str, Any]]

    def describe(self) -> str:
        lines = [f"{self.url}:"]
        for v in self.violations:
            lines.append(f"  {v['id']} ({v['impact']}): {v['help']}")
            lines.extend(f"    {node}" for node in v["nodes"][:5])
        return "\n".join(lines)


@dataclass
class Chromium:
    """Makes browser contexts under one cookie policy (``mode``) for a tool served at
    ``tool_origin``; drop-in for the parts of playwright's ``Browser`` the tests use."""

    playwright: Playwright
    mode: str
    tool_origin: str
    reports: list[AxeReport] = field(default_factory=list)
    checked_urls: list[str] = field(default_factory=list)
    _opened: bool = False
    _contexts: list[tuple[BrowserContext, Path]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown cookie policy {self.mode!r}")

    @property
    def path(self) -> str:
        """How launches go under this policy: ``cookie`` or ``url``."""
        return PATH[self.mode]

    def _profile(self) -> Path:
        folder = Path(tempfile.mkdtemp(prefix=f"chromium-{self.mode}-"))
        profile: dict[str, Any] = {}
        if self.mode == "allowed":
            profile = {"cookie_controls_mode": 0, "block_third_party_cookies": False}
        elif self.mode == "blocked":
            site = f"{self.tool_origin},*"
            profile = {"content_settings": {"exceptions": {"cookies": {site: {"setting": 2}}}}}
        (folder / "Default").mkdir()
        (folder / "Default" / "Preferences").write_text(json.dumps({"profile": profile}))
        return folder

    def new_context(self, **options: Any) -> BrowserContext:
        """A context of its own (no cookies shared with others) in a fresh profile."""
        folder = self._profile()
        args = FLAGS + (["--test-third-party-cookie-phaseout"] if self.mode == "phaseout" else [])
        context = self.playwright.chromium.launch_persistent_context(
            str(folder), executable_path=CHROMIUM, args=args, headless=True, **options
        )
        context.expose_binding("__commonsAxeReport", self._report)
        context.add_init_script(script=_axe_source() + "\n" + _AXE_RUNNER)
        self._contexts.append((context, folder))
        self._opened = True
        for page in context.pages:  # the profile's first, blank tab
            page.close()
        return context

    def new_page(self, **options: Any) -> Page:
        return self.new_context(**options).new_page()

    def _report(self, source: dict, url: str, violations: list[dict[str, Any]]) -> None:
        self.reports.append(AxeReport(url, violations))
        self.checked_urls.append(url)

    def close_context(self, context: BrowserContext) -> None:
        """Wait for the context's pending checks, then close it (and drop its profile)."""
        for entry in list(self._contexts):
            if entry[0] is context:
                self._flush(context)
                self._contexts.remove(entry)
                context.close()
                shutil.rmtree(entry[1], ignore_errors=True)

    def _flush(self, context: BrowserContext) -> None:
        for page in context.pages:
            for frame in page.frames:
                wait_for_axe(frame)

    def finish(self) -> tuple[list[AxeReport], list[str]]:
        """Close every context still open (after their checks); the reports that found serious
        or critical violations since the last call, and the addresses checked."""
        for context, _folder in list(self._contexts):
            self.close_context(context)
        found = [r for r in self.reports if r.violations]
        checked, opened = list(self.checked_urls), self._opened
        self.reports.clear()
        self.checked_urls.clear()
        self._opened = False
        assert checked or not opened, "pages were opened, but axe checked none of them"
        return found, checked

    def assert_accessible(self) -> None:
        found, checked = self.finish()
        if os.environ.get("AXE_VERBOSE"):
            print("axe checked:", *checked, sep="\n  ")
        assert not found, "axe found serious or critical violations:\n" + "\n".join(
            r.describe() for r in found
        )
