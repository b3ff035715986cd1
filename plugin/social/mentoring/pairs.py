"""Mentorships (pairs): how a proposed pair is made, whoever made the match, and its life after.

A request accepted by a mentor (:mod:`.requests`) and a bulk matching approved by staff both end
in :func:`propose`: a ``proposed`` pair with its members (mentors and mentees) and competencies,
starting on the day it was made, for the programme's duration, at the given cadence.

After that (docs/mentoring.md, "Mentorships"): a member edits the agreement while it is proposed
(:func:`update_agreement`; an edit clears the others' acceptance) and each member accepts it
(:func:`accept_agreement`); when all have, the pair is ``active``. :func:`health` is the one
health rule (at risk / needs a check-in / on track) other packages reuse; :func:`my_pairs`,
:func:`programme_pairs` and :func:`detail` are what people see (staff read a pair without its
check-in notes); :func:`meetings_invite` is its ``.ics``; a member leaves with no reason asked
(:func:`leave`), the mentee ends it to find another mentor (:func:`rematch`), staff end it
(:func:`staff_end`); a member proposes a later end date that the others confirm
(:func:`propose_extension`, :func:`confirm_extension`, :func:`decline_extension`). Check-ins are
:mod:`.checkins`. A pair is its members' and its programme staff's: anyone else gets 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

from sqlalchemy import Select, case, delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from plugin import events, mail
from plugin.access import Refusal, Viewer, not_found
from plugin.events import ActivityRef, DomainEvent
from plugin.lti.models import User
from plugin.performance import links
from plugin.social.mentoring import health as programme_health
from plugin.social.mentoring import profiles, programmes
from plugin.social.mentoring.models import (
    AS_MENTEE,
    AS_MENTOR,
    GROUP,
    PAIR_ACTIVE,
    PAIR_ENDED,
    PAIR_PROPOSED,
    Pair,
    PairCompetency,
    PairMember,
    Profile,
    Programme,
    RequestCompetency,
)


def propose(
    session: Session,
    programme: Programme,
    *,
    mentor_ids: Iterable[int],
    mentee_ids: Iterable[int],
    competency_ids: Iterable[int],
    cadence_days: int,
    goals: str,
    when: datetime,
    request_id: int | None = None,
) -> Pair:
    """A ``proposed`` pair of ``programme`` with its members and competencies (flushed)."""
    today = when.date()
    pair = Pair(
        programme_id=programme.id,
        request_id=request_id,
        state=PAIR_PROPOSED,
        starts_on=today,
        ends_on=today + timedelta(days=programme.duration_days),
        cadence_days=cadence_days,
        place="",
        link="",
        goals=goals,
        created_at=when,
    )
    session.add(pair)
    session.flush()
    members = [PairMember(pair_id=pair.id, user_id=uid, role=AS_MENTOR) for uid in mentor_ids]
    members += [PairMember(pair_id=pair.id, user_id=uid, role=AS_MENTEE) for uid in mentee_ids]
    session.add_all(members)
    session.add_all(
        [
            PairCompetency(pair_id=pair.id, competency_id=cid)
            for cid in dict.fromkeys(competency_ids)
        ]
    )
    session.flush()
    return pair


# --- places: one notion of a mentor's taken places, and the programme lock ---------------------


def taken_places_query(programme_id: int) -> Select:
    """``SELECT user_id, taken``: for each mentor of the programme, their **taken places** — the
    mentees (not left) of the proposed and active pairs (circles) where they are a mentor (not
    left). A one-to-one pair takes one place, a circle one per mentee. Use it as a subquery."""
    mentor = aliased(PairMember)
    mentee = aliased(PairMember)
    return (
        select(mentor.user_id.label("user_id"), func.count(mentee.user_id).label("taken"))
        .join(Pair, Pair.id == mentor.pair_id)
        .join(
            mentee,
            (mentee.pair_id == Pair.id) & (mentee.role == AS_MENTEE) & mentee.left_at.is_(None),
        )
        .where(
            Pair.programme_id == programme_id,
            Pair.state.in_((PAIR_PROPOSED, PAIR_ACTIVE)),
            mentor.role == AS_MENTOR,
            mentor.left_at.is_(None),
        )
        .group_by(mentor.user_id)
    )


def taken_places(
    session: Session, programme_id: int, user_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """``{mentor id: taken places}`` in the programme (:func:`taken_places_query`; mentors with
    none are left out), for every mentor or only ``user_ids``; one query."""
    query = taken_places_query(programme_id)
    if user_ids is not None:
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return {}
        sub = query.subquery()
        query = select(sub.c.user_id, sub.c.taken).where(sub.c.user_id.in_(ids))
    return {int(uid): int(n) for uid, n in session.execute(query).all()}


def lock_programme(session: Session, programme: Programme) -> Programme:
    """Hold the programme's row until the transaction ends (PostgreSQL ``SELECT … FOR UPDATE``;
    SQLite has one writer) and read it again: whoever counts taken places and then makes or
    joins a pair (an accept, a bulk approval, a co-mentor) does it one at a time per programme,
    and sees a change of its settings (matching) made meanwhile."""
    session.refresh(programme, with_for_update=True)
    return programme


def open_circle(session: Session, programme: Programme, mentor_id: int) -> Pair | None:
    """The mentor's open circle in a ``group`` programme: its proposed or active pair where they
    are a mentor (not left), the oldest when there are several; None otherwise."""
    return session.scalar(
        select(Pair)
        .join(PairMember, PairMember.pair_id == Pair.id)
        .where(
            Pair.programme_id == programme.id,
            Pair.state.in_((PAIR_PROPOSED, PAIR_ACTIVE)),
            PairMember.user_id == mentor_id,
            PairMember.role == AS_MENTOR,
            PairMember.left_at.is_(None),
        )
        .order_by(Pair.id)
        .limit(1)
    )


def is_circle(programme: Programme) -> bool:
    """Pairs of a ``group`` programme are circles: people join and leave, the circle goes on."""
    return programme.kind == GROUP


def join(
    session: Session, pair: Pair, user_id: int, role: str, competency_ids: Iterable[int]
) -> PairMember:
    """``user_id`` joins the circle ``pair`` as ``role`` (not accepted yet: they accept the
    agreement on the pair's page; an active circle stays active and the others are not asked
    again); the competencies join the pair's. Someone who left it comes back. 409 when they are
    already in it."""
    member = session.get(PairMember, (pair.id, user_id))
    if member is not None and member.left_at is None:
        raise Refusal(409, "This person is already in this circle.", title="Already in the circle")
    if member is None:
        member = PairMember(pair_id=pair.id, user_id=user_id, role=role)
        session.add(member)
    else:
        member.role, member.left_at, member.accepted_at = role, None, None
        member.extension_confirmed_at = None
    have = set(pair_competency_ids(session, pair.id))
    session.add_all(
        [
            PairCompetency(pair_id=pair.id, competency_id=cid)
            for cid in dict.fromkeys(competency_ids)
            if cid not in have
        ]
    )
    session.flush()
    return member


def join_or_propose(
    session: Session,
    programme: Programme,
    *,
    mentor_id: int,
    mentee_ids: Iterable[int],
    competency_ids: Iterable[int],
    cadence_days: int,
    goals: str,
    when: datetime,
    request_id: int | None = None,
) -> tuple[Pair, bool]:
    """In a ``group`` programme the mentees join the mentor's open circle (:func:`open_circle`)
    when there is one, else a new circle is proposed (:func:`propose`); elsewhere a new pair is
    proposed. Returns the pair and whether it already existed (joined)."""
    mentees = list(dict.fromkeys(mentee_ids))
    competencies = list(dict.fromkeys(competency_ids))
    circle = open_circle(session, programme, mentor_id) if is_circle(programme) else None
    if circle is None:
        pair = propose(
            session,
            programme,
            mentor_ids=[mentor_id],
            mentee_ids=mentees,
            competency_ids=competencies,
            cadence_days=cadence_days,
            goals=goals,
            when=when,
            request_id=request_id,
        )
        return pair, False
    for mentee_id in mentees:
        join(session, circle, mentee_id, AS_MENTEE, competencies)
    return circle, True


# --- the life of a pair after propose: agreement, health, lists, ending ------------------------

# The health rule and its names are :mod:`.health`'s (one rule: its SQL CASE for programme
# figures, its ``pair_health`` in Python); :func:`health` applies it to one pair.
AT_RISK = programme_health.AT_RISK
NEEDS_CHECK_IN = programme_health.NEEDS_CHECK_IN
ON_TRACK = programme_health.ON_TRACK
HEALTH_LABELS = programme_health.HEALTH_LABELS

END_COMPLETED = "completed"  # the end date was reached (the jobs close the pair)
END_NO_FAULT = "no_fault"  # a member left; no reason asked
END_REMATCH = "rematch"  # the mentee ended it to find another mentor
END_STAFF = "staff"  # programme staff ended it
END_REASONS = (END_COMPLETED, END_NO_FAULT, END_REMATCH, END_STAFF)
END_LABELS = {
    END_COMPLETED: "Completed",
    END_NO_FAULT: "Ended by a member",
    END_REMATCH: "Ended to find another mentor",
    END_STAFF: "Ended by programme staff",
}

MIN_DAYS = 7
MAX_YEARS = 3
MIN_CADENCE = 1
MAX_CADENCE = 180
MAX_PLACE_CHARS = 500
MAX_LINK_CHARS = 1000
MAX_GOALS_CHARS = 2000
MAX_COMPETENCIES = 20
MAX_LISTED = 200
MAX_MENTORS = 2  # a circle has one or two mentors

MAIL_PAIR = "mentoring.pair"


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A stored time as aware UTC (SQLite gives it back naive)."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def health(pair: Pair, latest_rating: int | None, now: datetime) -> str | None:
    """The pair's health by the contract's rule (:func:`.health.pair_health`); None unless the
    pair is active: ``at_risk`` when its latest answered pulse rating is 2 or less or a whole
    cadence has passed since the check-in was due; else ``needs_check_in`` once the check-in is
    due; else ``on_track``."""
    if pair.state != PAIR_ACTIVE:
        return None
    return programme_health.pair_health(
        latest_rating, aware(pair.check_in_due_at), pair.cadence_days, now
    )


def latest_ratings(session: Session, pair_ids: Iterable[int]) -> dict[int, int]:
    """The latest answered pulse rating of each pair (any member; kept on the pair by
    :func:`note_rating`), in one query."""
    ids = list(dict.fromkeys(pair_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Pair.id, Pair.latest_rating).where(Pair.id.in_(ids), Pair.latest_rating.is_not(None))
    )
    return {pair_id: rating for pair_id, rating in rows}


def note_rating(session: Session, pair_id: int, rating: int, answered_at: datetime) -> None:
    """Keep the pair's latest answered pulse rating (the pair-health rule reads it), in the
    transaction that records the answer; an answer older than the kept one changes nothing."""
    session.execute(
        update(Pair)
        .where(
            Pair.id == pair_id,
            or_(Pair.latest_rating_at.is_(None), Pair.latest_rating_at <= answered_at),
        )
        .values(latest_rating=rating, latest_rating_at=answered_at)
        .execution_options(synchronize_session=False)
    )


def note_check_in(session: Session, pair: Pair, held_on: date) -> None:
    """Count a check-in held on or after the pair's activation day (UTC) on the pair (programme
    health reads the count), in the transaction that logs it: one atomic increment."""
    activated = aware(pair.activated_at)
    if activated is None or held_on < activated.date():
        return
    session.execute(
        update(Pair)
        .where(Pair.id == pair.id)
        .values(check_ins_logged=Pair.check_ins_logged + 1)
        .execution_options(synchronize_session=False)
    )


def health_of(
    session: Session, pairs: Iterable[Pair], now: datetime | None = None
) -> dict[int, str | None]:
    """``{pair id: health}`` for many pairs (one query for their ratings)."""
    rows = list(pairs)
    when = _now(now)
    ratings = latest_ratings(session, [p.id for p in rows if p.state == PAIR_ACTIVE])
    return {p.id: health(p, ratings.get(p.id), when) for p in rows}


def pair_ref(pair: Pair) -> ActivityRef:
    """The pair as the object of a statement (:func:`.requests.pair_ref`)."""
    from plugin.social.mentoring import requests

    return requests.pair_ref(pair)


def competency_refs(session: Session, programme: Programme, ids: Iterable[int]) -> list[dict]:
    """Competencies as event data: ``[{"iri", "name"}]`` (of the programme's platform)."""
    wanted = list(dict.fromkeys(ids))
    found = links.platform_competencies(session, programme.platform_id, wanted)
    return [{"iri": found[i].uri, "name": found[i].name} for i in wanted if i in found]


def event_context(viewer: Viewer, programme: Programme) -> int:
    """The course an event of the programme happens in: its own, or (platform-wide) the
    viewer's."""
    return programme.context_id if programme.context_id is not None else viewer.course()


@dataclass(frozen=True)
class Access:
    """A pair as the viewer may see it: ``role`` their role in it (None for staff, who read);
    ``left`` when the viewer left the circle (they read what they were part of, nothing more)."""

    pair: Pair
    programme: Programme
    members: list[PairMember]
    role: str | None
    staff: bool
    left: bool = False

    @property
    def member_ids(self) -> list[int]:
        """Every member, left or not."""
        return [m.user_id for m in self.members]

    @property
    def current(self) -> list[PairMember]:
        """The members who have not left."""
        return [m for m in self.members if m.left_at is None]

    @property
    def current_ids(self) -> list[int]:
        return [m.user_id for m in self.current]


def members_of(session: Session, pair_id: int) -> list[PairMember]:
    return list(
        session.scalars(
            select(PairMember)
            .where(PairMember.pair_id == pair_id)
            .order_by(PairMember.role.desc(), PairMember.user_id)
        )
    )


def access(session: Session, viewer: Viewer, pair_id: int) -> Access:
    """The pair for one of its members, or for the programme's staff (read-only); 404 for
    anyone else, and for a pair of another course or platform."""
    pair = session.get(Pair, pair_id)
    if pair is None:
        raise not_found("This mentorship")
    try:
        programme = programmes.get_programme(session, viewer, pair.programme_id)
    except Refusal as exc:
        raise not_found("This mentorship") from exc
    members = members_of(session, pair.id)
    me = next((m for m in members if m.user_id == viewer.user_id), None)
    role = me.role if me is not None else None
    staff = programmes.may_manage(viewer, programme)
    if role is None and not staff:
        raise not_found("This mentorship")
    return Access(pair, programme, members, role, staff, me is not None and me.left_at is not None)


def member_access(session: Session, viewer: Viewer, pair_id: int, act: str) -> Access:
    """The pair for one of its members (403 for staff, who only read; 404 for others)."""
    found = access(session, viewer, pair_id)
    if found.role is None:
        raise Refusal(
            403,
            f"Only the people of this mentorship can {act}; staff may end it.",
            title="Only the mentorship's people can do this",
        )
    if found.left:
        raise Refusal(
            403,
            f"You left this circle: you can read what you were part of, but not {act}.",
            title="You left this circle",
        )
    return found


FIRST_YEAR, LAST_YEAR = 2000, 2100  # agreement dates outside these are typing mistakes


def _date(value: object, what: str) -> date:
    found: date | None = None
    if isinstance(value, datetime):
        found = value.date()
    elif isinstance(value, date):
        found = value
    elif isinstance(value, str) and value.strip():
        try:
            found = date.fromisoformat(value.strip()[:10])
        except ValueError:
            found = None
    if found is None:
        raise Refusal(400, f"{what} must be a date such as 2026-03-01.")
    if not FIRST_YEAR <= found.year <= LAST_YEAR:
        raise Refusal(400, f"{what} must be between {FIRST_YEAR} and {LAST_YEAR}.")
    return found


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_dates(starts_on: date, ends_on: date) -> None:
    """End after start, at least :data:`MIN_DAYS` days and at most :data:`MAX_YEARS` years."""
    if ends_on <= starts_on:
        raise Refusal(400, "The end date must come after the start date.")
    if (ends_on - starts_on).days < MIN_DAYS:
        raise Refusal(400, f"A mentorship lasts at least {MIN_DAYS} days: choose a later end date.")
    if ends_on > _add_years(starts_on, MAX_YEARS):
        raise Refusal(400, f"A mentorship lasts at most {MAX_YEARS} years: choose an earlier end.")


def whole(value: object, what: str, low: int, high: int, hint: str) -> int:
    """A whole number from ``low`` to ``high`` (a form's text or an int); 400 otherwise."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 9:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refusal(400, f"{what} must be a whole number.")
    if not low <= value <= high:
        raise Refusal(400, hint)
    return value


def check_cadence(value: object) -> int:
    return whole(
        value,
        "The cadence (days between meetings)",
        MIN_CADENCE,
        MAX_CADENCE,
        f"Meet every {MIN_CADENCE} to {MAX_CADENCE} days.",
    )


def check_link(value: object) -> str:
    """A meeting link: empty, or an http(s) address of at most :data:`MAX_LINK_CHARS`."""
    text = profiles.check_text(value, MAX_LINK_CHARS, "The meeting link")
    if not text:
        return ""
    parts = urlsplit(text)
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.netloc
        or any(ch.isspace() or ch in "<>\"'" for ch in text)
    ):
        raise Refusal(400, "The meeting link must be a web address starting with https://.")
    return text


def check_competencies(
    session: Session, programme: Programme, values: Iterable[object], allowed: Iterable[int]
) -> list[int]:
    """At least one, at most :data:`MAX_COMPETENCIES`, each of ``allowed``."""
    ids: list[int] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Refusal(400, "Choose competencies from the list.")
        ids.append(value)
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise Refusal(400, "Choose at least one competency.")
    if len(ids) > MAX_COMPETENCIES:
        raise Refusal(400, f"Choose at most {MAX_COMPETENCIES} competencies.")
    offered = set(allowed)
    if any(i not in offered for i in ids):
        raise Refusal(400, "Choose competencies the programme offers.")
    return ids


def pair_competency_ids(session: Session, pair_id: int) -> list[int]:
    return list(
        session.scalars(
            select(PairCompetency.competency_id)
            .where(PairCompetency.pair_id == pair_id)
            .order_by(PairCompetency.competency_id)
        )
    )


@dataclass(frozen=True)
class AgreementEdit:
    """What an edit did: ``changed`` whether anything changed, ``cleared`` the names of the
    members whose acceptance it cleared (they accept again)."""

    pair: Pair
    changed: bool
    cleared: list[str]


def update_agreement(
    session: Session,
    viewer: Viewer,
    pair_id: int,
    *,
    starts_on: object,
    ends_on: object,
    cadence_days: object,
    place: object = "",
    link: object = "",
    goals: object = "",
    competency_ids: Iterable[object] = (),
    now: datetime | None = None,
) -> AgreementEdit:
    """A member edits the agreement of a proposed pair; every check passes before anything
    changes. An edit that changes something clears the other members' acceptance."""
    found = member_access(session, viewer, pair_id, "change its agreement")
    pair, programme = found.pair, found.programme
    if pair.state != PAIR_PROPOSED:
        raise Refusal(409, "The agreement can only change before everyone has accepted it.")
    start = _date(starts_on, "The start date")
    end = _date(ends_on, "The end date")
    check_dates(start, end)
    cadence = check_cadence(cadence_days)
    where = profiles.check_text(place, MAX_PLACE_CHARS, "The meeting place")
    url = check_link(link)
    text = profiles.check_text(goals, MAX_GOALS_CHARS, "The goals")
    offered = [t.competency.id for t in programmes.offered(session, programme)]
    chosen = check_competencies(session, programme, competency_ids, offered)
    before = pair_competency_ids(session, pair.id)
    new = (start, end, cadence, where, url, text, sorted(chosen))
    old = (
        pair.starts_on,
        pair.ends_on,
        pair.cadence_days,
        pair.place,
        pair.link,
        pair.goals,
        before,
    )
    if new == old:
        return AgreementEdit(pair, False, [])
    pair.starts_on, pair.ends_on, pair.cadence_days = start, end, cadence
    pair.place, pair.link, pair.goals = where, url, text
    if sorted(chosen) != before:
        session.execute(delete(PairCompetency).where(PairCompetency.pair_id == pair.id))
        session.add_all([PairCompetency(pair_id=pair.id, competency_id=c) for c in chosen])
    cleared_ids = [
        m.user_id
        for m in found.current
        if m.user_id != viewer.user_id and m.accepted_at is not None
    ]
    for member in found.members:
        if member.user_id in cleared_ids:
            member.accepted_at = None
    session.flush()
    names = _names(session, cleared_ids)
    return AgreementEdit(pair, True, [names.get(i, "") for i in cleared_ids])


def _names(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return {}
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(ids)))}


