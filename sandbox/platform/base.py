"""The state every service of the sandbox platform works on, the URLs it hands out, and the paging
the services share.

:class:`PlatformState` holds everything in memory behind one re-entrant lock, so that a threaded
WSGI server may call into one platform concurrently; network I/O (fetching a tool's key set) always
happens outside the lock. The service mixins (keys, signing, course, OIDC launch, deep linking,
token, NRPS, AGS, registration) subclass it and are combined into
:class:`sandbox.platform.core.SandboxPlatform`; they call each other's methods through ``self``.
"""

from __future__ import annotations

import copy
import itertools
import math
import threading
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.platform.checks import add_query, is_http_url
from sandbox.platform.model import (
    AccessToken,
    ClaimsHook,
    Course,
    DeepLinkResult,
    Enrollment,
    Group,
    GroupSet,
    LaunchIntent,
    LineItem,
    PendingDeepLink,
    Person,
    PlatformError,
    RegistrationToken,
    ResourceLink,
    Score,
    ToolRegistration,
)


class PlatformState:
    """The platform's data and URLs. ``issuer`` is also the base URL of its HTTP endpoints
    (e.g. ``http://127.0.0.1:5001/sandbox``): every URL it hands out is ``issuer + <path>``.

    :param name: platform name shown to tools (``tool_platform.name``).
    :param page_size: default page size for NRPS, groups, line items and results, small so
        that paging is exercised.
    :param allow_extra_credit: accept scores whose ``scoreGiven`` exceeds ``scoreMaximum``.
    :param http: ``requests`` session used to fetch tool key sets.
    """

    def __init__(
        self,
        issuer: str,
        *,
        name: str = "Sandbox LMS",
        page_size: int = 3,
        allow_extra_credit: bool = False,
        http: requests.Session | None = None,
    ) -> None:
        if not is_http_url(issuer) or urlsplit(issuer).query:
            raise ValueError("issuer must be an http(s) URL without query or fragment")
        self.issuer = issuer.rstrip("/")
        self.name = name
        self.page_size = page_size
        self.allow_extra_credit = allow_extra_credit
        self.guid = str(uuid.uuid5(uuid.NAMESPACE_URL, self.issuer))
        self._http = http or requests.Session()
        self._lock = threading.RLock()
        # keys (keys.py): the signing key, the published key set, per-registration keys
        self._signing_key: rsa.RSAPrivateKey
        self.private_key_pem: bytes = b""
        self.kid: str = ""
        self._published_keys: dict[str, rsa.RSAPublicKey] = {}
        self._client_keys: dict[str, tuple[rsa.RSAPrivateKey, bytes, str]] = {}
        # the course model (course.py) and what AGS adds to it (ags.py)
        self._courses: dict[str, Course] = {}
        self._people: dict[str, Person] = {}
        self._enrollments: dict[tuple[str, str], Enrollment] = {}
        self._group_sets: dict[tuple[str, str], GroupSet] = {}
        self._groups: dict[tuple[str, str], Group] = {}
        self._tools: dict[str, ToolRegistration] = {}
        self._links: dict[tuple[str, str], ResourceLink] = {}
        self._line_items: dict[tuple[str, str], LineItem] = {}
        self._lineitem_ids = itertools.count(1)
        self._scores: list[Score] = []
        # launches (oidc.py) and deep linking (deep_linking.py)
        self._intents: dict[str, LaunchIntent] = {}
        self._tamper: tuple[ClaimsHook | None, dict[str, Any]] | None = None
        self._pending_deep_links: dict[str, PendingDeepLink] = {}
        self.deep_link_results: list[DeepLinkResult] = []
        # tools' own JWTs (signing.py), the token endpoint (token.py), registration
        self._jwks_cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._access_tokens: dict[str, AccessToken] = {}
        self._used_jtis: dict[tuple[str, str], float] = {}
        self._suspended_tools: set[str] = set()
        self._registration_tokens: dict[str, RegistrationToken] = {}

    # ---------------------------------------------------------------- URLs

    def url(self, path: str) -> str:
        """Absolute URL of a platform endpoint."""
        return self.issuer + path

    @property
    def auth_url(self) -> str:
        """OIDC authorization endpoint."""
        return self.url("/auth")

    @property
    def token_url(self) -> str:
        """OAuth 2 token endpoint."""
        return self.url("/token")

    @property
    def jwks_url(self) -> str:
        """Public JWKS URL."""
        return self.url("/jwks")

    @property
    def registration_url(self) -> str:
        """Dynamic Registration endpoint."""
        return self.url("/register")

    @property
    def openid_configuration_url(self) -> str:
        """OpenID configuration document URL."""
        return self.url("/.well-known/openid-configuration")

    @property
    def deep_link_return_url(self) -> str:
        """Where tools post deep-linking responses."""
        return self.url("/deep_link_return")

    def return_url(self, context_id: str) -> str:
        """``launch_presentation.return_url`` for a course."""
        return add_query(self.url("/return"), {"context_id": context_id})

    def _course_url(self, context_id: str, tail: str) -> str:
        return self.url(f"/courses/{quote(context_id, safe='')}{tail}")

    def memberships_url(self, context_id: str) -> str:
        """NRPS ``context_memberships_url``."""
        return self._course_url(context_id, "/memberships")

    def groups_url(self, context_id: str) -> str:
        """Course Groups ``context_groups_url``."""
        return self._course_url(context_id, "/groups")

    def group_sets_url(self, context_id: str) -> str:
        """Course Groups ``context_group_sets_url``."""
        return self._course_url(context_id, "/group_sets")

    def lineitems_url(self, context_id: str) -> str:
        """AGS line items container URL."""
        return self._course_url(context_id, "/lineitems")

    def lineitem_url(self, context_id: str, lineitem_id: str) -> str:
        """AGS line item URL (also the line item's ``id``)."""
        return self._course_url(context_id, f"/lineitems/{quote(lineitem_id, safe='')}")

    def avatar_url(self, user_id: str) -> str:
        """Generated avatar picture of a person."""
        return self.url(f"/avatars/{quote(user_id, safe='')}.svg")

    # ---------------------------------------------------------------- shared by the services

    def _page(
        self,
        items: list[Any],
        base_url: str,
        limit: int | None,
        page: int,
        params: Mapping[str, str | None],
    ) -> tuple[list[Any], str | None, str]:
        """Slice ``items``; return the page, the ``Link`` header value and this page's URL."""
        if limit is not None and limit < 1:
            raise PlatformError("invalid_request", "limit must be a positive integer")
        if page < 1:
            raise PlatformError("invalid_request", "page must be a positive integer")
        size = limit or self.page_size
        start = (page - 1) * size
        kept = {k: v for k, v in params.items() if v is not None}

        def page_url(number: int) -> str:
            return add_query(base_url, {**kept, "limit": str(size), "page": str(number)})

        links = []
        if start + size < len(items):
            links.append(f'<{page_url(page + 1)}>; rel="next"')
        if page > 1 or links:
            last = max(1, math.ceil(len(items) / size))
            links.append(f'<{page_url(1)}>; rel="first"')
            links.append(f'<{page_url(last)}>; rel="last"')
        current = page_url(page) if (limit or page > 1) else add_query(base_url, kept)
        return items[start : start + size], (", ".join(links) or None), current

    def _require_course(self, context_id: str) -> Course:
        with self._lock:
            course = self._courses.get(context_id)
        if course is None:
            raise PlatformError("not_found", f"unknown context {context_id!r}", 404)
        return copy.deepcopy(course)
