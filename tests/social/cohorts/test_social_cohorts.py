"""Cohorts made by course staff (board cohort mode "cohorts"): the service's rules, and the boards'
visibility with them (threads, thread pages, search, mentions, notifications' reach)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from plugin.access import Refusal
from plugin.lti.models import GROUP_MADE_IN_TOOL, LmsGroup, LmsGroupMember
from plugin.social import boards, cohorts, search
from plugin.social.models import ModerationAction, Thread
from plugin.social.notifications import mentions
from tests.social.social_world import count_queries, course_board, make_course


def _refused(status: int, call, *args, **kwargs) -> Refusal:
    with pytest.raises(Refusal) as refused:
        call(*args, **kwargs)
    assert refused.value.status == status, refused.value.message
    assert refused.value.message
    return refused.value


def test_staff_make_rename_fill_and_delete_cohorts(db, app) -> None:
    course, _board = course_board(db, unlimited=True)
    ines, lea = course.viewer(db, "ines"), course.viewer(db, "lea")
    lea_id, leo_id = course.users["lea"].id, course.users["leo"].id
    north = cohorts.create_cohort(db, ines, "  North   team ")
    db.commit()
    assert north.name == "North team" and north.source == GROUP_MADE_IN_TOOL
    assert north.group_id.startswith("commons-")
    assert cohorts.set_members(db, ines, north.id, [leo_id, lea_id, lea_id]) == sorted(
        [lea_id, leo_id]
    )
    db.commit()
    cohorts.rename_cohort(db, ines, north.id, "North")
    assert cohorts.set_members(db, ines, north.id, [lea_id]) == [lea_id]  # Leo taken out
    db.commit()
    with count_queries(app) as seen:
        (view,) = cohorts.list_cohorts(db, ines)
    assert len(seen) <= 3
    assert (view.name, [p.user_id for p in view.members], view.thread_count) == (
        "North",
        [lea_id],
        0,
    )
    assert {p.user_id for p in cohorts.learners(db, ines)} == {
        course.users[n].id for n in ("lea", "leo", "liv")
    }
    log = [a.action for a in db.scalars(select(ModerationAction).order_by(ModerationAction.id))]
    assert log == ["cohort_created", "cohort_members", "cohort_renamed", "cohort_members"]
    # the member now sees the cohort among their groups
    assert north.id in course.viewer(db, "lea").made_group_ids
    cohorts.delete_cohort(db, ines, north.id)
    db.commit()
    assert db.get(LmsGroup, north.id) is None
    assert db.scalars(select(LmsGroupMember).where(LmsGroupMember.group_id == north.id)).all() == []
    assert cohorts.list_cohorts(db, ines) == []
    _refused(403, cohorts.list_cohorts, db, lea)
    _refused(403, cohorts.create_cohort, db, lea, "Mine")


def test_bad_input_is_refused_and_changes_nothing(db) -> None:
    course, _board = course_board(db, unlimited=True)
    ines = course.viewer(db, "ines")
    south = cohorts.create_cohort(db, ines, "South")
    db.commit()
    for bad in ("", "   ", None, 42, "x" * 101):
        _refused(400, cohorts.create_cohort, db, ines, bad)
    assert "already has a cohort" in _refused(409, cohorts.create_cohort, db, ines, "SOUTH").message
    west = cohorts.create_cohort(db, ines, "West")
    db.commit()
    _refused(409, cohorts.rename_cohort, db, ines, west.id, "south")
    cohorts.rename_cohort(db, ines, south.id, "south")  # its own name in other letters is fine
    db.commit()
    # members: staff and strangers are not learners of the course; unknown ids neither
    other = make_course(db, platform=course.platform, context_key="c-other")
    db.commit()
    for bad_ids in ([course.users["ines"].id], [other.users["lea"].id], [10**9]):
        _refused(404, cohorts.set_members, db, ines, south.id, bad_ids)
    db.rollback()
    assert db.scalars(select(LmsGroupMember).where(LmsGroupMember.group_id == south.id)).all() == []
    # an LMS group, another course's cohort, an unknown id: 404 for every act
    red = course.groups["red"]
    elsewhere = cohorts.create_cohort(db, other.viewer(db, "ines"), "Elsewhere")
    db.commit()
    for cohort_id in (red.id, elsewhere.id, 10**9):
        _refused(404, cohorts.rename_cohort, db, ines, cohort_id, "Mine now")
        _refused(404, cohorts.set_members, db, ines, cohort_id, [])
        _refused(404, cohorts.delete_cohort, db, ines, cohort_id)
    db.rollback()
    assert db.get(LmsGroup, red.id).name == "Red cohort"
    assert [c.name for c in cohorts.list_cohorts(db, ines)] == ["south", "West"]


def test_a_cohorts_board_keeps_each_staff_made_cohort_to_itself(db) -> None:
    course, board = course_board(db, unlimited=True, cohort_mode="cohorts")
    assert board.cohort_mode == "cohorts"
    ines = course.viewer(db, "ines")
    north = cohorts.create_cohort(db, ines, "North")
    south = cohorts.create_cohort(db, ines, "South")
    cohorts.set_members(db, ines, north.id, [course.users["lea"].id])
    cohorts.set_members(db, ines, south.id, [course.users["leo"].id])
    db.commit()
    lea, leo, liv = (course.viewer(db, n) for n in ("lea", "leo", "liv"))
    # Lea is also in an LMS group: on this board only her staff-made cohort counts
    assert lea.group_ids - lea.made_group_ids and lea.groups_from(boards.cohort_source(board)) == {
        north.id
    }
    mine = boards.create_thread(db, lea, board, "Northern lights", "aurora talk")
    db.commit()
    assert mine.cohort_group_id == north.id
    _refused(404, boards.create_thread, db, lea, board, "Sneak", "x", cohort_group_id=south.id)
    red = course.groups["red"]
    _refused(404, boards.create_thread, db, lea, board, "Red", "x", cohort_group_id=red.id)
    _refused(403, boards.create_thread, db, liv, board, "Nobody's", "x")  # in no cohort
    # staff choose a staff-made cohort or the whole course, never an LMS group here
    _refused(404, boards.create_thread, db, ines, board, "Red", "x", cohort_group_id=red.id)
    db.rollback()
    staff_south = boards.create_thread(
        db, ines, board, "South brief", "aurora south", cohort_group_id=south.id
    )
    everyone = boards.create_thread(db, ines, board, "For all", "aurora everywhere")
    db.commit()

    def listed(who) -> set[int]:
        return {t.id for t in boards.list_threads(db, who, board).threads}

    assert listed(lea) == {mine.id, everyone.id}
    assert listed(leo) == {staff_south.id, everyone.id}
    assert listed(ines) == {mine.id, staff_south.id, everyone.id}
    _refused(404, boards.get_thread, db, leo, mine.id)
    assert {h.thread_id for h in search.search(db, leo, "aurora").hits} == {
        staff_south.id,
        everyone.id,
    }
    # mentions reach only people who can see the thread
    reach = mentions.who_can_see(
        db, board, db.get(Thread, mine.id), {course.users["leo"].id: False, lea.user_id: False}
    )
    assert set(reach) == {lea.user_id}
    # a cohort with threads cannot be deleted: its threads would become course-wide
    assert "still has 1 thread" in _refused(409, cohorts.delete_cohort, db, ines, north.id).message
    db.rollback()
    assert db.get(LmsGroup, north.id) is not None
    # taking Lea out of North takes the thread away from her
    cohorts.set_members(db, ines, north.id, [])
    db.commit()
    assert listed(course.viewer(db, "lea")) == {everyone.id}
