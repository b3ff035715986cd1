"""Users, contexts, memberships and placements as launches and rosters describe them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin import widgets
from plugin.config import Settings
from plugin.db import utcnow
from plugin.lti import claims as C
from plugin.lti.models import Context, LaunchSession, Membership, Placement, Platform, User

PROFILE_FIELDS = ("name", "given_name", "family_name", "email", "picture")
_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """``value`` as both databases can store it: NUL characters (PostgreSQL text cannot hold
    them) are dropped and lone UTF-16 surrogates (which no encoding can write, and which a JSON
    ``\\ud800`` escape can smuggle in) become U+FFFD. Every string taken from a claim or a
    roster goes through here before it is stored."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return _SURROGATES.sub("\ufffd", value)


def clean_claims(value: Any) -> Any:
    """A JSON value (claims, a roster member) with every string in it, keys included, cleaned by
    :func:`clean_text`: what the launch session stores can carry nothing the database refuses."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_claims(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_claims(v) for v in value]
    return value


def _fits(column: Any, value: str) -> str:
    """``value`` cut to the column's length (display text only; ids are never cut)."""
    return value[: column.type.length]


def upsert_user(session: Session, platform: Platform, sub: str, profile: dict[str, Any]) -> User:
    """Find or create the registration's user ``sub``; profile fields change only when the
    platform sends them. Users are keyed by (platform, sub): see :class:`User`."""
    sub = clean_text(sub)
    user = session.scalars(
        select(User).where(User.platform_id == platform.id, User.sub == sub)
    ).first()
    if user is None:
        user = User(platform_id=platform.id, issuer=platform.issuer, sub=sub)
        session.add(user)
    for field in PROFILE_FIELDS:
        value = profile.get(field)
        text = clean_text(value).strip() if isinstance(value, str) else ""
        if text:
            setattr(user, field, _fits(getattr(User, field), text))
    session.flush()
    return user


def upsert_context(
    session: Session, platform: Platform, context_claim: dict[str, Any], deployment_id: str | None
) -> Context:
    """Find or create the registration's course ``context_claim["id"]`` (keyed by (platform,
    context id): see :class:`Context`) and record its label and title when sent."""
    context_id = clean_text(str(context_claim["id"]))
    ctx = session.scalars(
        select(Context).where(Context.platform_id == platform.id, Context.context_id == context_id)
    ).first()
    if ctx is None:
        ctx = Context(platform_id=platform.id, issuer=platform.issuer, context_id=context_id)
        session.add(ctx)
    if context_claim.get("label"):
        ctx.label = _fits(Context.label, clean_text(str(context_claim["label"])))
    if context_claim.get("title"):
        ctx.title = _fits(Context.title, clean_text(str(context_claim["title"])))
    if deployment_id:
        ctx.deployment_id = deployment_id
    session.flush()
    return ctx


def upsert_membership(
    session: Session,
    context: Context,
    user: User,
    roles: list[str],
    *,
    status: str = "Active",
    source: str = "launch",
    mentor_scope: list[str] | None = None,
) -> Membership:
    membership = session.scalars(
        select(Membership).where(Membership.context_id == context.id, Membership.user_id == user.id)
    ).first()
    if membership is None:
        membership = Membership(context_id=context.id, user_id=user.id)
        session.add(membership)
    membership.roles = list(roles)
    membership.status = status
    membership.source = source
    if mentor_scope is not None:
        membership.mentor_scope = list(mentor_scope)
    session.flush()
    return membership


def widget_from_custom(custom: dict[str, Any]) -> str | None:
    """The widget a link's ``widget`` custom parameter names, when it is a declared one."""
    name = custom.get("widget") if isinstance(custom, dict) else None
    return name if isinstance(name, str) and widgets.get(name) is not None else None


def upsert_placement(
    session: Session,
    context: Context,
    resource_link: dict[str, Any],
    custom: dict[str, Any],
    lineitem_url: Any,
) -> Placement:
    rlid = clean_text(str(resource_link["id"]))
    placement = session.scalars(
        select(Placement).where(
            Placement.context_id == context.id, Placement.resource_link_id == rlid
        )
    ).first()
    if placement is None:
        placement = Placement(context_id=context.id, resource_link_id=rlid, settings={})
        session.add(placement)
    if resource_link.get("title"):
        placement.title = _fits(Placement.title, clean_text(str(resource_link["title"])))
    widget = widget_from_custom(custom)
    if widget and not placement.widget:
        placement.widget = widget
        placement.settings = {
            k[len("setting_") :]: v
            for k, v in custom.items()
            if isinstance(k, str) and k.startswith("setting_")
        }
    lineitem_url = _url(Placement.lineitem_url, lineitem_url)
    if lineitem_url:
        placement.lineitem_url = lineitem_url
    session.flush()
    return placement


