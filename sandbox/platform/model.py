"""What the sandbox platform knows, as plain value objects (the course/state model), and the one
error it refuses requests with. The platform hands out deep copies of these; the records at the end
(launch intents, pending deep-linking requests, registration tokens) it keeps to itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.platform.vocabulary import SERVICE_SCOPES

#: Doctors id_token claims: mutate them in place or return replacements.
ClaimsHook = Callable[[dict[str, Any]], dict[str, Any] | None]


class PlatformError(Exception):
    """A request the platform refuses.

    ``error`` is a protocol error code (OIDC/OAuth 2 codes such as ``invalid_request``,
    ``unauthorized_client``, ``invalid_client``, ``invalid_scope``, ``invalid_token``,
    ``insufficient_scope``, RFC 7591 ``invalid_client_metadata``...), ``status`` the HTTP
    status the blueprint answers with.
    """

    def __init__(self, error: str, description: str = "", status: int = 400) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status

    def to_dict(self) -> dict[str, str]:
        """The OAuth-style JSON error body."""
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


@dataclass(frozen=True)
class AuthResponse:
    """The OIDC authentication response: form-post ``fields`` to ``action_url``."""

    action_url: str
    fields: dict[str, str]


@dataclass
class Course:
    """A course offering (an LTI context)."""

    context_id: str
    label: str
    title: str
    sourced_id: str = ""

    def __post_init__(self) -> None:
        if not self.sourced_id:
            self.sourced_id = f"SIS-{self.label}"


@dataclass
class Person:
    """A platform user. ``user_id`` is the stable, opaque LTI ``sub``."""

    user_id: str
    given_name: str
    family_name: str
    email: str
    picture: str | None = None
    locale: str = "en-US"
    sourced_id: str = ""

    def __post_init__(self) -> None:
        if not self.sourced_id:
            self.sourced_id = f"SIS-{self.user_id}"

    @property
    def name(self) -> str:
        """Full display name."""
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def username(self) -> str:
        """Login name (the local part of the e-mail address)."""
        return self.email.split("@", 1)[0]


@dataclass
class Enrollment:
    """A person's membership in a course: LTI role URIs, status and mentees."""

    context_id: str
    user_id: str
    roles: list[str]
    status: str = "Active"
    mentees: list[str] = field(default_factory=list)


@dataclass
class GroupSet:
    """A group set (category) in a course."""

    context_id: str
    set_id: str
    name: str


@dataclass
class Group:
    """A group in a course, optionally belonging to a group set."""

    context_id: str
    group_id: str
    name: str
    set_id: str | None = None
    tag: str | None = None
    members: list[str] = field(default_factory=list)


@dataclass
class ToolRegistration:
    """A tool registered with the platform (one OAuth client)."""

    client_id: str
    name: str
    deployment_ids: tuple[str, ...]
    login_url: str
    redirect_uris: tuple[str, ...]
    target_link_uri: str
    jwks_url: str | None
    jwks: dict[str, Any] | None = None
    deep_link_url: str | None = None
    scopes: frozenset[str] = frozenset(SERVICE_SCOPES)
    custom: dict[str, str] = field(default_factory=dict)
    claims: frozenset[str] | None = None
    registration: dict[str, Any] | None = None


@dataclass
class ResourceLink:
    """A placement of a tool in a course."""

    context_id: str
    resource_link_id: str
    client_id: str
    title: str
    description: str = ""
    url: str | None = None
    custom: dict[str, str] = field(default_factory=dict)


@dataclass
class LineItem:
    """An AGS line item (a gradebook column) owned by one tool."""

    context_id: str
    lineitem_id: str
    client_id: str
    label: str
    score_maximum: float
    resource_link_id: str | None = None
    resource_id: str | None = None
    tag: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    grades_released: bool | None = None


@dataclass
class Score:
    """A score the tool posted (kept verbatim, plus whether it updated the result)."""

    context_id: str
    lineitem_id: str
    client_id: str
    user_id: str
    activity_progress: str
    grading_progress: str
    timestamp: str
    score_given: float | None = None
    score_maximum: float | None = None
    comment: str | None = None
    applied: bool = True
    received_at: float = 0.0
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeepLinkResult:
    """An accepted deep-linking response."""

    client_id: str
    deployment_id: str
    context_id: str
    user_id: str
    content_items: list[dict[str, Any]]
    resource_link_ids: list[str]
    msg: str | None = None
    log: str | None = None
    errormsg: str | None = None
    errorlog: str | None = None


@dataclass
class AccessToken:
    """An OAuth 2 bearer token issued to a tool."""

    token: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class LaunchIntent:
    """Everything needed to rebuild a launch from its ``lti_message_hint``."""

    client_id: str
    deployment_id: str
    user_id: str
    context_id: str
    message_type: str
    login_hint: str
    target_link_uri: str
    resource_link_id: str | None
    custom: dict[str, str]
    dl_settings: dict[str, Any] | None
    created: float


@dataclass
class PendingDeepLink:
    """A deep-linking request awaiting the tool's response (keyed by its ``data``)."""

    client_id: str
    deployment_id: str
    context_id: str
    user_id: str
    settings: dict[str, Any]
    nonce: str
    created: float


@dataclass
class RegistrationToken:
    """A one-time Dynamic Registration token and the tool registration URL it was made for."""

    tool_registration_url: str
    expires_at: float
    used: bool = False
