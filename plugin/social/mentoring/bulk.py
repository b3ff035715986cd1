"""Bulk matching of a ``staff_bulk`` programme: staff preview the optimal matching of everyone
waiting, adjust it, and approve it.

The problem is built from the programme's profiles in a fixed number of queries (however many
people): the **mentees** are those with a mentee profile who are not in a proposed or active pair
of the programme, each with the competencies their profile wants to grow; the **mentors** are
the mentor profiles with their free places (capacity minus proposed and active pairs).
**Exclusions**: oneself (always), two people who already were a pair of the programme (in any
state), and, when the programme's ``exclude_lti_mentor`` is on, a mentor whom the LMS names as
the mentee's LTI mentor (``role_scope_mentor``, kept on the mentor's course membership as
``mentor_scope``). :func:`.matching.match` proposes the pairs with the largest total score; the
greedy baseline's total is shown beside it.

The preview travels as form fields (mentee → chosen mentor): :func:`preview` with ``choices``
shows an adjusted matching, and :func:`approve` checks every chosen pair again on the server
(the mentee is still waiting, the mentor is a feasible candidate for them — not excluded, not
blocked, scoring at least the minimum — and no mentor gets more mentees than free places) before
making them all with :func:`.pairs.propose` in the caller's transaction, publishing
``mentoring.matched`` per pair and e-mailing every mentor and mentee.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased, selectinload

from plugin import events, mail
from plugin.access import Refusal, Viewer
from plugin.events import DomainEvent
from plugin.lti.models import Membership, Placement, User
from plugin.performance import links
from plugin.social.mentoring import matching, pairs, programmes, requests
from plugin.social.mentoring.models import (
    AS_MENTEE,
    AS_MENTOR,
    PAIR_ACTIVE,
    PAIR_PROPOSED,
    REQUEST_OPEN,
    REQUEST_WITHDRAWN,
    STAFF_BULK,
    Pair,
    PairMember,
    Profile,
    Programme,
    ProgrammePlacement,
    Request,
    RequestDecline,
)
from plugin.social.mentoring.scoring import MenteeRequest, MentorProfile, Need, Score, Window
from plugin.social.mentoring.scoring import blocked as blocked_reason
from plugin.social.mentoring.scoring import covered as covered_by
from plugin.social.mentoring.scoring import score as score_of

MAIL_MATCHED = "mentoring.matched"
MAX_OPTIONS = 50  # mentors offered per mentee when staff adjust a pair

NO_COMPETENCY = "Has no competency to grow on their profile: ask them to add one."
NO_MENTOR = "No accepting mentor with a free place holds their competencies at the target level."
ALL_EXCLUDED = (
    "Every mentor who could take them is excluded (a past pair of the two, or their LTI mentor)."
)
LOW_SCORE = "No mentor scores at least {min:g} out of 100 for them."
TAKEN = "Their suitable mentors' places went to mentees with higher total scores."
NOT_CHOSEN = "No mentor chosen in this preview."


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str


@dataclass(frozen=True)
class Option:
    """A mentor a mentee may be given (a feasible pair), with its total."""

    mentor_id: int
    name: str
    total: float


@dataclass(frozen=True)
class ProposedPair:
    mentee: Person
    mentor: Person
    score: Score
    competencies: list[str]


@dataclass(frozen=True)
class UnmatchedMentee:
    mentee: Person
    reason: str


@dataclass(frozen=True)
class Preview:
    """What staff see: the proposed pairs (by mentee name), the mentees left unmatched with the
    reason, the total score of these pairs, the optimum and the greedy baseline's total, and for
    each waiting mentee the mentors they may be given."""

    pairs: list[ProposedPair]
    unmatched: list[UnmatchedMentee]
    total: float
    optimal_total: float
    greedy_total: float
    greedy_pairs: int
    mentors: int
    free_places: int
    options: dict[int, list[Option]]
    adjusted: bool


@dataclass
class Problem:
    """The programme's matching problem as the matcher takes it, plus what pages show."""

    programme: Programme
    requests: dict[int, MenteeRequest]  # mentee id → request (mentees with competencies)
    waiting: dict[int, Person]  # every waiting mentee, with or without competencies
    mentors: dict[int, MentorProfile]
    names: dict[int, str]
    users: dict[int, User]
    goals: dict[int, str]
    forbidden: set[tuple[int, int]]
    table: matching.Candidates
    now: datetime

    def feasible(self) -> dict[int, dict[int, float]]:
        """Mentee id → {mentor id: total} of the pairs that may be proposed."""
        found: dict[int, dict[int, float]] = defaultdict(dict)
        t = self.table
        for r, c, p in zip(t.rows.tolist(), t.cols.tolist(), t.points.tolist(), strict=True):
            found[int(t.mentee_ids[r])][int(t.mentor_ids[c])] = p / 100
        return found


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def check_access(session: Session, viewer: Viewer, programme: Programme) -> None:
    """403 unless the viewer may manage the programme; 409 unless it is matched in bulk."""
    programmes.check_manager(viewer, programme)
    if programme.matching != STAFF_BULK:
        raise Refusal(
            409,
            "In this programme mentees choose their mentors. To match everyone at once, set "
            "Matching to “Staff match everyone at once” in the programme's settings.",
            title="Not a bulk-matching programme",
        )


