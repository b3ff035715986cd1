"""`/api/links/<kind>/<key>` decides who reads and changes a thing's competency links exactly as
the thing's own routes do (issue 9, item 2): through real launches into two courses of one
platform, and a second platform."""

from __future__ import annotations

from sqlalchemy import select

from plugin.db import new_session
from plugin.lti.models import Placement
from plugin.performance.models import CompetencyLink
from tests.conftest import row_counts
from tests.performance.perf_world import MOODLE_CSV
from tests.social.social_web import Api, Person, board_link

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def _import_competencies(staff: Api) -> list[int]:
    upload = ("oecd.csv", MOODLE_CSV.read_bytes(), "text/csv")
    made = staff("POST", "/frameworks/import", files={"file": upload})
    assert made.status_code == 201, made.text[:300]
    page = staff("GET", f"/frameworks/{made.json()['framework_id']}/competencies").json()
    return [c["id"] for c in page["items"][:3]]


def test_links_follow_the_linked_things_own_rules(app, lms_factory) -> None:
    lms = lms_factory()
    lms.platform.add_course("course-b", "B-1", "Course B")
    lms.platform.add_person("u-bea", "Bea", "Teacher", "bea@example.edu")
    lms.platform.add_person("u-bo", "Bo", "Learner", "bo@example.edu")
    lms.platform.enroll("u-bea", "course-b", [INSTRUCTOR])
    lms.platform.enroll("u-bo", "course-b", [LEARNER])
    rl_a, rl_b = board_link(lms), board_link(lms, "course-b")
    ines, lea = Api(Person(lms, "u-ines", rl_a)), Api(Person(lms, "u-lea", rl_a))
    amara = Api(Person(lms, "u-amara", rl_a))
    bea = Api(Person(lms, "u-bea", rl_b, context="course-b"))
    bo = Api(Person(lms, "u-bo", rl_b, context="course-b"))
    other = lms_factory(name="Other LMS")
    stranger = Api(Person(other, "u-ines", board_link(other)))

    ids = _import_competencies(ines)
    board = ines.p.board_id
    assert ines("PUT", f"/links/board/{board}", json={"competency_ids": ids[:2]}).status_code == 200
    thread = lea(
        "POST", f"/boards/{board}/threads", json={"title": "Feedback", "body": "How?"}
    ).json()["thread"]["id"]
    with new_session(app) as s:
        placement = s.scalars(select(Placement.id).where(Placement.resource_link_id == rl_a)).one()

    before = row_counts(app)
    # Another course's staff and learners, and another platform: not found, nothing changed.
    for who in (bea, bo, stranger):
        for kind, key in (("board", board), ("thread", thread), ("placement", placement)):
            for method, body in (("GET", None), ("PUT", {"competency_ids": []})):
                r = who(method, f"/links/{kind}/{key}", json=body)
                assert r.status_code == 404, (who.p.page.url, method, kind, r.status_code, r.text)
                assert r.json()["code"] == 404 and r.json()["message"]
    # A learner of the course reads, but changes neither the board's nor a placement's links,
    # nor another person's thread.
    assert [c["id"] for c in lea("GET", f"/links/board/{board}").json()["competencies"]] == ids[:2]
    for kind, key in (("board", board), ("placement", placement)):
        assert lea("PUT", f"/links/{kind}/{key}", json={"competency_ids": []}).status_code == 403
    assert amara("PUT", f"/links/thread/{thread}", json={"competency_ids": []}).status_code == 403
    # Unknown kinds, keys that are no id, ids beyond the column range: 404.
    for path in ("/links/goal/1", "/links/post/1", "/links/board/x", "/links/board/2147483648"):
        assert ines("GET", path).status_code == 404, path
        assert ines("PUT", path, json={"competency_ids": []}).status_code == 404, path
    assert row_counts(app) == before

    # The thread's author tags it with the course's competencies (the thread's own rule) ...
    tagged = lea("PUT", f"/links/thread/{thread}", json={"competency_ids": [ids[0]]})
    assert tagged.status_code == 200, tagged.text
    assert tagged.json()["ref_key"] == str(thread)
    assert lea("GET", f"/threads/{thread}/competencies").json()[0]["id"] == ids[0]
    # ... but not with one no board of the course is linked to.
    assert (
        lea("PUT", f"/links/thread/{thread}", json={"competency_ids": [ids[2]]}).status_code == 404
    )
    # Staff link the placement; the key is canonical ("007" is 7).
    put = ines("PUT", f"/links/placement/00{placement}", json={"competency_ids": [ids[2]]})
    assert put.status_code == 200 and put.json()["ref_key"] == str(placement)
    assert [
        c["id"] for c in lea("GET", f"/links/placement/{placement}").json()["competencies"]
    ] == [ids[2]]
    with new_session(app) as s:
        keys = set(s.scalars(select(CompetencyLink.ref_key)))
    assert keys == {str(board), str(thread), str(placement)}
