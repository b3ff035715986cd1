"""Board reports through the real LTI launch: participation page, exports, grades that arrive at
the sandbox LMS through AGS, the JSON API and the ``commons boards grades`` command."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from types import SimpleNamespace

from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select

from plugin.db import new_session
from plugin.lti import roles
from plugin.lti.models import Context, Membership, Placement, User
from plugin.social.models import Board, ModerationAction, Post
from tests.conftest import CLIENT_ID, row_counts
from tests.social.social_web import COURSE, Api, Person, board_link

GRADED = {"grade_threads": "1", "grade_replies": "2", "anonymous_allowed": "true"}
EXPECTED = {"u-lea": 75.0, "u-amara": 50.0, "u-chen": 50.0, "u-benjamin": 0.0}


def _scores(lms) -> dict[str, tuple[float, float]]:
    """The latest score the LMS received per learner: (given, maximum)."""
    latest = {}
    for score in lms.platform.received_scores(COURSE):
        latest[score.user_id] = (score.score_given, score.score_maximum)
    return latest


def _world(app, lms, **settings: str):
    """Lea: a thread and a reply (75); Amara: two replies (50); Chen: one anonymous thread (50);
    Benjamin: nothing (0). Lea also has a deleted reply and a hidden one (neither counts)."""
    rlid = board_link(lms, **(settings or GRADED))
    ines = Person(lms, "u-ines", rlid)
    lea, amara = Person(lms, "u-lea", rlid), Person(lms, "u-amara", rlid)
    chen = Person(lms, "u-chen", rlid)
    Person(lms, "u-benjamin", rlid)  # a learner with no activity
    thread = lea.new_thread("How do you give feedback?", "I use SBI.")
    for body in ("Ask first.", "Then listen."):
        assert amara.post(f"/threads/{thread}/posts", body=body).status_code == 303
    assert lea.post(f"/threads/{thread}/posts", body="Thanks both").status_code == 303
    for body in ("LEA-DELETED-TEXT", "LEA-HIDDEN-TEXT"):
        assert lea.post(f"/threads/{thread}/posts", body=body).status_code == 303
    if (settings or GRADED).get("anonymous_allowed"):
        chen.new_thread("A worry", "CHEN-ANON-TEXT", anonymous="1")
    _delete_and_hide(app, lea)
    return SimpleNamespace(rlid=rlid, ines=ines, lea=lea, amara=amara, thread=thread)


def _delete_and_hide(app, lea: Person) -> None:
    with new_session(app) as s:
        deleted = s.scalars(select(Post).where(Post.body_markdown == "LEA-DELETED-TEXT")).one()
        s.scalars(select(Post).where(Post.body_markdown == "LEA-HIDDEN-TEXT")).one().hidden = True
        s.commit()
    assert lea.post(f"/posts/{deleted.id}/delete").status_code == 303


def _table_names(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>\s*<td>([^<]+)</td>", body)


def test_staff_see_participation_export_and_send_grades(app, lms) -> None:
    w = _world(app, lms)
    ines, lea, amara = w.ines, w.lea, w.amara
    board = ines.board_id
    page = ines.get(f"/boards/{board}")
    for link in ("Participation", "Export CSV", "Export JSON", "Send participation grades"):
        assert link in page.text
    assert "Export CSV" not in lea.get(f"/boards/{board}").text

    page = ines.get(f"/boards/{board}/participation")
    assert page.status_code == 200
    html = page.text
    assert "<caption" in html and html.count('scope="col"') == 11  # ten counts + score
    assert re.search(r'role="region" aria-labelledby="p-caption" tabindex="0"', html)
    assert html.count('name="lc"') == html.count("<form")
    for control in re.findall(r'<select[^>]*id="([^"]+)"', html):
        assert f'for="{control}"' in html
    assert _table_names(html) == ["Amara Okafor", "Benjamin Hartley", "Chen Wei", "Lea Learner"]
    assert "Ines" not in html.split("<tbody>", 1)[1]  # staff are not rows
    assert "75.00" in html and "50.00" in html and 'aria-sort="ascending"' in html
    # sort by replies (most first), then flip it
    page = ines.get(f"/boards/{board}/participation", sort="replies", order="desc")
    assert _table_names(page.text)[:2] == ["Amara Okafor", "Lea Learner"]
    assert 'aria-sort="descending"' in page.text and "order=asc" in page.text
    page = ines.get(f"/boards/{board}/participation", sort="score", order="asc")
    assert _table_names(page.text)[0] == "Benjamin Hartley"
    assert _table_names(page.text)[-1] == "Lea Learner"

    summary = ines.get(f"/boards/{board}/participation.csv", sort="name")
    assert summary.status_code == 200 and summary.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in summary.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(summary.content.decode("utf-8-sig"))))
    assert [(r["learner"], r["threads"], r["replies"], r["score"]) for r in rows] == [
        ("Amara Okafor", "0", "2", "50.0"),
        ("Benjamin Hartley", "0", "0", "0.0"),
        ("Chen Wei", "1", "0", "50.0"),
        ("Lea Learner", "1", "1", "75.0"),
    ]

    # grades arrive at the LMS, exactly
    before = len(lms.platform.received_scores(COURSE))
    r = ines.post(f"/boards/{board}/grades")
    assert r.status_code == 303 and f"/boards/{board}/participation" in r.headers["Location"]
    assert "sent=1" in r.headers["Location"] and f"lc={ines.token}" in r.headers["Location"]
    assert len(lms.platform.received_scores(COURSE)) == before + 4
    assert _scores(lms) == {u: (v, 100) for u, v in EXPECTED.items()}
    (item,) = lms.platform.line_items(COURSE, CLIENT_ID)
    assert item.tag == f"board-{board}-participation" and item.score_maximum == 100
    assert item.label == "Team talk: participation"
    page = ines.get(f"/boards/{board}/participation", sent="1")
    assert 'class="notice" role="status">4 of 4 grades sent (out of 100).' in page.text
    assert "by Ines Instructor" in page.text

    # more activity, sent again: the same line item, the new score
    assert amara.new_thread("My own", "thread")
    assert ines.post(f"/boards/{board}/grades").status_code == 303
    assert _scores(lms)["u-amara"] == (100.0, 100)
    assert len(lms.platform.line_items(COURSE, CLIENT_ID)) == 1
    with new_session(app) as s:
        assert s.query(ModerationAction).filter_by(action="grades").count() == 2


def test_exports_stream_attachments_without_anonymous_names_or_deleted_text(app, lms) -> None:
    w = _world(app, lms)
    ines, thread = w.ines, w.thread
    today = date.today().isoformat()
    for fmt in ("csv", "json"):
        r = ines.get(f"/boards/{ines.board_id}/export.{fmt}")
        assert r.status_code == 200
        assert r.headers["Content-Disposition"] == f'attachment; filename="team-talk-{today}.{fmt}"'
        assert r.headers["Cache-Control"] == "no-store"
        data = r.content
        assert b"Chen" not in data and b"Anonymous" in data and b"CHEN-ANON-TEXT" in data
        assert b"LEA-DELETED-TEXT" not in data
        assert b"LEA-HIDDEN-TEXT" in data  # staff export: hidden posts are marked, not dropped
        assert b"Lea Learner" in data and b"Amara Okafor" in data
    doc = ines.get(f"/boards/{ines.board_id}/export.json").json()
    (feedback,) = [t for t in doc["threads"] if t["id"] == thread]
    assert [p["level"] for p in feedback["posts"]] == ["opening"] + ["reply"] * 5
    assert [p["deleted"] for p in feedback["posts"]].count(True) == 1
    assert [p["hidden"] for p in feedback["posts"]].count(True) == 1
    rows = list(
        csv.DictReader(
            io.StringIO(ines.get(f"/boards/{ines.board_id}/export.csv").content.decode("utf-8-sig"))
        )
    )
    assert len(rows) == 7 and {r["author"] for r in rows if r["anonymous"] == "true"} == {
        "Anonymous"
    }


def test_learners_are_refused_and_nothing_changes(app, lms) -> None:
    lea = _world(app, lms).lea
    board = lea.board_id
    before, scores = row_counts(app), len(lms.platform.received_scores(COURSE))
    for r in (
        lea.get(f"/boards/{board}/participation"),
        lea.get(f"/boards/{board}/participation.csv"),
        lea.get(f"/boards/{board}/export.csv"),
        lea.get(f"/boards/{board}/export.json"),
        lea.post(f"/boards/{board}/grades"),
    ):
        assert r.status_code == 403 and "Only course staff" in r.text, r.text[:300]
        assert "attachment" not in r.headers.get("Content-Disposition", "")
    api = Api(lea)
    for r in (
        api("GET", f"/boards/{board}/participation"),
        api("GET", f"/boards/{board}/export", params={"format": "csv"}),
        api("POST", f"/boards/{board}/grades"),
    ):
        assert r.status_code == 403 and "Only course staff" in r.json()["message"]
    assert row_counts(app) == before
    assert len(lms.platform.received_scores(COURSE)) == scores


def test_other_course_boards_are_not_found(app, lms) -> None:
    lms.platform.add_course("other-course", "OTH-1", "Other course")
    lms.platform.enroll("u-ines", "other-course", [roles.INSTRUCTOR])
    theirs = Person(
        lms, "u-ines", board_link(lms, "other-course", **GRADED), context="other-course"
    )
    mine = Person(lms, "u-ines", board_link(lms, **GRADED))
    before = row_counts(app)
    for r in (
        mine.get(f"/boards/{theirs.board_id}/participation"),
        mine.get(f"/boards/{theirs.board_id}/participation.csv"),
        mine.get(f"/boards/{theirs.board_id}/export.csv"),
        mine.get(f"/boards/{theirs.board_id}/export.json"),
        mine.post(f"/boards/{theirs.board_id}/grades"),
        mine.get("/boards/999999/participation"),
    ):
        assert r.status_code == 404 and "not in this course" in r.text
    api = Api(mine)
    assert api("GET", f"/boards/{theirs.board_id}/participation").status_code == 404
    assert api("POST", f"/boards/{theirs.board_id}/grades").status_code == 404
    r = api("GET", f"/boards/{theirs.board_id}/export", params={"format": "json"})
    assert r.status_code == 404
    assert row_counts(app) == before
    assert lms.platform.received_scores() == []


def test_bad_report_input_is_refused(app, lms) -> None:
    rlid = board_link(lms)  # no grading rule, no cohorts
    ines = Person(lms, "u-ines", rlid)
    board = ines.board_id
    assert "Send participation grades" not in ines.get(f"/boards/{board}").text
    before = row_counts(app)
    for params, words in (
        ({"sort": "password"}, "Sort by one of"),
        ({"order": "sideways"}, "Order is"),
        ({"scope": "planet"}, "Scope is"),
        ({"cohort": "abc"}, "valid cohort"),
        ({"cohort": "123"}, "no cohorts"),
    ):
        r = ines.get(f"/boards/{board}/participation", **params)
        assert r.status_code == 400 and words in r.text, (params, r.text[:300])
    r = ines.post(f"/boards/{board}/grades")
    assert r.status_code == 409 and "grading rule" in r.text
    api = Api(ines)
    assert api("GET", f"/boards/{board}/export").status_code == 422
    assert api("GET", f"/boards/{board}/export", params={"format": "xml"}).status_code == 422
    assert api("GET", f"/boards/{board}/participation", params={"sort": "x"}).status_code == 422
    r = api("POST", f"/boards/{board}/grades")
    assert r.status_code == 409 and "grading rule" in r.json()["message"]
    assert row_counts(app) == before


def test_lms_refusals_become_readable_messages(app, lms) -> None:
    ines = _world(app, lms).ines
    board = ines.board_id
    # a learner the tool knows but the LMS no longer lists: reported, the others still get grades
    with new_session(app) as s:
        context = s.scalars(select(Context).where(Context.context_id == COURSE)).one()
        ghost = User(
            platform_id=context.platform_id, issuer=lms.issuer, sub="u-ghost", name="Gus Ghost"
        )
        s.add(ghost)
        s.flush()
        s.add(Membership(context_id=context.id, user_id=ghost.id, roles=[roles.LEARNER]))
        s.commit()
    r = ines.post(f"/boards/{board}/grades", follow=True)
    assert r.status_code == 200
    assert "4 of 5 grades sent (out of 100). Not sent: Gus Ghost:" in r.text
    assert 'class="error-box" role="status"' in r.text
    assert _scores(lms) == {u: (v, 100) for u, v in EXPECTED.items()}

    # the gradebook cannot be reached at all: a message, not a 500, on the page and in the API
    with new_session(app) as s:
        placement = s.scalars(
            select(Placement).join(Board, Board.placement_id == Placement.id)
        ).one()
        placement.lineitem_url = None
        s.get(Context, placement.context_id).ags_lineitems_url = lms.issuer + "/no-such-service"
        s.commit()
    count = len(lms.platform.received_scores(COURSE))
    r = ines.post(f"/boards/{board}/grades", follow=True)
    assert r.status_code == 200 and "No grades were sent: The platform" in r.text
    r = Api(ines)("POST", f"/boards/{board}/grades")
    assert r.status_code == 502 and "No grades were sent" in r.json()["message"]
    assert len(lms.platform.received_scores(COURSE)) == count

    # no AGS offered: refused before anything is written
    with new_session(app) as s:
        s.scalars(
            select(Context).where(Context.context_id == COURSE)
        ).one().ags_lineitems_url = None
        s.commit()
    before = row_counts(app)
    r = ines.post(f"/boards/{board}/grades")
    assert r.status_code == 409 and "Assignment and Grade Services" in r.text
    assert row_counts(app) == before


def test_api_reports_and_openapi(app, lms) -> None:
    ines = _world(app, lms).ines
    api = Api(ines)
    board = ines.board_id
    r = api("GET", f"/boards/{board}/participation", params={"sort": "score"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["graded"] and body["score_maximum"] == 100 and body["board_id"] == board
    assert [(row["name"], row["score"]) for row in body["rows"]] == [
        ("Lea Learner", 75.0),
        ("Amara Okafor", 50.0),
        ("Chen Wei", 50.0),
        ("Benjamin Hartley", 0.0),
    ]
    lea_row = body["rows"][0]
    assert (lea_row["threads"], lea_row["replies"]) == (1, 1)  # deleted and hidden not counted
    course_wide = api("GET", f"/boards/{board}/participation", params={"scope": "course"}).json()
    assert course_wide["board_id"] is None and not course_wide["graded"]
    r = api("GET", f"/boards/{board}/export", params={"format": "json"})
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    assert b"Chen" not in r.content and r.json()["board"]["id"] == board
    r = api("GET", f"/boards/{board}/export", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    r = api("POST", f"/boards/{board}/grades")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["posted"] == 4 and report["lineitem_url"].startswith(lms.issuer)
    assert {row["name"]: row["score_given"] for row in report["results"]} == {
        "Lea Learner": 75.0,
        "Amara Okafor": 50.0,
        "Chen Wei": 50.0,
        "Benjamin Hartley": 0.0,
    }
    assert _scores(lms) == {u: (v, 100) for u, v in EXPECTED.items()}
    spec = ines.browser.http.get(ines.tool + "/api/openapi.json", timeout=10).json()
    for path, method in (
        ("/api/boards/{board_id}/participation", "get"),
        ("/api/boards/{board_id}/export", "get"),
        ("/api/boards/{board_id}/grades", "post"),
    ):
        assert method in spec["paths"][path], path


def test_grades_command_sends_the_same_scores(app, lms) -> None:
    from plugin.cli import main

    ines = _world(app, lms).ines
    runner = CliRunner()
    info = ScriptInfo(create_app=lambda: app)
    result = runner.invoke(main, ["boards", "grades", str(ines.board_id)], obj=info)
    assert result.exit_code == 0, result.output
    assert "Lea Learner: 75/100 sent" in result.output
    assert "4 of 4 grades sent" in result.output
    assert _scores(lms) == {u: (v, 100) for u, v in EXPECTED.items()}
    missing = runner.invoke(main, ["boards", "grades", "999999"], obj=info)
    assert missing.exit_code != 0 and "no board 999999" in missing.output
    ungraded = Person(lms, "u-ines", board_link(lms))
    refused = runner.invoke(main, ["boards", "grades", str(ungraded.board_id)], obj=info)
    assert refused.exit_code != 0 and "grading rule" in refused.output
    with new_session(app) as s:
        (row,) = s.scalars(select(ModerationAction).where(ModerationAction.action == "grades"))
        assert row.actor_id is None and row.reason.startswith("4 of 4")
