"""Moderation through the real LTI launch: report, queue, hide/unhide, dismiss, mute, the audit
log, thread state over the API, and who may do what (learners, staff, LTI Mentors, other courses)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from plugin import events
from plugin.db import new_session
from plugin.lti.models import User
from plugin.social.models import Post, Report
from plugin.xapi.models import XapiOutbox
from tests.conftest import row_counts
from tests.social.social_web import Api, Person, board_link
from tests.social.social_world import count_queries
from tests.support.roster import refresh_class_list

INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def _user_id(app, sub: str) -> int:
    with new_session(app) as s:
        return s.scalars(select(User.id).where(User.sub == sub)).one()


def _posts(app, thread_id: int) -> list[int]:
    """The thread's post ids, opening first."""
    with new_session(app) as s:
        return list(s.scalars(select(Post.id).where(Post.thread_id == thread_id).order_by(Post.id)))


def _after_header(page) -> str:
    """The page's main content (no header, no styles)."""
    return page.text.split('<main id="content"', 1)[1]


def _location(response) -> str:
    assert response.status_code == 303, (response.status_code, response.text[:400])
    return response.headers["Location"]


def _labelled(html: str) -> None:
    """Every form carries the launch token, every text control has a label."""
    assert html.count('name="lc"') == html.count("<form")
    for control in re.findall(r'<(?:textarea|select|input type="text")[^>]*id="([^"]+)"', html):
        assert f'for="{control}"' in html, control


def test_report_queue_hide_and_unhide_on_the_pages(app, lms) -> None:
    rlid = board_link(lms)
    lea, amara, ines = (Person(lms, u, rlid) for u in ("u-lea", "u-amara", "u-ines"))
    thread_id = lea.new_thread("Feedback", "How do you give feedback?")
    assert _location(amara.post(f"/threads/{thread_id}/posts", body="You are all *clueless*."))
    opening, reply = _posts(app, thread_id)

    page = lea.get(f"/threads/{thread_id}").text
    assert page.count("<summary>Report</summary>") == 1  # on Amara's reply, not Lea's own post
    assert f'for="report-{reply}"' in page and "Hide" not in page and "Mute" not in page
    _labelled(page)

    before = row_counts(app)
    r = lea.post(f"/posts/{reply}/report", reason="   ")
    assert r.status_code == 400 and "why" in r.text.lower()
    r = lea.post(f"/posts/{reply}/report", reason="x" * 1001)
    assert r.status_code == 400 and "1,000" in r.text
    r = lea.post(f"/posts/{opening}/report", reason="my own")
    assert r.status_code == 400 and "own post" in r.text
    assert row_counts(app) == before

    where = _location(lea.post(f"/posts/{reply}/report", reason="Insulting the class"))
    assert f"/threads/{thread_id}" in where and f"#post-{reply}" in where and lea.token in where
    assert "You reported this" in lea.get(f"/threads/{thread_id}").text
    before = row_counts(app)
    again = lea.post(f"/posts/{reply}/report", reason="again")
    assert again.status_code == 409 and "already reported" in again.text
    assert row_counts(app) == before
    with new_session(app) as s:
        kinds = list(
            s.scalars(
                select(XapiOutbox.event_kind).where(XapiOutbox.event_kind == events.POST_REPORTED)
            )
        )
    assert kinds == [events.POST_REPORTED]  # the report and its statement, committed together

    board = ines.get(f"/boards/{ines.board_id}").text
    assert "Moderation queue" in board and "1 open" in board and "Moderation log" in board
    assert "Moderation queue" not in lea.get(f"/boards/{lea.board_id}").text
    queue = ines.get("/moderation")
    assert queue.status_code == 200
    text = _after_header(queue)
    assert "Insulting the class" in text and "Lea Learner" in text  # staff see who reported
    assert "You are all clueless." in text and "Amara Okafor" in text and "<em>" not in text
    assert 'aria-current="page">Open' in text
    _labelled(queue.text)

    staff_thread = ines.get(f"/threads/{thread_id}").text
    assert "This thread&#39;s moderation log" in staff_thread or "This thread's moderation log" in (
        staff_thread
    )
    assert "Mute author" in staff_thread and "Mute Amara Okafor in this course" in staff_thread
    _labelled(staff_thread)

    where = _location(ines.post(f"/posts/{reply}/hide", back="queue", reason="Insults"))
    assert urlsplit(where).path == "/moderation"
    assert "No open reports" in ines.get("/moderation").text
    resolved = ines.get("/moderation", status="resolved").text
    assert "Insulting the class" in resolved and "Hidden" in resolved
    with new_session(app) as s:
        report = s.scalars(select(Report)).one()
        assert report.status == "resolved" and report.resolved_by_id == _user_id(app, "u-ines")

    # learners: gone from the page and the JSON; staff: still there, marked
    assert "clueless" not in lea.get(f"/threads/{thread_id}").text
    detail = Api(lea)("GET", f"/threads/{thread_id}").json()
    assert detail["replies"] == [] and detail["thread"]["reply_count"] == 0
    staff_page = ines.get(f"/threads/{thread_id}").text
    assert "clueless" in staff_page and '<span class="tag">Hidden</span>' in staff_page
    assert "Unhide" in staff_page
    (hidden,) = Api(ines)("GET", f"/threads/{thread_id}").json()["replies"]
    assert hidden["hidden"] is True

    # hiding the opening post takes the thread off the learners' board list
    other_thread = amara.new_thread("Spam thread", "Buy now")
    (other_opening,) = _posts(app, other_thread)
    assert _location(ines.post(f"/posts/{other_opening}/hide"))
    assert "Spam thread" not in lea.get(f"/boards/{lea.board_id}").text
    assert "Spam thread" in ines.get(f"/boards/{ines.board_id}").text
    assert lea.get(f"/threads/{other_thread}").status_code == 404
    titles = [
        t["title"] for t in Api(lea)("GET", f"/boards/{lea.board_id}/threads").json()["threads"]
    ]
    assert titles == ["Feedback"]

    where = _location(ines.post(f"/posts/{reply}/unhide"))
    assert f"/threads/{thread_id}" in where
    assert "clueless" in lea.get(f"/threads/{thread_id}").text


