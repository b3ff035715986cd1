"""Cohorts made by course staff (board cohort mode "cohorts"): the service's rules, and the boards'
visibility with them (threads, thread pages, search, mentions, notifications' reach)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from plugin.access import Refusal
from plugin.db import new_session
from plugin.lti.models import GROUP_MADE_IN_TOOL, LmsGroup, LmsGroupMember
from plugin.social import boards, cohorts, mentions, search
from plugin.social.models import ModerationAction, Thread
from tests.social.social_world import make_course
from tests.social.test_social_boards import count_queries


@pytest.fixture
def s(app):
    with new_session(app) as session:
        yield session


def _refused(status: int, call, *args, **kwargs) -> Refusal:
    with pytest.raises(Refusal) as refused:
        call(*args, **kwargs)
    assert refused.value.status == status, refused.value.message
    assert refused.value.message
    return refused.value


def _course(s, **settings):
    course = make_course(s, settings={"posts_per_hour": "0", **settings})
    board = boards.board_for_placement(s, course.placement)
    s.commit()
    return course, board


def test_staff_make_rename_fill_and_delete_cohorts(s, app) -> None:
    course, _board = _course(s)
    ines, lea = course.viewer(s, "ines"), course.viewer(s, "lea")
    lea_id, leo_id = course.users["lea"].id, course.users["leo"].id
    north = cohorts.create_cohort(s, ines, "  North   team ")
    s.commit()
    assert north.name == "North team" and north.source == GROUP_MADE_IN_TOOL
    assert north.group_id.startswith("commons-")
    assert cohorts.set_members(s, ines, north.id, [leo_id, lea_id, lea_id]) == sorted(
        [lea_id, leo_id]
    )
    s.commit()
    cohorts.rename_cohort(s, ines, north.id, "North")
    assert cohorts.set_members(s, ines, north.id, [lea_id]) == [lea_id]  # Leo taken out
    s.commit()
    with count_queries(app) as seen:
        (view,) = cohorts.list_cohorts(s, ines)
    assert len(seen) <= 3
    assert (view.name, [p.user_id for p in view.members], view.thread_count) == (
        "North",
        [lea_id],
        0,
    )
    assert {p.user_id for p in cohorts.learners(s, ines)} == {
        course.users[n].id for n in ("lea", "leo", "liv")
    }
    log = [a.action for a in s.scalars(select(ModerationAction).order_by(ModerationAction.id))]
    assert log == ["cohort_created", "cohort_members", "cohort_renamed", "cohort_members"]
    # the member now sees the cohort among their groups
    assert north.id in course.viewer(s, "lea").made_group_ids
    cohorts.delete_cohort(s, ines, north.id)
    s.commit()
    assert s.get(LmsGroup, north.id) is None
    assert s.scalars(select(LmsGroupMember).where(LmsGroupMember.group_id == north.id)).all() == []
    assert cohorts.list_cohorts(s, ines) == []
    _refused(403, cohorts.list_cohorts, s, lea)
    _refused(403, cohorts.create_cohort, s, lea, "Mine")


def test_bad_input_is_refused_and_changes_nothing(s) -> None:
    course, _board = _course(s)
    ines = course.viewer(s, "ines")
    south = cohorts.create_cohort(s, ines, "South")
    s.commit()
    for bad in ("", "   ", None, 42, "x" * 101):
        _refused(400, cohorts.create_cohort, s, ines, bad)
    assert "already has a cohort" in _refused(409, cohorts.create_cohort, s, ines, "SOUTH").message
    west = cohorts.create_cohort(s, ines, "West")
    s.commit()
    _refused(409, cohorts.rename_cohort, s, ines, west.id, "south")
    cohorts.rename_cohort(s, ines, south.id, "south")  # its own name in other letters is fine
    s.commit()
    # members: staff and strangers are not learners of the course; unknown ids neither
    other = make_course(s, platform=course.platform, context_key="c-other")
    s.commit()
    for bad_ids in ([course.users["ines"].id], [other.users["lea"].id], [10**9]):
        _refused(404, cohorts.set_members, s, ines, south.id, bad_ids)
    s.rollback()
    assert s.scalars(select(LmsGroupMember).where(LmsGroupMember.group_id == south.id)).all() == []
    # an LMS group, another course's cohort, an unknown id: 404 for every act
    red = course.groups["red"]
    elsewhere = cohorts.create_cohort(s, other.viewer(s, "ines"), "Elsewhere")
    s.commit()
    for cohort_id in (red.id, elsewhere.id, 10**9):
        _refused(404, cohorts.rename_cohort, s, ines, cohort_id, "Mine now")
        _refused(404, cohorts.set_members, s, ines, cohort_id, [])
        _refused(404, cohorts.delete_cohort, s, ines, cohort_id)
    s.rollback()
    assert s.get(LmsGroup, red.id).name == "Red cohort"
    assert [c.name for c in cohorts.list_cohorts(s, ines)] == ["south", "West"]


def test_a_cohorts_board_keeps_each_staff_made_cohort_to_itself(s) -> None:
    course, board = _course(s, cohort_mode="cohorts")
    assert board.cohort_mode == "cohorts"
    ines = course.viewer(s, "ines")
    north = cohorts.create_cohort(s, ines, "North")
    south = cohorts.create_cohort(s, ines, "South")
    cohorts.set_members(s, ines, north.id, [course.users["lea"].id])
    cohorts.set_members(s, ines, south.id, [course.users["leo"].id])
    s.commit()
    lea, leo, liv = (course.viewer(s, n) for n in ("lea", "leo", "liv"))
    # Lea is also in an LMS group: on this board only her staff-made cohort counts
    assert lea.group_ids - lea.made_group_ids and lea.groups_from(boards.cohort_source(board)) == {
        north.id
    }
    mine = boards.create_thread(s, lea, board, "Northern lights", "aurora talk")
    s.commit()
    assert mine.cohort_group_id == north.id
    _refused(404, boards.create_thread, s, lea, board, "Sneak", "x", cohort_group_id=south.id)
    red = course.groups["red"]
    _refused(404, boards.create_thread, s, lea, board, "Red", "x", cohort_group_id=red.id)
    _refused(403, boards.create_thread, s, liv, board, "Nobody's", "x")  # in no cohort
    # staff choose a staff-made cohort or the whole course, never an LMS group here
    _refused(404, boards.create_thread, s, ines, board, "Red", "x", cohort_group_id=red.id)
    s.rollback()
    staff_south = boards.create_thread(
        s, ines, board, "South brief", "aurora south", cohort_group_id=south.id
    )
    everyone = boards.create_thread(s, ines, board, "For all", "aurora everywhere")
    s.commit()

    def listed(who) -> set[int]:
        return {t.id for t in boards.list_threads(s, who, board).threads}

    assert listed(lea) == {mine.id, everyone.id}
    assert listed(leo) == {staff_south.id, everyone.id}
    assert listed(ines) == {mine.id, staff_south.id, everyone.id}
    _refused(404, boards.get_thread, s, leo, mine.id)
    assert {h.thread_id for h in search.search(s, leo, "aurora").hits} == {
        staff_south.id,
        everyone.id,
    }
    # mentions reach only people who can see the thread
    reach = mentions.who_can_see(
        s, board, s.get(Thread, mine.id), {course.users["leo"].id: False, lea.user_id: False}
    )
    assert set(reach) == {lea.user_id}
    # a cohort with threads cannot be deleted: its threads would become course-wide
    assert "still has 1 thread" in _refused(409, cohorts.delete_cohort, s, ines, north.id).message
    s.rollback()
    assert s.get(LmsGroup, north.id) is not None
    # taking Lea out of North takes the thread away from her
    cohorts.set_members(s, ines, north.id, [])
    s.commit()
    assert listed(course.viewer(s, "lea")) == {everyone.id}
