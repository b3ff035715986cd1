"""Mentoring programmes: made from a placement's (deep-linked) settings on first use, read by the
course's members, changed by course staff (a platform-wide programme by the platform's
administrators), with the competencies they target.

A programme belongs to one course (``context_id``), or to the whole platform (``context_id``
None) with the placements of many courses joined to it. A viewer may see a programme of their own
course, or a platform-wide programme of their platform that a link of their course opens; any
other is "not found".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.access import Refusal, Viewer, not_found
from plugin.lti.models import Context, LmsGroup, Placement
from plugin.performance import links
from plugin.performance.models import Competency, Framework
from plugin.performance.scales import Level, scale_levels
from plugin.social.mentoring.models import (
    ANYONE,
    COURSE_GROUP,
    KINDS,
    MATCHING_MODES,
    MENTEE_CHOICE,
    ONE_TO_ONE,
    TITLE_CHARS,
    WHO_MENTORS,
    Programme,
    ProgrammeCompetency,
    ProgrammePlacement,
)

DEFAULT_DURATION_DAYS = 365  # a year
DEFAULT_CADENCE_DAYS = 30  # a meeting a month
DEFAULT_CAPACITY = 2
DEFAULT_ESCALATION_HOURS = 72
MAX_TARGETS = 50  # targeted competencies per programme
MAX_COMPETENCY_CHOICES = 500

#: whole-number settings: name -> (label, lowest, highest)
NUMBERS: dict[str, tuple[str, int, int]] = {
    "duration_days": ("The default duration (days)", 7, 1095),
    "cadence_days": ("The meeting cadence (days)", 1, 180),
    "default_capacity": ("The default mentor capacity", 1, 20),
    "escalation_hours": ("The escalation time (hours)", 1, 720),
}
#: every setting staff may change (update_settings)
SETTINGS = (
    "title",
    "kind",
    "matching",
    *NUMBERS,
    "enrolment_open",
    "who_mentors",
    "mentor_group_id",
    "exclude_lti_mentor",
)
KIND_LABELS = {
    "one_to_one": "One-to-one",
    "peer": "Peer (members mentor each other)",
    "reverse": "Reverse (a junior with the expertise mentors a senior)",
    "group": "Group (one or two mentors with a circle of mentees)",
}
MATCHING_LABELS = {
    "mentee_choice": "Mentees choose from ranked suggestions; the mentor accepts",
    "staff_bulk": "Staff match everyone at once (bulk matching)",
    "mentor_pool": "A mentor pool: the first mentor who accepts takes the request",
}
WHO_MENTORS_LABELS = {
    "anyone": "Anyone who opts in",
    "staff_nominated": "Only people staff nominate",
    "lti_mentor": "People with the LMS's Mentor role",
    "course_group": "Members of one course group",
}


def flag(value: object) -> bool:
    """A switch from a form or custom parameter: "true", "1", "yes", "on" (or True) switch it
    on."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return value is True


def whole_number(value: object, name: str) -> int:
    """A whole-number setting within its range (400 otherwise)."""
    label, low, high = NUMBERS[name]
    if isinstance(value, bool) or value is None:
        raise Refusal(400, f"{label} must be a whole number from {low} to {high}.")
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except ValueError as exc:
        raise Refusal(400, f"{label} must be a whole number from {low} to {high}.") from exc
    if not low <= number <= high:
        raise Refusal(400, f"{label} must be a whole number from {low} to {high}.")
    return number


def settings_from_placement(settings: Mapping[str, object]) -> dict[str, object]:
    """Programme settings from the placement's ``setting_*`` custom parameters (``kind``,
    ``matching``, ``duration_days``, ``cadence_days``, ``default_capacity``, ``enrolment``);
    a bad value falls back to the default rather than refusing the launch."""
    kind = settings.get("kind")
    matching = settings.get("matching")
    values: dict[str, object] = {
        "kind": kind if kind in KINDS else ONE_TO_ONE,
        "matching": matching if matching in MATCHING_MODES else MENTEE_CHOICE,
        "duration_days": DEFAULT_DURATION_DAYS,
        "cadence_days": DEFAULT_CADENCE_DAYS,
        "default_capacity": DEFAULT_CAPACITY,
        "escalation_hours": DEFAULT_ESCALATION_HOURS,
        "enrolment_open": settings.get("enrolment", "open") != "closed",
    }
    for name in ("duration_days", "cadence_days", "default_capacity"):
        if settings.get(name) is not None:
            with suppress(Refusal):
                values[name] = whole_number(settings.get(name), name)
    return values


