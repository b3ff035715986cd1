"""The boards JSON API through the real launch, with the launch token as a Bearer token."""

from __future__ import annotations

from sqlalchemy import select

from plugin.db import new_session
from plugin.social.models import Post
from plugin.xapi.models import XapiOutbox
from tests.conftest import row_counts
from tests.social.social_web import Api, Person, board_link


def test_api_round_trip(app, lms) -> None:
    rlid = board_link(lms)
    lea, amara = Api(Person(lms, "u-lea", rlid)), Api(Person(lms, "u-amara", rlid))
    board = lea.p.board_id
    assert lea("GET", f"/boards/{board}/threads").json() == {"threads": [], "next_cursor": None}

    r = lea("POST", f"/boards/{board}/threads", json={"title": "Q1", "body": "What is *SBI*?"})
    assert r.status_code == 201, r.text
    created = r.json()
    thread_id, opening_id = created["thread"]["id"], created["opening"]["id"]
    assert created["opening"]["body_html"].strip() == "<p>What is <em>SBI</em>?</p>"
    assert created["opening"]["author"]["name"] == "Lea Learner"

    r = amara("POST", f"/threads/{thread_id}/posts", json={"body": "Situation, behaviour, impact."})
    assert r.status_code == 201, r.text
    reply_id = r.json()["id"]
    r = lea("POST", f"/threads/{thread_id}/posts", json={"body": "Thanks", "parent_id": reply_id})
    assert r.status_code == 201 and r.json()["parent_id"] == reply_id
    comment_id = r.json()["id"]

    r = lea("POST", f"/posts/{reply_id}/reactions", json={"kind": "helpful"})
    assert r.status_code == 201 and r.json()["kind"] == "helpful"
    r = amara("PATCH", f"/posts/{reply_id}", json={"body": "Situation, *behaviour*, impact."})
    assert r.status_code == 200 and "<em>behaviour</em>" in r.json()["body_html"]
    assert r.json()["edited_at"] and r.json()["reactions"] == {"helpful": 1}
    assert lea("PATCH", f"/posts/{reply_id}", json={"body": "hijack"}).status_code == 403

    detail = amara("GET", f"/threads/{thread_id}").json()
    (reply,) = detail["replies"]
    assert reply["comments"][0]["id"] == comment_id and reply["my_reactions"] == []
    assert lea("GET", f"/threads/{thread_id}").json()["replies"][0]["my_reactions"] == ["helpful"]

    assert lea("DELETE", f"/posts/{comment_id}").status_code == 204
    comment = lea("GET", f"/threads/{thread_id}").json()["replies"][0]["comments"][0]
    assert comment["deleted"] and comment["body_html"] == "" and comment["author"] is None

    with new_session(app) as s:
        kinds = sorted(
            s.scalars(select(XapiOutbox.event_kind).where(XapiOutbox.event_kind.like("board.%")))
        )
    assert kinds == [
        "board.comment_posted",
        "board.post_edited",
        "board.reaction_added",
        "board.reply_posted",
        "board.thread_posted",
    ]
    assert opening_id < reply_id


