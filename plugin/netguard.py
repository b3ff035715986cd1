"""Outbound HTTP to addresses someone else chose: a CASE package URL typed by staff, a platform's
OpenID configuration and registration endpoint named in a dynamic registration request.

Every such fetch goes through :func:`fetch`, which keeps these rules:

- Only absolute ``http(s)`` URLs. No proxy or ``.netrc`` from the environment is used.
- Unless private hosts are allowed, the tool connects only to public (global) addresses. The host
  is resolved here, every address is checked, and the socket connects to an address that passed
  the check — the address checked is the address connected to, so a DNS answer that changes
  between a check and the connect (DNS rebinding) cannot reach an internal service. A refused
  address is never connected to: not one byte goes to it. Redirects are checked the same way.
- One total deadline over everything (resolving, connecting, TLS, sending, reading): a watchdog
  thread shuts the socket down when it passes, so a server that trickles one byte a second cannot
  hold a worker beyond it (a per-read timeout would wait forever for such a server).
- A size cap on the answer (its ``Content-Length``, then the bytes actually read).
- Errors say what failed — the host, the HTTP status, "not JSON", "too large", "too slow" — and never
  carry the remote's error text or body.

Private hosts (loopback, private ranges, link-local…) are allowed outside production unless the
``ALLOW_PRIVATE_HOSTS`` setting says otherwise (:attr:`plugin.config.Settings.private_hosts_allowed`):
the sandbox LMS and the test servers live on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

DEFAULT_DEADLINE = 20.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


class FetchError(Exception):
    """An outbound fetch failed. ``message`` is safe to show: it names what failed (host, status,
    size, time) and never repeats what the remote sent. ``reason`` is a short code for callers:
    ``url``, ``dns``, ``private``, ``connect``, ``slow``, ``large``, ``status``, ``redirect``,
    ``json``."""

    def __init__(self, message: str, reason: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Limits:
    """What one fetch may cost: the total deadline in seconds, the largest answer in bytes, the
    redirects followed (GET only), and whether private addresses may be reached."""

    deadline: float = DEFAULT_DEADLINE
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    allow_private_hosts: bool = False


@dataclass
class Fetched:
    """A finished fetch: the final URL (after redirects), its host, the status and the body."""

    url: str
    host: str
    status: int
    body: bytes
    content_type: str


def check_url(url: str) -> str:
    """The host of an absolute http(s) URL, or :class:`FetchError`."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise FetchError("The URL must be an absolute http(s) URL.", "url") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise FetchError("The URL must be an absolute http(s) URL.", "url")
    return host


