"""The LTI side's background work (plugin/jobs.py): course roster syncs and the purge of what
launches leave behind.

- ``lti.roster_sync`` (payload ``{"context_id": …}``): fetch a course's roster (NRPS). Queued by a
  launch that carries the NRPS claim when the course's roster was never synced or is older than
  ``ROSTER_MAX_AGE`` (:func:`queue_roster_sync_if_stale`), and by staff's *Refresh class list*
  button; one per course at a time (its dedupe key). A platform that fails is tried again later.
- ``lti.purge`` (every ``PURGE_INTERVAL_MINUTES``, 10): deletes OIDC states older than their
  maximum age plus a margin (used or not), launch sessions that expired more than the margin ago,
  and expired cached access tokens (:func:`purge_expired`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import delete
from sqlalchemy.orm import Session

from plugin import jobs
from plugin.access import Refusal, Viewer
from plugin.config import Settings
from plugin.db import utcnow
from plugin.lti.models import AccessTokenCache, Context, LaunchSession, OidcState

ROSTER_SYNC = "lti.roster_sync"
PURGE = "lti.purge"
PURGE_MARGIN = timedelta(minutes=5)
DEFAULT_PURGE_MINUTES = 10.0


def roster_job_key(context_id: int) -> str:
    return f"{ROSTER_SYNC}:{context_id}"


def roster_is_stale(context: Context, max_age_seconds: int, now: datetime | None = None) -> bool:
    """The course's roster was never synced, or longer ago than ``max_age_seconds``."""
    if context.roster_synced_at is None:
        return True
    return (now or utcnow()) - context.roster_synced_at > timedelta(seconds=max_age_seconds)


def queue_roster_sync(session: Session, context: Context) -> int | None:
    """Queue a roster sync of the course in the caller's transaction. Returns the new job's id,
    or None when one is already queued or running for this course."""
    return jobs.enqueue(
        session,
        ROSTER_SYNC,
        {"context_id": context.id, "platform_id": context.platform_id},
        dedupe_key=roster_job_key(context.id),
    )


def request_roster_sync(session: Session, viewer: Viewer) -> int | None:
    """Staff ask for a fresh class list of their course (*Refresh class list*): a roster sync is
    queued (at most one per course; None when one already is). Refused for others, and for a
    course whose platform did not offer its class list (NRPS)."""
    context = session.get(Context, viewer.context_id) if viewer.context_id is not None else None
    if not viewer.staff or context is None:
        raise Refusal(
            403,
            "Ask your instructor to refresh the class list.",
            title="Only course staff can refresh the roster",
        )
    if not context.nrps_url:
        raise Refusal(
            400,
            "This course's platform did not offer its class list to Learning Commons (the Names "
            "and Role Provisioning Service).",
            title="The class list cannot be refreshed",
            hint="Allow the tool to read course memberships in the LMS's registration of the tool.",
        )
    return queue_roster_sync(session, context)


def queue_roster_sync_if_stale(
    session: Session, settings: Settings, context: Context, now: datetime | None = None
) -> bool:
    """For a launch: queue a roster sync when the course offered NRPS and its roster is missing or
    older than ``settings.roster_max_age`` (the worker fetches it, never the request). Returns
    whether a new job was queued."""
    if not context.nrps_url or not roster_is_stale(context, settings.roster_max_age, now):
        return False
    return queue_roster_sync(session, context) is not None


def _run_roster_sync(
    session: Session, payload: dict[str, Any], config: Mapping[str, Any]
) -> str | None:
    from plugin.lti import advantage  # advantage → identity → this module: import late

    context = session.get(Context, int(payload.get("context_id") or 0))
    if context is None or context.platform_id != payload.get("platform_id"):
        return "the course is gone; nothing to sync"
    if not context.nrps_url:
        raise jobs.GiveUp("The course's platform no longer offers the roster service (NRPS).")
    try:
        counts = advantage.sync_roster(session, context)
    except advantage.ServiceError as exc:
        raise jobs.JobError(str(exc)) from exc
    return (
        f"{counts['members']} members, {counts['deactivated']} no longer listed, "
        f"{counts['groups']} groups"
    )


def purge_expired(
    session: Session, settings: Settings, now: datetime | None = None
) -> dict[str, int]:
    """Delete OIDC states older than their maximum age plus :data:`PURGE_MARGIN` (used or not),
    launch sessions that expired more than the margin ago, and expired cached access tokens.
    Returns how many rows of each went."""
    now = now or utcnow()
    states = session.execute(
        delete(OidcState)
        .where(
            OidcState.created_at
            < now - timedelta(seconds=settings.oidc_state_max_age) - PURGE_MARGIN
        )
        .execution_options(synchronize_session=False)
    )
    launches = session.execute(
        delete(LaunchSession)
        .where(LaunchSession.expires_at < now - PURGE_MARGIN)
        .execution_options(synchronize_session=False)
    )
    tokens = session.execute(
        delete(AccessTokenCache)
        .where(AccessTokenCache.expires_at < now)
        .execution_options(synchronize_session=False)
    )
    return {
        "oidc_states": states.rowcount or 0,
        "launch_sessions": launches.rowcount or 0,
        "access_tokens": tokens.rowcount or 0,
    }


def _run_purge(session: Session, payload: dict[str, Any], config: Mapping[str, Any]) -> str:
    counts = purge_expired(session, config["COMMONS_SETTINGS"])
    return ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())


def init_app(app: Flask) -> None:
    """Register the roster sync job and the periodic purge."""
    minutes = float(os.environ.get("PURGE_INTERVAL_MINUTES") or DEFAULT_PURGE_MINUTES)
    app.config.setdefault("PURGE_INTERVAL_MINUTES", minutes)
    jobs.register(ROSTER_SYNC, _run_roster_sync)
    jobs.every(float(app.config["PURGE_INTERVAL_MINUTES"]), PURGE, _run_purge)
