"""Who is asking, and the one way to say no: the access layer every widget uses.

The rule (docs/architecture.md, "Access"):

- **Services decide permissions.** A service function takes a SQLAlchemy session and a
  :class:`Viewer` and checks, before it changes anything, whether that viewer may do what is
  asked; when not, it raises :class:`Refusal`. Views and API endpoints never look at roles: they
  build the viewer from the launch (``plugin.web.course_viewer`` / ``plugin.web.launch_viewer``),
  call services and render what comes back.
- **Other courses' and platforms' rows are "not found"** (:func:`not_found`), never "forbidden", so
  an id from elsewhere tells nothing about what exists.
- **One refusal type.** Every refusal, whatever package raises it, is a :class:`Refusal` (or a
  subclass) carrying an HTTP-like status and a message written for the person. The app turns it
  into a readable page inside the iframe, or the one JSON error shape under ``/api``, in one error
  handler (``plugin._register_errors``); no endpoint catches and translates refusals itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.lti.models import (
    GROUP_FROM_LMS,
    GROUP_MADE_IN_TOOL,
    Context,
    LmsGroup,
    LmsGroupMember,
    Membership,
)
from plugin.lti.roles import Permissions, permissions

#: the page title a refusal gets when it names none
TITLES = {
    400: "Please check what you wrote",
    401: "Please open this from your course",
    403: "You cannot do this",
    404: "Not found",
    409: "This is not possible right now",
    413: "This is too long",
    422: "Please check what you wrote",
    429: "Please slow down",
}


class Refusal(Exception):
    """A refused request: ``status`` is the HTTP status it answers with, ``message`` says why in
    words for the person, ``title`` heads the page (a default per status otherwise) and ``hint``
    says what to do next."""

    def __init__(self, status: int, message: str, *, title: str | None = None, hint: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title or TITLES.get(status, "Not possible")
        self.hint = hint


def not_found(what: str = "This") -> Refusal:
    """The refusal for a row that does not exist or is not the viewer's to see."""
    return Refusal(404, f"{what} does not exist or is not in this course.")


@dataclass(frozen=True)
class Viewer:
    """One person as the services see them: on one platform, in one course (``context_id``; None
    for a launch outside a course), with the launch's permissions and their groups there."""

    user_id: int
    platform_id: int
    context_id: int | None
    perms: Permissions
    group_ids: frozenset[int] = frozenset()  # every group of the course they are in
    made_group_ids: frozenset[int] = frozenset()  # those of them made by staff in the tool

    @property
    def staff(self) -> bool:
        """Instructor, teaching assistant, content developer or administrator."""
        return self.perms.staff

    @property
    def admin(self) -> bool:
        """The platform's (institution or system) administrator."""
        return self.perms.admin

    def course(self) -> int:
        """The course the viewer acts in; 400 for a launch outside a course."""
        if self.context_id is None:
            raise Refusal(400, "This page belongs to a course.", title="Open this from a course")
        return self.context_id

    def require_staff(self) -> None:
        """403 unless the viewer is staff of their course (or an administrator)."""
        if not self.staff:
            raise Refusal(
                403,
                "This needs the Instructor, Teaching Assistant or Content Developer role.",
                title="Only course staff can do this",
            )

    def require_admin(self) -> None:
        """403 unless the viewer is an administrator of their platform."""
        if not self.admin:
            raise Refusal(
                403,
                "This needs the platform's Administrator role.",
                title="Only administrators can do this",
            )

    def groups_from(self, source: str | None) -> frozenset[int]:
        """The viewer's groups of one kind: LMS groups, groups made in the tool, or none."""
        if source == GROUP_FROM_LMS:
            return self.group_ids - self.made_group_ids
        if source == GROUP_MADE_IN_TOOL:
            return self.made_group_ids
        return frozenset()


def viewer_for(
    session: Session, user_id: int, context_id: int, roles: Iterable[str] | None = None
) -> Viewer:
    """The viewer for a person in a course: 403 unless they have an active membership there.
    ``roles`` (the launch's roles) take precedence over the stored membership roles when given.
    One query reads the membership, the course's platform and the person's groups in the course."""
    groups = (
        select(LmsGroupMember.user_id, LmsGroupMember.group_id, LmsGroup.source)
        .join(LmsGroup, LmsGroup.id == LmsGroupMember.group_id)
        .where(LmsGroupMember.user_id == user_id, LmsGroup.context_id == context_id)
        .subquery()
    )
    rows = session.execute(
        select(Membership.roles, Context.platform_id, groups.c.group_id, groups.c.source)
        .join(Context, Context.id == Membership.context_id)
        .outerjoin(groups, groups.c.user_id == Membership.user_id)
        .where(
            Membership.user_id == user_id,
            Membership.context_id == context_id,
            Membership.status == "Active",
        )
    ).all()
    if not rows:
        raise Refusal(403, "You are not a member of this course.")
    return Viewer(
        user_id=user_id,
        platform_id=rows[0].platform_id,
        context_id=context_id,
        perms=permissions(roles if roles is not None else rows[0].roles or []),
        group_ids=frozenset(r.group_id for r in rows if r.group_id is not None),
        made_group_ids=frozenset(r.group_id for r in rows if r.source == GROUP_MADE_IN_TOOL),
    )
