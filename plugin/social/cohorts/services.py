"""Cohorts made by course staff: for boards in cohort mode "cohorts" (``COHORT_MADE``).

A cohort is a course group (:class:`~plugin.lti.models.LmsGroup`) whose ``source`` is "tool", so
every visibility rule of the boards (a learner sees their cohorts' threads and the course-wide
ones; staff see all) applies to it as it does to the LMS's own groups. The roster sync never
touches these. Only course staff list, make, rename, fill and delete them; each act is written to
the moderation audit log. A cohort that still has threads cannot be deleted (409): its threads
would otherwise become visible to the whole course.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from plugin.access import Refusal, Viewer
from plugin.lti.models import GROUP_MADE_IN_TOOL, LmsGroup, LmsGroupMember, Membership, User
from plugin.social import boards
from plugin.social.models import Thread
from plugin.social.notifications import mentions

MAX_NAME_CHARS = 100


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str


@dataclass(frozen=True)
class CohortView:
    id: int
    name: str
    members: list[Person]
    thread_count: int


def _check_staff(viewer: Viewer) -> None:
    if not viewer.staff:
        raise Refusal(403, "Only course staff can manage cohorts.")


def _check_name(session: Session, viewer: Viewer, name: object, *, keep: int | None = None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise Refusal(400, "Give the cohort a name.")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_CHARS:
        raise Refusal(400, f"A cohort's name can be at most {MAX_NAME_CHARS} characters long.")
    taken = session.scalar(
        select(LmsGroup.id).where(
            LmsGroup.context_id == viewer.context_id,
            LmsGroup.source == GROUP_MADE_IN_TOOL,
            func.lower(LmsGroup.name) == name.lower(),
            LmsGroup.id != (keep if keep is not None else -1),
        )
    )
    if taken is not None:
        raise Refusal(409, f"This course already has a cohort called “{name}”.")
    return name


def load(session: Session, viewer: Viewer, cohort_id: int) -> LmsGroup:
    """One of the course's staff-made cohorts (404 otherwise, also for an LMS group)."""
    _check_staff(viewer)
    cohort = session.get(LmsGroup, cohort_id)
    if (
        cohort is None
        or cohort.context_id != viewer.context_id
        or cohort.source != GROUP_MADE_IN_TOOL
    ):
        raise Refusal(404, "This cohort does not exist or is not in this course.")
    return cohort


def learners(session: Session, viewer: Viewer) -> list[Person]:
    """The course's active learners (not staff, not only mentors): whom a cohort can hold, by
    name (one query)."""
    _check_staff(viewer)
    found = [
        Person(m.user_id, m.name)
        for m in mentions.course_members(session, viewer.context_id)
        if m.learner and not m.staff
    ]
    return sorted(found, key=lambda p: (p.name.casefold(), p.user_id))


def list_cohorts(
    session: Session, viewer: Viewer, cohort_id: int | None = None
) -> list[CohortView]:
    """The course's staff-made cohorts by name (or only ``cohort_id``), with members and thread
    counts (three queries)."""
    _check_staff(viewer)
    query = select(LmsGroup).where(
        LmsGroup.context_id == viewer.context_id, LmsGroup.source == GROUP_MADE_IN_TOOL
    )
    if cohort_id is not None:
        query = query.where(LmsGroup.id == cohort_id)
    cohorts = list(session.scalars(query.order_by(func.lower(LmsGroup.name), LmsGroup.id)))
    ids = [c.id for c in cohorts]
    members: dict[int, list[Person]] = {i: [] for i in ids}
    threads: dict[int, int] = {}
    if ids:
        for group_id, user in session.execute(
            select(LmsGroupMember.group_id, User)
            .join(User, User.id == LmsGroupMember.user_id)
            .join(  # people who left the course are not listed
                Membership,
                and_(
                    Membership.user_id == User.id,
                    Membership.context_id == viewer.context_id,
                    Membership.status == "Active",
                ),
            )
            .where(LmsGroupMember.group_id.in_(ids))
        ):
            members[group_id].append(Person(user.id, user.display_name))
        threads = dict(
            session.execute(
                select(Thread.cohort_group_id, func.count())
                .where(Thread.cohort_group_id.in_(ids))
                .group_by(Thread.cohort_group_id)
            ).all()
        )
    return [
        CohortView(
            id=c.id,
            name=c.name,
            members=sorted(members[c.id], key=lambda p: (p.name.casefold(), p.user_id)),
            thread_count=threads.get(c.id, 0),
        )
        for c in cohorts
    ]


def create_cohort(session: Session, viewer: Viewer, name: object) -> LmsGroup:
    _check_staff(viewer)
    name = _check_name(session, viewer, name)
    cohort = LmsGroup(
        context_id=viewer.context_id,
        group_id=f"commons-{uuid.uuid4()}",
        name=name,
        source=GROUP_MADE_IN_TOOL,
    )
    session.add(cohort)
    session.flush()
    boards.audit(session, viewer, None, "cohort_created", reason=name)
    return cohort


def rename_cohort(session: Session, viewer: Viewer, cohort_id: int, name: object) -> LmsGroup:
    cohort = load(session, viewer, cohort_id)
    new_name = _check_name(session, viewer, name, keep=cohort.id)
    if new_name != cohort.name:
        boards.audit(session, viewer, None, "cohort_renamed", reason=f"{cohort.name} → {new_name}")
        cohort.name = new_name
        session.flush()
    return cohort


def set_members(
    session: Session, viewer: Viewer, cohort_id: int, user_ids: Iterable[int]
) -> list[int]:
    """Make the cohort hold exactly these learners (others are taken out); their ids, sorted.
    404 when one of them is not a learner of the course (staff and mentors see every cohort's
    threads anyway, or none)."""
    cohort = load(session, viewer, cohort_id)
    wanted = set(user_ids)
    allowed = {p.user_id for p in learners(session, viewer)}
    if wanted - allowed:
        raise Refusal(404, "Someone chosen is not a learner in this course.")
    current = set(
        session.scalars(select(LmsGroupMember.user_id).where(LmsGroupMember.group_id == cohort.id))
    )
    added, removed = wanted - current, current - wanted
    if removed:
        session.execute(
            delete(LmsGroupMember).where(
                LmsGroupMember.group_id == cohort.id,
                LmsGroupMember.user_id.in_(sorted(removed)),
            )
        )
    session.add_all(LmsGroupMember(group_id=cohort.id, user_id=u) for u in sorted(added))
    session.flush()
    if added or removed:
        boards.audit(
            session,
            viewer,
            None,
            "cohort_members",
            reason=f"{cohort.name}: {len(added)} added, {len(removed)} removed",
        )
    return sorted(wanted)


def delete_cohort(session: Session, viewer: Viewer, cohort_id: int) -> None:
    cohort = load(session, viewer, cohort_id)
    used = session.scalar(select(func.count()).where(Thread.cohort_group_id == cohort.id))
    if used:
        raise Refusal(
            409,
            f"“{cohort.name}” still has {used} thread{'s' if used != 1 else ''}: a cohort with "
            "threads cannot be deleted (its threads would become visible to the whole course).",
        )
    boards.audit(session, viewer, None, "cohort_deleted", reason=cohort.name)
    session.delete(cohort)
    session.flush()