def record_launch(
    session: Session, settings: Settings, platform: Platform, body: dict[str, Any]
) -> LaunchSession:
    """Everything a validated launch tells us, and the launch session its token points to.

    The claims are cleaned first (:func:`clean_claims`), so what is stored, the claims JSON
    included, holds nothing the database refuses."""
    body = clean_claims(body)
    user = upsert_user(session, platform, str(body["sub"]), body)
    roles = [r for r in body.get(C.ROLES, []) if isinstance(r, str)]
    deployment_id = str(body.get(C.DEPLOYMENT_ID))
    context = placement = None
    context_claim = body.get(C.CONTEXT)
    if isinstance(context_claim, dict) and context_claim.get("id"):
        context = upsert_context(session, platform, context_claim, deployment_id)
        _record_service_endpoints(context, body)
        # The course's other members are known only from its roster: fetch it in the background
        # when it is missing or old (never inside this request).
        from plugin.lti import tasks

        tasks.queue_roster_sync_if_stale(session, settings, context)
        scope = body.get(C.ROLE_SCOPE_MENTOR)
        upsert_membership(
            session,
            context,
            user,
            roles,
            mentor_scope=[str(s) for s in scope] if isinstance(scope, list) else None,
        )
        resource_link = body.get(C.RESOURCE_LINK)
        if isinstance(resource_link, dict) and resource_link.get("id"):
            ags = body.get(C.AGS) if isinstance(body.get(C.AGS), dict) else {}
            custom = body.get(C.CUSTOM) if isinstance(body.get(C.CUSTOM), dict) else {}
            placement = upsert_placement(
                session, context, resource_link, custom, ags.get("lineitem")
            )
    now = utcnow()
    launch = LaunchSession(
        platform_id=platform.id,
        deployment_id=deployment_id,
        user_id=user.id,
        context_id=context.id if context else None,
        placement_id=placement.id if placement else None,
        message_type=str(body.get(C.MESSAGE_TYPE)),
        roles=roles,
        claims=body,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.session_token_max_age),
    )
    session.add(launch)
    session.flush()
    if placement is not None and context is not None:
        _publish_launched(session, platform, user, context, placement, launch)
    return launch


def _publish_launched(
    session: Session,
    platform: Platform,
    user: User,
    context: Context,
    placement: Placement,
    launch: LaunchSession,
) -> None:
    """A resource-link launch is an act ("launched" the placement): recorded like any other, in
    the launch's own transaction."""
    from plugin import events

    events.publish(
        session,
        events.DomainEvent(
            kind=events.LAUNCHED,
            identity=f"launch:{launch.id}",
            occurred_at=launch.created_at,
            platform_id=platform.id,
            actor_user_id=user.id,
            context_id=context.id,
            placement_id=placement.id,
            object=events.ActivityRef(
                kind="placement",
                key=str(placement.id),
                name=placement.title or "Learning Commons",
                description=f"{placement.widget or 'Learning Commons'} in {context.display_title}",
            ),
        ),
    )


def _url(column: Any, value: Any) -> str | None:
    """A service URL from a claim, if it is a string that fits ``column`` (a cut URL is wrong,
    so a longer one is not recorded)."""
    if isinstance(value, str) and value and len(value) <= column.type.length:
        return value
    return None


def _record_service_endpoints(context: Context, body: dict[str, Any]) -> None:
    nrps = body.get(C.NRPS)
    if isinstance(nrps, dict):
        context.nrps_url = _url(Context.nrps_url, nrps.get("context_memberships_url")) or (
            context.nrps_url
        )
    groups = body.get(C.GROUPS)
    if isinstance(groups, dict):
        context.groups_url = (
            _url(Context.groups_url, groups.get("context_groups_url")) or context.groups_url
        )
        context.group_sets_url = (
            _url(Context.group_sets_url, groups.get("context_group_sets_url"))
            or context.group_sets_url
        )
    ags = body.get(C.AGS)
    if isinstance(ags, dict):
        context.ags_lineitems_url = (
            _url(Context.ags_lineitems_url, ags.get("lineitems")) or context.ags_lineitems_url
        )
        if isinstance(ags.get("scope"), list):
            context.ags_scopes = [s for s in ags["scope"] if isinstance(s, str)]
