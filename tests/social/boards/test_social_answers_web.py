"""Endorse, accept, sort, settings, tags and edit history through the real launch (pages + API)."""

from __future__ import annotations

import re

from sqlalchemy import select

from plugin import events
from plugin.db import new_session
from plugin.social.models import Board, Post
from plugin.xapi.models import XapiOutbox
from tests.conftest import row_counts
from tests.social.social_web import Api, Person, board_link

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def _reply_ids(app, thread_id: int) -> list[int]:
    with new_session(app) as s:
        return list(
            s.scalars(
                select(Post.id)
                .where(Post.thread_id == thread_id, Post.is_opening.is_(False))
                .order_by(Post.id)
            )
        )


def _kinds(app) -> list[str]:
    with new_session(app) as s:
        return list(s.scalars(select(XapiOutbox.event_kind).order_by(XapiOutbox.created_at)))


def test_staff_endorse_and_the_asker_accepts_on_the_pages(app, lms) -> None:
    rlid = board_link(lms)
    lea, amara = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)
    ines = Person(lms, "u-ines", rlid)
    thread_id = lea.new_thread("Which model?", "SBI or COIN?", kind="question")
    assert amara.post(f"/threads/{thread_id}/posts", body="SBI, for a start.").status_code == 303
    (answer,) = _reply_ids(app, thread_id)

    page = amara.get(f"/threads/{thread_id}").text
    assert "Endorse" not in page and "Accept as answer" not in page  # neither staff nor asker
    refused = amara.post(f"/posts/{answer}/endorse", endorsed="1")
    assert refused.status_code == 403 and "staff" in refused.text
    refused = amara.post(f"/threads/{thread_id}/accept", post_id=str(answer))
    assert refused.status_code == 403 and "asked" in refused.text

    assert "Endorse" in ines.get(f"/threads/{thread_id}").text
    assert ines.post(f"/posts/{answer}/endorse", endorsed="1").status_code == 303
    page = lea.get(f"/threads/{thread_id}").text
    assert "Endorsed by staff" in page and "Accept as answer" in page
    assert lea.post(f"/threads/{thread_id}/accept", post_id=str(answer)).status_code == 303
    page = amara.get(f"/threads/{thread_id}").text
    assert "Accepted answer" in page
    board = amara.get(f"/boards/{amara.board_id}").text
    assert "Answered" in board and "Endorsed answer" in board
    assert _kinds(app)[-2:] == [events.ANSWER_ENDORSED, events.ANSWER_ACCEPTED]

    before = row_counts(app)
    bad = lea.post(f"/threads/{thread_id}/accept", post_id="not-a-number")
    assert bad.status_code == 400 and "valid reply" in bad.text
    assert row_counts(app) == before


