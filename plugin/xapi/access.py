"""Who may see which statements: administrators their whole platform, course staff their own
course. Nothing crosses platforms."""

from __future__ import annotations

from plugin import policy
from plugin.ids import parse_id
from plugin.web import Current, WebError
from plugin.xapi.outbox import Filters, Scope


def viewer_scope(cur: Current) -> Scope:
    """Administrators: the launching platform. Staff: the launching course. Others: 403."""
    if cur.perms.admin:
        return Scope(platform_id=cur.platform.id)
    policy.require_staff(cur)
    course = policy.require_context(cur)
    return Scope(platform_id=cur.platform.id, context_id=course)


def parse_filters(args, scope: Scope) -> Filters:
    """Filters from query parameters; a staff member's course filter is always their course."""
    try:
        course = parse_id(args.get("course"))
    except ValueError as exc:
        raise WebError(400, "Unknown course", "The course filter must be a course number.") from exc
    if scope.context_id is not None:
        course = None  # the scope already restricts to the staff member's course
    state = (args.get("state") or "").strip() or None
    from plugin.xapi.models import STATES

    if state is not None and state not in STATES:
        raise WebError(400, "Unknown state", f"State must be one of {', '.join(STATES)}.")
    return Filters(
        person=(args.get("person") or "").strip() or None,
        verb=(args.get("verb") or "").strip() or None,
        competency=(args.get("competency") or "").strip() or None,
        course=course,
        state=state,
    )