def _windows(profile: Profile) -> tuple[Window, ...]:
    return tuple(Window(*w) for w in profile.availability or [])


def _lti_mentors(
    session: Session, programme: Programme, mentor_ids: set[int], subs: Mapping[str, int]
) -> set[tuple[int, int]]:
    """(mentee id, mentor id) where the mentor's membership names the mentee as theirs: in the
    programme's course, or, for a platform-wide programme, in any course a link of it is in."""
    if not mentor_ids or not subs:
        return set()
    query = select(Membership.user_id, Membership.mentor_scope).where(
        Membership.user_id.in_(mentor_ids), Membership.mentor_scope.is_not(None)
    )
    if programme.context_id is not None:
        query = query.where(Membership.context_id == programme.context_id)
    else:
        query = query.where(
            Membership.context_id.in_(
                select(Placement.context_id)
                .join(ProgrammePlacement, ProgrammePlacement.placement_id == Placement.id)
                .where(ProgrammePlacement.programme_id == programme.id)
            )
        )
    found = set()
    for mentor_id, scope in session.execute(query):
        for sub in scope or []:
            mentee_id = subs.get(str(sub))
            if mentee_id is not None:
                found.add((mentee_id, mentor_id))
    return found


def build_problem(session: Session, programme: Programme, *, now: datetime) -> Problem:
    """The programme's people, exclusions and candidate pairs (a fixed number of queries)."""
    rows = session.execute(
        select(Profile, User)
        .join(User, User.id == Profile.user_id)
        .options(selectinload(Profile.competencies))
        .where(
            Profile.programme_id == programme.id,
            (Profile.is_mentor.is_(True)) | (Profile.is_mentee.is_(True)),
        )
        .order_by(Profile.user_id)
    ).all()
    member = aliased(PairMember)
    taken = pairs.taken_places(session, programme.id)
    busy: set[int] = set()
    past: dict[int, dict[str, set[int]]] = defaultdict(lambda: {AS_MENTOR: set(), AS_MENTEE: set()})
    for pair_id, state, user_id, role, left_at in session.execute(
        select(Pair.id, Pair.state, member.user_id, member.role, member.left_at)
        .join(member, member.pair_id == Pair.id)
        .where(Pair.programme_id == programme.id)
    ):
        past[pair_id][role].add(user_id)
        # a mentee who left a circle that goes on is waiting again
        if state in (PAIR_PROPOSED, PAIR_ACTIVE) and role == AS_MENTEE and left_at is None:
            busy.add(user_id)
    forbidden = {
        (mentee, mentor)
        for people in past.values()
        for mentee in people[AS_MENTEE]
        for mentor in people[AS_MENTOR]
    }
    declines: dict[int, dict[int, int]] = defaultdict(dict)
    for mentee_id, mentor_id in session.execute(
        select(Request.mentee_id, RequestDecline.mentor_id)
        .join(Request, Request.id == RequestDecline.request_id)
        .where(Request.programme_id == programme.id)
    ):
        declines[mentee_id][mentor_id] = declines[mentee_id].get(mentor_id, 0) + 1

    requests_by_id: dict[int, MenteeRequest] = {}
    waiting: dict[int, Person] = {}
    mentors: dict[int, MentorProfile] = {}
    names: dict[int, str] = {}
    users: dict[int, User] = {}
    goals: dict[int, str] = {}
    for profile, user in rows:
        names[user.id] = user.display_name
        users[user.id] = user
        if profile.is_mentor:
            mentors[user.id] = MentorProfile(
                mentor_id=user.id,
                competencies={
                    pc.competency_id: pc.level
                    for pc in profile.competencies
                    if pc.role == AS_MENTOR
                },
                capacity=profile.capacity,
                taken=taken.get(user.id, 0),
                accepting=profile.accepting,
                tz=profile.time_zone,
                availability=_windows(profile),
                languages=frozenset(profile.languages or []),
            )
        if profile.is_mentee and user.id not in busy:
            waiting[user.id] = Person(user.id, user.display_name)
            goals[user.id] = profile.goals or ""
            needs = {
                pc.competency_id: Need(pc.level, pc.target)
                for pc in profile.competencies
                if pc.role == AS_MENTEE and pc.target is not None and pc.target > pc.level
            }
            if needs:
                requests_by_id[user.id] = MenteeRequest(
                    mentee_id=user.id,
                    competencies=needs,
                    tz=profile.time_zone,
                    availability=_windows(profile),
                    languages=frozenset(profile.languages or []),
                    declines=declines.get(user.id, {}),
                )
    if programme.exclude_lti_mentor:
        subs = {users[m].sub: m for m in waiting}
        forbidden |= _lti_mentors(session, programme, set(mentors), subs)
    forbidden = {(a, b) for a, b in forbidden if a in requests_by_id and b in mentors}
    table = matching.candidates(
        list(requests_by_id.values()),
        list(mentors.values()),
        week=now.date(),
        forbidden=forbidden,
    )
    return Problem(
        programme, requests_by_id, waiting, mentors, names, users, goals, forbidden, table, now
    )


