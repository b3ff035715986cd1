"""Suggested mentors from the boards: people whose answers on the boards about a competency were
endorsed by staff, accepted by the person who asked, or marked helpful by others.

:func:`suggested_mentors` is for course staff (and administrators), who see the list and may
invite the people on it to mentor (the invite, and the person's consent, come with the widget's
pages). It reads the boards' tables and the competency links; it needs no mentoring table.

What counts (docs/mentoring.md, "Suggested mentors from the boards"):

- **Where**: the threads of boards linked to the competency (a ``board`` link, or a ``placement``
  link on the board's course link) and threads tagged with it (a ``thread`` link); links to the
  competency's exact matches (CASE ``exactMatchOf``, and the same item in another framework:
  :func:`plugin.performance.associations.exact_matches`) count the same, as they do for evidence.
- **Whose boards**: the viewer's platform only, and only the courses whose boards the viewer sees
  in full — their own course and the other courses where they are staff; an administrator's
  whole platform.
- **Which posts**: replies and comments (not the question that opens a thread), neither deleted
  nor hidden, in a thread whose opening post is not hidden, and **never anonymous** — a person who
  posted anonymously did not consent to be named, so those posts are not counted at all.
- **The counts**: endorsed answers (not endorsed by their own author), accepted answers (not
  answering one's own question), and "helpful" reactions received from others.
- **Who**: a person with at least one of those, still an active member of one of those courses.
  The viewer is not left out: staff who answer well are candidate mentors too.
- **The order**: per competency, by ``3 x (endorsed + accepted) + helpful`` (an endorsement or an
  acceptance judges a whole answer; a helpful mark is one reader's click), then by person id;
  ``limit`` people per competency.

The counting is one SQL statement whatever the number of people, posts and boards; before it, one
query checks the competencies, one reads the viewer's courses (not for an administrator), one
reads the links, and each requested competency's exact matches take a few.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Integer,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from plugin.access import Refusal, Viewer
from plugin.lti.models import Context, Membership, User
from plugin.lti.roles import permissions
from plugin.performance import links
from plugin.performance.associations import exact_matches
from plugin.performance.models import CompetencyLink
from plugin.social.models import REACTION_HELPFUL, Board, Post, Reaction, Thread

MAX_COMPETENCIES = 20
MAX_LIMIT = 100
WEIGHT_ANSWER = 3  # an endorsed or accepted answer, against 1 per helpful reaction
LINK_KINDS = ("board", "placement", "thread")


@dataclass(frozen=True)
class Suggestion:
    """One person suggested as a mentor for one competency, with what their answers earned."""

    person_id: int
    name: str
    competency_id: int
    competency_name: str
    endorsed_answers: int
    accepted_answers: int
    helpful_reactions: int

    @property
    def weight(self) -> int:
        """What the list is ordered by (see the module's doc)."""
        return WEIGHT_ANSWER * (self.endorsed_answers + self.accepted_answers) + (
            self.helpful_reactions
        )

    @property
    def explanation(self) -> str:
        """Why this person is suggested, in words: "5 endorsed answers and 2 helpful reactions on
        Coaching conversations"."""
        parts = [
            _count(self.endorsed_answers, "endorsed answer"),
            _count(self.accepted_answers, "accepted answer"),
            _count(self.helpful_reactions, "helpful reaction"),
        ]
        said = [p for p in parts if p]
        listed = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
        return f"{listed} on {self.competency_name}"


def _count(number: int, noun: str) -> str:
    if not number:
        return ""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _checked_ids(competency_ids: Sequence[int]) -> list[int]:
    if isinstance(competency_ids, str | bytes) or not isinstance(competency_ids, Sequence):
        raise Refusal(400, "Choose the competencies as a list of ids.")
    ids: list[int] = []
    for value in competency_ids:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
            raise Refusal(400, f"{str(value)[:20]!r} is not a competency id.")
        if value not in ids:
            ids.append(value)
    if not ids:
        raise Refusal(400, "Choose at least one competency.")
    if len(ids) > MAX_COMPETENCIES:
        raise Refusal(400, f"Choose at most {MAX_COMPETENCIES} competencies at a time.")
    return ids


def _courses(session: Session, viewer: Viewer) -> list[int] | Select:
    """The courses whose boards the viewer sees in full: the whole platform's for an
    administrator (as a subquery), else their course and those where they are staff."""
    if viewer.admin:
        return select(Context.id).where(Context.platform_id == viewer.platform_id)
    rows = session.execute(
        select(Membership.context_id, Membership.roles)
        .join(Context, Context.id == Membership.context_id)
        .where(
            Membership.user_id == viewer.user_id,
            Membership.status == "Active",
            Context.platform_id == viewer.platform_id,
        )
    ).all()
    courses = {viewer.course()} | {
        context_id for context_id, roles in rows if permissions(roles or []).staff
    }
    return sorted(courses)


def _places(
    session: Session, platform_id: int, same: dict[int, list[int]]
) -> dict[int, dict[str, set[int]]]:
    """For each requested competency: the ids of the boards, placements and threads linked to it
    or to one of its exact matches."""
    members = sorted({m for group in same.values() for m in group})
    found: dict[int, dict[str, set[int]]] = {r: {k: set() for k in LINK_KINDS} for r in same}
    by_member: dict[int, list[int]] = {}
    for requested, group in same.items():
        for member in group:
            by_member.setdefault(member, []).append(requested)
    rows = session.execute(
        select(CompetencyLink.competency_id, CompetencyLink.ref_kind, CompetencyLink.ref_key).where(
            CompetencyLink.platform_id == platform_id,
            CompetencyLink.competency_id.in_(members),
            CompetencyLink.ref_kind.in_(LINK_KINDS),
        )
    )
    for competency_id, kind, key in rows:
        if not (key.isascii() and key.isdigit()) or not 1 <= int(key) <= 2**31 - 1:
            continue
        for requested in by_member.get(competency_id, []):
            found[requested][kind].add(int(key))
    return found


def suggested_mentors(
    session: Session, viewer: Viewer, competency_ids: Sequence[int], *, limit: int = 20
) -> list[Suggestion]:
    """People to invite as mentors for these competencies, from their answers on the boards:
    up to ``limit`` per competency, in the order the competencies were given, best first.
    403 unless the viewer is course staff or an administrator; 400 for a bad list or limit; 404
    (:class:`plugin.performance.links.UnknownCompetencyError`) for a competency that is not the
    viewer's platform's."""
    viewer.require_staff()
    ids = _checked_ids(competency_ids)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise Refusal(400, f"The number of suggestions must be from 1 to {MAX_LIMIT}.")
    courses = _courses(session, viewer)
    found = links.platform_competencies(session, viewer.platform_id, ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise links.UnknownCompetencyError(missing)
    same = {
        i: [i, *(c.id for c in exact_matches(session, viewer.platform_id, found[i]))] for i in ids
    }
    places = _places(session, viewer.platform_id, same)
    rows = session.execute(_counting(viewer.platform_id, courses, places, limit)).all()

    suggestions = [
        Suggestion(
            person_id=row.author_id,
            name=row.User.display_name,
            competency_id=row.competency_id,
            competency_name=found[row.competency_id].name,
            endorsed_answers=int(row.endorsed),
            accepted_answers=int(row.accepted),
            helpful_reactions=int(row.helpful),
        )
        for row in rows
    ]
    order = {competency_id: index for index, competency_id in enumerate(ids)}
    suggestions.sort(key=lambda s: (order[s.competency_id], -s.weight, s.person_id))
    return suggestions


def _counting(
    platform_id: int,
    courses: list[int] | Select,
    places: dict[int, dict[str, set[int]]],
    limit: int,
) -> Select:
    """The one statement that counts, per requested competency and person, what their posts on
    the competency's boards and threads earned, and keeps the best ``limit`` of each."""
    opening = aliased(Post)
    terms = []
    for requested, where in places.items():
        if not any(where.values()):
            continue
        condition = or_(
            Thread.board_id.in_(sorted(where["board"])) if where["board"] else false(),
            Board.placement_id.in_(sorted(where["placement"])) if where["placement"] else false(),
            Thread.id.in_(sorted(where["thread"])) if where["thread"] else false(),
        )
        terms.append(
            select(
                literal(requested, Integer).label("competency_id"),
                Post.id.label("post_id"),
                Post.author_id.label("author_id"),
                case(
                    (
                        and_(
                            Post.endorsed_at.is_not(None),
                            or_(
                                Post.endorsed_by_id.is_(None),
                                Post.endorsed_by_id != Post.author_id,
                            ),
                        ),
                        1,
                    ),
                    else_=0,
                ).label("endorsed"),
                case(
                    (
                        and_(
                            Thread.accepted_post_id == Post.id, Thread.author_id != Post.author_id
                        ),
                        1,
                    ),
                    else_=0,
                ).label("accepted"),
            )
            .select_from(Post)
            .join(Thread, Thread.id == Post.thread_id)
            .join(Board, Board.id == Thread.board_id)
            .join(
                opening,
                and_(opening.thread_id == Thread.id, opening.is_opening.is_(True)),
            )
            .where(
                condition,
                Board.context_id.in_(courses),
                Post.is_opening.is_(False),
                Post.deleted.is_(False),
                Post.hidden.is_(False),
                Post.anonymous.is_(False),
                opening.hidden.is_(False),
            )
        )
    if not terms:
        return select(
            literal(0, Integer).label("competency_id"),
            literal(0, Integer).label("author_id"),
        ).where(false())
    counted = union_all(*terms).subquery("counted")
    helpful = (
        select(Reaction.post_id.label("post_id"), func.count().label("helpful"))
        .join(Post, Post.id == Reaction.post_id)
        .where(Reaction.kind == REACTION_HELPFUL, Reaction.user_id != Post.author_id)
        .group_by(Reaction.post_id)
        .subquery("helpful")
    )
    endorsed = func.sum(counted.c.endorsed)
    accepted = func.sum(counted.c.accepted)
    helpful_sum = func.coalesce(func.sum(helpful.c.helpful), 0)
    weight = WEIGHT_ANSWER * (endorsed + accepted) + helpful_sum
    member = exists().where(
        Membership.user_id == counted.c.author_id,
        Membership.status == "Active",
        Membership.context_id.in_(courses),
    )
    totals = (
        select(
            counted.c.competency_id,
            counted.c.author_id,
            endorsed.label("endorsed"),
            accepted.label("accepted"),
            helpful_sum.label("helpful"),
            func.row_number()
            .over(
                partition_by=counted.c.competency_id,
                order_by=(weight.desc(), counted.c.author_id),
            )
            .label("rank"),
        )
        .outerjoin(helpful, helpful.c.post_id == counted.c.post_id)
        .where(member)
        .group_by(counted.c.competency_id, counted.c.author_id)
        .having(weight > 0)
        .subquery("totals")
    )
    return (
        select(
            totals.c.competency_id,
            totals.c.author_id,
            totals.c.endorsed,
            totals.c.accepted,
            totals.c.helpful,
            User,
        )
        .join(User, User.id == totals.c.author_id)
        .where(totals.c.rank <= limit, User.platform_id == platform_id)
        .order_by(totals.c.competency_id, totals.c.rank)
    )
