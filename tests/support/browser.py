"""A scripted browser: a requests session that follows redirects and submits the auto-posting
forms that LTI uses (OIDC form_post, deep linking return), exactly as a browser would.

The tool's own second launch step (``lti/launch_continue.html``, a form that posts the page token
at once) is followed like a redirect by :meth:`Browser.get` and :meth:`Browser.submit`. The tool's
launch cookie is dropped (as by a browser that blocks it), so pages carry URL tokens (``?lc=``),
unless a test asks for the cookie path: ``Browser(launch_cookies=True)`` against a tool on
http://localhost, where the tool offers its ``Secure`` launch cookie."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urljoin, urlsplit

import requests


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    id: str | None = None


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(
                action=a.get("action", ""), method=a.get("method", "get").lower(), id=a.get("id")
            )
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._current.fields[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


CONTINUE_FORM = "launch-continue"
LAUNCH_COOKIE_PREFIX = "__Host-lcs_"


class _CookiePolicy(DefaultCookiePolicy):
    """Like Chromium: ``Secure`` cookies from http://localhost (a secure context) come back to it.
    The tool's launch cookie is kept only when asked for (``launch_cookies=True``)."""

    def __init__(self, launch_cookies: bool) -> None:
        super().__init__()
        self.launch_cookies = launch_cookies

    def set_ok(self, cookie, request) -> bool:
        if cookie.name.startswith(LAUNCH_COOKIE_PREFIX) and not self.launch_cookies:
            return False
        if urlsplit(request.get_full_url()).hostname == "localhost":
            # requests copies the jar into a default-policy one for each request, so the cookie
            # itself is marked sendable over http (to localhost only: it is host-only)
            cookie.secure = False
        return super().set_ok(cookie, request)


class Browser:
    """``launch_cookies``: keep the tool's launch cookie (the cookie path); by default it is
    dropped, as by a browser that blocks it, and pages carry URL tokens."""

    def __init__(self, launch_cookies: bool = False) -> None:
        self.http = requests.Session()
        self.http.cookies.set_policy(_CookiePolicy(launch_cookies))
        self.history: list[requests.Response] = []

    def get(self, url: str, **kw) -> requests.Response:
        r = self.http.get(url, timeout=30, **kw)
        self.history.append(r)
        return self._continue(r)

    def _continue(self, response: requests.Response) -> requests.Response:
        """Post the tool's launch-continue form, as the page's script does at once."""
        if f'id="{CONTINUE_FORM}"' not in response.text:
            return response
        form = next(f for f in forms(response.text) if f.id == CONTINUE_FORM)
        r = self.http.post(urljoin(response.url, form.action), data=form.fields, timeout=30)
        self.history.append(r)
        return r

    def submit(
        self,
        form: Form,
        base_url: str,
        extra: dict[str, str] | None = None,
        drop: tuple[str, ...] = (),
    ) -> requests.Response:
        data = {k: v for k, v in form.fields.items() if k not in drop}
        data.update(extra or {})
        url = urljoin(base_url, form.action)
        if form.method == "post":
            r = self.http.post(url, data=data, timeout=30)
        else:
            r = self.http.get(url, params=data, timeout=30)
        self.history.append(r)
        return self._continue(r)

    def autosubmit(self, response: requests.Response, max_hops: int = 5) -> requests.Response:
        """Submit the first form of each page while the page is an auto-posting form page."""
        for _ in range(max_hops):
            page_forms = (
                forms(response.text)
                if "text/html" in response.headers.get("Content-Type", "")
                else []
            )
            auto = [f for f in page_forms if "submit()" in response.text and f.method == "post"]
            if not auto:
                return response
            response = self.submit(auto[0], response.url)
        return response