def _reason(problem: Problem, mentee_id: int, feasible: Mapping[int, Mapping[int, float]]) -> str:
    """Why a waiting mentee has no mentor in the optimal matching."""
    request = problem.requests.get(mentee_id)
    if request is None:
        return NO_COMPETENCY
    if feasible.get(mentee_id):
        return TAKEN
    open_mentors = [m for m in problem.mentors.values() if blocked_reason(request, m) is None]
    if not open_mentors:
        return NO_MENTOR
    if all((mentee_id, m.mentor_id) in problem.forbidden for m in open_mentors):
        return ALL_EXCLUDED
    return LOW_SCORE.format(min=matching.DEFAULT_MIN_SCORE)


def _sort_name(problem: Problem, user_id: int) -> tuple[str, int]:
    return (problem.names.get(user_id, "").casefold(), user_id)


def check_choices(problem: Problem, choices: Mapping[int, int | None]) -> dict[int, int]:
    """The chosen pairs (mentee id → mentor id, a ``None`` mentor leaves the mentee out), each
    checked: the mentee is waiting, the mentor a feasible candidate for them, no mentor over
    their free places. 409 with what to do otherwise."""
    feasible = problem.feasible()
    chosen: dict[int, int] = {}
    for mentee_id, mentor_id in choices.items():
        if mentor_id is None:
            continue
        mentee_name = problem.names.get(mentee_id)
        if mentee_id not in problem.waiting or mentee_name is None:
            raise Refusal(
                409,
                "Someone in this matching is no longer waiting for a mentor (paired meanwhile, "
                "or left): open the preview again.",
                title="The matching changed",
            )
        if mentor_id not in feasible.get(mentee_id, {}):
            mentor = problem.mentors.get(mentor_id)
            request = problem.requests.get(mentee_id)
            if mentor is None or request is None:
                why = "is not a mentor of this programme"
            elif mentor_id == mentee_id:
                why = "is the same person"
            elif (mentee_id, mentor_id) in problem.forbidden:
                why = "is excluded (a past pair of the two, or their LTI mentor)"
            elif (reason := blocked_reason(request, mentor)) is not None:
                why = f"cannot take them: {reason}"
            else:
                why = f"scores below {matching.DEFAULT_MIN_SCORE:g} for them"
            name = problem.names.get(mentor_id, "This mentor")
            raise Refusal(
                409,
                f"{name} {why}. Choose another mentor for {mentee_name}, or none.",
                title="A pair cannot be made",
            )
        chosen[mentee_id] = mentor_id
    load = Counter(chosen.values())
    for mentor_id, count in sorted(load.items()):
        free = problem.mentors[mentor_id].free
        if count > free:
            raise Refusal(
                409,
                f"{problem.names[mentor_id]} has {free} free place{'s' if free != 1 else ''} but "
                f"is chosen for {count} mentees: choose another mentor for "
                f"{count - free} of them.",
                title="Over a mentor's capacity",
            )
    return chosen


def _competency_names(session: Session, programme: Programme, ids: set[int]) -> dict[int, str]:
    found = links.platform_competencies(session, programme.platform_id, ids)
    return {i: c.name for i, c in found.items()}


