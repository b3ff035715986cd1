"""LTI Advantage services the widgets call: NRPS roster sync, AGS line items and scores, and the
Deep Linking response. Access tokens are cached in the database until they expire, so every worker
process shares them."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt
import requests
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.course_groups import CourseGroupsService
from pylti1p3.exception import LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import utcnow
from plugin.lti import claims as C
from plugin.lti import identity, keys
from plugin.lti.models import (
    GROUP_FROM_LMS,
    AccessTokenCache,
    Context,
    LaunchSession,
    LmsGroup,
    LmsGroupMember,
    Membership,
    Placement,
    Platform,
    User,
)
from plugin.lti.toolconf import DbToolConf

HTTP_TIMEOUT = 15


class ServiceError(RuntimeError):
    """A platform service could not be used; the message is safe to show to staff (no URLs, no
    tokens). ``unreachable``: the platform did not answer at all (connection refused, timeout),
    so its other courses will not fare better in the same run."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class DbServiceConnector(ServiceConnector):
    """pylti1p3's connector with timeouts and an access-token cache shared by all workers.

    A cached token the platform rejects with 401 (it expired early, the platform restarted or
    revoked it) is dropped, a new one is fetched, and the call is made once more."""

    def __init__(self, session: Session, platform: Platform) -> None:
        http = requests.Session()
        http.headers["User-Agent"] = "LearningCommons/LTI"
        http.request = _with_timeout(http.request)  # type: ignore[method-assign]
        registration = DbToolConf(session).registration_for(platform, with_key_set=False)
        super().__init__(registration, requests_session=http)
        self._session = session
        self._platform = platform
        self._from_cache: str | None = None  # the cached token the last call used, if any

    def _cache_row(self, scope_key: str) -> AccessTokenCache | None:
        return self._session.scalars(
            select(AccessTokenCache).where(
                AccessTokenCache.platform_id == self._platform.id,
                AccessTokenCache.scope_key == scope_key,
            )
        ).first()

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        row = self._cache_row(scope_key)
        if row and row.expires_at > utcnow() + timedelta(seconds=30):
            self._from_cache = row.access_token
            return row.access_token
        return None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        row = self._cache_row(scope_key)
        expires = utcnow() + timedelta(seconds=max(float(expires_in or 0), 0))
        if row is None:
            row = AccessTokenCache(
                platform_id=self._platform.id,
                scope_key=scope_key,
                access_token=access_token,
                expires_at=expires,
            )
            self._session.add(row)
        else:
            row.access_token = access_token
            row.expires_at = expires
        self._session.flush()

    def _drop_cached_access_token(self, scope_key: str, access_token: str) -> None:
        """Forget a rejected token (not one another worker has put in its place meanwhile)."""
        row = self._cache_row(scope_key)
        if row is not None and row.access_token == access_token:
            self._session.delete(row)
            self._session.flush()

    def make_service_request(self, scopes, url, **kwargs):  # type: ignore[no-untyped-def]
        """pylti1p3's service call; once more with a new token when a cached one gets 401."""
        self._from_cache = None
        try:
            return super().make_service_request(scopes, url, **kwargs)
        except LtiServiceException as exc:
            rejected = self._from_cache
            if rejected is None or _status_of(exc) != 401:
                raise
        self._drop_cached_access_token(self._scope_key(sorted(scopes)), rejected)
        self._from_cache = None
        return super().make_service_request(scopes, url, **kwargs)


def _status_of(exc: Exception) -> int | None:
    return getattr(getattr(exc, "response", None), "status_code", None)


def _with_timeout(request_fn):
    def wrapped(method, url, **kwargs):
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return request_fn(method, url, **kwargs)

    return wrapped


def _service_error(what: str, exc: Exception) -> ServiceError:
    """A staff-readable error for a failed service call: the HTTP status, or what kind of
    network failure it was, never the remote's URLs, body or error text."""
    status = _status_of(exc)
    if status:
        return ServiceError(f"The platform's {what} could not be read (HTTP {status}).")
    if isinstance(exc, requests.Timeout):
        return ServiceError(
            f"The platform's {what} could not be read: the platform did not answer in time.",
            unreachable=True,
        )
    if isinstance(exc, requests.ConnectionError):
        return ServiceError(
            f"The platform's {what} could not be read: the platform could not be reached.",
            unreachable=True,
        )
    if isinstance(exc, requests.RequestException):
        return ServiceError(f"The platform's {what} could not be read: the request failed.")
    return ServiceError(f"The platform's {what} could not be read: its answer was not valid.")


