"""Mentoring requests: a mentee sees ranked mentors (the score and its parts), asks one of them
(or the programme's pool), and the mentor accepts or declines with a message; the mentee may
withdraw. An accepted request becomes a ``proposed`` pair (or, in a group programme, joins the
mentor's open circle) whose members then accept its agreement (:mod:`.pairs`).

Rules (each refusal says what to do): the mentee has a mentee profile; the mentor is a mentor of
the same programme, accepting, with a free place, not the mentee, and holds a requested
competency at the target level (:func:`.scoring.blocked`); one open request per mentee and
mentor (or per mentee to the pool); a request expires :data:`REQUEST_DAYS` days after it was
sent. The first accept wins: the request moves from ``open`` by a conditional UPDATE, so two
mentors of a pool can never both take it. Another course's request is not found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from plugin import events, mail
from plugin.access import Refusal, Viewer, not_found
from plugin.events import ActivityRef, DomainEvent
from plugin.lti.models import User
from plugin.performance import links
from plugin.social.mentoring import pairs, profiles, programmes
from plugin.social.mentoring.models import (
    AS_MENTOR,
    MENTOR_POOL,
    REQUEST_ACCEPTED,
    REQUEST_DECLINED,
    REQUEST_EXPIRED,
    REQUEST_OPEN,
    REQUEST_WITHDRAWN,
    STAFF_BULK,
    Pair,
    Profile,
    ProfileCompetency,
    Programme,
    Request,
    RequestCompetency,
    RequestDecline,
)
from plugin.social.mentoring.scoring import MenteeRequest, MentorProfile, Need, Score, Window
from plugin.social.mentoring.scoring import blocked as blocked_reason
from plugin.social.mentoring.scoring import score as score_of

REQUEST_DAYS = 14  # an unanswered request expires after two weeks
MAX_GOAL_CHARS = 2000
MAX_MESSAGE_CHARS = 2000
MAX_CANDIDATES = 20

MAIL_REQUESTED = "mentoring.requested"
MAIL_ANSWERED = "mentoring.answered"


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _mentee_profile(session: Session, viewer: Viewer, programme: Programme) -> Profile:
    profile = profiles.my_profile(session, viewer, programme)
    if profile is None or not profile.is_mentee:
        raise Refusal(
            409, "Opt in as a mentee first (your profile).", title="Not a mentee in this programme"
        )
    return profile


def check_needs(
    session: Session, programme: Programme, needs: Mapping[int, tuple[object, object]]
) -> dict[int, Need]:
    """The requested competencies (the programme's, with a level and a target above it on the
    framework's scale; 400 or 404 otherwise), as the scorer's needs."""
    if not needs:
        raise Refusal(400, "Choose at least one competency you want help with.")
    rows = profiles.mentee_rows(session, programme, needs)
    return {row.competency_id: Need(row.level, row.target or 0) for row in rows}


def _windows(profile: Profile) -> tuple[Window, ...]:
    return tuple(Window(*w) for w in profile.availability or [])


def _declines(session: Session, programme: Programme, mentee_id: int) -> dict[int, int]:
    return dict(
        session.execute(
            select(RequestDecline.mentor_id, func.count())
            .join(Request, Request.id == RequestDecline.request_id)
            .where(Request.programme_id == programme.id, Request.mentee_id == mentee_id)
            .group_by(RequestDecline.mentor_id)
        ).all()
    )


def _scored_request(
    session: Session, programme: Programme, mentee: Profile, needs: Mapping[int, Need]
) -> MenteeRequest:
    return MenteeRequest(
        mentee_id=mentee.user_id,
        competencies=dict(needs),
        tz=mentee.time_zone,
        availability=_windows(mentee),
        languages=frozenset(mentee.languages or []),
        declines=_declines(session, programme, mentee.user_id),
    )


def _scored_mentor(profile: Profile, taken: Mapping[int, int]) -> MentorProfile:
    return MentorProfile(
        mentor_id=profile.user_id,
        competencies={
            pc.competency_id: pc.level for pc in profile.competencies if pc.role == AS_MENTOR
        },
        capacity=profile.capacity,
        taken=taken.get(profile.user_id, 0),
        accepting=profile.accepting,
        tz=profile.time_zone,
        availability=_windows(profile),
        languages=frozenset(profile.languages or []),
    )


def _mentor_profiles(
    session: Session, programme: Programme, user_id: int | None = None
) -> list[tuple[Profile, User]]:
    query = (
        select(Profile, User)
        .join(User, User.id == Profile.user_id)
        .where(Profile.programme_id == programme.id, Profile.is_mentor.is_(True))
        .order_by(Profile.user_id)
    )
    if user_id is not None:
        query = query.where(Profile.user_id == user_id)
    return [(row[0], row[1]) for row in session.execute(query)]


@dataclass(frozen=True)
class Candidate:
    """A mentor as the mentee sees them: name, bio and the score with its parts."""

    user_id: int
    name: str
    bio: str
    score: Score


def candidates(
    session: Session,
    viewer: Viewer,
    programme: Programme,
    needs: Mapping[int, tuple[object, object]],
    *,
    week: date | None = None,
    limit: int = MAX_CANDIDATES,
) -> list[Candidate]:
    """The programme's mentors for these needs, best score first (then by id), leaving out the
    pairs :func:`.scoring.blocked` refuses (self, not accepting, full, no competency at the
    target). ``week``: the week the availability is counted in (this week by default)."""
    mentee = _mentee_profile(session, viewer, programme)
    wanted = check_needs(session, programme, needs)
    request = _scored_request(session, programme, mentee, wanted)
    taken = pairs.taken_places(session, programme.id)
    when = week or datetime.now(UTC).date()
    found = []
    for profile, user in _mentor_profiles(session, programme):
        mentor = _scored_mentor(profile, taken)
        if blocked_reason(request, mentor) is not None:
            continue
        found.append(
            Candidate(user.id, user.display_name, profile.bio, score_of(request, mentor, week=when))
        )
    found.sort(key=lambda c: (-c.score.total, c.user_id))
    return found[: max(1, min(limit, MAX_CANDIDATES))]


def _open_clause(now: datetime):
    return (Request.state == REQUEST_OPEN) & (Request.expires_at > now)


def _competency_refs(session: Session, programme: Programme, ids: list[int]) -> list[dict]:
    found = links.platform_competencies(session, programme.platform_id, ids)
    return [{"iri": found[i].uri, "name": found[i].name} for i in ids if i in found]


def _publish(
    session: Session,
    kind: str,
    identity: str,
    viewer: Viewer,
    programme: Programme,
    obj: ActivityRef,
    when: datetime,
    competencies: list[dict],
) -> None:
    events.publish(
        session,
        DomainEvent(
            kind=kind,
            identity=identity,
            occurred_at=when,
            platform_id=programme.platform_id,
            actor_user_id=viewer.user_id,
            object=obj,
            context_id=programme.context_id
            if programme.context_id is not None
            else viewer.course(),
            data={"competencies": competencies},
        ),
    )


def request_ref(request: Request) -> ActivityRef:
    return ActivityRef("mentoring-request", str(request.id), f"Mentoring request {request.id}")


def pair_ref(pair: Pair) -> ActivityRef:
    return ActivityRef("mentorship", str(pair.id), f"Mentorship {pair.id}")


def find_activity(session: Session, platform_id: int, kind: str, key: str) -> ActivityRef | None:
    """A request or pair of the platform by its key (the xAPI activity IRIs), else None."""
    row_id = events.key_id(key)
    if row_id is None:
        return None
    model = Request if kind == "mentoring-request" else Pair if kind == "mentorship" else None
    if model is None:
        return None
    row = session.scalar(
        select(model)
        .join(Programme, Programme.id == model.programme_id)
        .where(model.id == row_id, Programme.platform_id == platform_id)
    )
    if row is None:
        return None
    return request_ref(row) if isinstance(row, Request) else pair_ref(row)


def send_request(
    session: Session,
    viewer: Viewer,
    programme: Programme,
    needs: Mapping[int, tuple[object, object]],
    *,
    goal: object = "",
    cadence_days: object = None,
    mentor_id: int | None = None,
    to_pool: bool = False,
    now: datetime | None = None,
) -> Request:
    """Ask a mentor (``mentor_id``) or, in a mentor-pool programme, the pool (``to_pool``) for
    mentoring on these competencies; the mentor (or the pool's mentors) get an e-mail."""
    when = _now(now)
    if programme.matching == STAFF_BULK:
        raise Refusal(409, "In this programme, staff match mentors and mentees.")
    mentee = _mentee_profile(session, viewer, programme)
    if to_pool == (mentor_id is not None):
        raise Refusal(400, "Choose a mentor, or send the request to the mentor pool.")
    if to_pool and programme.matching != MENTOR_POOL:
        raise Refusal(409, "This programme has no mentor pool: choose a mentor.")
    wanted = check_needs(session, programme, needs)
    text = profiles.check_text(goal, MAX_GOAL_CHARS, "The goal")
    if cadence_days is None or cadence_days == "":
        cadence = programme.cadence_days
    else:
        cadence = programmes.whole_number(cadence_days, "cadence_days")
    recipients: list[User] = []
    if mentor_id is not None:
        if mentor_id == viewer.user_id:
            raise Refusal(409, "You cannot ask yourself to be your mentor.")
        rows = _mentor_profiles(session, programme, mentor_id)
        if not rows:
            raise not_found("This mentor")
        profile, user = rows[0]
        reason = blocked_reason(
            _scored_request(session, programme, mentee, wanted),
            _scored_mentor(profile, pairs.taken_places(session, programme.id, [mentor_id])),
        )
        if reason is not None:
            raise Refusal(409, f"{user.display_name} cannot take this request: {reason}.")
        duplicate = Request.mentor_id == mentor_id
        recipients = [user]
    else:
        duplicate = Request.to_pool.is_(True)
    if session.scalar(
        select(Request.id).where(
            Request.programme_id == programme.id,
            Request.mentee_id == viewer.user_id,
            duplicate,
            _open_clause(when),
        )
    ):
        raise Refusal(
            409,
            "You already have an open request to this mentor: wait for the answer or withdraw it.",
        )
    request = Request(
        programme_id=programme.id,
        mentee_id=viewer.user_id,
        mentor_id=mentor_id,
        to_pool=to_pool,
        goal=text,
        cadence_days=cadence,
        state=REQUEST_OPEN,
        reply="",
        created_at=when,
        expires_at=when + timedelta(days=REQUEST_DAYS),
        escalate_at=when + timedelta(hours=programme.escalation_hours) if to_pool else None,
        competencies=[
            RequestCompetency(competency_id=cid, level=need.level, target=need.target)
            for cid, need in wanted.items()
        ],
    )
    session.add(request)
    session.flush()
    if to_pool:
        recipients = [
            user
            for profile, user in _mentor_profiles(session, programme)
            if profile.accepting
            and profile.user_id != viewer.user_id
            and any(
                pc.role == AS_MENTOR and pc.competency_id in wanted for pc in profile.competencies
            )
        ]
    refs = _competency_refs(session, programme, list(wanted))
    mentee_user = session.get(User, viewer.user_id)
    names = ", ".join(r["name"] for r in refs)
    for user in recipients:
        mail.queue(
            session,
            user,
            MAIL_REQUESTED,
            f"Mentoring request: {names}"[:200],
            f"{mentee_user.display_name if mentee_user else 'A mentee'} asks you to mentor them "
            f"in “{programme.title}” on {names}.\n\nGoal: {text or '(none given)'}\n\n"
            f"Answer from the programme's page by {request.expires_at:%d %B %Y}.",
            dedupe_key=f"mentoring-request-{request.id}-{user.id}",
        )
    _publish(
        session,
        events.MENTOR_REQUESTED,
        f"mentoring-request:{request.id}",
        viewer,
        programme,
        request_ref(request),
        when,
        refs,
    )
    return request


def _request_for(session: Session, viewer: Viewer, request_id: int) -> tuple[Request, Programme]:
    """A request of a programme the viewer sees (404 otherwise)."""
    request = session.get(Request, request_id)
    if request is None:
        raise not_found("This request")
    try:
        programme = programmes.get_programme(session, viewer, request.programme_id)
    except Refusal as exc:
        raise not_found("This request") from exc
    return request, programme


def _pool_mentor(session: Session, viewer: Viewer, request: Request) -> Profile | None:
    """The viewer's mentor profile when they are one of the pool the request went to."""
    profile = session.scalar(
        select(Profile).where(
            Profile.programme_id == request.programme_id,
            Profile.user_id == viewer.user_id,
            Profile.is_mentor.is_(True),
        )
    )
    if profile is None:
        return None
    if request.escalated_at is not None:  # escalated: every mentor of the programme may answer
        return profile
    wanted = {rc.competency_id for rc in request.competencies}
    held = {pc.competency_id for pc in profile.competencies if pc.role == AS_MENTOR}
    return profile if wanted & held else None


def _check_open(request: Request, when: datetime) -> None:
    if request.state != REQUEST_OPEN:
        raise Refusal(409, f"This request is already {request.state}.", title="Already answered")
    if _aware(request.expires_at) <= when:
        raise Refusal(409, "This request has expired.", title="Request expired")


def _conditional(session: Session, request: Request, when: datetime, **values: object) -> None:
    """Move the request from open (and unexpired) to ``values`` in one UPDATE; 409 when
    someone else moved it first."""
    done = session.execute(
        update(Request)
        .where(Request.id == request.id, _open_clause(when))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Refusal(409, "This request was answered or withdrawn meanwhile.", title="Too late")
    session.refresh(request)


def answer(
    session: Session,
    viewer: Viewer,
    request_id: int,
    *,
    accept: bool,
    message: object = "",
    now: datetime | None = None,
) -> Request:
    """The named mentor (or, for a pool request, a mentor of the programme holding a requested
    competency) accepts — a ``proposed`` pair is made, the mentee is told — or declines with a
    message (a pool request stays open for the others)."""
    when = _now(now)
    request, programme = _request_for(session, viewer, request_id)
    reply = profiles.check_text(message, MAX_MESSAGE_CHARS, "The message")
    if request.to_pool and request.mentor_id is None:
        mentor_profile = _pool_mentor(session, viewer, request)
        if mentor_profile is None:
            if request.mentee_id == viewer.user_id:
                raise Refusal(403, "Only a mentor can answer your request; you may withdraw it.")
            raise not_found("This request")
    elif request.mentor_id == viewer.user_id:
        rows = _mentor_profiles(session, programme, viewer.user_id)
        mentor_profile = rows[0][0] if rows else None
    elif request.mentee_id == viewer.user_id:
        raise Refusal(403, "Only the mentor you asked can answer; you may withdraw it.")
    else:
        raise not_found("This request")
    _check_open(request, when)
    mentee_user = session.get(User, request.mentee_id)
    mentor_user = session.get(User, viewer.user_id)
    if not accept:
        if request.to_pool and session.scalar(
            select(RequestDecline.request_id).where(
                RequestDecline.request_id == request.id,
                RequestDecline.mentor_id == viewer.user_id,
            )
        ):
            raise Refusal(409, "You already declined this request.")
        if not request.to_pool:
            _conditional(
                session, request, when, state=REQUEST_DECLINED, reply=reply, answered_at=when
            )
        session.add(RequestDecline(request_id=request.id, mentor_id=viewer.user_id, message=reply))
        session.flush()
        _publish(
            session,
            events.MENTORSHIP_DECLINED,
            f"mentoring-declined:{request.id}:{viewer.user_id}",
            viewer,
            programme,
            request_ref(request),
            when,
            _competency_refs(session, programme, [rc.competency_id for rc in request.competencies]),
        )
        if not request.to_pool and mentee_user is not None:
            mail.queue(
                session,
                mentee_user,
                MAIL_ANSWERED,
                "Your mentoring request was declined",
                f"{mentor_user.display_name if mentor_user else 'The mentor'} declined your "
                f"request in “{programme.title}”.\n\n{reply or ''}\n\n"
                "You can ask another mentor from the programme's page.",
                dedupe_key=f"mentoring-answer-{request.id}",
            )
        return request
    # One accept or bulk approval of a programme at a time: the lock is held until the
    # transaction ends, and the programme is read again (its matching may have changed).
    pairs.lock_programme(session, programme)
    if programme.matching == STAFF_BULK:
        raise Refusal(
            409,
            "Matching in this programme is now done by programme staff, all at once: this request "
            "can no longer be accepted. Decline it, or ask staff to include the mentee.",
            title="Matching is now by staff",
        )
    if mentor_profile is not None:
        session.refresh(mentor_profile)  # its capacity and "accepting" as they are now
    if mentor_profile is None or not mentor_profile.accepting:
        raise Refusal(409, "Turn on “accepting mentees” in your profile first.")
    taken = pairs.taken_places(session, programme.id, [viewer.user_id]).get(viewer.user_id, 0)
    if taken >= mentor_profile.capacity:
        raise Refusal(409, "You have no free place: raise your capacity or end a mentorship first.")
    circle = (
        pairs.open_circle(session, programme, viewer.user_id)
        if pairs.is_circle(programme)
        else None
    )
    if circle is not None and any(
        m.user_id == request.mentee_id and m.left_at is None
        for m in pairs.members_of(session, circle.id)
    ):
        raise Refusal(
            409, "This mentee is already in your circle: decline the request.", title="Already in"
        )
    _conditional(
        session,
        request,
        when,
        state=REQUEST_ACCEPTED,
        reply=reply,
        answered_at=when,
        mentor_id=viewer.user_id,
    )
    competency_ids = [rc.competency_id for rc in request.competencies]
    pair, joined = pairs.join_or_propose(
        session,
        programme,
        mentor_id=viewer.user_id,
        mentee_ids=[request.mentee_id],
        competency_ids=competency_ids,
        cadence_days=request.cadence_days,
        goals=request.goal,
        when=when,
        request_id=request.id,
    )
    if mentee_user is not None:
        mail.queue(
            session,
            mentee_user,
            MAIL_ANSWERED,
            "Your mentoring request was accepted",
            f"{mentor_user.display_name if mentor_user else 'A mentor'} accepted your request "
            f"in “{programme.title}”.\n\n{reply or ''}\n\n"
            + (
                "You join their mentoring circle: read its agreement and accept it on the "
                "mentorship's page."
                if joined
                else "Next, agree together on your meetings and goals."
            ),
            dedupe_key=f"mentoring-answer-{request.id}",
        )
    _publish(
        session,
        events.MENTORSHIP_ACCEPTED,
        # a circle is accepted once per mentee who joins it
        f"mentorship:{pair.id}:{viewer.user_id}" + (f":request-{request.id}" if joined else ""),
        viewer,
        programme,
        pair_ref(pair),
        when,
        _competency_refs(session, programme, competency_ids),
    )
    return request


def withdraw(
    session: Session, viewer: Viewer, request_id: int, *, now: datetime | None = None
) -> Request:
    """The mentee withdraws their open request."""
    when = _now(now)
    request, _programme = _request_for(session, viewer, request_id)
    if request.mentee_id != viewer.user_id:
        if request.mentor_id == viewer.user_id:
            raise Refusal(403, "Only the mentee can withdraw a request; you may decline it.")
        raise not_found("This request")
    _check_open(request, when)
    _conditional(session, request, when, state=REQUEST_WITHDRAWN, answered_at=when)
    return request


def pair_of(session: Session, request: Request) -> Pair | None:
    """The pair an accepted request made."""
    return session.scalar(select(Pair).where(Pair.request_id == request.id))


@dataclass(frozen=True)
class RequestedCompetency:
    id: int
    name: str
    level: int
    target: int


@dataclass(frozen=True)
class RequestView:
    """A request as its mentee or mentors see it (``state`` says ``expired`` once past due)."""

    id: int
    programme_id: int
    mentee_id: int
    mentee_name: str
    mentor_id: int | None
    mentor_name: str | None
    to_pool: bool
    goal: str
    cadence_days: int
    state: str
    reply: str
    created_at: datetime
    expires_at: datetime
    competencies: list[RequestedCompetency]


def _views(
    session: Session, programme: Programme, rows: list[Request], when: datetime
) -> list[RequestView]:
    ids = {rc.competency_id for r in rows for rc in r.competencies}
    names = {
        c.id: c.name
        for c in links.platform_competencies(session, programme.platform_id, ids).values()
    }
    people = {r.mentee_id for r in rows} | {r.mentor_id for r in rows if r.mentor_id}
    users = (
        {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(people)))}
        if people
        else {}
    )
    return [
        RequestView(
            id=r.id,
            programme_id=r.programme_id,
            mentee_id=r.mentee_id,
            mentee_name=users.get(r.mentee_id, ""),
            mentor_id=r.mentor_id,
            mentor_name=users.get(r.mentor_id) if r.mentor_id else None,
            to_pool=r.to_pool,
            goal=r.goal,
            cadence_days=r.cadence_days,
            state=REQUEST_EXPIRED
            if r.state == REQUEST_OPEN and _aware(r.expires_at) <= when
            else r.state,
            reply=r.reply,
            created_at=_aware(r.created_at),
            expires_at=_aware(r.expires_at),
            competencies=[
                RequestedCompetency(
                    rc.competency_id, names.get(rc.competency_id, ""), rc.level, rc.target
                )
                for rc in r.competencies
            ],
        )
        for r in rows
    ]


MAX_LISTED = 100


def my_requests(
    session: Session, viewer: Viewer, programme: Programme, *, now: datetime | None = None
) -> list[RequestView]:
    """The viewer's own requests in the programme, newest first (at most 100)."""
    rows = list(
        session.scalars(
            select(Request)
            .where(Request.programme_id == programme.id, Request.mentee_id == viewer.user_id)
            .order_by(Request.id.desc())
            .limit(MAX_LISTED)
        )
    )
    return _views(session, programme, rows, _now(now))


def requests_to_me(
    session: Session, viewer: Viewer, programme: Programme, *, now: datetime | None = None
) -> list[RequestView]:
    """Requests that name the viewer as mentor (any state), and the programme's open pool
    requests on a competency the viewer mentors (any, once escalated and the viewer accepts
    mentees) that they have not declined; newest first."""
    when = _now(now)
    held = (
        select(ProfileCompetency.competency_id)
        .join(Profile, Profile.id == ProfileCompetency.profile_id)
        .where(
            Profile.programme_id == programme.id,
            Profile.user_id == viewer.user_id,
            Profile.is_mentor.is_(True),
            ProfileCompetency.role == AS_MENTOR,
        )
    )
    declined = select(RequestDecline.request_id).where(RequestDecline.mentor_id == viewer.user_id)
    # an escalated pool request goes to every accepting mentor of the programme
    accepting_mentor = (
        select(Profile.id)
        .where(
            Profile.programme_id == programme.id,
            Profile.user_id == viewer.user_id,
            Profile.is_mentor.is_(True),
            Profile.accepting.is_(True),
        )
        .exists()
    )
    pool = (
        Request.to_pool.is_(True)
        & Request.mentor_id.is_(None)
        & _open_clause(when)
        & (Request.mentee_id != viewer.user_id)
        & (
            Request.id.in_(
                select(RequestCompetency.request_id).where(
                    RequestCompetency.competency_id.in_(held)
                )
            )
            | (Request.escalated_at.is_not(None) & accepting_mentor)
        )
        & Request.id.not_in(declined)
    )
    rows = list(
        session.scalars(
            select(Request)
            .where(
                Request.programme_id == programme.id, (Request.mentor_id == viewer.user_id) | pool
            )
            .order_by(Request.id.desc())
            .limit(MAX_LISTED)
        )
    )
    return _views(session, programme, rows, when)
