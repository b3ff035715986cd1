"""Who may see which statements: administrators their whole platform, course staff their own
course. Nothing crosses platforms."""

from __future__ import annotations

from plugin.access import Refusal, Viewer
from plugin.ids import parse_id
from plugin.xapi.outbox import Filters, Scope


def viewer_scope(viewer: Viewer) -> Scope:
    """Administrators: their platform. Staff: their course. Others: 403."""
    if viewer.admin:
        return Scope(platform_id=viewer.platform_id)
    viewer.require_staff()
    return Scope(platform_id=viewer.platform_id, context_id=viewer.course())


def may_resend(viewer: Viewer) -> bool:
    """Whether the viewer may see refused statements and send them again (administrators)."""
    return viewer.admin


def admin_scope(viewer: Viewer) -> Scope:
    """Administrators' acts (sending refused statements again): their platform. Others: 403."""
    viewer.require_admin()  # the rule of may_resend, as a refusal
    return Scope(platform_id=viewer.platform_id)


def parse_filters(args, scope: Scope) -> Filters:
    """Filters from query parameters; a staff member's course filter is always their course."""
    try:
        course = parse_id(args.get("course"))
    except ValueError as exc:
        raise Refusal(
            400, "The course filter must be a course number.", title="Unknown course"
        ) from exc
    if scope.context_id is not None:
        course = None  # the scope already restricts to the staff member's course
    state = (args.get("state") or "").strip() or None
    from plugin.xapi.models import STATES

    if state is not None and state not in STATES:
        raise Refusal(400, f"State must be one of {', '.join(STATES)}.", title="Unknown state")
    return Filters(
        person=(args.get("person") or "").strip() or None,
        verb=(args.get("verb") or "").strip() or None,
        competency=(args.get("competency") or "").strip() or None,
        course=course,
        state=state,
    )