def accept_agreement(
    session: Session, viewer: Viewer, pair_id: int, *, now: datetime | None = None
) -> Pair:
    """A member accepts the agreement (an ``AGREEMENT_MADE`` event); when every member has,
    the pair becomes active and its first check-in falls due one cadence later."""
    when = _now(now)
    found = member_access(session, viewer, pair_id, "accept its agreement")
    pair, programme = found.pair, found.programme
    me = next(m for m in found.members if m.user_id == viewer.user_id)
    if pair.state == PAIR_ENDED or (pair.state == PAIR_ACTIVE and me.accepted_at is not None):
        raise Refusal(409, f"This mentorship is already {pair.state}.")
    if me.accepted_at is not None:
        raise Refusal(409, "You have already accepted this agreement.")
    me.accepted_at = when
    session.flush()
    events.publish(
        session,
        DomainEvent(
            kind=events.AGREEMENT_MADE,
            identity=f"agreement:{pair.id}:{viewer.user_id}:{when.isoformat()}",
            occurred_at=when,
            platform_id=programme.platform_id,
            actor_user_id=viewer.user_id,
            object=pair_ref(pair),
            context_id=event_context(viewer, programme),
            data={
                "competencies": competency_refs(
                    session, programme, pair_competency_ids(session, pair.id)
                )
            },
        ),
    )
    return activate_if_ready(session, pair, when)


