"""Suggested mentors from the boards (plugin/social/mentoring/suggestions.py): real boards, posts,
reactions, endorsements, acceptances and competency links made through the boards' services."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from plugin import access
from plugin.access import Refusal, Viewer
from plugin.lti import roles
from plugin.lti.models import Membership, Placement, User
from plugin.performance import frameworks
from plugin.performance.models import Competency
from plugin.social import boards, moderation
from plugin.social.mentoring.suggestions import Suggestion, suggested_mentors
from plugin.social.models import Board, Post, Reaction, Thread
from tests.data_files import case_package
from tests.social.social_world import Course, count_queries, course_board, make_course

SMART = "opensalt-SmartLevelFramework.json"
SEQUENCE = "opensalt-SequenceNumberFramework.json"


# --- building the world ------------------------------------------------------------------------
def _renamed(data: dict, suffix: str) -> dict:
    """The package as another framework: its document and items get other identifiers and uris
    (the OpenSALT test packages all share one document identifier)."""
    data = copy.deepcopy(data)
    for thing in [data["CFDocument"], *data["CFItems"]]:
        old = thing["identifier"]
        thing["identifier"] = old[: -len(suffix)] + suffix
        thing["uri"] = thing["uri"].replace(old, thing["identifier"])
    data["CFAssociations"] = []
    return data


def _node(item: dict) -> dict:
    return {"title": item["fullStatement"], "identifier": item["identifier"], "uri": item["uri"]}


def _competency(db, framework_id: int, identifier: str) -> Competency:
    return db.scalars(
        select(Competency).where(
            Competency.framework_id == framework_id, Competency.identifier == identifier
        )
    ).one()


def _person(db, course: Course, key: str, role: str = roles.LEARNER) -> User:
    user = User(
        platform_id=course.platform.id,
        issuer=course.platform.issuer,
        sub=f"{key}-{uuid.uuid4().hex[:8]}",
        name=key.title(),
    )
    db.add(user)
    db.flush()
    db.add(Membership(context_id=course.context.id, user_id=user.id, roles=[role]))
    db.flush()
    course.users[key] = user
    return user


def _join(db, course: Course, user: User, role: str) -> None:
    db.add(Membership(context_id=course.context.id, user_id=user.id, roles=[role]))
    db.flush()


def _board(db, course: Course, **settings: object) -> Board:
    """Another board (course link) in the course."""
    placement = Placement(
        context_id=course.context.id,
        resource_link_id=f"rl-{uuid.uuid4().hex[:6]}",
        title="Second board",
        widget="board",
        settings={"posts_per_hour": "0", **settings},
    )
    db.add(placement)
    db.flush()
    return boards.board_for_placement(db, placement)


def _as(db, course: Course, user: User) -> Viewer:
    return access.viewer_for(db, user.id, course.context.id)


def _question(db, course: Course, board: Board, asker: str, **kw) -> Thread:
    thread = boards.create_thread(
        db, course.viewer(db, asker), board, "How do I coach?", "Tips?", kind="question", **kw
    )
    db.flush()
    return thread


@dataclass
class World:
    course: Course  # course A: ines (instructor) is the viewer
    board: Board
    coaching: Competency  # C: asked for
    match: Competency  # C' in another framework: exactMatchOf C
    other: Competency  # D: unrelated
    people: dict[str, User]


def build(db) -> World:
    seq = _renamed(case_package(SEQUENCE), "000000000099")
    smart = case_package(SMART)
    smart["CFAssociations"].append(
        {
            "identifier": "a5500000-0000-0000-0000-000000000001",
            "uri": "https://server/ims/case/v1p0/CFAssociations/a5500000-0000-0000-0000-000000000001",
            "lastChangeDateTime": "2024-03-01T10:00:00+00:00",
            "associationType": "exactMatchOf",
            "originNodeURI": _node(smart["CFItems"][0]),
            "destinationNodeURI": _node(seq["CFItems"][0]),
        }
    )
    course, board = course_board(db, unlimited=True, anonymous_allowed="true")
    platform_id = course.platform.id
    smart_id = frameworks.import_case_package(db, platform_id, smart).framework_id
    seq_id = frameworks.import_case_package(db, platform_id, seq).framework_id
    coaching = _competency(db, smart_id, smart["CFItems"][0]["identifier"])
    other = _competency(db, smart_id, smart["CFItems"][1]["identifier"])
    match = _competency(db, seq_id, seq["CFItems"][0]["identifier"])
    u = course.users
    ines, lea, leo, liv = (course.viewer(db, n) for n in ("ines", "lea", "leo", "liv"))
    people = u  # course A's people, and those added below

    # Board A1 is about coaching.
    boards.set_board_competencies(db, ines, board, [coaching.id])
    q1 = _question(db, course, board, "lea")
    leo_answer = boards.reply(db, leo, q1, "Listen first.")
    boards.endorse(db, ines, leo_answer)
    boards.accept_answer(db, lea, q1, leo_answer)
    boards.react(db, liv, leo_answer, "helpful")
    boards.react(db, lea, leo_answer, "like")  # a like is not "helpful"
    liv_answer = boards.reply(db, liv, q1, "Ask open questions.")
    boards.react(db, lea, liv_answer, "helpful")
    boards.react(db, leo, liv_answer, "helpful")
    # a comment marked helpful counts too
    liv_comment = boards.reply(db, liv, q1, "And wait.", parent_post=leo_answer)
    boards.react(db, leo, liv_comment, "helpful")
    # staff: her own endorsement of her own answer does not count; a learner's helpful does
    ines_answer = boards.reply(db, ines, q1, "Use the GROW model.")
    boards.endorse(db, ines, ines_answer)
    boards.react(db, lea, ines_answer, "helpful")
    # anonymous: endorsed and helpful, but never named
    anon = _person(db, course, "anna")
    anon_answer = boards.reply(db, _as(db, course, anon), q1, "Mirror.", anonymous=True)
    boards.endorse(db, ines, anon_answer)
    boards.react(db, leo, anon_answer, "helpful")
    # hidden and deleted answers do not count
    hidden = _person(db, course, "hugo")
    hidden_answer = boards.reply(db, _as(db, course, hidden), q1, "Shout.")
    boards.endorse(db, ines, hidden_answer)
    moderation.hide_post(db, ines, hidden_answer, "Off topic")
    gone = _person(db, course, "dora")
    gone_answer = boards.reply(db, _as(db, course, gone), q1, "Deleted later.")
    boards.endorse(db, ines, gone_answer)
    boards.delete_post(db, _as(db, course, gone), gone_answer)
    # someone who left the course
    left = _person(db, course, "lena")
    left_answer = boards.reply(db, _as(db, course, left), q1, "I was here.")
    boards.endorse(db, ines, left_answer)
    # the asker answering their own question and accepting it does not count
    q2 = _question(db, course, board, "liv")
    own = boards.reply(db, liv, q2, "Found it myself.")
    boards.accept_answer(db, liv, q2, own)
    # a thread whose question was hidden: its answers do not count
    q3 = _question(db, course, board, "lea")
    in_hidden_thread = boards.reply(db, leo, q3, "Hidden thread answer.")
    boards.endorse(db, ines, in_hidden_thread)
    opening = db.scalar(select(Post).where(Post.thread_id == q3.id, Post.is_opening))
    moderation.hide_post(db, ines, opening, "Spam")

    # Board A2, not linked: only its thread tagged with coaching counts.
    second = _board(db, course)
    tagged = _question(db, course, second, "leo", competency_ids=[coaching.id])
    boards.endorse(db, ines, boards.reply(db, lea, tagged, "Tagged thread answer."))
    untagged = _question(db, course, second, "leo")
    boards.endorse(db, ines, boards.reply(db, lea, untagged, "Not about coaching."))

    # Board A3 linked to the exact match C': counts for C.
    third = _board(db, course)
    boards.set_board_competencies(db, ines, third, [match.id])
    q = _question(db, course, third, "lea")
    boards.endorse(db, ines, boards.reply(db, liv, q, "Through the exact match."))

    # Board A4 linked to the unrelated D only.
    fourth = _board(db, course)
    boards.set_board_competencies(db, ines, fourth, [other.id])
    q = _question(db, course, fourth, "lea")
    boards.endorse(db, ines, boards.reply(db, leo, q, "About something else."))

    # Course B (same platform): ines is not a member. Its board is about coaching too.
    b, b_board = _course(db, course, "c-202")
    b_staff = b.viewer(db, "ines")
    boards.set_board_competencies(db, b_staff, b_board, [coaching.id])
    qb = _question(db, b, b_board, "lea")
    boards.endorse(db, b_staff, boards.reply(db, b.viewer(db, "leo"), qb, "Course B answer."))
    people["b_leo"] = b.users["leo"]

    # Course C: ines teaches it too, so its boards count.
    c, c_board = _course(db, course, "c-303")
    _join(db, c, u["ines"], roles.INSTRUCTOR)
    c_staff = c.viewer(db, "ines")
    boards.set_board_competencies(db, c_staff, c_board, [coaching.id])
    qc = _question(db, c, c_board, "lea")
    boards.endorse(db, c_staff, boards.reply(db, c.viewer(db, "leo"), qc, "Course C answer."))
    people["c_leo"] = c.users["leo"]

    # Course D: ines is a learner there, so its boards do not count.
    d, d_board = _course(db, course, "c-404")
    _join(db, d, u["ines"], roles.LEARNER)
    d_staff = d.viewer(db, "ines")  # d's own instructor
    boards.set_board_competencies(db, d_staff, d_board, [coaching.id])
    qd = _question(db, d, d_board, "lea")
    boards.endorse(db, d_staff, boards.reply(db, d.viewer(db, "leo"), qd, "Course D answer."))
    people["d_leo"] = d.users["leo"]

    # Another platform with the same framework (the same item uris) and its own board.
    other_course, other_board = course_board(db, unlimited=True)
    their_id = frameworks.import_case_package(
        db, other_course.platform.id, case_package(SMART)
    ).framework_id
    theirs = _competency(db, their_id, smart["CFItems"][0]["identifier"])
    o_staff = other_course.viewer(db, "ines")
    boards.set_board_competencies(db, o_staff, other_board, [theirs.id])
    qo = _question(db, other_course, other_board, "lea")
    boards.endorse(
        db, o_staff, boards.reply(db, other_course.viewer(db, "leo"), qo, "Other platform.")
    )
    people["o_leo"] = other_course.users["leo"]

    db.flush()
    # lena leaves the course (the roster says so)
    db.scalars(
        select(Membership).where(
            Membership.user_id == left.id, Membership.context_id == course.context.id
        )
    ).one().status = "Inactive"
    # a helpful mark on one's own post (the service refuses it; rows from before the rule)
    db.add(Reaction(post_id=leo_answer.id, user_id=u["leo"].id, kind="helpful"))
    db.commit()
    return World(course, board, coaching, match, other, people)


def _course(db, a: Course, key: str) -> tuple[Course, Board]:
    course = make_course(db, platform=a.platform, context_key=key, settings={"posts_per_hour": "0"})
    board = boards.board_for_placement(db, course.placement)
    db.flush()
    return course, board


def _table(found: list[Suggestion]) -> list[tuple]:
    return [
        (s.person_id, s.competency_id, s.endorsed_answers, s.accepted_answers, s.helpful_reactions)
        for s in found
    ]


# --- the tests ---------------------------------------------------------------------------------
def test_people_whose_answers_were_endorsed_accepted_or_helpful_are_suggested(db) -> None:
    w = build(db)
    p, c = w.people, w.coaching.id
    found = suggested_mentors(db, w.course.viewer(db, "ines"), [c])

    assert _table(found) == [
        # by 3 x (endorsed + accepted) + helpful, then person id
        (p["leo"].id, c, 1, 1, 1),  # A1: endorsed, accepted, helpful (not his own mark, not a like)
        (p["liv"].id, c, 1, 0, 3),  # the exact match's board; two helpful on A1, one on a comment
        (p["lea"].id, c, 1, 0, 0),  # the thread tagged with coaching on board A2
        (p["c_leo"].id, c, 1, 0, 0),  # course C, which ines teaches too
        (p["ines"].id, c, 0, 0, 1),  # staff are suggested too; her own endorsement does not count
    ]
    leo = found[0]
    assert leo.name == "Leo Learner"
    assert leo.competency_name == w.coaching.name
    assert leo.explanation == (
        f"1 endorsed answer, 1 accepted answer and 1 helpful reaction on {w.coaching.name}"
    )
    assert found[2].explanation == f"1 endorsed answer on {w.coaching.name}"
    assert found[1].explanation == (
        f"1 endorsed answer and 3 helpful reactions on {w.coaching.name}"
    )
    assert found[4].explanation == f"1 helpful reaction on {w.coaching.name}"
    named = {s.person_id for s in found}
    # never: anonymous, hidden, deleted, left the course, another course, another platform
    for key in ("anna", "hugo", "dora", "lena", "b_leo", "d_leo", "o_leo"):
        assert p[key].id not in named, key


def test_each_competency_gets_its_own_list_in_the_order_asked(db) -> None:
    w = build(db)
    p = w.people
    found = suggested_mentors(db, w.course.viewer(db, "ines"), [w.other.id, w.coaching.id])
    assert [(s.competency_id, s.person_id) for s in found][:2] == [
        (w.other.id, p["leo"].id),
        (w.coaching.id, p["leo"].id),
    ]
    assert [s.person_id for s in found if s.competency_id == w.other.id] == [p["leo"].id]
    # the exact match asked for directly finds the same people as the competency
    direct = suggested_mentors(db, w.course.viewer(db, "ines"), [w.match.id])
    base = suggested_mentors(db, w.course.viewer(db, "ines"), [w.coaching.id])
    assert [s.person_id for s in direct] == [s.person_id for s in base]
    assert {s.competency_name for s in direct} == {w.match.name}
    # the limit is per competency
    top = suggested_mentors(db, w.course.viewer(db, "ines"), [w.coaching.id, w.other.id], limit=1)
    assert [(s.competency_id, s.person_id) for s in top] == [
        (w.coaching.id, p["leo"].id),
        (w.other.id, p["leo"].id),
    ]


def test_an_administrator_sees_the_whole_platform_but_no_other(db) -> None:
    w = build(db)
    p = w.people
    admin = access.viewer_for(
        db, p["ines"].id, w.course.context.id, roles=[roles.INSTITUTION_ADMIN]
    )
    named = {s.person_id for s in suggested_mentors(db, admin, [w.coaching.id])}
    assert {p["b_leo"].id, p["c_leo"].id, p["d_leo"].id} <= named
    assert p["o_leo"].id not in named


def test_learners_are_refused_and_bad_input_is_400(db) -> None:
    w = build(db)
    lea = w.course.viewer(db, "lea")
    with pytest.raises(Refusal) as refused:
        suggested_mentors(db, lea, [w.coaching.id])
    assert refused.value.status == 403
    ines = w.course.viewer(db, "ines")
    for bad, message in (
        ([], "Choose at least one competency."),
        (["7"], "is not a competency id"),
        ([True], "is not a competency id"),
        ([0], "is not a competency id"),
        (list(range(1, 22)), "at most 20 competencies"),
    ):
        with pytest.raises(Refusal) as refused:
            suggested_mentors(db, ines, bad)
        assert refused.value.status == 400 and message in refused.value.message
    with pytest.raises(Refusal) as refused:
        suggested_mentors(db, ines, [w.coaching.id], limit=0)
    assert refused.value.status == 400
    # another platform's competency (the same item there) is not found here
    theirs = db.scalars(
        select(Competency)
        .where(Competency.uri == w.coaching.uri, Competency.id != w.coaching.id)
        .order_by(Competency.id.desc())
    ).first()
    with pytest.raises(Refusal) as refused:
        suggested_mentors(db, ines, [theirs.id])
    assert refused.value.status == 404


def test_a_competency_without_links_suggests_nobody(db) -> None:
    w = build(db)
    lonely = db.scalars(
        select(Competency).where(
            Competency.framework_id == w.coaching.framework_id,
            Competency.id.not_in([w.coaching.id, w.other.id]),
        )
    ).first()
    assert suggested_mentors(db, w.course.viewer(db, "ines"), [lonely.id]) == []


def test_the_count_is_one_statement_whatever_the_number_of_people(app, db) -> None:
    w = build(db)
    ines = w.course.viewer(db, "ines")
    coaching = w.coaching.id

    def measured() -> tuple[list[str], list[Suggestion]]:
        db.expire_all()
        with count_queries(app) as queries:
            found = suggested_mentors(db, ines, [coaching], limit=100)
        return queries, found

    before, found_before = measured()
    question = _question(db, w.course, w.board, "lea")
    for n in range(40):
        person = _person(db, w.course, f"many{n}")
        answer = boards.reply(db, _as(db, w.course, person), question, f"Answer {n}")
        boards.react(db, w.course.viewer(db, "liv"), answer, "helpful")
    db.commit()
    after, found_after = measured()

    assert len(found_after) == len(found_before) + 40
    assert len(after) == len(before)
    assert len(after) <= 10  # competencies, courses, exact matches, links, the count
    assert sum("social_post" in q for q in after) == 1