def test_api_cursor_pagination(app, lms) -> None:
    lea = Api(Person(lms, "u-lea", board_link(lms)))
    board = lea.p.board_id
    for i in range(3):
        assert lea("POST", f"/boards/{board}/threads", json={"title": f"T{i}", "body": "b"}).ok
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = lea("GET", f"/boards/{board}/threads", params=params).json()
        seen += [t["title"] for t in page["threads"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["T2", "T1", "T0"]
    r = lea("GET", f"/boards/{board}/threads", params={"cursor": "garbage"})
    assert r.status_code == 400 and r.json()["message"]


def test_api_refuses_bad_input_with_a_message_and_stores_nothing(app, lms) -> None:
    rlid = board_link(lms)
    lea = Api(Person(lms, "u-lea", rlid))
    board = lea.p.board_id
    thread_id = lea("POST", f"/boards/{board}/threads", json={"title": "T", "body": "b"}).json()[
        "thread"
    ]["id"]
    before = row_counts(app)
    for method, path, body, status in (
        ("POST", f"/boards/{board}/threads", {"title": "T", "body": "  "}, 422),  # documented
        ("POST", f"/boards/{board}/threads", {"title": "T"}, 422),
        ("POST", f"/boards/{board}/threads", {"title": "T", "body": "b", "kind": "poll"}, 422),
        ("POST", f"/threads/{thread_id}/posts", {"body": ""}, 422),
        ("POST", f"/threads/{thread_id}/posts", {"body": "x" * 1_000_000}, 413),
        ("POST", "/threads/999999/posts", {"body": "hello"}, 404),
        ("POST", "/boards/999999/threads", {"title": "T", "body": "b"}, 404),
        ("GET", "/threads/999999", None, 404),
        ("PATCH", "/posts/999999", {"body": "x"}, 404),
        ("DELETE", "/posts/999999", None, 404),
        ("POST", "/posts/999999/reactions", {"kind": "like"}, 404),
    ):
        r = lea(method, path, json=body)
        assert r.status_code == status, (method, path, r.status_code, r.text[:300])
        assert r.headers["Content-Type"].startswith("application/json") and r.json()["message"]
    with new_session(app) as s:
        opening = s.scalars(select(Post.id).where(Post.thread_id == thread_id)).one()
    r = lea("POST", f"/posts/{opening}/reactions", json={"kind": "like"})
    assert r.status_code == 400 and "own post" in r.json()["message"]
    assert row_counts(app) == before
    r = lea.p.browser.http.get(lea.p.tool + f"/api/boards/{board}/threads", timeout=10)
    assert r.status_code == 401 and r.json()["message"]


def test_api_other_course_ids_are_not_found(app, lms) -> None:
    lms.platform.add_course("other-course", "OTH-1", "Other course")
    lms.platform.enroll(
        "u-lea", "other-course", ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
    )
    theirs = Api(Person(lms, "u-lea", board_link(lms, "other-course"), context="other-course"))
    created = theirs(
        "POST", f"/boards/{theirs.p.board_id}/threads", json={"title": "X", "body": "y"}
    ).json()
    mine = Api(Person(lms, "u-lea", board_link(lms)))
    assert mine("GET", f"/threads/{created['thread']['id']}").status_code == 404
    assert mine("GET", f"/boards/{theirs.p.board_id}/threads").status_code == 404
    assert (
        mine("PATCH", f"/posts/{created['opening']['id']}", json={"body": "z"}).status_code == 404
    )


def test_api_hides_anonymous_authors_from_classmates(app, lms) -> None:
    rlid = board_link(lms, anonymous_allowed="true")
    lea = Api(Person(lms, "u-lea", rlid))
    r = lea(
        "POST",
        f"/boards/{lea.p.board_id}/threads",
        json={"title": "Shy", "body": "b", "anonymous": True},
    )
    assert r.status_code == 201
    amara = Api(Person(lms, "u-amara", rlid))
    (summary,) = amara("GET", f"/boards/{lea.p.board_id}/threads").json()["threads"]
    assert summary["author"] == {"user_id": None, "name": "Anonymous", "anonymous": True}
    opening = amara("GET", f"/threads/{summary['id']}").json()["opening"]
    assert opening["author"]["user_id"] is None and "Lea" not in str(opening)


def test_openapi_lists_board_routes(app, tool_server) -> None:
    import requests

    spec = requests.get(tool_server.url + "/api/openapi.json", timeout=10).json()
    for path in (
        "/api/boards/{board_id}/threads",
        "/api/threads/{thread_id}",
        "/api/threads/{thread_id}/posts",
        "/api/posts/{post_id}",
        "/api/posts/{post_id}/reactions",
    ):
        assert path in spec["paths"], path
