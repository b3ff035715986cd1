"""Inviting suggested mentors, with consent.

Staff (a platform-wide programme's administrators) see the people the boards suggest for the
programme's targeted competencies (:func:`suggested`, from
:func:`.suggestions.suggested_mentors`) and invite one (:func:`invite`): the person gets an
e-mail (kind :data:`MAIL_INVITATION`) and, on the programme's page, the invitation to accept or
decline (:func:`answer`). Nobody becomes a mentor without saying yes: accepting makes them a
mentor of the programme (nominated where only nominated people mentor), with the invitation's
competencies to rate on their profile. A declined invitation stays on record: that person is
never invited to the programme again, and no longer suggested for it.

Who may be invited: an active member of a course whose link opens the programme (its course; for
a platform-wide programme, any joined course), who is not already one of its mentors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin import mail
from plugin.access import Refusal, Viewer, not_found
from plugin.lti.models import Membership, Placement, User
from plugin.social.mentoring import programmes, suggestions
from plugin.social.mentoring.models import (
    INVITATION_ACCEPTED,
    INVITATION_DECLINED,
    INVITATION_PENDING,
    STAFF_NOMINATED,
    Invitation,
    Profile,
    Programme,
    ProgrammePlacement,
)

MAIL_INVITATION = "mentoring.invitation"
SUGGESTED_PER_COMPETENCY = 20
MAX_LISTED = 200


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def eligible(session: Session, programme: Programme, user_ids: Iterable[int]) -> set[int]:
    """Of these people, those who can open the programme: active members of its course, or for a
    platform-wide programme of a course with a link joined to it. One query."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return set()
    query = select(Membership.user_id).where(
        Membership.user_id.in_(wanted), Membership.status == "Active"
    )
    if programme.context_id is not None:
        query = query.where(Membership.context_id == programme.context_id)
    else:
        joined = (
            select(Placement.context_id)
            .join(ProgrammePlacement, ProgrammePlacement.placement_id == Placement.id)
            .where(ProgrammePlacement.programme_id == programme.id)
        )
        query = query.where(Membership.context_id.in_(joined))
    return set(session.scalars(query.distinct()))


@dataclass(frozen=True)
class SuggestedPerson:
    """A person the boards suggest for the programme, why, and whether they were invited."""

    person_id: int
    name: str
    competency_ids: tuple[int, ...]
    reasons: tuple[str, ...]  # "5 endorsed answers on Coaching conversations", one a competency
    invitation: str | None  # None, or the invitation's state (pending, accepted)


def suggested(session: Session, viewer: Viewer, programme: Programme) -> list[SuggestedPerson]:
    """The people to invite as mentors for the programme's targeted competencies (staff; a
    platform-wide programme's administrators), best first, one entry a person with every
    competency they are suggested for. Left out: people who declined an invitation to the
    programme, its current mentors, and people who cannot open it. None when the programme
    targets no competency."""
    programmes.check_manager(viewer, programme)
    ids = [t.competency.id for t in programmes.targets(session, programme)]
    if not ids:
        return []
    found = suggestions.suggested_mentors(
        session, viewer, ids[: suggestions.MAX_COMPETENCIES], limit=SUGGESTED_PER_COMPETENCY
    )
    people = {s.person_id for s in found}
    if not people:
        return []
    states = dict(
        session.execute(
            select(Invitation.user_id, Invitation.state).where(
                Invitation.programme_id == programme.id, Invitation.user_id.in_(people)
            )
        ).all()
    )
    mentors = set(
        session.scalars(
            select(Profile.user_id).where(
                Profile.programme_id == programme.id,
                Profile.user_id.in_(people),
                Profile.is_mentor.is_(True),
            )
        )
    )
    can_open = eligible(session, programme, people)
    grouped: dict[int, list[suggestions.Suggestion]] = {}
    for s in found:
        if states.get(s.person_id) == INVITATION_DECLINED or s.person_id in mentors:
            continue
        if s.person_id in can_open:
            grouped.setdefault(s.person_id, []).append(s)
    ranked = sorted(
        grouped.values(), key=lambda group: (-sum(s.weight for s in group), group[0].person_id)
    )
    return [
        SuggestedPerson(
            person_id=group[0].person_id,
            name=group[0].name,
            competency_ids=tuple(s.competency_id for s in group),
            reasons=tuple(s.explanation for s in group),
            invitation=states.get(group[0].person_id),
        )
        for group in ranked
    ]


