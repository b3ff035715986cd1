"""A small xAPI 1.0.3 LRS client on a pooled ``requests.Session`` with timeouts.

(``tincan.RemoteLRS`` is not used: it has no timeouts and treats the 204 an LRS sends for already
stored statements as a failure.)"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

XAPI_VERSION = "1.0.3"
DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
MAX_REPLY_CHARS = 4000


@dataclass(frozen=True)
class LRSTarget:
    """Where statements go: the LRS endpoint (…/xAPI or …/data/xAPI) and its Basic credentials."""

    endpoint: str
    username: str | None = None
    password: str | None = None

    @property
    def statements_url(self) -> str:
        return self.endpoint.rstrip("/") + "/statements"


@dataclass(frozen=True)
class LRSReply:
    """The LRS's answer to one request; ``status`` is None when no HTTP answer came back."""

    status: int | None
    body: str
    retry_after: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Stored: 200 (statements stored) or 204 (already held). Nothing else, not 2xx as a
        whole: 202 or 201 do not say the LRS stored the statements."""
        return self.status in (200, 204)

    def describe(self) -> str:
        if self.status is None:
            return f"no answer from the LRS: {self.error}"
        text = self.body.strip()
        return f"HTTP {self.status}" + (f": {text}" if text else "")


class LRSError(RuntimeError):
    """A read from the LRS failed."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class LRSClient:
    """Talks to one LRS. Thread-confined: use :func:`client_for` to get this thread's client."""

    def __init__(
        self,
        target: LRSTarget,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        pool_size: int = 4,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.http = requests.Session()
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self.http.headers.update(
            {
                "X-Experience-API-Version": XAPI_VERSION,
                "Accept": "application/json",
                "User-Agent": "LearningCommons-xAPI/1",
            }
        )
        if target.username is not None:
            self.http.auth = (target.username, target.password or "")

    def post_statements(self, statements: list[dict[str, Any]]) -> LRSReply:
        """POST a batch (a JSON array). Never raises for network trouble: see ``LRSReply``."""
        return self.post_raw(json.dumps(statements, separators=(",", ":")).encode())

    def post_raw(self, body: bytes) -> LRSReply:
        """POST an already serialised JSON array of statements.

        Redirects are not followed: a client following a 302/303 would GET the new location and
        could take its 200 for "stored". Only 200 and 204 mean stored (``LRSReply.ok``); any other
        answer, a 3xx included, leaves the statements pending."""
        try:
            response = self.http.post(
                self.target.statements_url,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return LRSReply(status=None, body="", error=f"{type(exc).__name__}: {exc}")
        return LRSReply(
            status=response.status_code,
            body=response.text[:MAX_REPLY_CHARS],
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    def get_statements(self, **params: Any) -> dict[str, Any]:
        """GET statements (``agent`` may be a dict; it is sent as JSON). One page."""
        query = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
        try:
            response = self.http.get(self.target.statements_url, params=query, timeout=self.timeout)
        except requests.RequestException as exc:
            raise LRSError(f"LRS unreachable: {exc}") from exc
        if response.status_code != 200:
            raise LRSError(f"LRS answered {response.status_code}: {response.text[:500]}")
        return response.json()

    def iter_statements(self, **params: Any) -> Iterator[dict[str, Any]]:
        """Every matching statement, following ``more`` links."""
        page = self.get_statements(**params)
        while True:
            yield from page.get("statements", [])
            more = page.get("more")
            if not more:
                return
            parts = urlsplit(self.target.endpoint)
            url = urljoin(f"{parts.scheme}://{parts.netloc}", more)
            response = self.http.get(url, timeout=self.timeout)
            if response.status_code != 200:
                raise LRSError(f"LRS answered {response.status_code} on {more}")
            page = response.json()

    def close(self) -> None:
        self.http.close()


_local = threading.local()


def client_for(target: LRSTarget, timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> LRSClient:
    """This thread's pooled client for ``target`` (connections are kept alive between batches)."""
    clients: dict[tuple[LRSTarget, tuple[float, float]], LRSClient] = (
        getattr(_local, "clients", None) or {}
    )
    _local.clients = clients
    key = (target, timeout)
    if key not in clients:
        clients[key] = LRSClient(target, timeout=timeout)
    return clients[key]