def preview(
    session: Session,
    viewer: Viewer,
    programme: Programme,
    *,
    choices: Mapping[int, int | None] | None = None,
    now: datetime | None = None,
) -> Preview:
    """The optimal matching of everyone waiting (or, with ``choices``, the matching staff
    adjusted, checked as :func:`approve` checks it), with each pair's score and parts."""
    check_access(session, viewer, programme)
    when = _now(now)
    problem = build_problem(session, programme, now=when)
    optimal = matching.solve(problem.table)
    greedy = matching.solve_greedy(problem.table)
    if choices is None:
        chosen = {p.mentee_id: p.mentor_id for p in optimal.pairs}
    else:
        chosen = check_choices(problem, choices)
    feasible = problem.feasible()
    ids = {c for r in problem.requests.values() for c in r.competencies}
    names = _competency_names(session, programme, ids)
    made = []
    for mentee_id, mentor_id in chosen.items():
        request, mentor = problem.requests[mentee_id], problem.mentors[mentor_id]
        made.append(
            ProposedPair(
                Person(mentee_id, problem.names[mentee_id]),
                Person(mentor_id, problem.names[mentor_id]),
                score_of(request, mentor, week=when.date()),
                [names.get(c, "") for c in covered_by(request, mentor)],
            )
        )
    made.sort(key=lambda p: _sort_name(problem, p.mentee.user_id))
    unmatched = [
        UnmatchedMentee(
            person,
            NOT_CHOSEN
            if choices is not None and feasible.get(person.user_id)
            else _reason(problem, person.user_id, feasible),
        )
        for person in problem.waiting.values()
        if person.user_id not in chosen
    ]
    unmatched.sort(key=lambda u: _sort_name(problem, u.mentee.user_id))
    options = {
        mentee_id: sorted(
            (Option(m, problem.names[m], total) for m, total in found.items()),
            key=lambda o: (-o.total, o.mentor_id),
        )[:MAX_OPTIONS]
        for mentee_id, found in feasible.items()
    }
    for mentee_id, mentor_id in chosen.items():  # the chosen mentor is always offered
        if all(o.mentor_id != mentor_id for o in options[mentee_id]):
            options[mentee_id].append(
                Option(mentor_id, problem.names[mentor_id], feasible[mentee_id][mentor_id])
            )
    return Preview(
        pairs=made,
        unmatched=unmatched,
        total=round(sum(p.score.total for p in made), 2),
        optimal_total=optimal.total,
        greedy_total=greedy.total,
        greedy_pairs=len(greedy.pairs),
        mentors=len(problem.mentors),
        free_places=sum(m.free for m in problem.mentors.values() if m.accepting),
        options=options,
        adjusted=choices is not None,
    )


def approve(
    session: Session,
    viewer: Viewer,
    programme: Programme,
    choices: Mapping[int, int | None],
    *,
    now: datetime | None = None,
) -> list[Pair]:
    """Make the chosen pairs (``mentee id → mentor id``), every one checked again first (see
    :func:`check_choices`): all of them or none. Each is a ``proposed`` pair on the competencies
    of the mentee the mentor covers, at the programme's cadence, with the mentee's goals; the
    approver is the actor of its ``mentoring.matched`` event, and both people get an e-mail.
    Returns the pair of each chosen mentee, in mentee id order; in a ``group`` programme the
    mentees of one mentor share one circle (:func:`_approve_circles`), so a circle repeats.
    The matched mentees' open requests are withdrawn in the same transaction."""
    check_access(session, viewer, programme)
    when = _now(now)
    # one approval or accept of a programme at a time (PostgreSQL: the row lock; SQLite: one
    # writer), its settings read again
    pairs.lock_programme(session, programme)
    check_access(session, viewer, programme)
    problem = build_problem(session, programme, now=when)
    chosen = check_choices(problem, choices)
    if not chosen:
        raise Refusal(400, "Choose at least one pair to approve.")
    # the matched mentees' open requests are withdrawn: staff matched them
    session.execute(
        update(Request)
        .where(
            Request.programme_id == programme.id,
            Request.mentee_id.in_(list(chosen)),
            Request.state == REQUEST_OPEN,
        )
        .values(state=REQUEST_WITHDRAWN, answered_at=when)
    )
    ids = {c for m in chosen for c in problem.requests[m].competencies}
    found = links.platform_competencies(session, programme.platform_id, ids)
    if pairs.is_circle(programme):
        return _approve_circles(session, viewer, problem, chosen, found, when)
    made = []
    for mentee_id, mentor_id in sorted(chosen.items()):
        request, mentor = problem.requests[mentee_id], problem.mentors[mentor_id]
        competency_ids = covered_by(request, mentor)
        pair = pairs.propose(
            session,
            programme,
            mentor_ids=[mentor_id],
            mentee_ids=[mentee_id],
            competency_ids=competency_ids,
            cadence_days=programme.cadence_days,
            goals=problem.goals.get(mentee_id, ""),
            when=when,
        )
        refs = [{"iri": found[c].uri, "name": found[c].name} for c in competency_ids if c in found]
        events.publish(
            session,
            DomainEvent(
                kind=events.MENTORSHIP_MATCHED,
                identity=f"mentorship-matched:{pair.id}",
                occurred_at=when,
                platform_id=programme.platform_id,
                actor_user_id=viewer.user_id,
                object=requests.pair_ref(pair),
                context_id=programme.context_id
                if programme.context_id is not None
                else viewer.course(),
                data={"competencies": refs},
            ),
        )
        topics = ", ".join(r["name"] for r in refs)
        mentee_name, mentor_name = problem.names[mentee_id], problem.names[mentor_id]
        for user_id, other, role in (
            (mentor_id, mentee_name, "mentor"),
            (mentee_id, mentor_name, "mentee"),
        ):
            mail.queue(
                session,
                problem.users[user_id],
                MAIL_MATCHED,
                f"Your mentoring match in {programme.title}"[:200],
                f"Programme staff matched you as the {role} of {other} in “{programme.title}”"
                f"{' on ' + topics if topics else ''}.\n\n"
                "Next, agree together on your meetings and goals from the programme's page.",
                dedupe_key=f"mentoring-matched-{pair.id}-{user_id}",
            )
        made.append(pair)
    return made


