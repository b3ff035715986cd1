"""Board pages through the real LTI launch: post, reply, moderate, escape, scope, refuse."""

from __future__ import annotations

import re

from sqlalchemy import select

from plugin.db import new_session
from plugin.social.models import Post, Thread
from plugin.xapi.models import XapiOutbox
from tests.conftest import row_counts
from tests.social.social_web import Person, board_id_of, board_link, tool_of
from tests.support.browser import Browser
from tests.support.lti import launch, token_of


def test_instructor_sets_up_a_board_then_learners_talk_and_staff_moderate(app, lms) -> None:
    rl = lms.placement()
    ines = Browser()
    page = launch(ines, lms, "u-ines", resource_link=rl.resource_link_id)
    done = ines.http.post(
        tool_of(page) + "/app/setup", data={"lc": token_of(page), "widget": "board"}, timeout=10
    )
    assert done.status_code == 200 and "/boards/" in done.url
    assert "Start a thread" in done.text and "Course tools" in done.text  # staff links kept
    assert done.text.count('aria-label="Course tools"') == 1  # once, in the page body
    # the course tools the packages declare (plugin.widgets.add_course_tool), in their order
    tools = done.text.split('aria-label="Course tools"', 1)[1].split("</nav>", 1)[0]
    assert tools.index("Competency frameworks") < tools.index("Learning records (xAPI statements)")
    title = done.text.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title
    # every form carries the launch token, every control has a label
    assert done.text.count('name="lc"') == done.text.count("<form")
    for control in re.findall(
        r'<(?:textarea|select|input type="text")[^>]*id="([^"]+)"', done.text
    ):
        assert f'for="{control}"' in done.text

    lea = Person(lms, "u-lea", rl.resource_link_id)
    assert lea.board_id == board_id_of(done) and "No threads yet" in lea.page.text
    thread_id = lea.new_thread("How do you give feedback?", "I use **SBI**.", kind="question")
    page = lea.get(f"/threads/{thread_id}")
    assert page.status_code == 200
    assert "How do you give feedback?" in page.text and "<strong>SBI</strong>" in page.text
    assert "Lea Learner" in page.text and "Question" in page.text

    amara = Person(lms, "u-amara", rl.resource_link_id)
    assert "How do you give feedback?" in amara.page.text  # on the board list
    r = amara.post(f"/threads/{thread_id}/posts", body="Ask first, then *listen*.")
    assert r.status_code == 303 and f"/threads/{thread_id}" in r.headers["Location"]
    page = amara.get(f"/threads/{thread_id}")
    assert "<em>listen</em>" in page.text and "Replies (1)" in page.text
    with new_session(app) as s:
        reply_id = s.scalars(
            select(Post.id).where(Post.thread_id == thread_id, Post.is_opening.is_(False))
        ).one()
    # Lea comments on the reply and marks it helpful
    assert (
        lea.post(f"/threads/{thread_id}/posts", body="Thanks!", parent_id=reply_id).status_code
        == 303
    )
    assert lea.post(f"/posts/{reply_id}/reactions", kind="helpful").status_code == 303
    page = lea.get(f"/threads/{thread_id}")
    assert "Thanks!" in page.text and 'aria-pressed="true">Helpful (1)' in page.text

    # staff pin and lock with a reason
    staff = Person(lms, "u-ines", rl.resource_link_id)
    assert "Moderate" in staff.get(f"/threads/{thread_id}").text
    assert staff.post(f"/threads/{thread_id}/state", pinned="1").status_code == 303
    assert (
        staff.post(f"/threads/{thread_id}/state", locked="1", lock_reason="Week over").status_code
        == 303
    )
    page = lea.get(f"/threads/{thread_id}")
    assert (
        "Pinned" in page.text and "Locked: Week over" in page.text and "Moderate" not in page.text
    )
    assert "Pinned" in lea.get(f"/boards/{lea.board_id}").text
    refused = amara.post(f"/threads/{thread_id}/posts", body="One more thing")
    assert refused.status_code == 409 and "locked" in refused.text and "Week over" in refused.text
    assert lea.post(f"/threads/{thread_id}/state", pinned="0").status_code == 403
    with new_session(app) as s:
        thread = s.get(Thread, thread_id)
        assert (
            thread.pinned and thread.locked and (thread.reply_count, thread.comment_count) == (1, 1)
        )
        kinds = sorted(
            s.scalars(select(XapiOutbox.event_kind).where(XapiOutbox.event_kind.like("board.%")))
        )
    assert kinds == [
        "board.comment_posted",
        "board.reaction_added",
        "board.reply_posted",
        "board.thread_posted",
    ]


def test_own_post_edit_and_delete_leave_a_placeholder(app, lms) -> None:
    rlid = board_link(lms)
    lea = Person(lms, "u-lea", rlid)
    thread_id = lea.new_thread("Draft", "first words")
    page = lea.get(f"/threads/{thread_id}")
    assert "first words</textarea>" in page.text  # the edit form holds the Markdown
    with new_session(app) as s:
        opening = s.scalars(select(Post.id).where(Post.thread_id == thread_id)).one()
    r = lea.post(f"/posts/{opening}/edit", title="Final", body="better words")
    assert r.status_code == 303
    page = lea.get(f"/threads/{thread_id}")
    assert "Final" in page.text and "better words" in page.text and "edited" in page.text
    amara = Person(lms, "u-amara", rlid)
    assert "Edit</summary>" not in amara.get(f"/threads/{thread_id}").text
    assert amara.post(f"/posts/{opening}/edit", body="mine now").status_code == 403
    assert amara.post(f"/posts/{opening}/delete").status_code == 403
    assert lea.post(f"/posts/{opening}/delete").status_code == 303
    page = amara.get(f"/threads/{thread_id}")
    assert "This post was deleted." in page.text and "better words" not in page.text


