"""Mentoring profiles: a person opts in to a programme as mentor and/or mentee, updates their
profile or leaves; staff nominate mentors and read the programme's roster.

A profile's competencies come from the programme's targets (or, when it targets none, the
platform's current competencies); each carries a self-rated level on its framework's scale
(:func:`plugin.social.mentoring.programmes.scale_levels`): a mentor's from 1 (the lowest) up, a
mentee's from 0 (none yet) with a target above it. Time zones are IANA names
(:mod:`zoneinfo`), languages BCP 47 tags (checked against the IANA registry with
``langcodes``), weekly availability whole-hour ranges (:class:`~.scoring.Window`), bio and
goals plain text.

Who may mentor follows the programme: anyone; only people staff nominated; people with the LTI
Mentor role; or members of one course group. Closed enrolment refuses new profiles and new roles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

import langcodes
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from plugin import paging
from plugin.access import Refusal, Viewer, not_found
from plugin.lti.models import Membership, User
from plugin.performance import links
from plugin.performance.models import Competency, Framework
from plugin.social.mentoring.models import (
    AS_MENTEE,
    AS_MENTOR,
    COURSE_GROUP,
    LTI_MENTOR,
    STAFF_NOMINATED,
    Profile,
    ProfileCompetency,
    Programme,
)
from plugin.social.mentoring.programmes import check_manager, scale_levels, targets
from plugin.social.mentoring.scoring import Window

MAX_BIO_CHARS = 1000
MAX_GOALS_CHARS = 2000
MAX_LANGUAGES = 10
MAX_WINDOWS = 28
MAX_COMPETENCIES = 20  # per role on one profile
MAX_CAPACITY = 20
ROSTER_PAGE = 50


@cache
def time_zones() -> frozenset[str]:
    """The IANA time zone names :mod:`zoneinfo` knows."""
    return frozenset(available_timezones())


def check_time_zone(value: object) -> str:
    """An IANA time zone name (``Europe/Paris``; 400 otherwise)."""
    if not isinstance(value, str) or value.strip() not in time_zones():
        raise Refusal(400, "Choose a time zone from the list (such as Europe/Paris).")
    return value.strip()


def check_languages(values: Iterable[object]) -> list[str]:
    """BCP 47 language tags (``en``, ``pt-BR``), in their standard case, without repeats (400 for
    a tag that is not valid)."""
    tags: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        tag = value.strip()
        if len(tag) > 35 or not langcodes.tag_is_valid(tag):
            raise Refusal(400, f"“{tag[:40]}” is not a language tag (such as en, fr or pt-BR).")
        tag = langcodes.standardize_tag(tag)
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_LANGUAGES:
        raise Refusal(400, f"Give at most {MAX_LANGUAGES} languages.")
    return tags


def check_availability(values: Iterable[object]) -> list[list[int]]:
    """Weekly ranges ``[day, start, end]`` (day 0 = Monday, whole hours, start < end ≤ 24), in
    order without repeats (400 otherwise)."""
    windows: set[tuple[int, int, int]] = set()
    for value in values:
        if not isinstance(value, (list, tuple)) or len(value) != 3:
            raise Refusal(400, "Each available time is a day, a start hour and an end hour.")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise Refusal(400, "Each available time is a day, a start hour and an end hour.")
        try:
            Window(*value)
        except ValueError as exc:
            raise Refusal(
                400, "An available time must start before it ends, between 0 and 24 o'clock."
            ) from exc
        windows.add((value[0], value[1], value[2]))
    if len(windows) > MAX_WINDOWS:
        raise Refusal(400, f"Give at most {MAX_WINDOWS} available times a week.")
    return [list(w) for w in sorted(windows)]


def check_text(value: object, limit: int, what: str) -> str:
    """Plain text of at most ``limit`` characters (surrounding space trimmed; NUL refused)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refusal(400, f"{what} must be text.")
    text = value.strip()
    if "\x00" in text:
        raise Refusal(400, f"{what} cannot contain a NUL character.")
    if len(text) > limit:
        raise Refusal(400, f"{what} can be at most {limit} characters long.")
    return text


