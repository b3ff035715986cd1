"""Links to one post (search results, notifications, GET /posts/<id>, GET /api/posts/<id>/place):
the thread page that shows it, whatever its position in a long thread."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from plugin.access import Refusal
from plugin.social import boards, moderation
from tests.social.social_web import Person, board_link
from tests.social.social_world import count_queries, make_course


def _thread_with_replies(db, n: int):
    course = make_course(db, settings={"posts_per_hour": "0"})
    board = boards.board_for_placement(db, course.placement)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    thread = boards.create_thread(db, lea, board, "Long one", "Opening text")
    replies = [boards.reply(db, leo, thread, f"Reply {i + 1}") for i in range(n)]
    db.commit()
    return course, board, thread, replies


def _page_ids(db, who, thread_id: int, cursor: str | None, limit: int) -> list[int]:
    detail = boards.get_thread(db, who, thread_id, cursor=cursor, limit=limit)
    return [r.id for r in detail.replies] + [c.id for r in detail.replies for c in r.comments]


def test_a_post_is_located_on_the_page_that_shows_it(db) -> None:
    course, _board, thread, replies = _thread_with_replies(db, 7)
    lea, leo = course.viewer(db, "lea"), course.viewer(db, "leo")
    comment = boards.reply(db, lea, thread, "A comment", parent_post=replies[4])
    db.commit()
    opening = db.get(type(replies[0]), replies[0].id).thread_id  # the thread id, for clarity
    assert opening == thread.id

    for index, reply in enumerate(replies):
        place = boards.locate_post(db, leo, reply.id, limit=3)
        assert place.thread_id == thread.id
        assert (place.cursor is None) == (index < 3)
        page = _page_ids(db, leo, thread.id, place.cursor, 3)
        # pages are the same pages "Later replies" walks: 1-3, 4-6, 7
        assert page[: min(3, 7 - index // 3 * 3)] == [
            r.id for r in replies[index // 3 * 3 : index // 3 * 3 + 3]
        ]
        assert reply.id in page
    # a comment is on its reply's page; the opening post on the first
    place = boards.locate_post(db, leo, comment.id, limit=3)
    assert comment.id in _page_ids(db, leo, thread.id, place.cursor, 3)
    assert place.cursor == boards.locate_post(db, leo, replies[4].id, limit=3).cursor
    opening_post = boards.get_thread(db, leo, thread.id).opening
    assert boards.locate_post(db, leo, opening_post.id).cursor is None
    # the default page size is the thread page's: 7 replies fit on its first page
    assert boards.locate_post(db, leo, replies[6].id).cursor is None


def test_hidden_replies_count_only_for_staff_and_are_not_found_by_learners(db) -> None:
    course, _board, thread, replies = _thread_with_replies(db, 5)
    ines, leo, liv = (course.viewer(db, n) for n in ("ines", "leo", "liv"))
    comment = boards.reply(db, liv, thread, "Under reply 2", parent_post=replies[1])
    db.commit()
    moderation.hide_post(db, ines, replies[1], "off topic")
    db.commit()
    # learners do not see reply 2: reply 4 is third in their list, so on their first page of 3
    assert boards.locate_post(db, leo, replies[3].id, limit=3).cursor is None
    staff_place = boards.locate_post(db, ines, replies[3].id, limit=3)
    assert staff_place.cursor is not None
    assert replies[3].id in _page_ids(db, ines, thread.id, staff_place.cursor, 3)
    for hidden in (replies[1], comment):  # the hidden reply, and a comment under it
        with pytest.raises(Refusal) as refused:
            boards.locate_post(db, leo, hidden.id)
        assert refused.value.status == 404
    assert boards.locate_post(db, ines, comment.id).thread_id == thread.id


def test_posts_elsewhere_are_not_found(db) -> None:
    course, board, _thread, replies = _thread_with_replies(db, 2)
    other = make_course(db, platform=course.platform, context_key="c-elsewhere")
    db.commit()
    stranger = other.viewer(db, "lea")
    for post_id in (replies[0].id, 10**9):
        with pytest.raises(Refusal) as refused:
            boards.locate_post(db, stranger, post_id)
        assert refused.value.status == 404
    # another cohort's thread in cohort mode
    boards.update_settings(db, course.viewer(db, "ines"), board, cohort_mode="groups")
    red = next(g for g in course.groups.values() if g.name == "Red cohort")
    blue = next(g for g in course.groups.values() if g.name == "Blue cohort")
    ines = course.viewer(db, "ines")
    cohort_thread = boards.create_thread(
        db, ines, board, "Red only", "text", cohort_group_id=red.id
    )
    db.commit()
    outsiders = [
        name
        for name in ("lea", "leo", "liv")
        if red.id not in course.viewer(db, name).group_ids
        and blue.id in course.viewer(db, name).group_ids
    ]
    assert outsiders, "the test course has a learner in blue only"
    opening = boards.get_thread(db, ines, cohort_thread.id).opening
    with pytest.raises(Refusal) as refused:
        boards.locate_post(db, course.viewer(db, outsiders[0]), opening.id)
    assert refused.value.status == 404


def test_locating_costs_the_same_queries_early_and_late_in_a_long_thread(db, app) -> None:
    course, _board, thread, replies = _thread_with_replies(db, 120)
    leo = course.viewer(db, "leo")
    counts = []
    for reply in (replies[60], replies[119]):
        db.expunge_all()
        with count_queries(app) as seen:
            place = boards.locate_post(db, leo, reply.id)
        assert place.cursor is not None
        assert reply.id in _page_ids(db, leo, thread.id, place.cursor, 50)
        counts.append(len(seen))
    assert counts[0] == counts[1] <= 6


def test_search_results_and_the_api_lead_to_the_page_holding_a_late_reply(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour="0")
    lea, leo = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)
    thread_id = lea.new_thread("Long discussion", "Let us talk.")
    for i in range(55):
        body = "the narwhal arrives" if i == 53 else f"reply number {i}"
        r = leo.post(f"/threads/{thread_id}/posts", body=body)
        assert r.status_code == 303
    found = lea.get("/search", q="narwhal")
    link = re.search(r'href="([^"]*/posts/(\d+)\?[^"]*)"', found.text)
    assert link, found.text[:2000]
    post_id = int(link.group(2))
    r = lea.browser.http.get(
        lea.tool + link.group(1).replace("&amp;", "&"), allow_redirects=False, timeout=10
    )
    assert r.status_code in (302, 303)
    target = urlsplit(r.headers["Location"])
    assert target.path == f"/threads/{thread_id}" and target.fragment == f"post-{post_id}"
    query = parse_qs(target.query)
    assert query["lc"] == [lea.token] and query["cursor"]
    page = lea.get(target.path, cursor=query["cursor"][0])
    assert page.status_code == 200 and f'id="post-{post_id}"' in page.text
    # the API says the same
    api = lea.browser.http.get(
        lea.tool + f"/api/posts/{post_id}/place",
        headers={"Authorization": f"Bearer {lea.token}"},
        timeout=10,
    )
    assert api.status_code == 200
    assert api.json() == {"thread_id": thread_id, "cursor": query["cursor"][0]}
    # refusals: unknown post (404 page and JSON), bad page size (422 JSON)
    missing = lea.get("/posts/999999999")
    assert missing.status_code == 404 and "does not exist" in missing.text
    api_missing = lea.browser.http.get(
        lea.tool + "/api/posts/999999999/place",
        headers={"Authorization": f"Bearer {lea.token}"},
        timeout=10,
    )
    assert api_missing.status_code == 404 and api_missing.json()["message"]
    bad = lea.browser.http.get(
        lea.tool + f"/api/posts/{post_id}/place",
        params={"limit": "0"},
        headers={"Authorization": f"Bearer {lea.token}"},
        timeout=10,
    )
    assert bad.status_code == 422


def test_a_notification_about_a_late_reply_opens_the_page_that_holds_it(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour="0")
    lea, amara = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)
    thread_id = lea.new_thread("Popular", "Everyone answers.")
    for i in range(52):
        assert amara.post(f"/threads/{thread_id}/posts", body=f"answer {i}").status_code == 303
    listing = lea.browser.http.get(
        lea.tool + "/api/notifications",
        params={"limit": "1"},
        headers={"Authorization": f"Bearer {lea.token}"},
        timeout=10,
    ).json()
    newest = listing["notifications"][0]  # the 52nd reply: on the thread's second page
    opened = lea.post(f"/notifications/{newest['id']}/open")
    assert opened.status_code == 303
    target = urlsplit(opened.headers["Location"])
    assert target.path == f"/threads/{thread_id}"
    assert target.fragment == f"post-{newest['post_id']}"
    cursor = parse_qs(target.query)["cursor"][0]
    page = lea.get(target.path, cursor=cursor)
    assert f'id="post-{newest["post_id"]}"' in page.text