def test_dismiss_from_the_queue(app, lms) -> None:
    rlid = board_link(lms)
    lea, amara, ines = (Person(lms, u, rlid) for u in ("u-lea", "u-amara", "u-ines"))
    thread_id = lea.new_thread("Opinions", "Share yours")
    _location(amara.post(f"/threads/{thread_id}/posts", body="A strong opinion"))
    _, reply = _posts(app, thread_id)
    _location(lea.post(f"/posts/{reply}/report", reason="I disagree"))
    queue = ines.get("/moderation").text
    match = re.search(r'formaction="/reports/(\d+)/dismiss"', queue)
    assert match and "Dismiss reports" in queue
    report_id = int(match.group(1))
    refused = lea.post(f"/reports/{report_id}/dismiss")
    assert refused.status_code == 403 and "moderators" in refused.text
    where = _location(ines.post(f"/reports/{report_id}/dismiss", back="queue", reason="Fine"))
    assert urlsplit(where).path == "/moderation"
    assert "I disagree" in ines.get("/moderation", status="dismissed").text
    again = ines.post(f"/reports/{report_id}/dismiss")
    assert again.status_code == 409 and "already been handled" in again.text
    assert "A strong opinion" in lea.get(f"/threads/{thread_id}").text


def test_learners_and_other_courses_cannot_moderate(app, lms) -> None:
    rlid = board_link(lms)
    lea, amara = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)
    thread_id = lea.new_thread("T", "Opening")
    _location(amara.post(f"/threads/{thread_id}/posts", body="reply"))
    _, reply = _posts(app, thread_id)
    _location(lea.post(f"/posts/{reply}/report", reason="rude"))
    with new_session(app) as s:
        report_id = s.scalars(select(Report.id)).one()
    amara_id = _user_id(app, "u-amara")
    # Ines is also staff of another course
    lms.platform.add_course("other-course", "OTH-1", "Other course")
    lms.platform.enroll("u-ines", "other-course", [INSTRUCTOR])
    outsider = Person(lms, "u-ines", board_link(lms, "other-course"), context="other-course")

    before = row_counts(app)
    for response in (
        lea.get("/moderation"),
        lea.get("/moderation/log"),
        lea.post(f"/posts/{reply}/hide"),
        lea.post(f"/reports/{report_id}/dismiss"),
        lea.post(f"/members/{amara_id}/mute"),
        lea.post(f"/members/{amara_id}/unmute"),
        lea.post(f"/threads/{thread_id}/state", pinned="1"),
    ):
        assert response.status_code == 403, response.url
        assert "moderators" in response.text and "<form" not in _after_header(response)
    api = Api(lea)
    for method, path, body in (
        ("GET", "/moderation/reports", None),
        ("GET", "/moderation/log", None),
        ("POST", f"/posts/{reply}/hide", {}),
        ("POST", f"/reports/{report_id}/dismiss", {}),
        ("PUT", f"/mutes/{amara_id}", {}),
        ("DELETE", f"/mutes/{amara_id}", None),
        ("PATCH", f"/threads/{thread_id}/state", {"pinned": True}),
    ):
        r = api(method, path, json=body)
        assert r.status_code == 403 and r.json()["message"], (method, path, r.status_code)
    for response in (
        outsider.post(f"/posts/{reply}/hide"),
        outsider.post(f"/posts/{reply}/report", reason="x"),
        outsider.post(f"/reports/{report_id}/dismiss"),
        outsider.post(f"/members/{amara_id}/mute"),
        outsider.get("/moderation/log", thread=str(thread_id)),
    ):
        assert response.status_code == 404, response.url
        assert "not in this course" in response.text
    other = Api(outsider)
    assert other("GET", "/moderation/reports").json()["items"] == []
    assert other("POST", f"/reports/{report_id}/dismiss", json={}).status_code == 404
    assert other("PATCH", f"/threads/{thread_id}/state", json={"pinned": True}).status_code == 404
    assert "Opening" not in outsider.get("/moderation").text
    assert row_counts(app) == before