# --- NRPS ----------------------------------------------------------------------------------------


def sync_roster(session: Session, context: Context) -> dict[str, int]:
    """Fetch every page of the course roster (and its groups, where offered) into memberships.

    Members the platform no longer lists become Inactive. Returns counts for the caller to show.
    """
    if not context.nrps_url:
        raise ServiceError(
            "This course's platform did not offer the Names and Role Provisioning Service."
        )
    platform = context.platform
    connector = DbServiceConnector(session, platform)
    nrps = NamesRolesProvisioningService(connector, {"context_memberships_url": context.nrps_url})
    try:
        members = nrps.get_members()
    except (LtiServiceException, requests.RequestException, ValueError) as exc:
        raise _service_error("roster", exc) from exc
    seen: set[int] = set()
    group_links: dict[str, set[int]] = {}
    for listed in members:
        member = identity.clean_claims(dict(listed))
        sub = member.get("user_id")
        if not sub:
            continue
        user = identity.upsert_user(session, platform, str(sub), member)
        status = str(member.get("status") or "Active")
        identity.upsert_membership(
            session, context, user, list(member.get("roles") or []), status=status, source="nrps"
        )
        seen.add(user.id)
        for enrolment in member.get("group_enrollments") or []:
            gid = enrolment.get("group_id") if isinstance(enrolment, dict) else None
            if gid:
                group_links.setdefault(str(gid), set()).add(user.id)
    deactivated = 0
    for membership in session.scalars(
        select(Membership).where(Membership.context_id == context.id)
    ):
        if membership.user_id not in seen and membership.status == "Active":
            membership.status = "Inactive"
            deactivated += 1
    groups = _sync_groups(session, context, connector, group_links)
    context.roster_synced_at = utcnow()
    session.flush()
    return {"members": len(seen), "deactivated": deactivated, "groups": groups}


def _sync_groups(
    session: Session, context: Context, connector: ServiceConnector, links: dict[str, set[int]]
) -> int:
    listed: list[dict[str, Any]] = []
    set_names: dict[str, str] = {}
    if context.groups_url:
        cgs = CourseGroupsService(
            connector,
            {
                "context_groups_url": context.groups_url,
                "context_group_sets_url": context.group_sets_url,
                "scope": [C.GROUPS_SCOPE],
                "service_versions": ["1.0"],
            },
        )
        try:
            listed = identity.clean_claims(list(cgs.get_groups()))
            if context.group_sets_url:
                sets = identity.clean_claims(list(cgs.get_sets()))
                set_names = {str(s["id"]): s.get("name", "") for s in sets}
        except (LtiServiceException, requests.RequestException, ValueError) as exc:
            raise _service_error("course groups", exc) from exc
    names = {str(g["id"]): g for g in listed if g.get("id")}
    for gid in links:
        names.setdefault(gid, {"id": gid, "name": f"Group {gid}"})
    existing = {
        g.group_id: g
        for g in session.scalars(
            select(LmsGroup).where(
                LmsGroup.context_id == context.id, LmsGroup.source == GROUP_FROM_LMS
            )
        )
    }
    for gid, data in names.items():
        group = existing.get(gid)
        if group is None:
            group = LmsGroup(context_id=context.id, group_id=gid, name="")
            session.add(group)
        group.name = str(data.get("name") or f"Group {gid}")[:255]
        set_id = data.get("set_id")
        group.set_id = str(set_id) if set_id else None
        group.set_name = set_names.get(str(set_id)) if set_id else None
        session.flush()
        if gid in links:
            current = {
                m.user_id: m
                for m in session.scalars(
                    select(LmsGroupMember).where(LmsGroupMember.group_id == group.id)
                )
            }
            for user_id in links[gid] - current.keys():
                session.add(LmsGroupMember(group_id=group.id, user_id=user_id))
            for user_id, row in current.items():
                if user_id not in links[gid]:
                    session.delete(row)
    session.flush()
    return len(names)


