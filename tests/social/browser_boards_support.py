"""Helpers for the browser tests: the sandbox LMS course page with the tool in its ``tool-frame``
iframe, launching there (and checking which way the launch went: the launch cookie or URL tokens),
navigation inside that frame, and DOM checks (XSS, target size, focus, overflow). Every helper
that navigates waits for axe-core's check of the page it lands on (tests/support/chromium.py).
No fixtures here: the test modules own those."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from playwright.sync_api import BrowserContext, Frame, Locator, Page, Request
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.conftest import CLIENT_ID
from tests.support.chromium import CHROMIUM, FLAGS, Chromium, wait_for_axe

__all__ = ["CHROMIUM", "FLAGS"]

COURSE = "leadership-foundations"
#: The demo course's people (sandbox/platform/demo.py ``seed_demo_course``).
NAMES = {
    "u-ines": "Ines Instructor",
    "u-lea": "Lea Learner",
    "u-amara": "Amara Okafor",
    "u-benjamin": "Benjamin Hartley",
    "u-chen": "Chen Wei",
    "u-diego": "Diego Ramírez",
    "u-sofia": "Sofia Lindqvist",
    "u-tomas": "Tomás Alvarez",
}
BOARD_URL = re.compile(r"/boards/\d+\?")
THREAD_URL = re.compile(r"/threads/\d+\?")
XSS_CORPUS = Path(__file__).resolve().parent / "xss_corpus.txt"


def add_board(lms, title: str, context: str = COURSE, **settings: str) -> str:
    """Place a board in the sandbox course (what deep linking makes): its resource link id."""
    custom = {"widget": "board", **{f"setting_{k}": str(v) for k, v in settings.items()}}
    return lms.platform.add_resource_link(context, CLIENT_ID, title, custom=custom).resource_link_id


def xss_corpus() -> list[str]:
    """The payloads of xss_corpus.txt: one per line, ``\\n`` stands for a line break, lines
    starting with ``#`` are comments."""
    payloads = []
    for line in XSS_CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            payloads.append(line.replace("\\n", "\n"))
    return payloads


# --- the sandbox course page --------------------------------------------------------------------
SENTINEL_SCRIPT = """
(() => {
  const hits = [];
  Object.defineProperty(window, "__pwnedHits", { value: hits });
  Object.defineProperty(window, "__pwned", {
    get() { return hits.length ? hits.slice() : undefined; },
    set(v) { hits.push(String(v)); },
  });
  document.addEventListener("securitypolicyviolation", (e) => {
    hits.push("csp:" + e.violatedDirective + ":" + (e.blockedURI || "inline"));
  }, true);
})();
"""


