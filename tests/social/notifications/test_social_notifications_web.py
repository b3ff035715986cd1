"""Mentions, notifications, follows and unread markers through the real LTI launch: pages, the
member list for the autocomplete, the JSON API and (marked ``browser``) the autocomplete itself."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from plugin.db import new_session
from plugin.social.models import Notification, Post
from sandbox.platform.vocabulary import ROLE_LEARNER
from tests.conftest import row_counts
from tests.social.social_web import COURSE, Api, Person, board_link
from tests.social.social_world import count_queries
from tests.support.roster import refresh_class_list

NEW_TAG = '<span class="tag new">New</span>'


def _thread_item(page_html: str, title: str) -> str:
    """The board list item of one thread."""
    for item in page_html.split("<li>")[1:]:
        if f">{title}</a>" in item:
            return item.split("</li>", 1)[0]
    raise AssertionError(f"{title} not on the board")


def _notification_ids(app, user_sub: str) -> list[int]:
    with new_session(app) as s:
        from plugin.lti.models import User

        user_id = s.scalars(select(User.id).where(User.sub == user_sub)).one()
        return list(
            s.scalars(
                select(Notification.id)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id)
            )
        )


def test_a_mention_notifies_the_classmate_who_opens_it(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour="0")
    lea, amara = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)
    assert "Notifications (0 unread)" in lea.page.text
    thread_id = lea.new_thread("Giving feedback", "How do you start?")
    r = amara.post(
        f"/threads/{thread_id}/posts", body="Ask first, @lea.learner. And `@lea.learner`"
    )
    assert r.status_code == 303
    page = lea.get(f"/threads/{thread_id}")
    assert '<span class="mention">@Lea Learner</span>' in page.text
    assert "<code>@lea.learner</code>" in page.text  # code stays code
    board = lea.get(f"/boards/{lea.board_id}")
    assert "Notifications (1 unread)" in board.text
    listing = lea.get("/notifications", board=str(lea.board_id))
    assert listing.status_code == 200
    assert "Amara Okafor mentioned you in “Giving feedback”" in listing.text
    assert "Ask first, @Lea Learner." in listing.text and "1 unread" in listing.text
    assert f'href="/boards/{lea.board_id}?lc=' in listing.text  # back to the board
    assert listing.text.count('name="lc"') == listing.text.count("<form")
    (note_id,) = _notification_ids(app, "u-lea")  # the mention only, not also a "reply"
    opened = lea.post(f"/notifications/{note_id}/open")
    assert opened.status_code == 303
    location = urlsplit(opened.headers["Location"])
    assert location.path == f"/threads/{thread_id}" and location.fragment.startswith("post-")
    assert parse_qs(location.query)["lc"] == [lea.token]
    assert "Notifications (0 unread)" in lea.get(f"/boards/{lea.board_id}").text
    # the thread's author follows it: a plain reply notifies her, "Mark all read" clears it
    amara.post(f"/threads/{thread_id}/posts", body="One more idea")
    listing = lea.get("/notifications")
    assert "Amara Okafor replied in “Giving feedback”" in listing.text
    r = lea.post("/notifications/read")
    assert r.status_code == 303 and "/notifications" in r.headers["Location"]
    assert "0 unread" in lea.get("/notifications").text
    assert "No unread notifications." in lea.get("/notifications", unread="1").text


def test_threads_are_new_on_the_board_until_opened(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour="0")
    lea, amara = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)
    thread_id = lea.new_thread("Fresh topic", "Hello")
    assert NEW_TAG not in _thread_item(lea.get(f"/boards/{lea.board_id}").text, "Fresh topic")
    assert NEW_TAG in _thread_item(amara.get(f"/boards/{amara.board_id}").text, "Fresh topic")
    first_visit = amara.get(f"/threads/{thread_id}")
    assert NEW_TAG not in first_visit.text  # never read before: nothing singled out
    assert NEW_TAG not in _thread_item(amara.get(f"/boards/{amara.board_id}").text, "Fresh topic")
    lea.post(f"/threads/{thread_id}/posts", body="An update from Lea")
    assert NEW_TAG in _thread_item(amara.get(f"/boards/{amara.board_id}").text, "Fresh topic")
    page = amara.get(f"/threads/{thread_id}")
    update = page.text.split("An update from Lea")[0].rsplit("<article", 1)[1]
    assert NEW_TAG in update  # the post written since her last visit
    assert NEW_TAG not in amara.get(f"/threads/{thread_id}").text  # read now


def test_follow_and_unfollow_from_the_thread_page(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour="0")
    lea, amara = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)
    thread_id = lea.new_thread("Follow me", "Hello")
    page = amara.get(f"/threads/{thread_id}")
    assert 'aria-pressed="false" aria-describedby="follow-hint">Follow thread' in page.text
    r = amara.post(f"/threads/{thread_id}/follow")
    assert r.status_code == 303 and f"/threads/{thread_id}" in r.headers["Location"]
    assert (
        'aria-pressed="true"' in amara.get(f"/threads/{thread_id}").text.split("Follow thread")[0]
    )
    lea.post(f"/threads/{thread_id}/posts", body="News")
    assert "Lea Learner replied in “Follow me”" in amara.get("/notifications").text
    assert amara.post(f"/threads/{thread_id}/unfollow").status_code == 303
    lea.post(f"/threads/{thread_id}/posts", body="More news")
    assert len(_notification_ids(app, "u-amara")) == 1


def test_bad_requests_change_nothing(app, lms) -> None:
    lms.platform.add_course("other-course", "OTH-1", "Other course")
    lms.platform.enroll("u-lea", "other-course", [ROLE_LEARNER])
    theirs = Person(lms, "u-lea", board_link(lms, "other-course"), context="other-course")
    foreign = theirs.new_thread("Elsewhere", "@lea.learner hi")
    rlid = board_link(lms)
    lea = Person(lms, "u-lea", rlid)
    Person(lms, "u-amara", rlid)  # a member, so she can be mentioned
    thread_id = lea.new_thread("Mine", "@amara.okafor look")
    (amaras,) = _notification_ids(app, "u-amara")
    before = row_counts(app)
    for r in (
        lea.post(f"/notifications/{amaras}/open"),
        lea.post("/notifications/read", id=str(amaras)),
        lea.post("/notifications/999999/open"),
        lea.post(f"/threads/{foreign}/follow"),
        lea.post("/threads/999999/follow"),
        lea.get(f"/boards/{theirs.board_id}/members", q="a"),
    ):
        assert r.status_code == 404 and "not" in r.text, (r.request.url, r.status_code)
    for r in (
        lea.post("/notifications/read", id="abc"),
        lea.get("/notifications", cursor="not-a-cursor"),
        lea.get(f"/boards/{lea.board_id}/members", q=""),
        lea.get(f"/boards/{lea.board_id}/members", q="x" * 51),
        lea.get(f"/boards/{lea.board_id}/members", q="a", thread="abc"),
    ):
        assert r.status_code == 400 and "<form" not in r.text, (r.request.url, r.text[:300])
    assert row_counts(app) == before
    assert (
        lea.browser.http.get(lea.tool + "/notifications", timeout=10).status_code == 401
    )  # no token
    assert thread_id


def test_member_list_for_the_autocomplete_respects_cohorts_and_courses(app, lms) -> None:
    rlid = board_link(lms, cohort_mode="groups")
    ines = Person(lms, "u-ines", rlid)
    refresh_class_list(app, ines.browser.http, ines.tool, ines.token)
    lea = Person(lms, "u-lea", rlid)  # Cohort A with Amara and Benjamin; Chen is in B

    def members(person, **params):
        r = person.browser.http.get(
            person.tool + f"/boards/{person.board_id}/members",
            params={"lc": person.token, **params},
            headers={"Accept": "application/json"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return [(m["name"], m["handle"]) for m in r.json()["members"]]

    assert members(lea, q="a") == [
        ("Amara Okafor", "amara.okafor"),
        ("Tomás Alvarez", "tomas.alvarez"),
    ]
    assert members(lea, q="chen") == []  # another cohort
    assert members(lea, q="lea") == []  # not herself
    assert ("Chen Wei", "chen.wei") in members(ines, q="c")
    assert members(ines, q="TOMAS") == [("Tomás Alvarez", "tomas.alvarez")]
    # with the token as a Bearer header, as the script sends it
    r = lea.browser.http.get(
        lea.tool + f"/boards/{lea.board_id}/members",
        params={"q": "ben"},
        headers={"Authorization": f"Bearer {lea.token}", "Accept": "application/json"},
        timeout=10,
    )
    assert r.json() == {"members": [{"name": "Benjamin Hartley", "handle": "benjamin.hartley"}]}
    bad = lea.browser.http.get(
        lea.tool + f"/boards/{lea.board_id}/members",
        params={"q": ""},
        headers={"Authorization": f"Bearer {lea.token}", "Accept": "application/json"},
        timeout=10,
    )
    assert bad.status_code == 400 and "name" in bad.json()["message"]
    # a mention of Chen (Cohort B) in Lea's cohort thread does nothing; Amara's does
    thread_id = lea.new_thread("Cohort A talk", "@chen.wei and @amara.okafor")
    page = lea.get(f"/threads/{thread_id}")
    assert '<span class="mention">@Amara Okafor</span>' in page.text and "@chen.wei" in page.text
    assert _notification_ids(app, "u-chen") == [] and len(_notification_ids(app, "u-amara")) == 1


def test_names_with_markup_never_render_as_html(app, lms) -> None:
    lms.platform.add_person(
        "u-evil", '<img src=x onerror="alert(1)">', "<b>Bold</b>", "e@x.example"
    )
    lms.platform.enroll("u-evil", COURSE, [ROLE_LEARNER])
    rlid = board_link(lms, posts_per_hour="0")
    lea, evil = Person(lms, "u-lea", rlid), Person(lms, "u-evil", rlid)
    baseline = lea.page.text.count("<script")
    handle = "img.src.x.onerror.alert.1.b.bold.b"
    thread_id = lea.new_thread("Hi", f"Welcome @{handle}")
    evil.post(f"/threads/{thread_id}/posts", body="@lea.learner <script>alert(2)</script>")
    for page in (
        lea.get(f"/threads/{thread_id}"),
        lea.get("/notifications"),
        evil.get("/notifications"),
        lea.get(f"/boards/{lea.board_id}"),
    ):
        assert page.status_code == 200
        assert "<img" not in page.text and "<b>Bold" not in page.text
        scripts = re.findall(r"<script[^>]*>", page.text)
        assert len(scripts) <= baseline and all('src="/static/' in tag for tag in scripts)
    assert (
        '<span class="mention">@&lt;img src=x onerror="alert(1)"&gt; &lt;b&gt;Bold&lt;/b&gt;</span>'
        in lea.get(f"/threads/{thread_id}").text
    )
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in lea.get("/notifications").text
    members = evil.browser.http.get(
        evil.tool + f"/boards/{evil.board_id}/members",
        params={"lc": evil.token, "q": "lea"},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert members.headers["Content-Type"].startswith("application/json")


def test_notifications_page_issues_a_bounded_number_of_queries(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour="0")
    lea, amara = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)
    thread_id = lea.new_thread("Busy", "opening")

    def count() -> int:
        with count_queries(app) as seen:
            assert lea.get("/notifications").status_code == 200
        return len(seen)

    amara.post(f"/threads/{thread_id}/posts", body="reply 0 @lea.learner")
    small = count()
    for i in range(1, 8):
        amara.post(f"/threads/{thread_id}/posts", body=f"reply {i}")
    assert count() == small


def test_notifications_api(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour="0", anonymous_allowed="true")
    lea, amara = Api(Person(lms, "u-lea", rlid)), Api(Person(lms, "u-amara", rlid))
    board = lea.p.board_id
    r = lea("POST", f"/boards/{board}/threads", json={"title": "API", "body": "hello"})
    thread_id = r.json()["thread"]["id"]
    assert amara("PUT", f"/threads/{thread_id}/follow").json() == {
        "thread_id": thread_id,
        "following": True,
    }
    r = amara(
        "POST",
        f"/threads/{thread_id}/posts",
        json={"body": "psst @lea.learner", "anonymous": True},
    )
    assert r.status_code == 201 and 'class="mention"' in r.json()["body_html"]
    lea("POST", f"/threads/{thread_id}/posts", json={"body": "thanks"})
    data = lea("GET", "/notifications").json()
    assert data["unread_count"] == 1 and data["next_cursor"] is None
    (item,) = data["notifications"]
    assert item["kind"] == "mention" and item["actor"] == {"user_id": None, "name": "Anonymous"}
    assert (
        item["text"] == "Anonymous mentioned you in “API”"
        and item["excerpt"] == "psst @Lea Learner"
    )
    assert item["read"] is False and item["thread_title"] == "API"
    (theirs,) = amara("GET", "/notifications", params={"unread_only": "true"}).json()[
        "notifications"
    ]
    assert theirs["kind"] == "reply" and theirs["actor"]["name"] == "Lea Learner"
    before = row_counts(app)
    assert lea("POST", "/notifications/read", json={"ids": [theirs["id"]]}).status_code == 404
    assert lea("POST", "/notifications/read", json={"ids": ["x"]}).status_code == 422
    assert lea("GET", "/notifications", params={"limit": 0}).status_code == 422
    assert lea("PUT", "/threads/999999/follow").status_code == 404
    assert lea("GET", f"/boards/{board}/members").status_code == 422  # q is required
    assert row_counts(app) == before
    r = lea("POST", "/notifications/read", json={"ids": [item["id"]]})
    assert r.json() == {"marked": 1, "unread_count": 0}
    assert lea("POST", "/notifications/read", json={}).json() == {"marked": 0, "unread_count": 0}
    assert amara("DELETE", f"/threads/{thread_id}/follow").json()["following"] is False
    members = lea("GET", f"/boards/{board}/members", params={"q": "ama"}).json()
    assert members == {"members": [{"handle": "amara.okafor", "name": "Amara Okafor"}]}
    spec = lea.p.browser.http.get(lea.p.tool + "/api/openapi.json", timeout=10).json()
    for path in (
        "/api/notifications",
        "/api/notifications/read",
        "/api/threads/{thread_id}/follow",
        "/api/boards/{board_id}/members",
    ):
        assert path in spec["paths"], path
    assert {"put", "delete"} <= set(spec["paths"]["/api/threads/{thread_id}/follow"])


# --- the autocomplete in headless Chromium -------------------------------------------------------
@pytest.mark.browser
def test_mention_autocomplete_by_keyboard(app, lms, chromium, artifacts: Path) -> None:
    from tests.social.browser_boards_support import goto
    from tests.support.chromium import check_now, wait_for_axe

    rlid = board_link(lms, posts_per_hour="0")
    lea, amara = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)
    thread_id = lea.new_thread("Autocomplete", "Who knows?")
    page = chromium.new_page(viewport={"width": 320, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    goto(page, f"{amara.tool}/threads/{thread_id}?lc={amara.token}")
    box = page.locator("#reply-body")
    box.click()
    box.press_sequentially("Thanks @le", delay=30)
    listbox = page.get_by_role("listbox", name="People to mention")
    listbox.wait_for(timeout=5000)
    assert box.get_attribute("role") == "combobox"  # WAI-ARIA 1.2: the text area is the combobox
    assert box.get_attribute("aria-expanded") == "true"
    assert box.get_attribute("aria-controls") == listbox.get_attribute("id")
    option = page.get_by_role("option", name=re.compile("Lea Learner"))
    assert option.get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-activedescendant") == option.get_attribute("id")
    page.wait_for_function("document.querySelector('[role=status]').textContent.includes('found')")
    check_now(page)  # axe, with the list open
    page.screenshot(path=str(artifacts / "board-mention-autocomplete.png"), full_page=True)
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("a", delay=30)  # closed for this @ until a new one is typed
    page.wait_for_timeout(400)
    assert box.get_attribute("aria-expanded") == "false"
    box.fill("")
    box.press_sequentially("Thanks @le", delay=30)
    listbox.wait_for(timeout=5000)
    box.press("Enter")
    assert box.input_value() == "Thanks @lea.learner "
    assert box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("for this", delay=10)
    page.get_by_role("button", name="Post reply").click()
    page.wait_for_load_state()
    wait_for_axe(page)
    mention = page.locator("span.mention", has_text="@Lea Learner")
    mention.wait_for(timeout=5000)
    page.screenshot(path=str(artifacts / "board-mention-posted.png"), full_page=True)
    goto(page, f"{lea.tool}/notifications?lc={lea.token}&board={lea.board_id}")
    page.get_by_text("Amara Okafor replied in").or_(
        page.get_by_text("Amara Okafor mentioned you in")
    ).first.wait_for(timeout=5000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320  # no sideways scroll
    page.keyboard.press("Tab")
    page.screenshot(path=str(artifacts / "board-notifications.png"), full_page=True)
    assert errors == []
    with new_session(app) as s:
        assert s.scalars(select(Post.body_markdown).where(Post.body_markdown.like("Thanks%"))).one()
    assert len(_notification_ids(app, "u-lea")) == 1