def test_sort_control_settings_page_and_edit_history(app, lms) -> None:
    rlid = board_link(lms)
    lea, ines = Person(lms, "u-lea", rlid), Person(lms, "u-ines", rlid)
    first = lea.new_thread("First", "one")
    lea.new_thread("Second", "two")
    assert ines.post(f"/threads/{first}/posts", body="bump").status_code == 303
    board = lea.get(f"/boards/{lea.board_id}").text
    assert board.index("First") < board.index("Second")  # latest activity first
    assert 'for="thread-sort"' in board and "Most helpful" in board
    newest = lea.get(f"/boards/{lea.board_id}", sort="newest").text
    assert newest.index("Second") < newest.index("First")
    assert lea.get(f"/boards/{lea.board_id}", sort="random").status_code == 400

    # the settings page is for staff
    assert "Board settings" not in board
    refused = lea.get(f"/boards/{lea.board_id}/settings")
    assert refused.status_code == 403 and "staff" in refused.text
    before = row_counts(app)
    assert lea.post(f"/boards/{lea.board_id}/settings", qa_mode="1").status_code == 403
    assert row_counts(app) == before
    page = ines.get(f"/boards/{ines.board_id}/settings")
    assert page.status_code == 200 and "Posts per person per hour" in page.text
    for control in re.findall(r'<(?:select|input)[^>]*id="([^"]+)"', page.text):
        assert f'for="{control}"' in page.text
    saved = ines.post(
        f"/boards/{ines.board_id}/settings",
        follow=True,
        cohort_mode="none",
        qa_mode="1",
        grade_threads="1",
        grade_replies="2",
        posts_per_hour="12",
    )
    assert saved.status_code == 200 and "Settings saved" in saved.text
    with new_session(app) as s:
        b = s.get(Board, ines.board_id)
        assert (b.qa_mode, b.anonymous_allowed, b.grade_threads, b.grade_replies) == (
            True,
            False,
            1,
            2,
        )
        assert b.posts_per_hour == 12
    before = row_counts(app)
    bad = ines.post(f"/boards/{ines.board_id}/settings", posts_per_hour="lots")
    assert bad.status_code == 400 and "whole number" in bad.text
    assert row_counts(app) == before

    # edit history: the earlier text is listed, escaped
    with new_session(app) as s:
        opening = s.scalars(select(Post.id).where(Post.thread_id == first, Post.is_opening)).one()
    assert lea.post(f"/posts/{opening}/edit", body="<b>new</b> text").status_code == 303
    page = lea.get(f"/threads/{first}").text
    assert "Edit history" in page
    history = ines.get(f"/posts/{opening}/history")
    assert history.status_code == 200 and "Earlier versions" in history.text
    assert "one" in history.text and "&lt;b&gt;new&lt;/b&gt;" in history.text
    lms.platform.add_course("other-course", "OTH-1", "Other course")
    lms.platform.enroll("u-lea", "other-course", [LEARNER])
    other = Person(lms, "u-lea", board_link(lms, "other-course"), context="other-course")
    assert other.get(f"/posts/{opening}/history").status_code == 404


def test_api_endorse_accept_settings_and_sort(app, lms) -> None:
    rlid = board_link(lms)
    lea, amara = Api(Person(lms, "u-lea", rlid)), Api(Person(lms, "u-amara", rlid))
    ines = Api(Person(lms, "u-ines", rlid))
    board = lea.p.board_id
    created = lea(
        "POST", f"/boards/{board}/threads", json={"title": "Q", "body": "?", "kind": "question"}
    )
    thread_id = created.json()["thread"]["id"]
    reply = amara("POST", f"/threads/{thread_id}/posts", json={"body": "An answer"}).json()

    assert amara("PUT", f"/posts/{reply['id']}/endorsement", json={}).status_code == 403
    r = ines("PUT", f"/posts/{reply['id']}/endorsement", json={"endorsed": True})
    assert r.status_code == 200 and r.json()["endorsed"] is True
    r = lea("PUT", f"/threads/{thread_id}/accepted", json={"post_id": reply["id"]})
    assert r.status_code == 200 and r.json()["thread"]["accepted_post_id"] == reply["id"]
    assert r.json()["thread"]["endorsed"] is True and r.json()["replies"][0]["endorsed"]
    listed = amara("GET", f"/boards/{board}/threads", params={"sort": "unanswered"}).json()
    assert listed["threads"] == []
    assert amara("GET", f"/boards/{board}/threads", params={"sort": "x"}).status_code == 422

    assert lea("GET", f"/boards/{board}").json()["posts_per_hour"] == 30
    before = row_counts(app)
    assert lea("PATCH", f"/boards/{board}", json={"qa_mode": True}).status_code == 403
    assert ines("PATCH", f"/boards/{board}", json={"posts_per_hour": -1}).status_code == 422
    assert row_counts(app) == before
    assert events.THREAD_VIEWED not in _kinds(app)
    assert amara.p.get(f"/threads/{thread_id}").status_code == 200  # views are off by default
    assert events.THREAD_VIEWED not in _kinds(app)
    r = ines("PATCH", f"/boards/{board}", json={"record_views": True, "grade_threads": 2})
    assert r.status_code == 200 and r.json()["record_views"] and r.json()["grade_threads"] == 2
    assert amara.p.get(f"/threads/{thread_id}").status_code == 200
    assert _kinds(app).count(events.THREAD_VIEWED) == 1
    spec = lea("GET", "/openapi.json").json()["paths"]
    assert "/api/posts/{post_id}/endorsement" in spec
    assert "/api/threads/{thread_id}/accepted" in spec
    assert "/api/boards/{board_id}/competencies" in spec