def test_a_learner_cannot_report_a_post_of_another_cohort(app, lms) -> None:
    rlid = board_link(lms, cohort_mode="groups")
    ines = Person(lms, "u-ines", rlid)
    refresh_class_list(app, ines.browser.http, ines.tool, ines.token)
    chen, lea = Person(lms, "u-chen", rlid), Person(lms, "u-lea", rlid)  # cohorts B and A
    thread_id = chen.new_thread("Cohort B only", "Our corner")
    (opening,) = _posts(app, thread_id)
    before = row_counts(app)
    r = lea.post(f"/posts/{opening}/report", reason="I should not even see this")
    assert r.status_code == 404 and "not in this course" in r.text
    r = Api(lea)("POST", f"/posts/{opening}/reports", json={"reason": "nor here"})
    assert r.status_code == 404 and r.json()["message"]
    assert row_counts(app) == before
    amara = Person(lms, "u-amara", rlid)  # also cohort A: sees nothing to report either
    assert amara.get(f"/threads/{thread_id}").status_code == 404
    diego = Person(lms, "u-diego", rlid)  # cohort B may report
    _location(diego.post(f"/posts/{opening}/report", reason="off topic"))


def test_rate_limit_answers_429_and_stores_nothing(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour="2")
    lea = Person(lms, "u-lea", rlid)
    thread_id = lea.new_thread("One", "first")
    _location(lea.post(f"/threads/{thread_id}/posts", body="second"))
    before = row_counts(app)
    r = lea.post(f"/threads/{thread_id}/posts", body="third")
    assert r.status_code == 429 and "last hour" in r.text and "<form" not in _after_header(r)
    r = lea.post(f"/boards/{lea.board_id}/threads", title="Two", body="also too many")
    assert r.status_code == 429
    r = Api(lea)("POST", f"/threads/{thread_id}/posts", json={"body": "fourth"})
    assert r.status_code == 429 and "last hour" in r.json()["message"]
    assert row_counts(app) == before
    ines = Person(lms, "u-ines", rlid)
    _location(ines.post(f"/threads/{thread_id}/posts", body="staff are not limited"))


