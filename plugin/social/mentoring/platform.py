"""Platform-wide mentoring programmes: made and listed by the platform's administrators, and
joined by course links, so that many courses' people take part in one programme.

A platform-wide programme has no course (``context_id`` None). Course staff join a Mentoring
link of their course to one (:func:`join`): the link then opens the platform-wide programme
instead of its own course programme, which is removed — only before anyone opted in to it (409
otherwise: their profiles would be lost). Course staff cannot make or change a platform-wide
programme (403); another platform's is not found (404).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from plugin.access import Refusal, Viewer, not_found
from plugin.lti.models import Context, Placement
from plugin.performance import links
from plugin.performance.models import Competency, Framework
from plugin.social.mentoring import programmes
from plugin.social.mentoring.models import (
    ANYONE,
    COURSE_GROUP,
    WHO_MENTORS,
    Invitation,
    Profile,
    Programme,
    ProgrammeCompetency,
    ProgrammePlacement,
)

MAX_LISTED = 200  # platform-wide programmes a list shows
#: who may mentor in a platform-wide programme (it has no course, so no course group)
PLATFORM_WHO_MENTORS = tuple(w for w in WHO_MENTORS if w != COURSE_GROUP)


def competency_choices(session: Session, viewer: Viewer) -> list[links.CompetencyInfo]:
    """What a new platform-wide programme may target: the current competencies of the
    platform's imported frameworks (administrators), framework by framework."""
    viewer.require_admin()
    rows = session.scalars(
        select(Competency)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Framework.platform_id == viewer.platform_id, Competency.retired_at.is_(None))
        .order_by(Framework.id, Competency.sort_order, Competency.id)
        .limit(programmes.MAX_COMPETENCY_CHOICES)
    )
    return [links.CompetencyInfo.of(c) for c in rows]


def create(
    session: Session,
    viewer: Viewer,
    settings: Mapping[str, object],
    competency_ids: list[int] | None = None,
) -> Programme:
    """An administrator makes a platform-wide programme with the settings a course programme has
    (:data:`programmes.SETTINGS`: title, type, matching, durations, enrolment, who may mentor…)
    and its targeted competencies. Everything is checked before the row is kept (a bad value is
    a 400 and nothing is made); course staff get 403."""
    viewer.require_admin()
    defaults = programmes.settings_from_placement({})
    programme = Programme(
        platform_id=viewer.platform_id,
        context_id=None,
        title="Mentoring",
        who_mentors=ANYONE,
        exclude_lti_mentor=False,
        **defaults,
    )
    with session.begin_nested():
        session.add(programme)
        session.flush()
        programmes.update_settings(session, viewer, programme, **dict(settings))
        if competency_ids:
            programmes.set_targets(session, viewer, programme, competency_ids)
    return programme


@dataclass(frozen=True)
class Listed:
    """A platform-wide programme and how many course links open it."""

    programme: Programme
    links: int
    courses: int


def listed(session: Session, viewer: Viewer) -> list[Listed]:
    """The platform's platform-wide programmes, newest first, with their joined links and
    courses (administrators; 403 for anyone else). One query."""
    viewer.require_admin()
    links = (
        select(
            ProgrammePlacement.programme_id,
            func.count(ProgrammePlacement.placement_id).label("links"),
            func.count(func.distinct(Placement.context_id)).label("courses"),
        )
        .join(Placement, Placement.id == ProgrammePlacement.placement_id)
        .group_by(ProgrammePlacement.programme_id)
        .subquery()
    )
    rows = session.execute(
        select(Programme, links.c.links, links.c.courses)
        .outerjoin(links, links.c.programme_id == Programme.id)
        .where(Programme.platform_id == viewer.platform_id, Programme.context_id.is_(None))
        .order_by(Programme.id.desc())
        .limit(MAX_LISTED)
    ).all()
    return [Listed(p, n or 0, c or 0) for p, n, c in rows]


def joinable(session: Session, viewer: Viewer, programme: Programme) -> list[Programme]:
    """The platform-wide programmes a course programme's link may open instead (staff of the
    course; none for a platform-wide programme), by title."""
    programmes.check_manager(viewer, programme)
    if programme.context_id is None:
        return []
    return list(
        session.scalars(
            select(Programme)
            .where(Programme.platform_id == programme.platform_id, Programme.context_id.is_(None))
            .order_by(Programme.title, Programme.id)
            .limit(MAX_LISTED)
        )
    )


def has_people(session: Session, programme: Programme) -> bool:
    """Whether anyone ever opted in to (or was nominated in, or invited to) the programme."""
    return bool(
        session.scalar(
            select(
                exists().where(Profile.programme_id == programme.id)
                | exists().where(Invitation.programme_id == programme.id)
            )
        )
    )


def join(
    session: Session, viewer: Viewer, programme: Programme, platform_programme_id: int
) -> Programme:
    """Course staff make the links that open their course programme open the platform-wide
    programme ``platform_programme_id`` instead; the emptied course programme is removed. 403
    for anyone but the course's staff, 404 for a programme that is not platform-wide on the
    viewer's platform, 409 once someone opted in to the course programme."""
    programmes.check_manager(viewer, programme)
    if programme.context_id is None:
        raise Refusal(409, "This programme is already platform-wide.")
    target = session.get(Programme, platform_programme_id)
    if (
        target is None
        or target.platform_id != programme.platform_id
        or target.context_id is not None
    ):
        raise not_found("This platform-wide programme")
    if has_people(session, programme):
        raise Refusal(
            409,
            "People have already opted in to (or been invited to) this course's programme, so "
            "its link can no longer "
            "open a platform-wide one: their profiles would be lost. Add a new Mentoring link "
            "to the course and join that one instead.",
            title="Already in use",
        )
    platform_id = session.scalar(
        select(Context.platform_id).where(Context.id == programme.context_id)
    )
    if platform_id != target.platform_id:  # a course of another platform: never
        raise not_found("This platform-wide programme")
    session.execute(
        update(ProgrammePlacement)
        .where(ProgrammePlacement.programme_id == programme.id)
        .values(programme_id=target.id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(ProgrammeCompetency).where(ProgrammeCompetency.programme_id == programme.id)
    )
    session.execute(delete(Programme).where(Programme.id == programme.id))
    session.expunge(programme)
    session.flush()
    return target