@dataclass
class CoursePage:
    """The sandbox LMS course page in its own browser context (no shared cookies with others;
    pass ``context`` for a second tab of the same browser), with a dialog recorder; ``frame`` is
    the tool's iframe."""

    chromium: Chromium
    lms: Any
    width: int = 1100
    height: int = 900
    bypass_csp: bool = False
    sentinel: bool = False
    context: BrowserContext | None = None
    dialogs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._own_context = self.context is None
        if self.context is None:
            self.context = self.chromium.new_context(
                viewport={"width": self.width, "height": self.height}, bypass_csp=self.bypass_csp
            )
            if self.sentinel:
                self.context.add_init_script(SENTINEL_SCRIPT)
        self.page: Page = self.context.new_page()
        self.page.set_viewport_size({"width": self.width, "height": self.height})
        self.page.on("dialog", self._dialog)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self._launch_posts: list[str] = []
        self.page.on("request", self._request)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _request(self, request: Request) -> None:
        if request.method == "POST" and urlsplit(request.url).path == "/lti/launch":
            self._launch_posts.append(request.post_data or "")

    @property
    def frame(self) -> Frame:
        frame = self.page.frame(name="tool-frame")
        assert frame is not None, "the course page has no tool-frame iframe"
        return frame

    def open_course(self, course: str = COURSE) -> None:
        self.page.goto(f"{self.lms.issuer}/?{urlencode({'context': course})}")
        self.page.get_by_role("heading", name="Course content").wait_for()
        wait_for_axe(self.page)

    def start_launch(self, button: Locator) -> None:
        """Press a launch button of the course page (the launch then runs in the iframe)."""
        self._launch_posts.clear()
        button.click()

    def arrived(self, expect: re.Pattern = BOARD_URL) -> Frame:
        """Wait until the launch started by :meth:`start_launch` shows the tool's page matching
        ``expect`` in the iframe; check which way it went (``chromium.path``): with the launch
        cookie, the page names its launch (``ls=``) and carries no URL token, and the OIDC state
        came back in its cookie; without cookies, the page carries a URL token (``lc=``) and the
        state came from LTI Platform Storage."""
        frame = self.frame
        frame.wait_for_url(expect, timeout=20000)
        frame.wait_for_load_state("load")
        query = parse_qs(urlsplit(frame.url).query)
        from_storage = [p for p in self._launch_posts if "lti_storage_checked=1" in p]
        if self.chromium.path == "cookie":
            assert "ls" in query and "lc" not in query, frame.url
            assert from_storage == [], "the OIDC state cookie did not come back"
        else:
            assert "lc" in query and "ls" not in query, frame.url
            assert len(from_storage) == 1, "the launch did not go through Platform Storage"
            assert "lti_storage_secret=&" not in from_storage[0] + "&"
        wait_for_axe(frame)
        return frame

    def launch(
        self, link_title: str, user: str, expect: re.Pattern = BOARD_URL, course: str = COURSE
    ) -> Frame:
        """Open the course page and press "Launch as <name>" on the link titled ``link_title``;
        wait until the tool (in the iframe) shows the page matching ``expect``."""
        self.open_course(course)
        heading = self.page.get_by_role("heading", name=link_title, exact=True)
        article = self.page.locator("article").filter(has=heading)
        self.start_launch(
            article.get_by_role("button", name=f"Launch as {NAMES[user]}", exact=True)
        )
        frame = self.arrived(expect)
        frame.get_by_text(NAMES[user]).first.wait_for()  # the header names who launched
        return frame

    def launch_query(self) -> str:
        """How the frame's page names its launch: ``ls=…`` (cookie) or ``lc=…`` (URL token)."""
        return launch_query(self.frame)

    def settle(self) -> None:
        """Give the frame a moment to paint before a screenshot. (No requestAnimationFrame here:
        Chromium does not run it in a cross-origin iframe scrolled out of view.)"""
        self.page.wait_for_timeout(100)

    def shot(self, artifacts: Path, name: str) -> Path:
        """A full-page screenshot of the course page with the tool frame in it."""
        self.settle()
        path = artifacts / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def view_shot(self, artifacts: Path, name: str) -> Path:
        """What the person sees in the window now (an element or full-page screenshot of a frame
        whose text field has focus comes out blank in headless Chromium)."""
        self.settle()
        path = artifacts / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def frame_shot(self, artifacts: Path, name: str) -> Path:
        """A screenshot of the tool's iframe only."""
        self.settle()
        path = artifacts / f"{name}.png"
        self.frame.frame_element().screenshot(path=str(path))
        return path

    def frame_height(self) -> float:
        return self.page.evaluate(
            "parseFloat(document.getElementById('tool-frame').style.height) || 0"
        )

    def close(self) -> None:
        if self._own_context:
            self.chromium.close_context(self.context)
        else:
            wait_for_axe(self.frame)
            self.page.close()


def launch_query(frame: Frame | Page) -> str:
    """How a tool page names its launch in its address: ``ls=…`` or ``lc=…``."""
    query = parse_qs(urlsplit(frame.url).query)
    name = "ls" if "ls" in query else "lc"
    return urlencode({name: query[name][0]})


