"""The one place views ask "may this person do this?". Views call these; never ad-hoc role checks."""

from __future__ import annotations

from plugin.web import Current, WebError


def require_staff(cur: Current) -> None:
    if not cur.perms.staff:
        raise WebError(
            403,
            "Only course staff can do this",
            "This needs the Instructor, Teaching Assistant or Content Developer role.",
        )


def require_admin(cur: Current) -> None:
    """Tool administrator for the launching platform (institution/system Administrator role)."""
    if not cur.perms.admin:
        raise WebError(
            403, "Only administrators can do this", "This needs the platform's Administrator role."
        )


def require_context(cur: Current) -> int:
    if cur.context is None:
        raise WebError(400, "Open this from a course", "This page belongs to a course.")
    return cur.context.id