# --- AGS -----------------------------------------------------------------------------------------


def _ags(
    session: Session, context: Context, placement: Placement | None
) -> AssignmentsGradesService:
    if not context.ags_lineitems_url:
        raise ServiceError("This course's platform did not offer Assignment and Grade Services.")
    data: dict[str, Any] = {
        "scope": context.ags_scopes or [],
        "lineitems": context.ags_lineitems_url,
    }
    if placement is not None and placement.lineitem_url:
        data["lineitem"] = placement.lineitem_url
    return AssignmentsGradesService(DbServiceConnector(session, context.platform), data)


def ensure_lineitem(
    session: Session, placement: Placement, *, label: str, score_maximum: float, tag: str
) -> str:
    """The placement's line item URL: the one deep linking created, or one found/created now."""
    if placement.lineitem_url:
        return placement.lineitem_url
    ags = _ags(session, placement.context, placement)
    wanted = (
        LineItem()
        .set_label(label)
        .set_score_maximum(score_maximum)
        .set_tag(tag)
        .set_resource_id(f"placement-{placement.id}")
        .set_resource_link_id(placement.resource_link_id)
    )
    try:
        item = ags.find_or_create_lineitem(wanted, find_by="tag")
    except (LtiServiceException, requests.RequestException, ValueError) as exc:
        raise _service_error("line items", exc) from exc
    placement.lineitem_url = item.get_id()
    session.flush()
    return placement.lineitem_url  # type: ignore[return-value]


def post_score(
    session: Session,
    placement: Placement,
    user: User,
    *,
    score_given: float,
    score_maximum: float,
    comment: str | None = None,
    activity_progress: str = "Completed",
    grading_progress: str = "FullyGraded",
    when: datetime | None = None,
) -> dict[str, Any]:
    """Post one learner's score to the placement's line item."""
    if score_given < 0 or score_given > score_maximum:
        raise ValueError("score_given must be between 0 and score_maximum")
    lineitem_url = ensure_lineitem(
        session,
        placement,
        label=placement.title or "Participation",
        score_maximum=score_maximum,
        tag="participation",
    )
    ags = _ags(session, placement.context, placement)
    grade = (
        Grade()
        .set_score_given(score_given)
        .set_score_maximum(score_maximum)
        .set_user_id(user.sub)
        .set_activity_progress(activity_progress)
        .set_grading_progress(grading_progress)
        .set_timestamp((when or utcnow()).isoformat().replace("+00:00", "Z"))
    )
    if comment:
        grade.set_comment(comment)
    try:
        response = ags.put_grade(grade, LineItem({"id": lineitem_url}))
    except (LtiServiceException, requests.RequestException, ValueError) as exc:
        raise _service_error("grade book", exc) from exc
    return {"lineitem": lineitem_url, "status": "posted", "response": response.get("body")}


# --- Deep Linking --------------------------------------------------------------------------------


def deep_link_response_jwt(
    session: Session, launch: LaunchSession, content_items: list[dict[str, Any]]
) -> tuple[str, str]:
    """Sign the LtiDeepLinkingResponse for a deep linking launch. Returns (return_url, jwt)."""
    body = launch.claims
    dl = body.get(C.DL_SETTINGS) or {}
    platform = launch.platform
    key = keys.active_key(session)
    now = int(time.time())
    message: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": [platform.issuer],
        "iat": now,
        "exp": now + 600,
        "nonce": "dl-" + uuid.uuid4().hex,
        C.DEPLOYMENT_ID: launch.deployment_id,
        C.MESSAGE_TYPE: "LtiDeepLinkingResponse",
        C.VERSION: "1.3.0",
        C.DL_CONTENT_ITEMS: content_items,
    }
    if dl.get("data") is not None:
        message[C.DL_DATA] = dl["data"]
    token = jwt.encode(message, key.private_key_pem, algorithm="RS256", headers={"kid": key.kid})
    return dl["deep_link_return_url"], token