def test_mute_blocks_a_member_until_unmuted(app, lms) -> None:
    rlid = board_link(lms)
    lea, amara, ines = (Person(lms, u, rlid) for u in ("u-lea", "u-amara", "u-ines"))
    thread_id = lea.new_thread("Talk", "Opening")
    _location(amara.post(f"/threads/{thread_id}/posts", body="Amara's reply"))
    _location(ines.post(f"/threads/{thread_id}/posts", body="Staff reply"))
    opening, amaras, staff_reply = _posts(app, thread_id)
    amara_id, ines_id = _user_id(app, "u-amara"), _user_id(app, "u-ines")

    page = ines.get(f"/threads/{thread_id}").text
    assert "Mute Amara Okafor" in page and "Mute Lea Learner" in page
    assert "Mute Ines Instructor" not in page  # staff are never offered

    where = _location(
        ines.post(f"/members/{amara_id}/mute", thread_id=str(thread_id), reason="Cool down")
    )
    assert f"/threads/{thread_id}" in where
    assert "Unmute Amara Okafor" in ines.get(f"/threads/{thread_id}").text

    before = row_counts(app)
    for response in (
        amara.post(f"/threads/{thread_id}/posts", body="let me speak"),
        amara.post(f"/boards/{amara.board_id}/threads", title="New", body="thread"),
        amara.post(f"/posts/{amaras}/edit", body="edited"),
        amara.post(f"/posts/{opening}/reactions", kind="like"),
    ):
        assert response.status_code == 403 and "muted" in response.text
    r = Api(amara)("POST", f"/threads/{thread_id}/posts", json={"body": "api too"})
    assert r.status_code == 403 and "muted" in r.json()["message"]
    assert row_counts(app) == before

    r = ines.post(f"/members/{ines_id}/mute")
    assert r.status_code == 400 and "yourself" in r.text
    assert _location(ines.post(f"/members/{amara_id}/unmute", thread_id=str(thread_id)))
    _location(amara.post(f"/threads/{thread_id}/posts", body="back again"))
    _location(amara.post(f"/posts/{opening}/reactions", kind="like"))
    _location(amara.post(f"/posts/{amaras}/edit", body="edited after all"))
    assert staff_reply


def test_audit_log_page_shows_who_did_what(app, lms) -> None:
    rlid = board_link(lms)
    lea, amara, ines = (Person(lms, u, rlid) for u in ("u-lea", "u-amara", "u-ines"))
    thread_id = lea.new_thread("Heated", "Opening")
    _location(amara.post(f"/threads/{thread_id}/posts", body="hot take"))
    _, reply = _posts(app, thread_id)
    amara_id = _user_id(app, "u-amara")
    _location(ines.post(f"/threads/{thread_id}/state", pinned="1"))
    _location(ines.post(f"/threads/{thread_id}/state", locked="1", lock_reason="Cooling off"))
    _location(ines.post(f"/posts/{reply}/hide", reason="Too hot"))
    _location(ines.post(f"/posts/{reply}/unhide"))
    _location(ines.post(f"/members/{amara_id}/mute", reason="Pattern"))
    _location(lea.post(f"/posts/{reply}/report", reason="still rude"))
    with new_session(app) as s:
        report_id = s.scalars(select(Report.id)).one()
    _location(ines.post(f"/reports/{report_id}/dismiss", back="log"))

    page = ines.get("/moderation/log")
    assert page.status_code == 200
    text = _after_header(page)
    for line in (
        "Ines Instructor</strong> pinned a thread",
        "Ines Instructor</strong> locked a thread",
        "Ines Instructor</strong> hid a post (author: Amara Okafor)",
        "Ines Instructor</strong> unhid a post",
        "Ines Instructor</strong> muted <strong>Amara Okafor",
        "Ines Instructor</strong> dismissed the reports of a post",
        "Reason: Cooling off",
        "Reason: Too hot",
    ):
        assert line in text, line
    assert text.index("dismissed") < text.index("muted") < text.index("pinned")  # newest first
    one = _after_header(ines.get("/moderation/log", thread=str(thread_id)))
    assert "Heated" in one and "muted" not in one and "pinned a thread" in one
    assert ines.get("/moderation/log", thread="abc").status_code == 400
    assert ines.get("/moderation/log", cursor="garbage").status_code == 400

    log = Api(ines)("GET", "/moderation/log", params={"limit": 3}).json()
    assert [e["action"] for e in log["entries"]] == ["dismiss", "mute", "unhide"]
    assert log["entries"][1]["target"] == "Amara Okafor" and log["next_cursor"]
    rest = Api(ines)("GET", "/moderation/log", params={"cursor": log["next_cursor"]}).json()
    assert [e["action"] for e in rest["entries"]] == ["hide", "lock", "pin"]
    assert rest["entries"][0]["actor"] == "Ines Instructor"