def programme_for_placement(session: Session, placement: Placement) -> Programme:
    """The programme the placement opens, made on first use (a programme of the placement's
    course, titled after the link) from its settings."""
    found = session.scalar(
        select(Programme)
        .join(ProgrammePlacement, ProgrammePlacement.programme_id == Programme.id)
        .where(ProgrammePlacement.placement_id == placement.id)
    )
    if found is not None:
        return found
    platform_id = session.scalars(
        select(Context.platform_id).where(Context.id == placement.context_id)
    ).one()
    programme = Programme(
        platform_id=platform_id,
        context_id=placement.context_id,
        title=(placement.title or "Mentoring")[:TITLE_CHARS],
        who_mentors=ANYONE,
        exclude_lti_mentor=False,
        **settings_from_placement(placement.settings or {}),
    )
    try:
        with session.begin_nested():
            session.add(programme)
            session.flush()
            session.add(ProgrammePlacement(placement_id=placement.id, programme_id=programme.id))
            session.flush()
    except IntegrityError:  # another request made it first
        return session.scalars(
            select(Programme)
            .join(ProgrammePlacement, ProgrammePlacement.programme_id == Programme.id)
            .where(ProgrammePlacement.placement_id == placement.id)
        ).one()
    return programme


def get_programme(session: Session, viewer: Viewer, programme_id: int) -> Programme:
    """A programme of the viewer's course, or a platform-wide one a link of their course opens,
    or (for the platform's administrators) any platform-wide one of their platform (404 for any
    other)."""
    course = viewer.course()
    programme = session.get(Programme, programme_id)
    if programme is None or programme.platform_id != viewer.platform_id:
        raise not_found("This programme")
    if programme.context_id == course:
        return programme
    if programme.context_id is None and viewer.admin:  # its managers, joined yet or not
        return programme
    if programme.context_id is None and session.scalar(
        select(
            exists()
            .where(ProgrammePlacement.programme_id == programme.id)
            .where(ProgrammePlacement.placement_id == Placement.id)
            .where(Placement.context_id == course)
        )
    ):
        return programme
    raise not_found("This programme")


def may_manage(viewer: Viewer, programme: Programme) -> bool:
    """Course staff manage their course's programme; a platform-wide one, the administrators."""
    return viewer.admin if programme.context_id is None else viewer.staff


def check_manager(viewer: Viewer, programme: Programme) -> None:
    """403 unless the viewer may manage the programme."""
    if not may_manage(viewer, programme):
        if programme.context_id is None:
            raise Refusal(403, "Only the platform's administrators can change this programme.")
        raise Refusal(403, "Only course staff can change the programme's settings.")