def check_capacity(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CAPACITY:
        raise Refusal(400, f"Capacity is a whole number of mentees from 1 to {MAX_CAPACITY}.")
    return value


def may_mentor(viewer: Viewer, programme: Programme, profile: Profile | None) -> bool:
    """Whether the programme lets this person be a mentor (the programme's "who may mentor")."""
    if programme.who_mentors == STAFF_NOMINATED:
        return profile is not None and profile.nominated
    if programme.who_mentors == LTI_MENTOR:
        return viewer.perms.mentor
    if programme.who_mentors == COURSE_GROUP:
        return programme.mentor_group_id is not None and programme.mentor_group_id in (
            viewer.group_ids
        )
    return True


def mentor_rule(programme: Programme) -> str:
    """Why someone may not mentor here, in words."""
    return {
        STAFF_NOMINATED: "In this programme, mentors are nominated by course staff.",
        LTI_MENTOR: "In this programme, mentors are the people with the LMS's Mentor role.",
        COURSE_GROUP: "In this programme, mentors are the members of one course group.",
    }.get(programme.who_mentors, "")


def my_profile(session: Session, viewer: Viewer, programme: Programme) -> Profile | None:
    """The viewer's profile in the programme (None before they opted in)."""
    return session.scalar(
        select(Profile)
        .options(selectinload(Profile.competencies))
        .where(Profile.programme_id == programme.id, Profile.user_id == viewer.user_id)
    )


def _allowed_competencies(
    session: Session, programme: Programme, ids: Iterable[int]
) -> dict[int, Competency]:
    """The named competencies, each a target of the programme (or, when it targets none, a
    current competency of the platform): any other is not found (404)."""
    wanted = list(dict.fromkeys(ids))
    target_ids = {t.competency.id for t in targets(session, programme)}
    found = links.platform_competencies(session, programme.platform_id, wanted)
    for competency_id in wanted:
        competency = found.get(competency_id)
        if competency is None or competency.retired_at is not None:
            raise not_found("This competency")
        if target_ids and competency_id not in target_ids:
            raise Refusal(400, "Choose among the competencies this programme targets.")
    return found


def _levels_of(competency: Competency) -> range:
    return range(1, len(scale_levels(competency)) + 1)


def _mentor_rows(
    session: Session, programme: Programme, levels: Mapping[int, object]
) -> list[ProfileCompetency]:
    if len(levels) > MAX_COMPETENCIES:
        raise Refusal(400, f"Choose at most {MAX_COMPETENCIES} competencies.")
    found = _allowed_competencies(session, programme, levels)
    rows = []
    for competency_id, level in levels.items():
        scale = _levels_of(found[competency_id])
        if isinstance(level, bool) or not isinstance(level, int) or level not in scale:
            raise Refusal(
                400,
                f"Rate yourself on “{found[competency_id].name}” from 1 to {scale[-1]} "
                "(the levels of its framework's scale).",
            )
        rows.append(ProfileCompetency(competency_id=competency_id, role=AS_MENTOR, level=level))
    return rows


def mentee_rows(
    session: Session, programme: Programme, needs: Mapping[int, tuple[object, object]]
) -> list[ProfileCompetency]:
    if len(needs) > MAX_COMPETENCIES:
        raise Refusal(400, f"Choose at most {MAX_COMPETENCIES} competencies.")
    found = _allowed_competencies(session, programme, needs)
    rows = []
    for competency_id, (level, target) in needs.items():
        top = len(scale_levels(found[competency_id]))
        whole = all(isinstance(v, int) and not isinstance(v, bool) for v in (level, target))
        if not whole or not 0 <= level < target <= top:  # type: ignore[operator]
            raise Refusal(
                400,
                f"For “{found[competency_id].name}”, your level is 0 (none yet) to {top - 1} "
                f"and your target is above it, up to {top}.",
            )
        rows.append(
            ProfileCompetency(
                competency_id=competency_id,
                role=AS_MENTEE,
                level=level,
                target=target,  # type: ignore[arg-type]
            )
        )
    return rows


def save_profile(
    session: Session,
    viewer: Viewer,
    programme: Programme,
    *,
    as_mentor: bool,
    as_mentee: bool,
    mentor_levels: Mapping[int, object] | None = None,
    mentee_needs: Mapping[int, tuple[object, object]] | None = None,
    capacity: object = None,
    accepting: bool = True,
    time_zone: object = "UTC",
    availability: Iterable[object] = (),
    languages: Iterable[object] = (),
    bio: object = "",
    goals: object = "",
) -> Profile:
    """Opt in to the programme, or update one's profile: as mentor and/or mentee (at least one;
    leaving both is :func:`leave`), competencies with levels for each role, capacity (mentors;
    the programme's default when not given), accepting, time zone, availability, languages, bio
    and goals. Everything is checked before anything changes."""
    profile = my_profile(session, viewer, programme)
    if not as_mentor and not as_mentee:
        raise Refusal(400, "Choose to take part as a mentor, a mentee or both.")
    had_mentor = profile is not None and profile.is_mentor
    had_mentee = profile is not None and profile.is_mentee
    if not programme.enrolment_open and (
        profile is None or (as_mentor and not had_mentor) or (as_mentee and not had_mentee)
    ):
        raise Refusal(409, "Enrolment in this programme is closed.", title="Enrolment closed")
    if as_mentor and not had_mentor and not may_mentor(viewer, programme, profile):
        raise Refusal(403, mentor_rule(programme), title="You cannot mentor in this programme")
    mentor_rows = _mentor_rows(session, programme, mentor_levels or {}) if as_mentor else []
    wanted_rows = mentee_rows(session, programme, mentee_needs or {}) if as_mentee else []
    values = {
        "capacity": programme.default_capacity if capacity is None else check_capacity(capacity),
        "accepting": bool(accepting),
        "time_zone": check_time_zone(time_zone),
        "availability": check_availability(availability),
        "languages": check_languages(languages),
        "bio": check_text(bio, MAX_BIO_CHARS, "The bio"),
        "goals": check_text(goals, MAX_GOALS_CHARS, "Your goals"),
    }
    if profile is None:
        profile = Profile(programme_id=programme.id, user_id=viewer.user_id, nominated=False)
        session.add(profile)
    profile.is_mentor, profile.is_mentee = as_mentor, as_mentee
    for name, value in values.items():
        setattr(profile, name, value)
    profile.competencies = mentor_rows + wanted_rows
    session.flush()
    return profile


def leave(session: Session, viewer: Viewer, programme: Programme) -> Profile:
    """Leave the programme: no longer a mentor nor a mentee, not accepting (the profile stays for
    the history of requests and pairs; opting in again needs open enrolment). 404 without a
    profile."""
    profile = my_profile(session, viewer, programme)
    if profile is None or not (profile.is_mentor or profile.is_mentee):
        raise not_found("Your profile in this programme")
    profile.is_mentor = profile.is_mentee = profile.accepting = False
    session.flush()
    return profile


def nominate(
    session: Session, viewer: Viewer, programme: Programme, user_id: int, *, on: bool = True
) -> Profile:
    """Staff make a member of the programme's course a mentor (``on``), or take that back. The
    person then completes their mentor profile. 404 for someone not in the course."""
    check_manager(viewer, programme)
    course = programme.context_id if programme.context_id is not None else viewer.course()
    member = session.scalar(
        select(Membership.id).where(
            Membership.user_id == user_id,
            Membership.context_id == course,
            Membership.status == "Active",
        )
    )
    if member is None:
        raise not_found("This person")
    profile = session.scalar(
        select(Profile).where(Profile.programme_id == programme.id, Profile.user_id == user_id)
    )
    if profile is None:
        if not on:
            raise not_found("This mentor")
        profile = Profile(
            programme_id=programme.id,
            user_id=user_id,
            is_mentee=False,
            capacity=programme.default_capacity,
            accepting=True,
            time_zone="UTC",
            availability=[],
            languages=[],
            bio="",
            goals="",
        )
        session.add(profile)
    profile.nominated = on
    profile.is_mentor = on
    session.flush()
    return profile


@dataclass(frozen=True)
class RatedCompetency:
    id: int
    name: str
    level: int
    target: int | None


@dataclass(frozen=True)
class RosterEntry:
    """A person of the programme as staff see them."""

    profile_id: int
    user_id: int
    name: str
    is_mentor: bool
    is_mentee: bool
    nominated: bool
    capacity: int
    accepting: bool
    mentor_competencies: list[RatedCompetency]
    mentee_competencies: list[RatedCompetency]


@dataclass(frozen=True)
class RosterPage:
    entries: list[RosterEntry]
    next_cursor: str | None


def roster(
    session: Session,
    viewer: Viewer,
    programme: Programme,
    *,
    role: str | None = None,
    cursor: str | None = None,
    limit: int = ROSTER_PAGE,
) -> RosterPage:
    """The programme's mentors and mentees with their competencies (staff; a platform-wide
    programme's, its administrators), in the order they joined, a keyset page at a time.
    ``role``: only mentors or only mentees."""
    check_manager(viewer, programme)
    size = paging.limit(limit)
    query = (
        select(Profile, User)
        .join(User, User.id == Profile.user_id)
        .options(selectinload(Profile.competencies))
        .where(Profile.programme_id == programme.id)
    )
    if role == AS_MENTOR:
        query = query.where(Profile.is_mentor.is_(True))
    elif role == AS_MENTEE:
        query = query.where(Profile.is_mentee.is_(True))
    elif role is None:
        query = query.where(Profile.is_mentor.is_(True) | Profile.is_mentee.is_(True))
    else:
        raise Refusal(400, "The role is mentor or mentee.")
    if cursor:
        (after,) = paging.decode(cursor, 1)
        query = query.where(Profile.id > paging.cursor_id(after))
    rows = session.execute(query.order_by(Profile.id).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    ids = {pc.competency_id for profile, _ in rows for pc in profile.competencies}
    names = (
        dict(
            session.execute(
                select(Competency.id, Competency.name)
                .join(Framework, Framework.id == Competency.framework_id)
                .where(Competency.id.in_(ids), Framework.platform_id == programme.platform_id)
            ).all()
        )
        if ids
        else {}
    )

    def rated(profile: Profile, as_role: str) -> list[RatedCompetency]:
        return [
            RatedCompetency(pc.competency_id, names.get(pc.competency_id, ""), pc.level, pc.target)
            for pc in profile.competencies
            if pc.role == as_role
        ]

    entries = [
        RosterEntry(
            profile_id=profile.id,
            user_id=user.id,
            name=user.display_name,
            is_mentor=profile.is_mentor,
            is_mentee=profile.is_mentee,
            nominated=profile.nominated,
            capacity=profile.capacity,
            accepting=profile.accepting,
            mentor_competencies=rated(profile, AS_MENTOR),
            mentee_competencies=rated(profile, AS_MENTEE),
        )
        for profile, user in rows
    ]
    return RosterPage(entries, paging.encode([rows[-1][0].id]) if more else None)


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str


MAX_MEMBERS = 500


def course_members(session: Session, viewer: Viewer, programme: Programme) -> list[Member]:
    """Whom staff may nominate as mentors: the active members of the viewer's course, by name
    (at most :data:`MAX_MEMBERS`)."""
    check_manager(viewer, programme)
    course = programme.context_id if programme.context_id is not None else viewer.course()
    rows = session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.context_id == course, Membership.status == "Active")
        .order_by(User.name, User.id)
        .limit(MAX_MEMBERS)
    )
    return [Member(u.id, u.display_name) for u in rows]
