"""The sandbox LMS: a spec-exact, in-memory LTI 1.3 *platform* for development and tests.

:class:`SandboxPlatform` implements, from the platform's point of view, one module per service:

* **LTI 1.3 Core** - third-party-initiated OpenID Connect login and the authentication response
  carrying a signed RS256 ``id_token`` (:mod:`~sandbox.platform.oidc`);
* **Deep Linking 2.0** - ``LtiDeepLinkingRequest`` launches and strict validation of the tool's
  ``LtiDeepLinkingResponse`` (:mod:`~sandbox.platform.deep_linking`);
* **LTI Advantage security framework** - OAuth 2 ``client_credentials`` grant authenticated with a
  JWT client assertion (:mod:`~sandbox.platform.token`);
* **Names and Role Provisioning Services 2.0**, with the Course Groups ``group_enrollments``
  extension, and **Course Groups 1.0** (:mod:`~sandbox.platform.nrps`);
* **Assignment and Grade Services 2.0** - line items, scores and results
  (:mod:`~sandbox.platform.ags`);
* **Dynamic Registration 1.0** - OpenID configuration, one-time registration tokens and client
  registration (:mod:`~sandbox.platform.registration`);

on the course model (:mod:`~sandbox.platform.course`) and the pieces they share: the state and its
URLs (:mod:`~sandbox.platform.base`), keys (:mod:`~sandbox.platform.keys`) and signing
(:mod:`~sandbox.platform.signing`).

Nothing in :mod:`sandbox.platform` imports Flask; :mod:`sandbox.web` exposes the platform over
HTTP. The ``issuer`` given to the constructor is also the base URL of those HTTP endpoints (e.g.
``http://127.0.0.1:5001/sandbox``), so every URL the platform hands out (token endpoint, service
endpoints, deep-link return URL...) is ``issuer + <path>``.
"""

from __future__ import annotations

from typing import Any

import requests

from sandbox.platform.ags import GradeServices
from sandbox.platform.course import CourseModel
from sandbox.platform.deep_linking import DeepLinking
from sandbox.platform.demo import seed_demo_course
from sandbox.platform.keys import Keys
from sandbox.platform.nrps import RosterServices
from sandbox.platform.oidc import Launch
from sandbox.platform.registration import DynamicRegistration
from sandbox.platform.signing import Signing
from sandbox.platform.token import TokenEndpoint


class SandboxPlatform(
    CourseModel,
    Launch,
    DeepLinking,
    TokenEndpoint,
    RosterServices,
    GradeServices,
    DynamicRegistration,
    Signing,
    Keys,
):
    """An in-memory LTI 1.3 / LTI Advantage platform.

    :param issuer: the platform's ``iss`` and the base URL of its HTTP endpoints.
    :param private_key_pem: RSA private key (PEM); a 2048-bit key is generated if ``None``.
    :param name: platform name shown to tools (``tool_platform.name``).
    :param page_size: default page size for NRPS, groups, line items and results, small so
        that paging is exercised.
    :param allow_extra_credit: accept scores whose ``scoreGiven`` exceeds ``scoreMaximum``.
    :param http: ``requests`` session used to fetch tool key sets.
    """

    def __init__(
        self,
        issuer: str,
        private_key_pem: bytes | None = None,
        *,
        name: str = "Sandbox LMS",
        page_size: int = 3,
        allow_extra_credit: bool = False,
        http: requests.Session | None = None,
    ) -> None:
        super().__init__(
            issuer,
            name=name,
            page_size=page_size,
            allow_extra_credit=allow_extra_credit,
            http=http,
        )
        self.rotate_key(private_key_pem, keep_old=False)

    @classmethod
    def demo(
        cls, issuer: str, private_key_pem: bytes | None = None, **kwargs: Any
    ) -> SandboxPlatform:
        """A platform seeded with the demo course (:func:`~sandbox.platform.demo.seed_demo_course`:
        "Leadership Foundations", its people and two cohorts)."""
        platform = cls(issuer, private_key_pem, **kwargs)
        seed_demo_course(platform)
        return platform