def test_xss_payloads_are_never_rendered_unescaped(app, lms) -> None:
    rlid = board_link(lms)
    lea = Person(lms, "u-lea", rlid)
    baseline = lea.page.text.count("<script")  # the page's own commons.js
    payload = (
        '<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>'
    )
    thread_id = lea.new_thread(payload, payload + "\n\n[click](javascript:alert(4))")
    amara = Person(lms, "u-amara", rlid)
    amara.post(f"/threads/{thread_id}/posts", body=payload)
    for page in (amara.get(f"/boards/{amara.board_id}"), amara.get(f"/threads/{thread_id}")):
        assert page.status_code == 200
        assert page.text.count("<script") == baseline
        assert "<img" not in page.text and not re.search(r"<a [^>]*javascript:", page.text)
        assert not re.search(r"<[a-z]+ [^>]*onerror", page.text)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text  # the title, escaped


def test_other_courses_threads_are_not_found(app, lms) -> None:
    lms.platform.add_course("other-course", "OTH-1", "Other course")
    lms.platform.enroll(
        "u-lea", "other-course", ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
    )
    theirs = Person(lms, "u-lea", board_link(lms, "other-course"), context="other-course")
    foreign = theirs.new_thread("Elsewhere", "not for the other course")
    mine = Person(lms, "u-lea", board_link(lms))
    before = row_counts(app)
    for r in (
        mine.get(f"/threads/{foreign}"),
        mine.get(f"/boards/{theirs.board_id}"),
        mine.post(f"/threads/{foreign}/posts", body="sneaky"),
        mine.post(f"/boards/{theirs.board_id}/threads", title="x", body="y"),
    ):
        assert r.status_code == 404 and "not in this course" in r.text
    assert row_counts(app) == before


def test_bad_input_is_refused_and_nothing_is_stored(app, lms) -> None:
    rlid = board_link(lms)
    lea = Person(lms, "u-lea", rlid)
    before = row_counts(app)
    r = lea.post(f"/boards/{lea.board_id}/threads", title="Empty", body="   ")
    assert r.status_code == 400 and "Write something" in r.text and "<form" not in r.text
    r = lea.post(f"/boards/{lea.board_id}/threads", title="", body="text")
    assert r.status_code == 400 and "title" in r.text
    r = lea.post(f"/boards/{lea.board_id}/threads", title="Big", body="x" * 1_000_000)
    assert r.status_code == 413
    r = lea.post(f"/boards/{lea.board_id}/threads", title="Anon", body="hi", anonymous="1")
    assert r.status_code == 400 and "anonymous" in r.text
    assert lea.get("/threads/999999").status_code == 404
    assert lea.get(f"/boards/{lea.board_id}", cursor="not-a-cursor").status_code == 400
    assert row_counts(app) == before
    assert Browser().http.get(lea.tool + f"/boards/{lea.board_id}", timeout=10).status_code == 401


def test_older_threads_link_pages_the_board(app, lms) -> None:
    lea = Person(lms, "u-lea", board_link(lms))
    ids = [lea.new_thread(f"Thread {i}", "body") for i in range(22)]
    page = lea.get(f"/boards/{lea.board_id}")
    assert "Thread 21" in page.text and "Thread 1<" not in page.text
    older = re.search(r'href="([^"]*cursor=[^"]*)"', page.text)
    assert older and "More threads" in page.text
    rest = lea.browser.http.get(lea.tool + older.group(1).replace("&amp;", "&"), timeout=10)
    assert rest.status_code == 200 and "Thread 1<" in rest.text and "Thread 0<" in rest.text
    assert "Thread 21" not in rest.text and len(ids) == 22


def test_anonymous_author_is_hidden_from_classmates_only(app, lms) -> None:
    rlid = board_link(lms, anonymous_allowed="true")
    lea = Person(lms, "u-lea", rlid)
    thread_id = lea.new_thread("Honest question", "Who else is lost?", anonymous="1")
    assert (
        "Lea Learner"
        not in Person(lms, "u-amara", rlid).get(f"/threads/{thread_id}").text.split("</header>")[1]
    )
    staff_view = Person(lms, "u-ines", rlid).get(f"/threads/{thread_id}").text
    assert "Lea Learner" in staff_view.split("</header>")[1]


def test_pages_issue_a_bounded_number_of_queries(app, lms) -> None:
    from tests.social.social_world import count_queries

    rlid = board_link(lms)
    lea, amara = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)
    thread_id = lea.new_thread("First", "body")

    def add_replies(n: int) -> None:
        for i in range(n):
            lea.new_thread(f"More {i}", "body")
            assert amara.post(f"/threads/{thread_id}/posts", body=f"reply {i}").status_code == 303
        with new_session(app) as s:
            reply_id = s.scalars(
                select(Post.id)
                .where(Post.thread_id == thread_id, Post.parent_id.is_(None))
                .order_by(Post.id.desc())
            ).first()
        assert lea.post(f"/posts/{reply_id}/reactions", kind="like").status_code == 303
        assert (
            lea.post(f"/threads/{thread_id}/posts", body="c", parent_id=reply_id).status_code == 303
        )

    def counts() -> tuple[int, int]:
        with count_queries(app) as board_q:
            assert amara.get(f"/boards/{amara.board_id}").status_code == 200
        with count_queries(app) as thread_q:
            assert amara.get(f"/threads/{thread_id}").status_code == 200
        return len(board_q), len(thread_q)

    add_replies(1)
    small = counts()
    add_replies(8)
    assert counts() == small
