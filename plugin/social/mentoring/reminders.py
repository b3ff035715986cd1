"""Mentoring's background work (``commons worker`` periodic tasks) and the pulse surveys.

Every task reads due times from the database and is safe with several workers: it lists the rows
that look due, then **claims** each with one conditional ``UPDATE … WHERE <still due>`` and acts
(e-mail, events) only when that UPDATE changed the row, so two workers (or a run repeated after a
crash) never act on a row twice. Each task takes ``now`` (tests move the clock).

- :func:`expire_requests` — open requests past ``expires_at`` become ``expired``; the mentee is
  told they can ask someone else (``mentoring.request_update``).
- :func:`escalate_requests` — open pool requests past ``escalate_at`` get ``escalated_at``: from
  then on every accepting mentor of the programme may answer (:mod:`.requests`), and they and the
  programme's staff are told it waited too long (``mentoring.escalated``).
- :func:`complete_pairs` — active pairs whose ``ends_on`` has passed end as ``completed``.
- :func:`create_pulses` / :func:`send_pulses` — a pulse survey per member: ``day_30`` once an
  active pair is 30 days old, ``end`` once a pair ended (any reason) or its end date passed;
  each sent once (``mentoring.pulse``).
- :func:`remind_check_ins` — active pairs whose check-in is due and not reminded since it became
  due: both members get one e-mail (``mentoring.reminder``), ``reminded_at = now``.

A pulse is answered once by its person (:func:`answer_pulse`: a rating 1-5 and an optional
comment, private to the pair — the ``mentoring.feedback_given`` event carries the rating, never
the comment). :func:`to_do` is the programme page's "To do" box.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from plugin import events, mail
from plugin.access import Refusal, Viewer, not_found
from plugin.events import DomainEvent
from plugin.lti.models import Membership, Placement, User
from plugin.lti.roles import permissions
from plugin.performance import links
from plugin.social.mentoring import pairs, profiles, programmes
from plugin.social.mentoring.models import (
    PAIR_ACTIVE,
    PAIR_ENDED,
    PULSE_DAY_30,
    PULSE_END,
    REQUEST_EXPIRED,
    REQUEST_OPEN,
    Pair,
    PairCompetency,
    PairMember,
    Profile,
    Programme,
    ProgrammePlacement,
    Pulse,
    Request,
    RequestDecline,
)
from plugin.social.mentoring.requests import pair_ref

MAIL_REQUEST_UPDATE = "mentoring.request_update"
MAIL_ESCALATED = "mentoring.escalated"
MAIL_REMINDER = "mentoring.reminder"
MAIL_PULSE = "mentoring.pulse"
MAIL_KINDS = {
    MAIL_REQUEST_UPDATE: "Your expired mentoring requests",
    MAIL_ESCALATED: "Mentoring pool requests waiting too long",
    MAIL_REMINDER: "Mentoring check-in reminders",
    MAIL_PULSE: "Mentoring pulse surveys",
}

PULSE_AFTER_DAYS = 30
MAX_COMMENT_CHARS = 1000
DEFAULT_EVERY_MINUTES = 15.0
TASKS = (
    "mentoring.expire_requests",
    "mentoring.escalate_requests",
    "mentoring.complete_pairs",
    "mentoring.pulses",
    "mentoring.reminders",
)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _claim(session: Session, model: type, row_id: int, still_due: Any, **values: object) -> bool:
    """Move one row by a conditional UPDATE; True only when this call changed it."""
    done = session.execute(
        update(model)
        .where(model.id == row_id, still_due)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


def _link(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path if base_url else path


def _competency_refs(session: Session, platform_id: int, ids: list[int]) -> list[dict[str, str]]:
    found = links.platform_competencies(session, platform_id, ids)
    return [{"iri": found[i].uri, "name": found[i].name} for i in ids if i in found]


# --- 1. request expiry ---------------------------------------------------------------------------
def _expiry_due(now: datetime):
    return and_(Request.state == REQUEST_OPEN, Request.expires_at <= now)


def expire_requests(session: Session, *, now: datetime | None = None, base_url: str = "") -> int:
    """Open requests past ``expires_at`` → ``expired``; each mentee gets one e-mail. Returns how
    many this call expired."""
    when = _now(now)
    due = _expiry_due(when)
    ids = list(session.scalars(select(Request.id).where(due).order_by(Request.id)))
    done = 0
    for request_id in ids:
        if not claim_expiry(session, request_id, now=when):
            continue
        done += 1
        request = session.get(Request, request_id)
        programme = session.get(Programme, request.programme_id)
        mentee = session.get(User, request.mentee_id)
        if mentee is None or programme is None:
            continue
        asked = "the mentor pool" if request.to_pool else "your mentor"
        mail.queue(
            session,
            mentee,
            MAIL_REQUEST_UPDATE,
            "Your mentoring request expired",
            f"Your request in “{programme.title}” to {asked} had no answer in time, so it has "
            "expired.\n\nYou can ask someone else: open the programme from your course and "
            "choose another mentor.\n\n"
            f"{_link(base_url, f'/mentoring/programmes/{programme.id}')}",
            dedupe_key=f"mentoring-expired-{request_id}",
        )
    return done


def claim_expiry(session: Session, request_id: int, *, now: datetime) -> bool:
    """Expire one request if it is still open and past due (True when this call did)."""
    session.flush()
    return _claim(session, Request, request_id, _expiry_due(now), state=REQUEST_EXPIRED)


# --- 2. pool escalation --------------------------------------------------------------------------
def _escalation_due(now: datetime):
    return and_(
        Request.state == REQUEST_OPEN,
        Request.to_pool.is_(True),
        Request.mentor_id.is_(None),
        Request.escalate_at.is_not(None),
        Request.escalate_at <= now,
        Request.escalated_at.is_(None),
        Request.expires_at > now,
    )


def programme_staff(session: Session, programme: Programme) -> list[User]:
    """Who manages the programme: its course's active staff (a platform-wide programme: the
    administrators among the members of the courses its links are in), in id order."""
    if programme.context_id is not None:
        course = Membership.context_id == programme.context_id
        wanted = "staff"
    else:
        course = Membership.context_id.in_(
            select(Placement.context_id)
            .join(ProgrammePlacement, ProgrammePlacement.placement_id == Placement.id)
            .where(ProgrammePlacement.programme_id == programme.id)
        )
        wanted = "admin"
    rows = session.execute(
        select(User, Membership.roles)
        .join(Membership, Membership.user_id == User.id)
        .where(course, Membership.status == "Active")
        .order_by(User.id)
    ).all()
    found: dict[int, User] = {}
    for user, roles in rows:
        if getattr(permissions(roles or []), wanted):
            found[user.id] = user
    return list(found.values())


def escalate_requests(session: Session, *, now: datetime | None = None, base_url: str = "") -> int:
    """Open pool requests past ``escalate_at`` get ``escalated_at``; every accepting mentor of the
    programme (but the mentee and those who declined) and the programme's staff get an e-mail.
    Returns how many this call escalated."""
    when = _now(now)
    due = _escalation_due(when)
    ids = list(session.scalars(select(Request.id).where(due).order_by(Request.id)))
    done = 0
    for request_id in ids:
        if not claim_escalation(session, request_id, now=when):
            continue
        done += 1
        request = session.get(Request, request_id)
        programme = session.get(Programme, request.programme_id)
        declined = select(RequestDecline.mentor_id).where(RequestDecline.request_id == request_id)
        mentors = list(
            session.scalars(
                select(User)
                .join(Profile, Profile.user_id == User.id)
                .where(
                    Profile.programme_id == programme.id,
                    Profile.is_mentor.is_(True),
                    Profile.accepting.is_(True),
                    Profile.user_id != request.mentee_id,
                    Profile.user_id.not_in(declined),
                )
                .order_by(User.id)
            )
        )
        page = _link(base_url, f"/mentoring/programmes/{programme.id}")
        hours = programme.escalation_hours
        for user in mentors:
            mail.queue(
                session,
                user,
                MAIL_ESCALATED,
                "A mentoring request is still waiting for a mentor",
                f"A request to the mentor pool of “{programme.title}” has waited more than "
                f"{hours} hours without a mentor. Every mentor of the programme may take it now, "
                f"whatever their competencies.\n\nAnswer it from the programme's page by "
                f"{_aware(request.expires_at):%d %B %Y}.\n\n{page}",
                dedupe_key=f"mentoring-escalated-{request_id}",
            )
        for user in programme_staff(session, programme):
            if user.id == request.mentee_id:
                continue
            mail.queue(
                session,
                user,
                MAIL_ESCALATED,
                "A mentoring request waited too long",
                f"A request to the mentor pool of “{programme.title}” has waited more than "
                f"{hours} hours without a mentor. It now goes to every accepting mentor of the "
                f"programme ({len(mentors)}). You may want to nominate more mentors or contact "
                f"them.\n\n{page}",
                dedupe_key=f"mentoring-escalated-{request_id}",
            )
    return done


def claim_escalation(session: Session, request_id: int, *, now: datetime) -> bool:
    """Mark one pool request escalated if it still is due (True when this call did)."""
    session.flush()
    return _claim(session, Request, request_id, _escalation_due(now), escalated_at=now)


# --- 3. completion -------------------------------------------------------------------------------
def _completion_due(now: datetime):
    return and_(Pair.state == PAIR_ACTIVE, Pair.ends_on < now.date())


def complete_pairs(session: Session, *, now: datetime | None = None) -> int:
    """Active pairs whose ``ends_on`` has passed → ``ended`` (``completed``). Their end pulses
    come with :func:`create_pulses`. Returns how many this call ended."""
    when = _now(now)
    due = _completion_due(when)
    ids = list(session.scalars(select(Pair.id).where(due).order_by(Pair.id)))
    session.flush()
    return sum(
        _claim(
            session,
            Pair,
            pair_id,
            _completion_due(when),
            state=PAIR_ENDED,
            ended_at=when,
            end_reason="completed",
        )
        for pair_id in ids
    )


# --- 4. pulses -----------------------------------------------------------------------------------
def _insert(session: Session):
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(Pulse.__table__)


def create_pulses(session: Session, *, now: datetime | None = None) -> int:
    """The pulse rows members owe (unique per pair, person and kind; an existing one is kept):
    ``day_30`` for active pairs 30 days after ``activated_at``, ``end`` for pairs that ended or
    whose ``ends_on`` passed. Returns how many rows this call added."""
    when = _now(now)
    day_30 = session.execute(
        select(Pair.id, PairMember.user_id, Pair.activated_at)
        .join(PairMember, PairMember.pair_id == Pair.id)
        .where(
            PairMember.left_at.is_(None),  # who left a group circle owes no pulse for it
            Pair.state == PAIR_ACTIVE,
            Pair.activated_at.is_not(None),
            Pair.activated_at <= when - timedelta(days=PULSE_AFTER_DAYS),
        )
    ).all()
    ended = session.execute(
        select(Pair.id, PairMember.user_id, Pair.state, Pair.ended_at, Pair.ends_on)
        .join(PairMember, PairMember.pair_id == Pair.id)
        .where(
            PairMember.left_at.is_(None),
            or_(
                Pair.state == PAIR_ENDED,
                and_(Pair.state == PAIR_ACTIVE, Pair.ends_on < when.date()),
            ),
        )
    ).all()
    rows = [
        {
            "pair_id": pair_id,
            "user_id": user_id,
            "kind": PULSE_DAY_30,
            "due_at": _aware(activated) + timedelta(days=PULSE_AFTER_DAYS),
        }
        for pair_id, user_id, activated in day_30
    ]
    for pair_id, user_id, state, ended_at, ends_on in ended:
        due = _aware(ended_at) if state == PAIR_ENDED and ended_at else _midnight(ends_on)
        rows.append(
            {"pair_id": pair_id, "user_id": user_id, "kind": PULSE_END, "due_at": min(due, when)}
        )
    if not rows:
        return 0
    have = set(
        session.execute(
            select(Pulse.pair_id, Pulse.user_id, Pulse.kind).where(
                Pulse.pair_id.in_({r["pair_id"] for r in rows})
            )
        ).all()
    )
    added = 0
    for row in rows:
        if (row["pair_id"], row["user_id"], row["kind"]) in have:
            continue
        statement = (
            _insert(session)
            .values(**row, comment="")
            .on_conflict_do_nothing()
            .returning(Pulse.__table__.c.id)
        )
        added += session.execute(statement).scalar() is not None
    return added


def _pulse_due(now: datetime):
    return and_(Pulse.sent_at.is_(None), Pulse.due_at <= now)


def claim_pulse(session: Session, pulse_id: int, *, now: datetime) -> bool:
    """Mark one pulse sent if nobody sent it yet (True when this call did)."""
    session.flush()
    return _claim(session, Pulse, pulse_id, _pulse_due(now), sent_at=now)


def send_pulses(session: Session, *, now: datetime | None = None, base_url: str = "") -> int:
    """Send each due pulse once (``sent_at``): an e-mail to its person with the page's link.
    Returns how many this call sent."""
    when = _now(now)
    ids = list(session.scalars(select(Pulse.id).where(_pulse_due(when)).order_by(Pulse.id)))
    done = 0
    for pulse_id in ids:
        if not claim_pulse(session, pulse_id, now=when):
            continue
        done += 1
        pulse = session.get(Pulse, pulse_id)
        pair = session.get(Pair, pulse.pair_id)
        programme = session.get(Programme, pair.programme_id)
        user = session.get(User, pulse.user_id)
        if user is None or programme is None:
            continue
        moment = (
            "You have been meeting for a month"
            if pulse.kind == PULSE_DAY_30
            else "Your mentorship has ended"
        )
        mail.queue(
            session,
            user,
            MAIL_PULSE,
            f"How is your mentorship going? ({programme.title})"[:200],
            f"{moment} in “{programme.title}”. How is it going? Answer one question (a rating "
            "from 1 to 5, and a comment if you like: programme staff see only ratings, never "
            "your comment).\n\nOpen the programme from your course (it is under “To do”), or this "
            f"page:\n{_link(base_url, f'/mentoring/pulses/{pulse_id}')}",
            dedupe_key=f"mentoring-pulse-{pulse_id}",
        )
    return done


# --- 5. check-in reminders -----------------------------------------------------------------------
def _reminder_due(now: datetime):
    return and_(
        Pair.state == PAIR_ACTIVE,
        Pair.check_in_due_at.is_not(None),
        Pair.check_in_due_at <= now,
        or_(Pair.reminded_at.is_(None), Pair.reminded_at < Pair.check_in_due_at),
    )


def claim_reminder(session: Session, pair_id: int, *, now: datetime) -> bool:
    """Mark one pair reminded if its reminder is still due (True when this call did)."""
    session.flush()
    return _claim(session, Pair, pair_id, _reminder_due(now), reminded_at=now)


def remind_check_ins(session: Session, *, now: datetime | None = None, base_url: str = "") -> int:
    """Active pairs whose check-in is due and not reminded since: both members get one e-mail
    with a link to log a check-in, ``reminded_at = now``. Returns how many pairs were reminded."""
    when = _now(now)
    ids = list(session.scalars(select(Pair.id).where(_reminder_due(when)).order_by(Pair.id)))
    done = 0
    for pair_id in ids:
        if not claim_reminder(session, pair_id, now=when):
            continue
        done += 1
        pair = session.get(Pair, pair_id)
        programme = session.get(Programme, pair.programme_id)
        due = _aware(pair.check_in_due_at)
        members = session.execute(
            select(User, PairMember.role)
            .join(PairMember, PairMember.user_id == User.id)
            .where(PairMember.pair_id == pair_id, PairMember.left_at.is_(None))
            .order_by(User.id)
        ).all()
        for user, _role in members:
            others = ", ".join(u.display_name for u, _r in members if u.id != user.id)
            mail.queue(
                session,
                user,
                MAIL_REMINDER,
                "Time for a mentoring check-in",
                f"Your check-in with {others or 'your partner'} in “{programme.title}” was due on "
                f"{due:%d %B %Y}. Meet, then log the check-in from the programme's page (open "
                "it from your course: it is under “To do”).\n\n"
                f"{_link(base_url, f'/mentoring/programmes/{programme.id}')}",
                dedupe_key=f"mentoring-reminder-{pair_id}-{due:%Y%m%d%H%M}",
            )
    return done


# --- the periodic tasks --------------------------------------------------------------------------
def _base(config: Mapping[str, Any]) -> str:
    return str(config.get("MAIL_BASE_URL") or "")


def expire_task(session: Session, payload: dict[str, Any], config: Mapping[str, Any]) -> str:
    return f"{expire_requests(session, base_url=_base(config))} requests expired"


def escalate_task(session: Session, payload: dict[str, Any], config: Mapping[str, Any]) -> str:
    return f"{escalate_requests(session, base_url=_base(config))} pool requests escalated"


def complete_task(session: Session, payload: dict[str, Any], config: Mapping[str, Any]) -> str:
    return f"{complete_pairs(session)} mentorships completed"


def pulse_task(session: Session, payload: dict[str, Any], config: Mapping[str, Any]) -> str:
    now = datetime.now(UTC)
    made = create_pulses(session, now=now)
    sent = send_pulses(session, now=now, base_url=_base(config))
    return f"{made} pulses made, {sent} sent"


def reminder_task(session: Session, payload: dict[str, Any], config: Mapping[str, Any]) -> str:
    return f"{remind_check_ins(session, base_url=_base(config))} pairs reminded"


HANDLERS = dict(
    zip(TASKS, (expire_task, escalate_task, complete_task, pulse_task, reminder_task), strict=True)
)


# --- pulses: the person's side -------------------------------------------------------------------
@dataclass(frozen=True)
class PulseView:
    """A pulse as its person sees it."""

    id: int
    pair_id: int
    programme_id: int
    programme_title: str
    kind: str
    partners: list[str]
    due_at: datetime
    sent_at: datetime | None
    answered_at: datetime | None
    rating: int | None
    comment: str


def _pulse_of(session: Session, viewer: Viewer, pulse_id: int) -> tuple[Pulse, Pair, Programme]:
    """The viewer's own pulse, in a programme they see (404 otherwise)."""
    pulse = session.get(Pulse, pulse_id)
    if pulse is None or pulse.user_id != viewer.user_id:
        raise not_found("This survey")
    pair = session.get(Pair, pulse.pair_id)
    try:
        programme = programmes.get_programme(session, viewer, pair.programme_id)
    except Refusal as exc:
        raise not_found("This survey") from exc
    return pulse, pair, programme