def is_public_address(address: str) -> bool:
    """Whether an IP address is globally routable (not loopback, private, link-local, shared,
    multicast, reserved or unspecified). IPv4-mapped IPv6 addresses are judged as IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def fetch(
    method: str,
    url: str,
    *,
    limits: Limits,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Fetched:
    """Send one request under the rules above and read the whole answer. GET follows redirects
    (each checked again, at most ``limits.max_redirects``); any other method refuses them. The
    status is returned as it came: callers decide which ones they accept."""
    url = url.strip()
    method = method.upper()
    attempt = _Attempt(limits)
    token = _CURRENT.set(attempt)
    http = requests.Session()
    http.trust_env = False  # no proxy, no .netrc: the connection goes where we checked
    adapter = _GuardedAdapter()
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    send_headers = {"Accept-Encoding": "identity", **(headers or {})}
    try:
        for _ in range(limits.max_redirects + 1):
            host = check_url(url)
            attempt.host = host
            remaining = attempt.remaining()
            try:
                response = http.request(
                    method,
                    url,
                    json=json_body,
                    headers=send_headers,
                    timeout=(remaining, remaining),
                    allow_redirects=False,
                    stream=True,
                )
            except FetchError:
                raise
            except requests.RequestException as exc:
                raise attempt.failure(exc) from exc
            with response:
                location = response.headers.get("Location")
                if response.is_redirect and location:
                    if method != "GET":
                        raise FetchError(f"{host} answered with a redirect.", "redirect")
                    url = urljoin(url, location)
                    continue
                body = _read(response, attempt)
                return Fetched(
                    url=url,
                    host=host,
                    status=response.status_code,
                    body=body,
                    content_type=response.headers.get("Content-Type", ""),
                )
        raise FetchError(f"Too many redirects (more than {limits.max_redirects}).", "redirect")
    finally:
        http.close()
        attempt.close()
        _CURRENT.reset(token)


def get_json(url: str, *, limits: Limits) -> tuple[Any, str]:
    """GET a JSON document (status 200 only). Returns (data, final URL)."""
    fetched = fetch("GET", url, limits=limits, headers={"Accept": "application/json"})
    require_status(fetched, 200)
    return parse_json(fetched), fetched.url


def require_status(fetched: Fetched, *statuses: int) -> None:
    """Refuse an answer whose status is not one of ``statuses``, naming the host and status only."""
    if fetched.status not in statuses:
        raise FetchError(
            f"{fetched.host} answered {status_text(fetched.status)}.", "status", fetched.status
        )


def parse_json(fetched: Fetched) -> Any:
    """The answer's body as JSON, or :class:`FetchError` ("not JSON") without quoting it."""
    try:
        return json.loads(fetched.body.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise FetchError(f"The answer from {fetched.host} is not JSON.", "json") from exc


def status_text(status: int) -> str:
    """``404 Not Found``: the number and the standard phrase (ours, not the remote's reason)."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP status {status}"


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size // (1024 * 1024)} MB"
    return f"{max(size // 1024, 1)} KB"


# --------------------------------------------------------------------------------------------
# One attempt: its deadline, its watchdog and its connections


_CURRENT: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar(
    "netguard_attempt", default=None
)


class _Attempt:
    """The state of one :func:`fetch`: the deadline and the sockets the watchdog cuts."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.host = ""
        self.ends = time.monotonic() + limits.deadline
        self.expired = False
        self.refused_private = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(limits.deadline, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def too_slow(self) -> FetchError:
        return FetchError(
            f"{self.host} did not answer within {self.limits.deadline:g} seconds (too slow).",
            "slow",
        )

    def remaining(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0 or self.expired:
            raise self.too_slow()
        return left

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv/send at once

    def watch(self, sock: socket.socket) -> None:
        # A duplicate of the descriptor: shutting it down cuts the connection even after the
        # original socket object has been handed to TLS (which detaches it).
        dup = sock.dup()
        with self._lock:
            self._sockets.append(dup)
            if self.expired:
                dup.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def failure(self, exc: Exception) -> FetchError:
        """Name what went wrong with a request that raised, in our words."""
        if self.expired or isinstance(exc, requests.Timeout):
            return self.too_slow()
        if isinstance(exc, requests.exceptions.SSLError):
            return FetchError(f"Could not connect securely (TLS) to {self.host}.", "connect")
        return FetchError(f"Could not connect to {self.host}.", "connect")

    def connect(self, host: str, port: int, options: Any) -> socket.socket:
        """Resolve ``host``, drop addresses the limits refuse, connect to the first one that
        answers. Only checked addresses are ever connected to."""
        infos = self._resolve(host, port)
        last_error: OSError | None = None
        for family, kind, proto, _, sockaddr in infos:
            if not self.limits.allow_private_hosts and not is_public_address(str(sockaddr[0])):
                self.refused_private = True
                continue
            sock = socket.socket(family, kind, proto)
            try:
                self.watch(sock)
                for level, name, value in options or ():
                    sock.setsockopt(level, name, value)
                sock.settimeout(self.remaining())
                sock.connect(sockaddr)
            except FetchError:
                sock.close()
                raise
            except OSError as exc:
                sock.close()
                if self.expired:
                    raise self.too_slow() from exc
                last_error = exc
                continue
            # Belt and braces: the peer is the address that passed the check.
            peer = sock.getpeername()[0]
            if not self.limits.allow_private_hosts and not is_public_address(str(peer)):
                sock.close()
                raise self._private()
            return sock
        if last_error is None:
            raise self._private() if self.refused_private else self._unknown()
        raise FetchError(f"Could not connect to {self.host}.", "connect") from last_error

    def _private(self) -> FetchError:
        return FetchError(
            f"{self.host} is a private or local address; the tool fetches only public URLs.",
            "private",
        )

    def _unknown(self) -> FetchError:
        return FetchError(f"The server {self.host} cannot be found.", "dns")

    def _resolve(self, host: str, port: int) -> list[Any]:
        """``getaddrinfo`` within the deadline (a resolver that hangs does not hold the worker:
        the lookup runs in a daemon thread that is left to finish on its own)."""
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            pass
        else:  # a literal address: nothing to look up
            return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found: dict[str, Any] = {}

        def lookup() -> None:
            try:
                found["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as exc:
                found["error"] = exc

        worker = threading.Thread(target=lookup, name="netguard-resolve", daemon=True)
        worker.start()
        worker.join(self.remaining())
        if worker.is_alive():
            self.expired = True
            raise self.too_slow()
        if "infos" not in found:
            raise self._unknown()
        return list(found["infos"])


def _attempt() -> _Attempt:
    attempt = _CURRENT.get()
    if attempt is None:
        raise RuntimeError("guarded connections are opened only through netguard.fetch")
    return attempt


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _attempt().connect(self._dns_host, self.port, self.socket_options)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _attempt().connect(self._dns_host, self.port, self.socket_options)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    """requests' adapter whose pools open guarded connections, and never retry."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


def _read(response: requests.Response, attempt: _Attempt) -> bytes:
    limits = attempt.limits
    too_big = FetchError(
        f"The answer from {attempt.host} is larger than {size_text(limits.max_bytes)} (too large).",
        "large",
    )
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > limits.max_bytes:
                raise too_big
            attempt.remaining()  # raises "too slow" once the deadline has passed
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise attempt.failure(exc) from exc
    if attempt.expired:  # the watchdog cut the connection: what was read is not the answer
        raise attempt.too_slow()
    return b"".join(chunks)