def _invited_competencies(
    session: Session, programme: Programme, competency_ids: object
) -> list[int]:
    if (
        not isinstance(competency_ids, list | tuple)
        or not competency_ids
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in competency_ids)
    ):
        raise Refusal(400, "Choose at least one competency to invite them for.")
    wanted = list(dict.fromkeys(competency_ids))
    if len(wanted) > suggestions.MAX_COMPETENCIES:
        raise Refusal(400, f"Choose at most {suggestions.MAX_COMPETENCIES} competencies.")
    targeted = {t.competency.id for t in programmes.targets(session, programme)}
    if not targeted:
        raise Refusal(
            409, "Choose the competencies the programme targets (Settings) before inviting."
        )
    for competency_id in wanted:
        if competency_id not in targeted:
            raise not_found("This competency")
    return wanted


def invite(
    session: Session,
    viewer: Viewer,
    programme: Programme,
    user_id: int,
    competency_ids: list[int],
    *,
    now: datetime | None = None,
) -> Invitation:
    """Staff invite a person to mentor in the programme for some of its targeted competencies:
    an invitation they accept or decline, and an e-mail. 403 for anyone but the programme's
    managers; 404 for a person who cannot open the programme or a competency it does not target;
    409 for one of its mentors, or a person already invited (a declined invitation is final)."""
    programmes.check_manager(viewer, programme)
    wanted = _invited_competencies(session, programme, competency_ids)
    person = session.get(User, user_id) if isinstance(user_id, int) else None
    if person is None or user_id not in eligible(session, programme, [user_id]):
        raise not_found("This person")
    is_mentor = session.scalar(
        select(Profile.is_mentor).where(
            Profile.programme_id == programme.id, Profile.user_id == user_id
        )
    )
    if is_mentor:
        raise Refusal(409, f"{person.display_name} is already a mentor in this programme.")
    previous = session.scalar(
        select(Invitation.state).where(
            Invitation.programme_id == programme.id, Invitation.user_id == user_id
        )
    )
    if previous is not None:
        raise _already(person, previous)
    invitation = Invitation(
        programme_id=programme.id,
        user_id=user_id,
        invited_by=viewer.user_id,
        competency_ids=wanted,
        state=INVITATION_PENDING,
        created_at=_now(now),
    )
    try:
        with session.begin_nested():
            session.add(invitation)
            session.flush()
    except IntegrityError:  # invited at the same moment by someone else
        raise _already(person, INVITATION_PENDING) from None
    names = ", ".join(_names(session, programme, wanted).values())
    inviter = session.get(User, viewer.user_id)
    mail.queue(
        session,
        person,
        MAIL_INVITATION,
        f"An invitation to mentor: {names}"[:200],
        f"{inviter.display_name if inviter else 'Staff'} invite you to be a mentor in "
        f"“{programme.title}” on {names}, because others found your answers on the course "
        "boards helpful.\n\nYou become a mentor only if you accept: open the programme from "
        "your course to accept or decline. If you decline, you will not be invited to it "
        "again.",
        dedupe_key=f"mentoring-invitation-{invitation.id}",
    )
    return invitation


def _already(person: User, state: str) -> Refusal:
    said = {
        INVITATION_PENDING: "has been invited already and has not answered yet",
        INVITATION_ACCEPTED: "has already accepted an invitation to this programme",
        INVITATION_DECLINED: "declined an invitation to this programme: they are not invited again",
    }[state]
    return Refusal(409, f"{person.display_name} {said}.", title="Already invited")