def test_thread_state_over_the_api(app, lms) -> None:
    rlid = board_link(lms)
    lea, ines = Api(Person(lms, "u-lea", rlid)), Api(Person(lms, "u-ines", rlid))
    thread_id = lea.p.new_thread("State", "Opening")
    r = ines(
        "PATCH",
        f"/threads/{thread_id}/state",
        json={"pinned": True, "locked": True, "lock_reason": "Exam week"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["pinned"] and r.json()["locked"] and r.json()["lock_reason"] == "Exam week"
    r = lea("POST", f"/threads/{thread_id}/posts", json={"body": "hello"})
    assert r.status_code == 409 and "Exam week" in r.json()["message"]
    before = row_counts(app)
    assert (
        ines("PATCH", f"/threads/{thread_id}/state", json={"pinned": "sideways"}).status_code == 422
    )
    assert ines("PATCH", "/threads/999999/state", json={"closed": True}).status_code == 404
    assert lea("PATCH", f"/threads/{thread_id}/state", json={"closed": True}).status_code == 403
    assert row_counts(app) == before
    r = ines("PATCH", f"/threads/{thread_id}/state", json={"locked": False, "closed": True})
    assert r.json()["locked"] is False and r.json()["closed"] is True
    actions = [e["action"] for e in ines("GET", "/moderation/log").json()["entries"]]
    assert actions == ["close", "unlock", "lock", "pin"]


def test_api_reports_queue_hide_dismiss_and_mutes(app, lms) -> None:
    rlid = board_link(lms, anonymous_allowed="true")
    lea, amara, ines = (Api(Person(lms, u, rlid)) for u in ("u-lea", "u-amara", "u-ines"))
    thread_id = lea.p.new_thread("API", "Opening")
    r = amara("POST", f"/threads/{thread_id}/posts", json={"body": "rude", "anonymous": True})
    reply = r.json()["id"]
    before = row_counts(app)
    for body, status in (({}, 422), ({"reason": ""}, 422), ({"reason": "y" * 1001}, 400)):
        r = lea("POST", f"/posts/{reply}/reports", json=body)
        assert r.status_code == status and r.json()["message"], (body, r.status_code)
    assert lea("POST", "/posts/999999/reports", json={"reason": "x"}).status_code == 404
    assert row_counts(app) == before

    r = lea("POST", f"/posts/{reply}/reports", json={"reason": "Rude"})
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["status"] == "open" and report["post_id"] == reply and report["reason"] == "Rude"
    assert lea("POST", f"/posts/{reply}/reports", json={"reason": "Again"}).status_code == 409
    with new_session(app) as s:
        rows = list(
            s.scalars(select(XapiOutbox).where(XapiOutbox.event_kind == events.POST_REPORTED))
        )
    assert len(rows) == 1 and "Rude" not in str(rows[0].statement)

    queue = ines("GET", "/moderation/reports").json()
    (item,) = queue["items"]
    assert item["post_id"] == reply and item["author"]["name"] == "Amara Okafor"
    assert item["reports"][0]["reporter"] == "Lea Learner" and item["excerpt"] == "rude"
    assert ines("GET", "/moderation/reports", params={"status": "nope"}).status_code == 422

    r = ines("POST", f"/posts/{reply}/hide", json={"reason": "rude"})
    assert r.status_code == 200 and r.json() == {
        "id": reply,
        "thread_id": thread_id,
        "hidden": True,
        "deleted": False,
    }
    assert ines("GET", "/moderation/reports").json()["items"] == []
    assert ines("POST", f"/posts/{reply}/unhide").json()["hidden"] is False
    r = ines("POST", f"/reports/{report['id']}/dismiss", json={})
    assert r.status_code == 409  # resolved by the hide already

    r = lea("POST", f"/posts/{reply}/reports", json={"reason": "x"})
    assert r.status_code == 409  # one report per person and post
    r = ines("POST", f"/threads/{thread_id}/posts", json={"body": "staff post"})
    staff_post = r.json()["id"]
    r = lea("POST", f"/posts/{staff_post}/reports", json={"reason": "rude staff"})
    r = ines("POST", f"/reports/{r.json()['id']}/dismiss", json={"reason": "fine"})
    assert r.status_code == 200 and r.json()["status"] == "dismissed"

    amara_id = _user_id(app, "u-amara")
    r = ines("PUT", f"/mutes/{amara_id}", json={"reason": "cool down"})
    assert r.status_code == 200 and r.json()["muted"] is True and r.json()["user_id"] == amara_id
    assert ines("PUT", f"/mutes/{amara_id}", json={}).status_code == 200  # idempotent
    r = amara("POST", f"/threads/{thread_id}/posts", json={"body": "muted?"})
    assert r.status_code == 403
    assert ines("DELETE", f"/mutes/{amara_id}").status_code == 204
    assert ines("DELETE", f"/mutes/{amara_id}").status_code == 204
    assert amara("POST", f"/threads/{thread_id}/posts", json={"body": "free"}).status_code == 201
    Person(lms, "u-tomas", rlid)  # the teaching assistant launches once: a member now
    tomas = _user_id(app, "u-tomas")
    r = ines("PUT", f"/mutes/{tomas}", json={})
    assert r.status_code == 403 and "staff" in r.json()["message"]
    assert ines("PUT", f"/mutes/{_user_id(app, 'u-ines')}", json={}).status_code == 400
    assert ines("PUT", "/mutes/999999", json={}).status_code == 404


def test_mentors_moderate_only_where_the_board_allows(app, lms) -> None:
    plain = board_link(lms)
    grace = Person(lms, "u-grace", plain)
    lea = Person(lms, "u-lea", plain)
    thread_id = lea.new_thread("No mentors here", "Opening")
    assert grace.get("/moderation").status_code == 403
    page = grace.get(f"/threads/{thread_id}").text
    assert 'id="moderate-h"' not in page and "Mute" not in page
    (opening,) = _posts(app, thread_id)
    assert grace.post(f"/posts/{opening}/hide").status_code == 403

    allowed = board_link(lms, mentors_moderate="true", anonymous_allowed="true")
    grace, lea = Person(lms, "u-grace", allowed), Person(lms, "u-lea", allowed)
    amara = Person(lms, "u-amara", allowed)
    thread_id = lea.new_thread("Mentors welcome", "Opening")
    r = Api(amara)(
        "POST", f"/threads/{thread_id}/posts", json={"body": "a shy reply", "anonymous": True}
    )
    shy = r.json()["id"]
    _location(lea.post(f"/posts/{shy}/report", reason="odd"))
    board = grace.get(f"/boards/{grace.board_id}").text
    assert "Moderation queue" in board and "1 open" in board
    page = grace.get(f"/threads/{thread_id}").text
    assert 'id="moderate-h"' in page and "Mute Lea Learner in this course" in page
    assert "Mute Amara" not in page and page.count("Mute author") == 1  # anonymous to mentors
    queue = _after_header(grace.get("/moderation"))
    assert "Anonymous" in queue and "Amara" not in queue and "Lea Learner" not in queue
    assert "A member" in queue  # reporters are named to staff only
    _location(grace.post(f"/posts/{shy}/hide", back="queue"))
    # hidden: staff-only text (a phrase with spaces: a page's random tokens never hold one)
    assert "a shy reply" not in grace.get(f"/threads/{thread_id}").text
    assert (
        "Grace Whitfield</strong> hid a post (author: Anonymous)"
        in grace.get("/moderation/log").text
    )
    _location(grace.post(f"/posts/{shy}/unhide", back="queue"))
    assert "a shy reply" in lea.get(f"/threads/{thread_id}").text


def test_queue_page_issues_a_bounded_number_of_queries(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour="0")
    lea, amara, ines = (Person(lms, u, rlid) for u in ("u-lea", "u-amara", "u-ines"))
    thread_id = lea.new_thread("Many", "Opening")

    def reported_replies(n: int) -> None:
        for i in range(n):
            _location(amara.post(f"/threads/{thread_id}/posts", body=f"reply {i}"))
            _location(lea.post(f"/posts/{_posts(app, thread_id)[-1]}/report", reason=f"r{i}"))

    def counted() -> int:
        with count_queries(app) as queries:
            assert ines.get("/moderation").status_code == 200
        return len(queries)

    reported_replies(1)
    small = counted()
    reported_replies(6)
    assert counted() == small


def test_openapi_lists_moderation_routes(app, tool_server) -> None:
    import requests

    spec = requests.get(tool_server.url + "/api/openapi.json", timeout=10).json()
    for path, method in (
        ("/api/posts/{post_id}/reports", "post"),
        ("/api/moderation/reports", "get"),
        ("/api/posts/{post_id}/hide", "post"),
        ("/api/posts/{post_id}/unhide", "post"),
        ("/api/reports/{report_id}/dismiss", "post"),
        ("/api/mutes/{user_id}", "put"),
        ("/api/mutes/{user_id}", "delete"),
        ("/api/moderation/log", "get"),
        ("/api/threads/{thread_id}/state", "patch"),
    ):
        assert method in spec["paths"].get(path, {}), (path, method)
        assert spec["paths"][path][method]["security"] == [{"launchToken": []}]


@pytest.mark.browser
def test_moderation_pages_in_a_narrow_frame_by_keyboard(app, lms, chromium, artifacts) -> None:
    from tests.social.browser_boards_support import goto
    from tests.support.chromium import wait_for_axe

    rlid = board_link(lms, anonymous_allowed="true")
    lea, amara, ines = (Person(lms, u, rlid) for u in ("u-lea", "u-amara", "u-ines"))
    thread_id = lea.new_thread("A long thread title that has to wrap in a narrow frame", "Hi")
    r = Api(amara)("POST", f"/threads/{thread_id}/posts", json={"body": "word " * 80})
    reply = r.json()["id"]
    _location(ines.post(f"/threads/{thread_id}/state", pinned="1", lock_reason="x" * 40))

    def check(page, name: str) -> None:
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, name
        small = page.evaluate(
            """() => [...document.querySelectorAll(
                 'main button, main summary, main a.btn, main input, main textarea')]
               .filter(e => e.offsetParent !== null)
               .map(e => e.getBoundingClientRect())
               .filter(r => r.width < 24 || r.height < 24).length"""
        )
        assert small == 0, name
        page.screenshot(path=str(artifacts / f"moderation-{name}.png"), full_page=True)

    page = chromium.new_page(viewport={"width": 320, "height": 800})
    # Lea reports Amara's reply with the keyboard only
    goto(page, f"{lea.tool}/threads/{thread_id}?lc={lea.token}")
    summary = page.locator(f"#post-{reply} summary", has_text="Report")
    summary.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"report-{reply}"
    page.keyboard.type("Spam, over and over")
    check(page, "report-form")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=You reported this")
    wait_for_axe(page)
    assert f"/threads/{thread_id}" in page.url

    for name, path in (
        ("thread-staff", f"/threads/{thread_id}"),
        ("queue", "/moderation"),
    ):
        goto(page, f"{ines.tool}{path}?lc={ines.token}")
        for details in page.locator("main details").all():
            details.evaluate("d => d.open = true")
        check(page, name)
    page.locator("main button", has_text="Hide post").first.click()
    page.wait_for_selector("text=No open reports")
    wait_for_axe(page)
    goto(page, f"{ines.tool}/moderation/log?lc={ines.token}")
    assert "hid a post" in page.content()
    check(page, "log")
    with new_session(app) as s:
        assert s.scalars(select(Report.status)).one() == "resolved"