def _choice(value: object, allowed: Iterable[str], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise Refusal(400, f"Choose {what}.")
    return value


def _title(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Refusal(400, "Give the programme a title.")
    title = " ".join(value.split())
    if len(title) > TITLE_CHARS:
        raise Refusal(400, f"The title can be at most {TITLE_CHARS} characters long.")
    return title


def _group(session: Session, programme: Programme, value: object) -> int | None:
    if value is None or value == "":
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise Refusal(400, "Choose a course group.")
    group = session.get(LmsGroup, value)
    if group is None or programme.context_id is None or group.context_id != programme.context_id:
        raise not_found("This course group")
    return group.id


def update_settings(
    session: Session, viewer: Viewer, programme: Programme, **changes: object
) -> Programme:
    """Staff change the programme's settings (only the names in :data:`SETTINGS`); all values are
    checked before any is set. Mentors from a course group need the group."""
    check_manager(viewer, programme)
    unknown = set(changes) - set(SETTINGS)
    if unknown:
        raise Refusal(400, f"Unknown setting: {', '.join(sorted(unknown))}.")
    values: dict[str, object] = {}
    for name, value in changes.items():
        if name == "title":
            values[name] = _title(value)
        elif name == "kind":
            values[name] = _choice(value, KINDS, "the programme's type")
        elif name == "matching":
            values[name] = _choice(value, MATCHING_MODES, "how people are matched")
        elif name == "who_mentors":
            values[name] = _choice(value, WHO_MENTORS, "who may mentor")
        elif name in NUMBERS:
            values[name] = whole_number(value, name)
        elif name == "mentor_group_id":
            values[name] = _group(session, programme, value)
        else:
            values[name] = flag(value)
    who = values.get("who_mentors", programme.who_mentors)
    group = values.get("mentor_group_id", programme.mentor_group_id)
    if who == COURSE_GROUP and group is None:
        raise Refusal(400, "Choose the course group whose members may mentor.")
    for name, value in values.items():
        setattr(programme, name, value)
    session.flush()
    return programme


@dataclass(frozen=True)
class Target:
    """A competency the programme targets, with its framework's scale."""

    competency: links.CompetencyInfo
    levels: tuple[Level, ...]


def targets(session: Session, programme: Programme) -> list[Target]:
    """The programme's targeted competencies (current ones), with their scales."""
    rows = session.scalars(
        select(Competency)
        .join(ProgrammeCompetency, ProgrammeCompetency.competency_id == Competency.id)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(
            ProgrammeCompetency.programme_id == programme.id,
            Framework.platform_id == programme.platform_id,
            Competency.retired_at.is_(None),
        )
        .order_by(Framework.id, Competency.sort_order, Competency.id)
    )
    return [Target(links.CompetencyInfo.of(c), scale_levels(c)) for c in rows]


def competency_choices(
    session: Session, viewer: Viewer, programme: Programme
) -> list[links.CompetencyInfo]:
    """What staff may target: the current competencies of the platform's imported frameworks,
    framework by framework (at most :data:`MAX_COMPETENCY_CHOICES`)."""
    check_manager(viewer, programme)
    rows = session.scalars(
        select(Competency)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Framework.platform_id == programme.platform_id, Competency.retired_at.is_(None))
        .order_by(Framework.id, Competency.sort_order, Competency.id)
        .limit(MAX_COMPETENCY_CHOICES)
    )
    return [links.CompetencyInfo.of(c) for c in rows]


def set_targets(
    session: Session, viewer: Viewer, programme: Programme, competency_ids: list[int]
) -> list[Target]:
    """Staff set the competencies the programme targets (replacing the list). Each must be a
    current competency of the platform's frameworks: another platform's is not found (404)."""
    check_manager(viewer, programme)
    wanted = list(dict.fromkeys(competency_ids))
    if len(wanted) > MAX_TARGETS:
        raise Refusal(400, f"A programme can target at most {MAX_TARGETS} competencies.")
    found = links.platform_competencies(session, programme.platform_id, wanted)
    for competency_id in wanted:
        competency = found.get(competency_id)
        if competency is None or competency.retired_at is not None:
            raise not_found("This competency")
    session.execute(
        delete(ProgrammeCompetency).where(ProgrammeCompetency.programme_id == programme.id)
    )
    for competency_id in wanted:
        session.add(ProgrammeCompetency(programme_id=programme.id, competency_id=competency_id))
    session.flush()
    return targets(session, programme)


def course_groups(session: Session, viewer: Viewer, programme: Programme) -> list[LmsGroup]:
    """The groups of the programme's course staff may let mentor (none for a platform-wide
    programme)."""
    check_manager(viewer, programme)
    if programme.context_id is None:
        return []
    return list(
        session.scalars(
            select(LmsGroup)
            .where(LmsGroup.context_id == programme.context_id)
            .order_by(LmsGroup.name, LmsGroup.id)
        )
    )


MAX_OFFERED = 100  # competencies a profile form offers when the programme targets none


def offered(session: Session, programme: Programme) -> list[Target]:
    """The competencies a profile may name: the programme's targets, or, when it targets none,
    the platform's current competencies (at most :data:`MAX_OFFERED`)."""
    chosen = targets(session, programme)
    if chosen:
        return chosen
    rows = session.scalars(
        select(Competency)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Framework.platform_id == programme.platform_id, Competency.retired_at.is_(None))
        .order_by(Framework.id, Competency.sort_order, Competency.id)
        .limit(MAX_OFFERED)
    )
    return [Target(links.CompetencyInfo.of(c), scale_levels(c)) for c in rows]