def _names(session: Session, programme: Programme, ids: Iterable[int]) -> dict[int, str]:
    known = {t.competency.id: t.competency.name for t in programmes.targets(session, programme)}
    return {i: known[i] for i in ids if i in known}


@dataclass(frozen=True)
class InvitationView:
    """An invitation as its person or staff see it."""

    id: int
    programme_id: int
    user_id: int
    name: str
    invited_by: str
    competencies: tuple[tuple[int, str], ...]  # (id, name) of the still-targeted ones
    state: str
    created_at: datetime
    answered_at: datetime | None


def _views(session: Session, programme: Programme, rows: list[Invitation]) -> list[InvitationView]:
    people = {r.user_id for r in rows} | {r.invited_by for r in rows if r.invited_by}
    names = (
        {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(people)))}
        if people
        else {}
    )
    known = _names(session, programme, {i for r in rows for i in r.competency_ids or []})
    return [
        InvitationView(
            id=r.id,
            programme_id=r.programme_id,
            user_id=r.user_id,
            name=names.get(r.user_id, ""),
            invited_by=names.get(r.invited_by, "Staff") if r.invited_by else "Staff",
            competencies=tuple((i, known[i]) for i in r.competency_ids or [] if i in known),
            state=r.state,
            created_at=r.created_at,
            answered_at=r.answered_at,
        )
        for r in rows
    ]


def view(session: Session, programme: Programme, invitation: Invitation) -> InvitationView:
    """One invitation as :class:`InvitationView` (names and still-targeted competencies)."""
    return _views(session, programme, [invitation])[0]


def pending_for(session: Session, viewer: Viewer, programme: Programme) -> InvitationView | None:
    """The viewer's invitation to mentor in the programme, while it waits for their answer."""
    row = session.scalar(
        select(Invitation).where(
            Invitation.programme_id == programme.id,
            Invitation.user_id == viewer.user_id,
            Invitation.state == INVITATION_PENDING,
        )
    )
    return _views(session, programme, [row])[0] if row is not None else None


def of_programme(session: Session, viewer: Viewer, programme: Programme) -> list[InvitationView]:
    """The programme's invitations, newest first (staff; at most :data:`MAX_LISTED`)."""
    programmes.check_manager(viewer, programme)
    rows = list(
        session.scalars(
            select(Invitation)
            .where(Invitation.programme_id == programme.id)
            .order_by(Invitation.id.desc())
            .limit(MAX_LISTED)
        )
    )
    return _views(session, programme, rows)


def answer(
    session: Session,
    viewer: Viewer,
    invitation_id: int,
    *,
    accept: bool,
    now: datetime | None = None,
) -> InvitationView:
    """The invited person accepts (they become a mentor of the programme — nominated where only
    nominated people mentor — and rate themselves on the invitation's competencies in their
    profile) or declines (final: never invited again, no longer suggested). Anyone else's
    invitation, or one of a programme they cannot open, is not found; one already answered is a
    409."""
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.user_id != viewer.user_id:
        raise not_found("This invitation")
    programme = programmes.get_programme(session, viewer, invitation.programme_id)
    state = INVITATION_ACCEPTED if accept else INVITATION_DECLINED
    changed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.state == INVITATION_PENDING)
        .values(state=state, answered_at=_now(now))
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:
        raise Refusal(409, "You have already answered this invitation.", title="Already answered")
    session.refresh(invitation)
    if accept:
        profile = session.scalar(
            select(Profile).where(
                Profile.programme_id == programme.id, Profile.user_id == viewer.user_id
            )
        )
        if profile is None:
            profile = Profile(
                programme_id=programme.id,
                user_id=viewer.user_id,
                is_mentee=False,
                nominated=False,
                capacity=programme.default_capacity,
                accepting=True,
                time_zone="UTC",
                availability=[],
                languages=[],
                bio="",
                goals="",
            )
            session.add(profile)
        profile.is_mentor = True
        if programme.who_mentors == STAFF_NOMINATED:
            profile.nominated = True
        session.flush()
    return _views(session, programme, [invitation])[0]