def goto(frame: Frame | Page, url: str):
    """Open ``url`` in ``frame`` and wait for axe's check of it; the response."""
    response = frame.goto(url)
    wait_for_axe(frame)
    return response


def _activate(frame: Frame, control: Locator) -> None:
    """Click ``control`` and wait for the page it leads to. On a loaded 2-core machine a click
    into the cross-site tool frame is now and then lost while the frame is being resized (no
    request leaves the browser); then the control is activated once more from the page itself
    (``element.click()``: the same form submission or link), which must lead on."""
    sent: list[Request] = []

    def listener(request: Request) -> None:
        sent.append(request)

    frame.page.on("request", listener)
    try:
        with frame.expect_navigation(wait_until="load", timeout=15000):
            control.click()
    except PlaywrightTimeoutError:
        if any(r.frame == frame and r.is_navigation_request() for r in sent):
            raise  # the browser did go: a slow or stuck page is a real failure
        with frame.expect_navigation(wait_until="load", timeout=15000):
            control.evaluate("element => element.click()")
    finally:
        frame.page.remove_listener("request", listener)
    wait_for_axe(frame)


def submit(frame: Frame, button: Locator) -> None:
    """Press a submit button and wait for the page the form leads to (303 → GET) to load."""
    _activate(frame, button)


def follow(frame: Frame, link: Locator) -> None:
    """Follow a link and wait for its page to load."""
    _activate(frame, link)


def start_thread(
    frame: Frame, title: str, body: str, kind: str | None = None, typed: bool = False
) -> None:
    """Fill the board's "Start a thread" form and post it (``typed``: key by key)."""
    form = frame.locator("form", has=frame.get_by_role("heading", name="Start a thread"))
    if typed:
        form.get_by_label("Title").press_sequentially(title)
        form.get_by_label("Your post").press_sequentially(body)
    else:
        form.get_by_label("Title").fill(title)
        form.get_by_label("Your post").fill(body)
    if kind is not None:
        form.get_by_label("Type").select_option(kind)
    submit(frame, form.get_by_role("button", name="Post thread"))
    frame.wait_for_url(THREAD_URL)


def reply_form(frame: Frame) -> Locator:
    return frame.locator("form", has=frame.get_by_role("heading", name="Reply", exact=True))


def post_reply(frame: Frame, body: str, typed: bool = False) -> None:
    form = reply_form(frame)
    box = form.get_by_label("Your reply")
    if typed:
        box.press_sequentially(body)
    else:
        box.fill(body)
    submit(frame, form.get_by_role("button", name="Post reply"))


def open_thread(frame: Frame, title: str) -> None:
    follow(frame, frame.get_by_role("link", name=title, exact=True))
    frame.wait_for_url(THREAD_URL)


def post_article(frame: Frame, level: str, author: str) -> Locator:
    """The <article> of a post (``level``: Opening, Reply or Comment) by ``author``."""
    return frame.get_by_role("article", name=f"{level} by {author}", exact=True)


def actions(article: Locator) -> Locator:
    """A post's own action buttons (not those of the comments nested in it)."""
    return article.locator(":scope > .actions")


STANDALONE_URL = """
async () => {
  const field = document.querySelector('form[method="post"] input[name="lc"]');
  const response = await fetch("/app/url-token", {
    method: "POST", headers: { "X-Commons-Token": field.value }, credentials: "omit" });
  const url = new URL(location.href);
  url.searchParams.delete("ls");
  url.searchParams.set("lc", (await response.json()).lc);
  return url.href;
}
"""


def standalone_url(frame: Frame) -> str:
    """The frame's page as an address that opens on its own (a new tab, outside the LMS): with a
    URL token, got with the page's page token, as for a link opened in a new tab. (A launch
    cookie, partitioned under the LMS's site, does not come along.)"""
    return frame.evaluate(STANDALONE_URL)