def activate_if_ready(session: Session, pair: Pair, when: datetime) -> Pair:
    """A proposed pair becomes active when no current member (not left) is left to accept: one
    conditional UPDATE, so two members accepting at once activate it exactly once."""
    pending = (
        select(PairMember.user_id)
        .where(
            PairMember.pair_id == pair.id,
            PairMember.accepted_at.is_(None),
            PairMember.left_at.is_(None),
        )
        .exists()
    )
    session.execute(
        update(Pair)
        .where(Pair.id == pair.id, Pair.state == PAIR_PROPOSED, ~pending)
        .values(
            state=PAIR_ACTIVE,
            activated_at=when,
            check_in_due_at=when + timedelta(days=pair.cadence_days),
            reminded_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(pair)
    return pair


def _end(session: Session, found: Access, reason: str, when: datetime, told: Iterable[int]) -> Pair:
    pair, programme = found.pair, found.programme
    done = session.execute(
        update(Pair)
        .where(Pair.id == pair.id, Pair.state.in_((PAIR_PROPOSED, PAIR_ACTIVE)))
        .values(
            state=PAIR_ENDED,
            ended_at=when,
            end_reason=reason,
            check_in_due_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Refusal(409, "This mentorship has already ended.", title="Already ended")
    session.refresh(pair)
    recipients = list(session.scalars(select(User).where(User.id.in_(list(told)))))
    for user in recipients:
        mail.queue(
            session,
            user,
            MAIL_PAIR,
            "Your mentorship has ended",
            f"Your mentorship in “{programme.title}” has ended"
            + (" (programme staff closed it)" if reason == END_STAFF else "")
            + ".\n\nMentorships end for many reasons and no reason is needed. Thank you for "
            "the time you gave it. You can find or offer mentoring again from the programme's "
            "page.",
            dedupe_key=f"mentoring-pair-ended-{pair.id}-{user.id}",
        )
    return pair


def _leave_circle(session: Session, viewer: Viewer, found: Access, when: datetime) -> Pair:
    """The viewer leaves a circle (``left_at``): it goes on for the others, who are told
    neutrally; it ends (``no_fault``) when no mentor or no mentee is left. A proposed circle
    whose remaining members have all accepted becomes active."""
    pair, programme = found.pair, found.programme
    if pair.state == PAIR_ENDED:
        raise Refusal(409, "This mentorship has already ended.", title="Already ended")
    me = next(m for m in found.members if m.user_id == viewer.user_id)
    me.left_at = when
    me.extension_confirmed_at = None
    session.flush()
    rest = [m for m in found.current if m.user_id != viewer.user_id]
    others = [m.user_id for m in rest]
    if not any(m.role == AS_MENTOR for m in rest) or not any(m.role == AS_MENTEE for m in rest):
        return _end(session, found, END_NO_FAULT, when, others)
    names = _names(session, [viewer.user_id])
    for user in session.scalars(select(User).where(User.id.in_(others))):
        mail.queue(
            session,
            user,
            MAIL_PAIR,
            "Someone left your mentoring circle",
            f"{names.get(viewer.user_id, 'A member')} has left your mentoring circle in "
            f"“{programme.title}”. The circle goes on with the others.\n\n"
            "People leave for many reasons and no reason is asked.",
            dedupe_key=f"mentoring-circle-left-{pair.id}-{viewer.user_id}-{user.id}",
        )
    if pair.state == PAIR_PROPOSED:
        return activate_if_ready(session, pair, when)
    return pair


def leave(session: Session, viewer: Viewer, pair_id: int, *, now: datetime | None = None) -> Pair:
    """A member leaves (no-fault exit, no reason asked): the pair ends (``no_fault``) and the
    other members are told neutrally by e-mail. In a circle (a ``group`` programme) only the
    member leaves (:func:`_leave_circle`)."""
    found = member_access(session, viewer, pair_id, "leave it")
    if is_circle(found.programme):
        return _leave_circle(session, viewer, found, _now(now))
    others = [i for i in found.current_ids if i != viewer.user_id]
    return _end(session, found, END_NO_FAULT, _now(now), others)


@dataclass(frozen=True)
class Rematch:
    """An ended pair and what the mentee's new request starts from: its competencies, goal and
    cadence, and ``needs`` (``{competency id: (level, target)}``) from the request that made the
    pair, else from the mentee's profile (only those known)."""

    pair: Pair
    competency_ids: list[int]
    goal: str
    cadence_days: int
    needs: dict[int, tuple[int, int]]


def _needs(session: Session, pair: Pair, mentee_id: int, ids: list[int]) -> dict:
    found: dict[int, tuple[int, int]] = {}
    if pair.request_id is not None:
        for row in session.scalars(
            select(RequestCompetency).where(RequestCompetency.request_id == pair.request_id)
        ):
            found[row.competency_id] = (row.level, row.target)
    profile = session.scalar(
        select(Profile).where(
            Profile.programme_id == pair.programme_id, Profile.user_id == mentee_id
        )
    )
    for pc in profile.competencies if profile is not None else []:
        if pc.role == AS_MENTEE and pc.target is not None:
            found.setdefault(pc.competency_id, (pc.level, pc.target))
    return {i: found[i] for i in ids if i in found}


def rematch(
    session: Session, viewer: Viewer, pair_id: int, *, now: datetime | None = None
) -> Rematch:
    """The mentee ends the pair to find another mentor (``rematch``); the others are told
    neutrally. The pair's competencies and goals prefill the next request."""
    found = member_access(session, viewer, pair_id, "re-match")
    if found.role != AS_MENTEE:
        raise Refusal(
            403, "Only a mentee can end a mentorship to find another mentor; you may leave it."
        )
    others = [i for i in found.current_ids if i != viewer.user_id]
    if is_circle(found.programme):  # the mentee leaves the circle; it goes on for the others
        pair = _leave_circle(session, viewer, found, _now(now))
    else:
        pair = _end(session, found, END_REMATCH, _now(now), others)
    ids = pair_competency_ids(session, pair.id)
    return Rematch(
        pair, ids, pair.goals, pair.cadence_days, _needs(session, pair, viewer.user_id, ids)
    )


def staff_end(
    session: Session, viewer: Viewer, pair_id: int, *, now: datetime | None = None
) -> Pair:
    """Programme staff end a pair (``staff``); every member is told by e-mail."""
    found = access(session, viewer, pair_id)
    if not found.staff:
        raise Refusal(403, "Only programme staff can end a mentorship this way; you may leave it.")
    return _end(session, found, END_STAFF, _now(now), found.current_ids)


# --- circles: a co-mentor ---------------------------------------------------------------------


def add_co_mentor(
    session: Session, viewer: Viewer, pair_id: int, user_id: object, *, now: datetime | None = None
) -> PairMember:
    """Programme staff, or a mentor of the circle, add a second mentor to a circle of a ``group``
    programme: a mentor of the programme who has a place for each of its mentees. They join not
    yet accepted (:func:`join`) and accept the agreement on its page; they get an e-mail."""
    when = _now(now)
    found = access(session, viewer, pair_id)
    pair, programme = found.pair, found.programme
    _check_adder(found)
    if not is_circle(programme):
        raise Refusal(
            409,
            "Only a group programme's circles have co-mentors; this programme pairs one mentor "
            "with one mentee.",
            title="Not a group circle",
        )
    if pair.state not in (PAIR_PROPOSED, PAIR_ACTIVE):
        raise Refusal(409, "This mentorship has ended: it takes no new mentor.")
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise Refusal(400, "Choose a mentor of the programme.")
    lock_programme(session, programme)
    current = [m for m in members_of(session, pair.id) if m.left_at is None]
    if sum(1 for m in current if m.role == AS_MENTOR) >= MAX_MENTORS:
        raise Refusal(409, f"A circle has at most {MAX_MENTORS} mentors; it has them already.")
    profile = session.scalar(
        select(Profile).where(
            Profile.programme_id == programme.id,
            Profile.user_id == user_id,
            Profile.is_mentor.is_(True),
        )
    )
    if profile is None:
        raise not_found("This mentor")
    if any(m.user_id == user_id for m in current):
        raise Refusal(409, "This person is already in this circle.", title="Already in the circle")
    mentees = sum(1 for m in current if m.role == AS_MENTEE)
    taken = taken_places(session, programme.id, [user_id]).get(user_id, 0)
    free = max(0, profile.capacity - taken)
    name = _names(session, [user_id]).get(user_id, "This mentor")
    if free < mentees:
        raise Refusal(
            409,
            f"{name} has {free} free place{'s' if free != 1 else ''} and this circle has "
            f"{mentees} mentee{'s' if mentees != 1 else ''}: choose another mentor, or ask them "
            "to raise their capacity.",
            title="No free place",
        )
    member = join(session, pair, user_id, AS_MENTOR, ())
    user = session.get(User, user_id)
    adder = _names(session, [viewer.user_id]).get(viewer.user_id, "Programme staff")
    if user is not None:
        mail.queue(
            session,
            user,
            MAIL_PAIR,
            "You were added as a co-mentor",
            f"{adder} added you as a co-mentor of a mentoring circle in “{programme.title}”.\n\n"
            "Read its agreement and accept it on the mentorship's page, from the programme's "
            "page in your course.",
            dedupe_key=f"mentoring-co-mentor-{pair.id}-{user_id}-{when.isoformat()}",
        )
    return member


def _check_adder(found: Access) -> None:
    if not found.staff and (found.role != AS_MENTOR or found.left):
        raise Refusal(
            403,
            "Only programme staff or a mentor of this circle can add a co-mentor.",
            title="Only staff or a mentor can add a co-mentor",
        )


@dataclass(frozen=True)
class CoMentorOption:
    user_id: int
    name: str
    free: int


def co_mentor_options(session: Session, viewer: Viewer, pair_id: int) -> list[CoMentorOption]:
    """The mentors of the programme who could join the circle as co-mentor (a place for each
    of its mentees, not in it), by name; two queries. Empty for an ended pair or one that is not
    a circle; 403 for who may not add one (a mentee), 404 for anyone else."""
    found = access(session, viewer, pair_id)
    _check_adder(found)
    if not is_circle(found.programme) or found.pair.state == PAIR_ENDED:
        return []
    current = set(found.current_ids)
    mentees = sum(1 for m in found.current if m.role == AS_MENTEE)
    taken = taken_places_query(found.programme.id).subquery()
    rows = session.execute(
        select(User, Profile.capacity, taken.c.taken)
        .join(Profile, Profile.user_id == User.id)
        .outerjoin(taken, taken.c.user_id == Profile.user_id)
        .where(Profile.programme_id == found.programme.id, Profile.is_mentor.is_(True))
    ).all()
    options = []
    for user, capacity, used in rows:
        free = max(0, capacity - int(used or 0))
        if user.id not in current and free >= mentees:
            options.append(CoMentorOption(user.id, user.display_name, free))
    options.sort(key=lambda o: (o.name.casefold(), o.user_id))
    return options[:MAX_LISTED]


# --- what people see ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    role: str
    accepted: bool
    left: bool = False  # left the circle (it went on without them)


@dataclass(frozen=True)
class PairSummary:
    """A pair in a list: its people, dates, state, health and next check-in."""

    id: int
    programme_id: int
    state: str
    role: str | None  # the viewer's role in it (None for staff)
    people: list[Person]
    starts_on: date
    ends_on: date
    cadence_days: int
    health: str | None
    check_in_due_at: datetime | None
    end_reason: str | None
    left: bool = False  # the viewer left this circle

    @property
    def current(self) -> list[Person]:
        """The people who have not left."""
        return [x for x in self.people if not x.left]


def _summaries(
    session: Session, viewer: Viewer, rows: list[Pair], when: datetime
) -> list[PairSummary]:
    ids = [p.id for p in rows]
    people: dict[int, list[Person]] = {i: [] for i in ids}
    if ids:
        for member, user in session.execute(
            select(PairMember, User)
            .join(User, User.id == PairMember.user_id)
            .where(PairMember.pair_id.in_(ids))
            .order_by(PairMember.pair_id, PairMember.role.desc(), PairMember.user_id)
        ):
            people[member.pair_id].append(
                Person(
                    user.id,
                    user.display_name,
                    member.role,
                    member.accepted_at is not None,
                    member.left_at is not None,
                )
            )
    healths = health_of(session, rows, when)
    return [
        PairSummary(
            id=p.id,
            programme_id=p.programme_id,
            state=p.state,
            role=next((x.role for x in people[p.id] if x.user_id == viewer.user_id), None),
            people=people[p.id],
            starts_on=p.starts_on,
            ends_on=p.ends_on,
            cadence_days=p.cadence_days,
            health=healths[p.id],
            check_in_due_at=aware(p.check_in_due_at),
            end_reason=p.end_reason,
            left=any(x.user_id == viewer.user_id and x.left for x in people[p.id]),
        )
        for p in rows
    ]


_STATE_ORDER = case((Pair.state == PAIR_ACTIVE, 0), (Pair.state == PAIR_PROPOSED, 1), else_=2)


def my_pairs(
    session: Session, viewer: Viewer, programme: Programme, *, now: datetime | None = None
) -> list[PairSummary]:
    """The viewer's pairs in the programme: active, then proposed, then ended (newest first)."""
    rows = list(
        session.scalars(
            select(Pair)
            .join(PairMember, PairMember.pair_id == Pair.id)
            .where(Pair.programme_id == programme.id, PairMember.user_id == viewer.user_id)
            .order_by(_STATE_ORDER, Pair.id.desc())
            .limit(MAX_LISTED)
        )
    )
    return _summaries(session, viewer, rows, _now(now))


def programme_pairs(
    session: Session,
    viewer: Viewer,
    programme: Programme,
    *,
    state: str | None = None,
    now: datetime | None = None,
) -> list[PairSummary]:
    """Every pair of the programme, for its staff (403 for others)."""
    programmes.check_manager(viewer, programme)
    query = select(Pair).where(Pair.programme_id == programme.id)
    if state is not None:
        if state not in (PAIR_PROPOSED, PAIR_ACTIVE, PAIR_ENDED):
            raise Refusal(400, "Choose a state: proposed, active or ended.")
        query = query.where(Pair.state == state)
    rows = list(session.scalars(query.order_by(_STATE_ORDER, Pair.id.desc()).limit(MAX_LISTED)))
    return _summaries(session, viewer, rows, _now(now))


@dataclass(frozen=True)
class Named:
    id: int
    name: str


@dataclass(frozen=True)
class PairDetail:
    """A pair's page: the agreement, its people, health and what the viewer may do."""

    summary: PairSummary
    programme: Programme
    place: str
    link: str
    goals: str
    competencies: list[Named]
    activated_at: datetime | None
    ended_at: datetime | None
    staff_view: bool  # the viewer reads as staff (no notes, no next steps)
    may_edit: bool
    may_accept: bool
    may_log: bool
    may_leave: bool
    may_rematch: bool
    may_end: bool
    proposed_ends_on: date | None = None  # a pending extension
    proposed_by_name: str = ""
    may_extend: bool = False  # propose a later end date
    may_confirm_extension: bool = False
    circle: bool = False  # a group programme's circle: people join and leave
    left: bool = False  # the viewer left this circle: read only
    may_add_co_mentor: bool = False  # staff or a mentor of the circle, while it has one mentor

    @property
    def id(self) -> int:
        return self.summary.id


def detail(
    session: Session, viewer: Viewer, pair_id: int, *, now: datetime | None = None
) -> PairDetail:
    """The pair for its page (members and staff; 404 for anyone else)."""
    found = access(session, viewer, pair_id)
    pair, programme = found.pair, found.programme
    (summary,) = _summaries(session, viewer, [pair], _now(now))
    ids = pair_competency_ids(session, pair.id)
    comps = links.platform_competencies(session, programme.platform_id, ids)
    me = next((m for m in found.members if m.user_id == viewer.user_id), None)
    member = found.role is not None and not found.left  # a current member acts
    open_ = pair.state in (PAIR_PROPOSED, PAIR_ACTIVE)
    circle = is_circle(programme)
    mentors = sum(1 for m in found.current if m.role == AS_MENTOR)
    return PairDetail(
        summary=summary,
        programme=programme,
        place=pair.place,
        link=pair.link,
        goals=pair.goals,
        competencies=[Named(i, comps[i].name) for i in ids if i in comps],
        activated_at=aware(pair.activated_at),
        ended_at=aware(pair.ended_at),
        staff_view=found.role is None,
        may_edit=member and pair.state == PAIR_PROPOSED,
        may_accept=member and open_ and me is not None and not me.accepted_at,
        may_log=member and pair.state == PAIR_ACTIVE,
        may_leave=member and open_,
        may_rematch=member and found.role == AS_MENTEE and open_,
        may_end=found.staff and open_,
        proposed_ends_on=pair.proposed_ends_on,
        proposed_by_name=_names(session, [pair.proposed_by]).get(pair.proposed_by, "")
        if pair.proposed_by
        else "",
        may_extend=member and pair.state == PAIR_ACTIVE,
        may_confirm_extension=member
        and pair.state == PAIR_ACTIVE
        and pair.proposed_ends_on is not None
        and me is not None
        and me.extension_confirmed_at is None,
        circle=circle,
        left=found.left,
        may_add_co_mentor=circle
        and open_
        and mentors < MAX_MENTORS
        and (found.staff or (member and found.role == AS_MENTOR)),
    )


MEETING_MINUTES = 60
DEFAULT_HOUR = 12


def meetings_invite(
    session: Session, viewer: Viewer, pair_id: int, *, uid_domain: str, now: datetime | None = None
) -> bytes:
    """The pair's meetings as an ``.ics`` invite (:func:`.calendar.invite`), for its members:
    from the start to the end date at the cadence, at the mentor's first available hour (noon
    otherwise) in the mentor's time zone, with the place and link, the members as attendees.
    409 when the agreement names no place or link, or a member has no e-mail address."""
    from plugin.social.mentoring import calendar

    found = member_access(session, viewer, pair_id, "download its meetings")
    pair = found.pair
    if pair.state == PAIR_ENDED:
        raise Refusal(409, "This mentorship has ended: it has no more meetings.")
    if not pair.place and not pair.link:
        raise Refusal(409, "Add a meeting place or link to the agreement first.")
    mentors = [m for m in found.current if m.role == AS_MENTOR]
    mentees = [m for m in found.current if m.role == AS_MENTEE]
    if not mentors or not mentees:
        raise Refusal(409, "This mentorship has no mentor or no mentee.")
    mentor, mentee = mentors[0], mentees[0]
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(found.current_ids)))}
    missing = [users[i].display_name for i in found.current_ids if not users[i].email]
    if missing:
        raise Refusal(
            409,
            f"{', '.join(missing)} has no e-mail address in the course, so no invite can be made.",
        )
    profile = session.scalar(
        select(Profile).where(
            Profile.programme_id == pair.programme_id, Profile.user_id == mentor.user_id
        )
    )
    zone = profile.time_zone if profile is not None and profile.time_zone else "UTC"
    windows = sorted(profile.availability or []) if profile is not None else []
    hour = windows[0][1] if windows and 0 <= windows[0][1] <= 23 else DEFAULT_HOUR
    series = calendar.MeetingSeries(
        pair_id=pair.id,
        title=f"Mentoring: {found.programme.title}"[: calendar.MAX_TITLE_CHARS],
        mentor=calendar.Person(users[mentor.user_id].display_name, users[mentor.user_id].email),
        mentee=calendar.Person(users[mentee.user_id].display_name, users[mentee.user_id].email),
        co_mentors=tuple(
            calendar.Person(users[m.user_id].display_name, users[m.user_id].email)
            for m in mentors[1:]
        ),
        other_mentees=tuple(
            calendar.Person(users[m.user_id].display_name, users[m.user_id].email)
            for m in mentees[1:]
        ),
        start_date=pair.starts_on,
        start_time=time(hour, 0),
        time_zone=zone,
        duration_minutes=MEETING_MINUTES,
        cadence_days=pair.cadence_days,
        end_date=pair.ends_on,
        uid_domain=uid_domain,
        place=pair.place or None,
        link=pair.link or None,
    )
    try:
        return calendar.invite(series, stamp=_now(now))
    except Refusal as exc:
        raise Refusal(409, exc.message, title="No invite for this agreement") from exc


# --- extending the end date ---------------------------------------------------------------------


def propose_extension(
    session: Session, viewer: Viewer, pair_id: int, *, ends_on: object, now: datetime | None = None
) -> Pair:
    """A member of an active pair proposes a later end date (it replaces a pending proposal);
    the other members are asked by e-mail to confirm it. Until they all have, the old date
    holds."""
    when = _now(now)
    found = member_access(session, viewer, pair_id, "extend it")
    pair, programme = found.pair, found.programme
    if pair.state != PAIR_ACTIVE:
        raise Refusal(
            409,
            "Only an active mentorship is extended; before that, change the agreement's end date.",
        )
    new_end = _date(ends_on, "The new end date")
    if new_end <= pair.ends_on:
        raise Refusal(400, f"Choose an end date after the current one ({pair.ends_on}).")
    check_dates(pair.starts_on, new_end)
    pair.proposed_ends_on, pair.proposed_by = new_end, viewer.user_id
    for member in found.members:
        member.extension_confirmed_at = when if member.user_id == viewer.user_id else None
    session.flush()
    names = _names(session, [viewer.user_id])
    others = [i for i in found.current_ids if i != viewer.user_id]
    for user in session.scalars(select(User).where(User.id.in_(others))):
        mail.queue(
            session,
            user,
            MAIL_PAIR,
            "Extend your mentorship?",
            f"{names.get(viewer.user_id, 'A member')} proposes to extend your mentorship in "
            f"“{programme.title}” until {new_end:%d %B %Y} (now {pair.ends_on:%d %B %Y}).\n\n"
            "Confirm or decline it on the mentorship's page; until everyone confirms, the "
            "current end date holds.",
            dedupe_key=f"mentoring-pair-extend-{pair.id}-{new_end.isoformat()}-{user.id}",
        )
    return pair


def _pending(found: Access) -> Pair:
    pair = found.pair
    if pair.proposed_ends_on is None:
        raise Refusal(409, "No extension is waiting for an answer.")
    if pair.state != PAIR_ACTIVE:
        raise Refusal(409, "This mentorship is no longer active.")
    return pair


def confirm_extension(
    session: Session, viewer: Viewer, pair_id: int, *, now: datetime | None = None
) -> Pair:
    """A member confirms the pending extension; when every member has, the end date moves."""
    when = _now(now)
    found = member_access(session, viewer, pair_id, "confirm an extension")
    pair = _pending(found)
    me = next(m for m in found.members if m.user_id == viewer.user_id)
    if me.extension_confirmed_at is not None:
        raise Refusal(409, "You have already confirmed this extension.")
    me.extension_confirmed_at = when
    if all(m.extension_confirmed_at is not None for m in found.current):
        pair.ends_on = pair.proposed_ends_on
        pair.proposed_ends_on, pair.proposed_by = None, None
        for member in found.members:
            member.extension_confirmed_at = None
    session.flush()
    return pair


def decline_extension(
    session: Session, viewer: Viewer, pair_id: int, *, now: datetime | None = None
) -> Pair:
    """A member declines the pending extension (the proposer withdraws it): it is dropped and
    the end date stays."""
    found = member_access(session, viewer, pair_id, "decline an extension")
    pair = _pending(found)
    pair.proposed_ends_on, pair.proposed_by = None, None
    for member in found.members:
        member.extension_confirmed_at = None
    session.flush()
    return pair
