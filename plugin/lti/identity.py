"""Users, contexts, memberships and placements as launches and rosters describe them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.config import Settings
from plugin.db import utcnow
from plugin.lti import claims as C
from plugin.lti.models import Context, LaunchSession, Membership, Placement, Platform, User

PROFILE_FIELDS = ("name", "given_name", "family_name", "email", "picture")
WIDGETS = ("board", "mentoring", "plan")


def upsert_user(session: Session, issuer: str, sub: str, profile: dict[str, Any]) -> User:
    """Find or create the user; profile fields change only when the platform sends them."""
    user = session.scalars(select(User).where(User.issuer == issuer, User.sub == sub)).first()
    if user is None:
        user = User(issuer=issuer, sub=sub)
        session.add(user)
    for field in PROFILE_FIELDS:
        value = profile.get(field)
        if isinstance(value, str) and value.strip():
            setattr(user, field, value.strip()[:1000])
    session.flush()
    return user


def upsert_context(
    session: Session, platform: Platform, context_claim: dict[str, Any], deployment_id: str | None
) -> Context:
    context_id = str(context_claim["id"])
    ctx = session.scalars(
        select(Context).where(Context.issuer == platform.issuer, Context.context_id == context_id)
    ).first()
    if ctx is None:
        ctx = Context(platform_id=platform.id, issuer=platform.issuer, context_id=context_id)
        session.add(ctx)
    if context_claim.get("label"):
        ctx.label = str(context_claim["label"])[:255]
    if context_claim.get("title"):
        ctx.title = str(context_claim["title"])[:500]
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
    widget = custom.get("widget") if isinstance(custom, dict) else None
    return widget if widget in WIDGETS else None


def upsert_placement(
    session: Session,
    context: Context,
    resource_link: dict[str, Any],
    custom: dict[str, Any],
    lineitem_url: str | None,
) -> Placement:
    rlid = str(resource_link["id"])
    placement = session.scalars(
        select(Placement).where(
            Placement.context_id == context.id, Placement.resource_link_id == rlid
        )
    ).first()
    if placement is None:
        placement = Placement(context_id=context.id, resource_link_id=rlid, settings={})
        session.add(placement)
    if resource_link.get("title"):
        placement.title = str(resource_link["title"])[:500]
    widget = widget_from_custom(custom)
    if widget and not placement.widget:
        placement.widget = widget
        placement.settings = {
            k[len("setting_") :]: v
            for k, v in custom.items()
            if isinstance(k, str) and k.startswith("setting_")
        }
    if lineitem_url:
        placement.lineitem_url = lineitem_url
    session.flush()
    return placement


def record_launch(
    session: Session, settings: Settings, platform: Platform, body: dict[str, Any]
) -> LaunchSession:
    """Everything a validated launch tells us, and the launch session its token points to."""
    user = upsert_user(session, platform.issuer, str(body["sub"]), body)
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


def _record_service_endpoints(context: Context, body: dict[str, Any]) -> None:
    nrps = body.get(C.NRPS)
    if isinstance(nrps, dict) and nrps.get("context_memberships_url"):
        context.nrps_url = nrps["context_memberships_url"]
    groups = body.get(C.GROUPS)
    if isinstance(groups, dict):
        context.groups_url = groups.get("context_groups_url") or context.groups_url
        context.group_sets_url = groups.get("context_group_sets_url") or context.group_sets_url
    ags = body.get(C.AGS)
    if isinstance(ags, dict):
        if ags.get("lineitems"):
            context.ags_lineitems_url = ags["lineitems"]
        if isinstance(ags.get("scope"), list):
            context.ags_scopes = [s for s in ags["scope"] if isinstance(s, str)]
