"""A scripted browser: a requests session that follows redirects and submits the auto-posting
forms that LTI uses (OIDC form_post, deep linking return), exactly as a browser would."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

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


class Browser:
    def __init__(self) -> None:
        self.http = requests.Session()
        self.history: list[requests.Response] = []

    def get(self, url: str, **kw) -> requests.Response:
        r = self.http.get(url, timeout=30, **kw)
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
        return r

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