def _approve_circles(
    session: Session,
    viewer: Viewer,
    problem: Problem,
    chosen: Mapping[int, int],
    found: Mapping[int, Any],
    when: datetime,
) -> list[Pair]:
    """A ``group`` programme's approval: all the mentees chosen for one mentor go into one
    circle, the mentor's open one (they join it) or a new one; one ``mentoring.matched`` event
    per mentee (the circle as object, its competencies), one e-mail to the mentor naming their
    new mentees and one to each mentee. A new circle of several mentees starts with no goals
    (they are each mentee's own: the circle writes its goals in the agreement). Returns each
    mentee's circle, in mentee id order (as :func:`approve` returns pairs)."""
    programme = problem.programme
    by_mentor: dict[int, list[int]] = defaultdict(list)
    for mentee_id, mentor_id in sorted(chosen.items()):
        by_mentor[mentor_id].append(mentee_id)
    circle_of: dict[int, Pair] = {}
    for mentor_id, mentee_ids in sorted(by_mentor.items()):
        mentor = problem.mentors[mentor_id]
        covered = {m: covered_by(problem.requests[m], mentor) for m in mentee_ids}
        pair, _joined = pairs.join_or_propose(
            session,
            programme,
            mentor_id=mentor_id,
            mentee_ids=mentee_ids,
            competency_ids=[c for m in mentee_ids for c in covered[m]],
            cadence_days=programme.cadence_days,
            goals=problem.goals.get(mentee_ids[0], "") if len(mentee_ids) == 1 else "",
            when=when,
        )
        mentor_name = problem.names[mentor_id]
        for mentee_id in mentee_ids:
            refs = [
                {"iri": found[c].uri, "name": found[c].name}
                for c in covered[mentee_id]
                if c in found
            ]
            events.publish(
                session,
                DomainEvent(
                    kind=events.MENTORSHIP_MATCHED,
                    identity=f"mentorship-matched:{pair.id}:{mentee_id}",
                    occurred_at=when,
                    platform_id=programme.platform_id,
                    actor_user_id=viewer.user_id,
                    object=requests.pair_ref(pair),
                    context_id=programme.context_id
                    if programme.context_id is not None
                    else viewer.course(),
                    data={"competencies": refs},
                ),
            )
            mail.queue(
                session,
                problem.users[mentee_id],
                MAIL_MATCHED,
                f"Your mentoring match in {programme.title}"[:200],
                f"Programme staff matched you with {mentor_name}'s mentoring circle in "
                f"“{programme.title}”.\n\n"
                "Next, read the circle's agreement and accept it from the programme's page.",
                dedupe_key=f"mentoring-matched-{pair.id}-{mentee_id}",
            )
        names = ", ".join(problem.names[m] for m in mentee_ids)
        mail.queue(
            session,
            problem.users[mentor_id],
            MAIL_MATCHED,
            f"New mentees in your circle in {programme.title}"[:200],
            f"Programme staff added {names} to your mentoring circle in “{programme.title}”.\n\n"
            "They accept the circle's agreement from the programme's page.",
            dedupe_key=f"mentoring-matched-{pair.id}-{mentor_id}-{when.isoformat()}",
        )
        for mentee_id in mentee_ids:
            circle_of[mentee_id] = pair
    return [circle_of[m] for m in sorted(circle_of)]