# --- DOM checks ---------------------------------------------------------------------------------
XSS_DOM_CHECK = """
() => {
  const found = [];
  const danger = /^(javascript|vbscript|data|livescript):/i;
  const clean = (v) => (v || "").replace(/[\\u0000-\\u0020\\u007f-\\u00a0]+/g, "");
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on")) found.push(`${el.tagName} has ${name}`);
      if (["href", "src", "action", "formaction", "data", "xlink:href", "poster", "srcdoc"]
          .includes(name) && danger.test(clean(attr.value)))
        found.push(`${el.tagName} ${name}=${attr.value}`);
    }
  }
  const forbidden = "script,iframe,object,embed,svg,math,style,img,form,input,button,textarea," +
    "select,meta,base,link,video,audio,source,frame,frameset,details,marquee,template,noscript";
  for (const scope of document.querySelectorAll(".post .body, .board-list, h1, title")) {
    for (const el of scope.querySelectorAll(forbidden)) found.push(`${el.tagName} in user text`);
  }
  for (const body of document.querySelectorAll(".post .body")) {
    for (const el of body.querySelectorAll("[style], [class]:not(span.mention), [id]"))
      found.push(`${el.tagName} with style/class/id in a post`);
    for (const a of body.querySelectorAll("a")) {
      // what the browser would open: a relative href resolves against the page (harmless)
      if (a.hasAttribute("href") && !["http:", "https:", "mailto:"].includes(a.protocol))
        found.push(`link to ${a.getAttribute("href")}`);
      if (!/noopener/.test(a.rel || "")) found.push(`link without noopener: ${a.href}`);
    }
  }
  const scripts = [...document.scripts].filter(
    (s) => !(s.src && new URL(s.src).pathname.startsWith("/static/")) && !s.nonce
  );
  for (const s of scripts) found.push(`script ${s.src || s.textContent.slice(0, 40)}`);
  return found;
}
"""

TARGET_SIZE_CHECK = """
(selector) => {
  // WCAG 2.2 SC 2.5.8: each target is at least 24x24 CSS px, or a 24px circle centred on it
  // touches no other target (spacing exception); links inside post text are inline (exempt).
  const root = document.querySelectorAll(selector);
  const targets = [];
  for (const scope of root) {
    for (const el of scope.querySelectorAll("a[href], button, input:not([type=hidden]), select," +
                                            " textarea, summary, [tabindex]")) {
      if (el.closest(".body")) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;  // not rendered (closed <details>)
      targets.push({el, r, label: (el.getAttribute("aria-label") || el.textContent ||
                                   el.name || el.tagName).trim().slice(0, 40)});
    }
  }
  const small = targets.filter((t) => t.r.width < 24 || t.r.height < 24);
  const problems = [];
  for (const t of small) {
    const cx = t.r.left + t.r.width / 2, cy = t.r.top + t.r.height / 2;
    const hits = targets.filter((o) => o !== t).some((o) => {
      const dx = Math.max(o.r.left - cx, 0, cx - o.r.right);
      const dy = Math.max(o.r.top - cy, 0, cy - o.r.bottom);
      const toRect = Math.hypot(dx, dy) < 12;
      const isSmall = small.includes(o);
      const ox = o.r.left + o.r.width / 2, oy = o.r.top + o.r.height / 2;
      return toRect || (isSmall && Math.hypot(ox - cx, oy - cy) < 24);
    });
    if (hits) problems.push(`${t.label} is ${t.r.width.toFixed(1)}x${t.r.height.toFixed(1)}`);
  }
  return {count: targets.length, problems};
}
"""

FOCUS_STYLE = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  return {
    tag: el.tagName, id: el.id, text: (el.textContent || el.value || "").trim().slice(0, 40),
    focusVisible: el.matches(":focus-visible"),
    outline: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0,
    shadow: s.boxShadow,
  };
}
"""

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