def _view(session: Session, pulse: Pulse, programme: Programme) -> PulseView:
    partners = list(
        session.scalars(
            select(User)
            .join(PairMember, PairMember.user_id == User.id)
            .where(PairMember.pair_id == pulse.pair_id, PairMember.user_id != pulse.user_id)
            .order_by(User.id)
        )
    )
    return PulseView(
        id=pulse.id,
        pair_id=pulse.pair_id,
        programme_id=programme.id,
        programme_title=programme.title,
        kind=pulse.kind,
        partners=[u.display_name for u in partners],
        due_at=_aware(pulse.due_at),
        sent_at=_aware(pulse.sent_at) if pulse.sent_at else None,
        answered_at=_aware(pulse.answered_at) if pulse.answered_at else None,
        rating=pulse.rating,
        comment=pulse.comment,
    )


def get_pulse(session: Session, viewer: Viewer, pulse_id: int) -> PulseView:
    """The viewer's own pulse (another person's, or another course's: 404)."""
    pulse, _pair, programme = _pulse_of(session, viewer, pulse_id)
    return _view(session, pulse, programme)


def check_rating(value: object) -> int:
    """A rating from 1 to 5 (a form's text or a JSON number); 400 otherwise."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) == 1:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise Refusal(400, "Choose a rating from 1 (not well) to 5 (very well).")
    return value


def answer_pulse(
    session: Session,
    viewer: Viewer,
    pulse_id: int,
    *,
    rating: object,
    comment: object = "",
    now: datetime | None = None,
) -> PulseView:
    """Answer one's pulse once (409 after): the rating and an optional comment (≤ 1,000
    characters, private to the pair). Publishes ``mentoring.feedback_given`` with the rating and
    the pair's competencies, never the comment."""
    when = _now(now)
    pulse, pair, programme = _pulse_of(session, viewer, pulse_id)
    value = check_rating(rating)
    text = profiles.check_text(comment, MAX_COMMENT_CHARS, "The comment")
    if pulse.answered_at is not None or not _claim(
        session,
        Pulse,
        pulse.id,
        Pulse.answered_at.is_(None),
        answered_at=when,
        rating=value,
        comment=text,
    ):
        raise Refusal(409, "You have already answered this survey.", title="Already answered")
    session.refresh(pulse)
    pairs.note_rating(session, pair.id, value, when)
    competency_ids = list(
        session.scalars(
            select(PairCompetency.competency_id)
            .where(PairCompetency.pair_id == pair.id)
            .order_by(PairCompetency.competency_id)
        )
    )
    events.publish(
        session,
        DomainEvent(
            kind=events.FEEDBACK_GIVEN,
            identity=f"mentoring-pulse:{pulse.id}",
            occurred_at=when,
            platform_id=programme.platform_id,
            actor_user_id=viewer.user_id,
            object=pair_ref(pair),
            context_id=programme.context_id
            if programme.context_id is not None
            else viewer.course(),
            data={
                "rating": value,
                "competencies": _competency_refs(session, programme.platform_id, competency_ids),
            },
        ),
    )
    return _view(session, pulse, programme)


