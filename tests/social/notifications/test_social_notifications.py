"""Mentions, follows, notifications and read markers (services and event subscribers)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from plugin import access
from plugin.access import Refusal
from plugin.db import utcnow
from plugin.lti import roles
from plugin.lti.models import LmsGroupMember, Membership, User
from plugin.social import boards, markdown, notifications
from plugin.social.models import Follow, Mention, Notification, Post, ReadMarker, Thread
from plugin.social.notifications import mentions
from tests.social.social_world import count_queries, course_board, make_course


def _notes(db, user, kind=None):
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.scalars(query.order_by(Notification.id)))


def _opening(db, thread):
    return db.scalars(select(Post).where(Post.thread_id == thread.id, Post.is_opening)).one()


# --- handles -------------------------------------------------------------------------------------
def test_handles_are_derived_from_names_and_unique_in_the_course() -> None:
    assert mentions.base_handle("Diego Ramírez") == "diego.ramirez"
    assert mentions.base_handle("  O'Brien, Máire-Ann ") == "o.brien.maire.ann"
    assert mentions.base_handle("陈伟") == "陈伟"
    assert mentions.base_handle("<script>") == "script"
    assert mentions.base_handle("!!!") == mentions.FALLBACK_HANDLE
    handles = mentions.assign_handles(
        [(7, "Lea Learner"), (3, "Lea Learner"), (5, "Lea Learner2"), (9, "lea learner")]
    )
    # the lowest id keeps the plain handle; others take the next number nobody else owns
    assert handles == {3: "lea.learner", 5: "lea.learner2", 7: "lea.learner3", 9: "lea.learner4"}
    assert mentions.assign_handles([(9, "lea learner"), (3, "Lea Learner")]) == {
        3: "lea.learner",
        9: "lea.learner2",
    }


def test_mentions_outside_code_and_links_only() -> None:
    body = "Hi @Lea.Learner. `@leo.learner` [@liv.learner](https://x.example) a@ines.instructor"
    assert markdown.mention_candidates(body) == {"lea.learner", "lea"}
    html = markdown.render(body, {"lea.learner": "Lea <b>Learner</b>"})
    assert '<span class="mention">@Lea &lt;b&gt;Learner&lt;/b&gt;</span>.' in html
    assert "<code>@leo.learner</code>" in html and ">@liv.learner</a>" in html
    assert html.count("<span") == 1
    # without mentions, rendering is exactly as before (and a raw span is never kept)
    assert markdown.render(body) == markdown.sanitise(markdown.render_unsafe(body))
    raw = markdown.render('<span class="mention" onclick="go()">hi</span> @x', {"x": "X"})
    assert raw.count("<span") == 1 and '<span class="mention">@X</span>' in raw  # typed: text


# --- mentions ------------------------------------------------------------------------------------
def test_mentioning_a_classmate_notifies_them_once_and_renders_the_name(db) -> None:
    course, board = course_board(db, unlimited=True)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    thread = boards.create_thread(db, lea, board, "Feedback", "What do you think, @leo.learner?")
    db.commit()
    opening = _opening(db, thread)
    assert '<span class="mention">@Leo Learner</span>' in opening.body_html
    (note,) = _notes(db, course.users["leo"])
    assert (note.kind, note.thread_id, note.post_id, note.actor_id) == (
        "mention",
        thread.id,
        opening.id,
        course.users["lea"].id,
    )
    assert note.context_id == course.context.id and note.read_at is None
    assert db.scalars(select(Mention.user_id).where(Mention.post_id == opening.id)).all() == [
        course.users["leo"].id
    ]
    # the author follows their thread and has read it; nobody else is notified
    assert notifications.is_following(db, lea, thread)
    assert not notifications.is_following(db, leo, thread)
    assert _notes(db, course.users["lea"]) == [] and _notes(db, course.users["ines"]) == []
    page = notifications.list_notifications(db, leo)
    (view,) = page.notifications
    assert view.actor == notifications.ActorView(course.users["lea"].id, "Lea Learner")
    assert view.thread_title == "Feedback" and view.excerpt == "What do you think, @Leo Learner?"
    assert notifications.unread_count(db, leo) == 1


def test_mentions_that_cannot_reach_anyone_do_nothing(db) -> None:
    course, board = course_board(db, unlimited=True, cohort_mode="groups")
    other = make_course(db, platform=course.platform, context_key="c-202")
    stranger = User(
        platform_id=course.platform.id,
        issuer=course.platform.issuer,
        sub="stranger",
        name="Sam Stranger",
    )
    gone = User(
        platform_id=course.platform.id, issuer=course.platform.issuer, sub="gone", name="Gus Gone"
    )
    db.add_all([stranger, gone])
    db.flush()
    db.add(Membership(context_id=course.context.id, user_id=gone.id, roles=[roles.LEARNER]))
    db.flush()
    db.execute(
        Membership.__table__.update().where(Membership.user_id == gone.id).values(status="Inactive")
    )
    db.commit()
    lea = course.viewer(db, "lea")  # red cohort
    before = db.scalar(select(func.count()).select_from(Notification))
    thread = boards.create_thread(
        db,
        lea,
        board,
        "Red only",
        "@liv.learner (blue) @sam.stranger (no member) @gus.gone (inactive) @nobody.here",
    )
    db.commit()
    opening = _opening(db, thread)
    assert "mention" not in opening.body_html
    assert db.scalar(select(func.count()).select_from(Notification)) == before
    assert db.scalar(select(func.count()).select_from(Mention)) == 0
    # the same names in another course are other people: only this course's Lea is mentioned
    ines = course.viewer(db, "ines")
    wide = boards.create_thread(db, ines, board, "All cohorts", "Hello @liv.learner @lea.learner")
    db.commit()
    assert _notes(db, other.users["lea"]) == [] and _notes(db, other.users["liv"]) == []
    assert [n.thread_id for n in _notes(db, course.users["liv"])] == [wide.id]
    assert [n.thread_id for n in _notes(db, course.users["lea"])] == [wide.id]


def test_staff_can_always_be_mentioned_and_self_mentions_do_not_notify(db) -> None:
    course, board = course_board(db, unlimited=True, cohort_mode="groups")
    lea = course.viewer(db, "lea")
    thread = boards.create_thread(db, lea, board, "Help", "@ines.instructor and me @lea.learner")
    db.commit()
    assert len(_notes(db, course.users["ines"], "mention")) == 1
    assert _notes(db, course.users["lea"]) == []
    assert _opening(db, thread).body_html.count('class="mention"') == 2


def test_anonymous_mentions_hide_the_author_from_peers_not_staff(db) -> None:
    course, board = course_board(db, unlimited=True, anonymous_allowed="true")
    lea = course.viewer(db, "lea")
    boards.create_thread(
        db, lea, board, "Honest", "@leo.learner @ines.instructor help", anonymous=True
    )
    db.commit()
    (to_leo,) = _notes(db, course.users["leo"])
    (to_ines,) = _notes(db, course.users["ines"])
    assert to_leo.actor_id is None and to_ines.actor_id == course.users["lea"].id
    (view,) = notifications.list_notifications(db, course.viewer(db, "leo")).notifications
    assert view.actor == notifications.ActorView(None, "Anonymous")
    (staff_view,) = notifications.list_notifications(db, course.viewer(db, "ines")).notifications
    assert staff_view.actor.name == "Lea Learner"


def test_editing_notifies_only_the_newly_mentioned(db) -> None:
    course, board = course_board(db, unlimited=True)
    lea = course.viewer(db, "lea")
    thread = boards.create_thread(db, lea, board, "T", "Hi @leo.learner")
    db.commit()
    opening = _opening(db, thread)
    boards.edit_post(db, lea, opening, "Hi @leo.learner and @liv.learner")
    db.commit()
    assert len(_notes(db, course.users["leo"])) == 1 and len(_notes(db, course.users["liv"])) == 1
    assert opening.body_html.count('class="mention"') == 2
    boards.edit_post(db, lea, opening, "Only @liv.learner now")
    db.commit()
    assert set(db.scalars(select(Mention.user_id).where(Mention.post_id == opening.id))) == {
        course.users["liv"].id
    }
    assert "@Leo" not in opening.body_html
    boards.edit_post(db, lea, opening, "Back to @leo.learner and @liv.learner")
    db.commit()  # Leo is mentioned again: still one notification per person, post and kind
    assert len(_notes(db, course.users["leo"])) == 1 and len(_notes(db, course.users["liv"])) == 1


# --- follows and replies -------------------------------------------------------------------------
def test_followers_get_reply_notifications_until_they_unfollow(db) -> None:
    course, board = course_board(db, unlimited=True)
    lea, leo, liv = (course.viewer(db, n) for n in ("lea", "leo", "liv"))
    thread = boards.create_thread(db, lea, board, "T", "opening")
    db.commit()
    reply = boards.reply(db, leo, thread, "first reply")
    db.commit()
    (note,) = _notes(db, course.users["lea"])
    assert (note.kind, note.post_id, note.actor_id) == ("reply", reply.id, course.users["leo"].id)
    assert notifications.is_following(db, leo, thread)  # writing in a thread follows it
    assert _notes(db, course.users["leo"]) == []  # not for one's own post

    comment = boards.reply(db, liv, thread, "a comment", parent_post=reply)
    db.commit()
    assert [n.post_id for n in _notes(db, course.users["lea"], "reply")] == [reply.id, comment.id]
    assert [n.post_id for n in _notes(db, course.users["leo"], "reply")] == [comment.id]
    (view,) = notifications.list_notifications(db, leo).notifications
    assert view.is_comment and view.actor.name == "Liv Learner"

    assert notifications.unfollow(db, leo, thread) and not notifications.unfollow(db, leo, thread)
    db.commit()
    boards.reply(db, leo, thread, "leo writes again: no re-follow")
    boards.reply(db, liv, thread, "another")
    db.commit()
    assert not notifications.is_following(db, leo, thread)
    assert len(_notes(db, course.users["leo"], "reply")) == 1
    assert len(_notes(db, course.users["lea"], "reply")) == 4
    # following again is idempotent
    assert notifications.follow(db, leo, thread) and not notifications.follow(db, leo, thread)
    db.commit()
    assert db.scalar(select(func.count()).select_from(Follow).where(Follow.thread_id == thread.id))


def test_a_mentioned_follower_gets_the_mention_only(db) -> None:
    course, board = course_board(db, unlimited=True)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    thread = boards.create_thread(db, lea, board, "T", "opening")
    db.commit()
    post = boards.reply(db, leo, thread, "@lea.learner see this")
    db.commit()
    assert [(n.kind, n.post_id) for n in _notes(db, course.users["lea"])] == [("mention", post.id)]


def test_followers_who_cannot_see_a_post_are_not_notified(db) -> None:
    course, board = course_board(db, unlimited=True, cohort_mode="groups")
    lea, leo, ines = course.viewer(db, "lea"), course.viewer(db, "leo"), course.viewer(db, "ines")
    liv = course.viewer(db, "liv")
    thread = boards.create_thread(db, lea, board, "Red", "opening")
    db.commit()
    with pytest.raises(Refusal) as err:
        notifications.follow(db, liv, thread)  # another cohort's thread: not found
    assert err.value.status == 404
    notifications.follow(db, leo, thread)
    notifications.follow(db, ines, thread)
    db.commit()
    # Leo leaves the red cohort: he no longer sees the thread and is not told about it
    db.execute(delete(LmsGroupMember).where(LmsGroupMember.user_id == course.users["leo"].id))
    db.commit()
    boards.reply(db, lea, thread, "still here?")
    db.commit()
    assert _notes(db, course.users["leo"]) == [] and len(_notes(db, course.users["ines"])) == 1


# --- endorsements and accepted answers -----------------------------------------------------------
def test_endorsement_and_acceptance_notify_the_replys_author(db) -> None:
    course, board = course_board(db, unlimited=True, anonymous_allowed="true")
    lea, leo, ines = course.viewer(db, "lea"), course.viewer(db, "leo"), course.viewer(db, "ines")
    question = boards.create_thread(db, lea, board, "Q", "How?", kind="question", anonymous=True)
    db.commit()
    answer = boards.reply(db, leo, question, "Like this.")
    db.commit()
    boards.endorse(db, ines, answer)
    boards.accept_answer(db, lea, question, answer)
    db.commit()
    by_kind = {n.kind: n for n in _notes(db, course.users["leo"])}
    assert set(by_kind) == {"endorsed", "accepted"}
    assert by_kind["endorsed"].actor_id == course.users["ines"].id
    assert by_kind["accepted"].actor_id is None  # the asker was anonymous
    views = {v.kind: v for v in notifications.list_notifications(db, leo).notifications}
    assert views["accepted"].actor.name == "Anonymous"
    assert views["endorsed"].actor.name == "Ines Instructor"
    # taking back and giving again does not notify twice
    boards.endorse(db, ines, answer, endorsed=False)
    boards.endorse(db, ines, answer)
    db.commit()
    assert len(_notes(db, course.users["leo"], "endorsed")) == 1
    # staff accepting their own reply: nobody to tell
    own = boards.reply(db, ines, question, "Staff answer")
    boards.accept_answer(db, ines, question, own)
    db.commit()
    assert _notes(db, course.users["ines"], "accepted") == []


def test_withheld_answers_do_not_leak_through_notifications(db) -> None:
    course, board = course_board(db, unlimited=True, qa_mode="true")
    lea, leo, liv = (course.viewer(db, n) for n in ("lea", "leo", "liv"))
    question = boards.create_thread(db, lea, board, "Q", "Why?", kind="question")
    db.commit()
    notifications.follow(db, liv, question)
    db.commit()
    boards.reply(db, leo, question, "Because of the secret answer. @liv.learner")
    db.commit()
    (view,) = notifications.list_notifications(db, liv).notifications
    assert view.kind == "mention" and view.withheld and view.excerpt is None
    assert view.actor.user_id is None and "Leo" not in view.actor.name
    # the asker sees the answer at once
    (asker_view,) = notifications.list_notifications(db, lea).notifications
    assert not asker_view.withheld and "secret answer" in asker_view.excerpt
    boards.reply(db, liv, question, "My own answer")
    db.commit()
    (view,) = notifications.list_notifications(db, liv).notifications
    assert (
        not view.withheld and "secret answer" in view.excerpt and view.actor.name == "Leo Learner"
    )


def test_hidden_and_deleted_posts_in_the_list(db) -> None:
    course, board = course_board(db, unlimited=True)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    thread = boards.create_thread(db, lea, board, "T", "opening")
    db.commit()
    first = boards.reply(db, leo, thread, "to be deleted")
    second = boards.reply(db, leo, thread, "to be hidden")
    db.commit()
    boards.delete_post(db, leo, first)
    second.hidden = True
    db.commit()
    (view,) = notifications.list_notifications(db, lea).notifications  # the hidden one is gone
    assert view.post_id == first.id and view.deleted and view.excerpt is None
    assert notifications.unread_count(db, lea) == 1


# --- the list, marking read ----------------------------------------------------------------------
def test_list_pages_by_keyset_with_bounded_queries(db, app) -> None:
    course, board = course_board(db, unlimited=True)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    thread = boards.create_thread(db, lea, board, "T", "opening")
    db.commit()
    made = [boards.reply(db, leo, thread, f"reply {i} @lea.learner").id for i in range(25)]
    db.commit()
    seen, cursor = [], None
    while True:
        page = notifications.list_notifications(db, lea, cursor=cursor, limit=10)
        seen.extend(v.post_id for v in page.notifications)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(reversed(made))
    counts = set()
    for limit in (1, 5, 25):
        db.expunge_all()
        with count_queries(app) as queries:
            assert (
                len(notifications.list_notifications(db, lea, limit=limit).notifications) == limit
            )
        counts.add(len(queries))
    assert len(counts) == 1 and counts.pop() <= 3
    with count_queries(app) as queries:
        assert notifications.unread_count(db, lea) == 25
    assert len(queries) == 2  # a plain count, then the visibility-checked one
    notifications.mark_read(db, lea)
    db.commit()
    with count_queries(app) as queries:
        assert notifications.unread_count(db, lea) == 0
    assert len(queries) == 1  # nothing unread: the plain count is the answer
    with pytest.raises(Refusal) as err:
        notifications.list_notifications(db, lea, cursor="bogus")
    assert err.value.status == 400


def test_mark_read_some_or_all_and_refuse_others_ids(db) -> None:
    course, board = course_board(db, unlimited=True)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    thread = boards.create_thread(db, lea, board, "T", "opening @leo.learner")
    db.commit()
    for i in range(3):
        boards.reply(db, leo, thread, f"r{i}")
    db.commit()
    mine = [n.id for n in _notes(db, course.users["lea"])]
    theirs = [n.id for n in _notes(db, course.users["leo"])]
    with pytest.raises(Refusal) as err:
        notifications.mark_read(db, lea, [mine[0], theirs[0]])
    assert err.value.status == 404
    db.rollback()
    assert notifications.unread_count(db, lea) == 3 and notifications.unread_count(db, leo) == 1
    assert notifications.mark_read(db, lea, [mine[0]]) == 1
    db.commit()
    assert notifications.unread_count(db, lea) == 2
    page = notifications.list_notifications(db, lea, unread_only=True)
    assert [v.id for v in page.notifications] == [mine[2], mine[1]]
    assert notifications.mark_read(db, lea) == 2
    db.commit()
    assert notifications.unread_count(db, lea) == 0 and notifications.unread_count(db, leo) == 1
    with pytest.raises(Refusal):
        notifications.open_notification(db, lea, theirs[0])
    opened = notifications.open_notification(db, leo, theirs[0])
    assert opened.read_at is not None


# --- read markers --------------------------------------------------------------------------------
def test_threads_are_new_until_opened_and_again_after_new_posts(db, app) -> None:
    course, board = course_board(db, unlimited=True)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    one = boards.create_thread(db, lea, board, "One", "b")
    two = boards.create_thread(db, lea, board, "Two", "b")
    db.commit()
    assert notifications.unread_thread_ids(db, lea, [one.id, two.id]) == set()  # her own
    with count_queries(app) as queries:
        assert notifications.unread_thread_ids(db, leo, [one.id, two.id]) == {one.id, two.id}
    assert len(queries) == 1
    assert notifications.mark_thread_read(db, leo, one) is None
    db.commit()
    assert notifications.unread_thread_ids(db, leo, [one.id, two.id]) == {two.id}
    marker = db.scalars(select(ReadMarker).where(ReadMarker.user_id == course.users["leo"].id))
    first_read = marker.one().read_at
    boards.reply(db, lea, one, "news")
    db.commit()
    assert notifications.unread_thread_ids(db, leo, [one.id]) == {one.id}
    assert notifications.unread_thread_ids(db, lea, [one.id]) == set()  # her own reply
    assert notifications.mark_thread_read(db, leo, one) == first_read
    db.commit()
    assert notifications.unread_thread_ids(db, leo, [one.id]) == set()
    assert notifications.unread_thread_ids(db, leo, []) == set()
    # a revisit with nothing new since: the marker stays (it reads the same) and nothing is written
    second_read = db.scalars(
        select(ReadMarker.read_at).where(ReadMarker.user_id == course.users["leo"].id)
    ).one()
    assert second_read > first_read
    db.expire_all()
    with count_queries(app) as queries:
        assert notifications.mark_thread_read(db, leo, db.get(Thread, one.id)) == second_read
        db.commit()
    assert not [q for q in queries if q.lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert notifications.unread_thread_ids(db, leo, [one.id]) == set()
    boards.reply(db, lea, one, "more news")  # then new activity moves it on again
    db.commit()
    assert notifications.mark_thread_read(db, leo, one) == second_read
    db.commit()
    assert (
        db.scalars(
            select(ReadMarker.read_at).where(ReadMarker.user_id == course.users["leo"].id)
        ).one()
        > second_read
    )


def test_read_markers_and_follows_respect_cohorts(db) -> None:
    course, board = course_board(db, unlimited=True, cohort_mode="groups")
    lea, liv = course.viewer(db, "lea"), course.viewer(db, "liv")
    thread = boards.create_thread(db, lea, board, "Red", "b")
    db.commit()
    for act in (notifications.mark_thread_read, notifications.follow, notifications.unfollow):
        with pytest.raises(Refusal) as err:
            act(db, liv, thread)
        assert err.value.status == 404


# --- member suggestions --------------------------------------------------------------------------
def test_member_suggestions_respect_course_and_cohorts(db) -> None:
    course, board = course_board(db, unlimited=True, cohort_mode="groups")
    other = make_course(db, platform=course.platform, context_key="c-303")
    db.commit()
    lea, ines, liv = course.viewer(db, "lea"), course.viewer(db, "ines"), course.viewer(db, "liv")

    def names(who, prefix, **kw):
        return [m.name for m in mentions.member_suggestions(db, who, board, prefix, **kw)]

    # Lea (red) gets her cohort and staff, never herself, never blue Liv or another course
    assert names(lea, "l") == ["Leo Learner"]
    assert names(lea, "learner") == ["Leo Learner"]
    assert names(lea, "@INES") == ["Ines Instructor"]
    assert names(lea, "ines.i") == ["Ines Instructor"]
    assert names(liv, "le") == []
    assert names(ines, "l") == ["Lea Learner", "Leo Learner", "Liv Learner"]
    assert names(ines, "l", limit=2) == ["Lea Learner", "Leo Learner"]
    blue = boards.create_thread(
        db, ines, board, "Blue", "b", cohort_group_id=course.groups["blue"].id
    )
    db.commit()
    assert names(ines, "l", thread=blue) == ["Liv Learner"]
    with pytest.raises(Refusal) as err:
        names(lea, "l", thread=blue)
    assert err.value.status == 404
    other_board = boards.board_for_placement(db, other.placement)
    db.commit()
    with pytest.raises(Refusal) as err:
        mentions.member_suggestions(db, lea, other_board, "l")
    assert err.value.status == 404
    for bad in ("", "   ", "x" * 51):
        with pytest.raises(Refusal) as err:
            names(lea, bad)
        assert err.value.status == 400
    with pytest.raises(Refusal):
        names(lea, "l", limit=0)


def test_suggestions_ignore_accents_and_match_any_word(db) -> None:
    course, board = course_board(db, unlimited=True)
    user = User(
        platform_id=course.platform.id,
        issuer=course.platform.issuer,
        sub="diego",
        name="Diego Ramírez",
    )
    db.add(user)
    db.flush()
    db.add(Membership(context_id=course.context.id, user_id=user.id, roles=[roles.LEARNER]))
    db.commit()
    lea = course.viewer(db, "lea")
    found = mentions.member_suggestions(db, lea, board, "rami")
    assert [(m.name, m.handle) for m in found] == [("Diego Ramírez", "diego.ramirez")]
    assert mentions.member_suggestions(db, lea, board, "RAMÍ")[0].user_id == user.id
    thread = boards.create_thread(db, lea, board, "T", "hola @diego.ramirez")
    db.commit()
    assert '<span class="mention">@Diego Ramírez</span>' in _opening(db, thread).body_html


def test_markup_in_names_is_never_html(db) -> None:
    course, board = course_board(db, unlimited=True)
    evil = User(
        platform_id=course.platform.id,
        issuer=course.platform.issuer,
        sub="evil",
        name='<img src=x onerror="alert(1)">',
    )
    db.add(evil)
    db.flush()
    db.add(Membership(context_id=course.context.id, user_id=evil.id, roles=[roles.LEARNER]))
    db.commit()
    handle = mentions.base_handle(evil.name)
    assert handle == "img.src.x.onerror.alert.1"
    lea = course.viewer(db, "lea")
    thread = boards.create_thread(db, lea, board, "T", f"hi @{handle}")
    db.commit()
    html = _opening(db, thread).body_html
    assert "<img" not in html and "&lt;img src=x onerror=" in html
    evil_viewer = access.viewer_for(db, evil.id, course.context.id)
    (view,) = notifications.list_notifications(db, evil_viewer).notifications
    assert view.excerpt == 'hi @<img src=x onerror="alert(1)">'  # plain text, escaped by pages


# --- e-mail digest -------------------------------------------------------------------------------
def test_undigested_notifications_for_a_later_email_digest(db) -> None:
    course, board = course_board(db, unlimited=True)
    lea = course.viewer(db, "lea")
    boards.create_thread(db, lea, board, "T", "@leo.learner @liv.learner")
    db.commit()
    pending = notifications.undigested(db, before=utcnow())
    assert set(pending) == {course.users["leo"].id, course.users["liv"].id}
    ids = [n.id for group in pending.values() for n in group]
    assert notifications.mark_emailed(db, ids) == 2 and notifications.mark_emailed(db, ids) == 0
    db.commit()
    assert notifications.undigested(db) == {}