# --- the "To do" box -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckInDue:
    pair_id: int
    partners: list[str]
    due_at: datetime


@dataclass(frozen=True)
class PulseDue:
    id: int
    kind: str
    partners: list[str]
    due_at: datetime


@dataclass(frozen=True)
class ToDo:
    check_ins: list[CheckInDue]
    pulses: list[PulseDue]

    @property
    def empty(self) -> bool:
        return not self.check_ins and not self.pulses


def to_do(
    session: Session, viewer: Viewer, programme: Programme, *, now: datetime | None = None
) -> ToDo:
    """The viewer's active pairs of the programme whose check-in is due, and their pulses to
    answer (created and due, not answered), oldest first. Three queries, whatever the count."""
    when = _now(now)
    me = aliased(PairMember)
    due_pairs = session.execute(
        select(Pair.id, Pair.check_in_due_at)
        .join(
            me,
            and_(me.pair_id == Pair.id, me.user_id == viewer.user_id, me.left_at.is_(None)),
        )
        .where(
            Pair.programme_id == programme.id,
            Pair.state == PAIR_ACTIVE,
            Pair.check_in_due_at.is_not(None),
            Pair.check_in_due_at <= when,
        )
        .order_by(Pair.check_in_due_at, Pair.id)
    ).all()
    pulses = session.execute(
        select(Pulse.id, Pulse.kind, Pulse.pair_id, Pulse.due_at)
        .join(Pair, Pair.id == Pulse.pair_id)
        .where(
            Pair.programme_id == programme.id,
            Pulse.user_id == viewer.user_id,
            Pulse.answered_at.is_(None),
            Pulse.due_at <= when,
        )
        .order_by(Pulse.due_at, Pulse.id)
    ).all()
    pair_ids = {p.id for p in due_pairs} | {p.pair_id for p in pulses}
    partners: dict[int, list[str]] = {}
    if pair_ids:
        for pair_id, user in session.execute(
            select(PairMember.pair_id, User)
            .join(User, User.id == PairMember.user_id)
            .where(
                PairMember.pair_id.in_(pair_ids),
                PairMember.user_id != viewer.user_id,
                PairMember.left_at.is_(None),
            )
            .order_by(PairMember.pair_id, User.id)
        ).all():
            partners.setdefault(pair_id, []).append(user.display_name)
    return ToDo(
        check_ins=[
            CheckInDue(p.id, partners.get(p.id, []), _aware(p.check_in_due_at)) for p in due_pairs
        ],
        pulses=[
            PulseDue(p.id, p.kind, partners.get(p.pair_id, []), _aware(p.due_at)) for p in pulses
        ],
    )


def register(every_minutes: float = DEFAULT_EVERY_MINUTES) -> None:
    """Declare the e-mail kinds and the periodic tasks (each runs every ``every_minutes``)."""
    from plugin import jobs

    for kind, label in MAIL_KINDS.items():
        mail.register_kind(kind, label)
    for task, handler in HANDLERS.items():
        jobs.every(every_minutes, task, handler)
