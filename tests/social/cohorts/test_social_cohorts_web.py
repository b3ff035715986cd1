"""Staff-made cohorts through the real LTI launch: the Cohorts page, the settings choice, the API,
refusals, and the roster sync leaving them alone."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from plugin.db import new_session
from plugin.lti.models import GROUP_MADE_IN_TOOL, LmsGroup, LmsGroupMember, User
from plugin.social.models import Board
from tests.conftest import row_counts
from tests.social.social_web import Person, board_link
from tests.support.roster import refresh_class_list


def _user_id(app, sub: str) -> int:
    with new_session(app) as s:
        return s.scalars(select(User.id).where(User.sub == sub)).one()


def _api(person: Person, method: str, path: str, **kwargs):
    return person.browser.http.request(
        method,
        person.tool + "/api" + path,
        headers={"Authorization": f"Bearer {person.token}"},
        timeout=10,
        **kwargs,
    )


def test_staff_make_a_cohort_on_the_page_and_the_board_keeps_it_to_itself(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour="0")
    ines = Person(lms, "u-ines", rlid)
    lea, amara, chen = (Person(lms, u, rlid) for u in ("u-lea", "u-amara", "u-chen"))
    assert f"/cohorts?board={ines.board_id}" in ines.page.text.replace("&amp;", "&")
    page = ines.get("/cohorts", board=str(ines.board_id))
    assert page.status_code == 200 and "<h1>Cohorts</h1>" in page.text
    assert (
        '<label for="new-cohort-name">Name</label>' in page.text and "No cohorts yet." in page.text
    )

    made = ines.post("/cohorts", name="Mentoring circle", board=str(ines.board_id))
    assert made.status_code == 303
    target = urlsplit(made.headers["Location"])
    assert target.path == "/cohorts" and parse_qs(target.query)["saved"] == ["created"]
    page = ines.get("/cohorts", board=str(ines.board_id), saved="created")
    assert "Cohort made." in page.text
    cohort_id = int(re.search(r'action="/cohorts/(\d+)"', page.text).group(1))
    lea_id, chen_id = _user_id(app, "u-lea"), _user_id(app, "u-chen")
    for person_id in (lea_id, chen_id):
        assert f'id="cohort-{cohort_id}-member-{person_id}"' in page.text
    ines_id = _user_id(app, "u-ines")
    assert f'id="cohort-{cohort_id}-member-{ines_id}"' not in page.text  # staff are not offered
    saved = ines.post(
        f"/cohorts/{cohort_id}",
        name="Mentoring circle",
        members_shown="1",
        member_ids=[str(lea_id), str(chen_id)],
        board=str(ines.board_id),
    )
    assert saved.status_code == 303
    assert "2 members · 0 threads: Chen Wei, Lea Learner" in ines.get("/cohorts").text

    settings = ines.post(f"/boards/{ines.board_id}/settings", cohort_mode="cohorts")
    assert settings.status_code == 303
    with new_session(app) as s:
        assert s.get(Board, ines.board_id).cohort_mode == "cohorts"
    thread = lea.new_thread("Circle only", "Just us.")
    assert "Circle only" in chen.get(f"/boards/{chen.board_id}").text
    assert "Circle only" not in amara.get(f"/boards/{amara.board_id}").text
    assert amara.get(f"/threads/{thread}").status_code == 404
    # Amara is in an LMS group but in no cohort made here
    refused = amara.post(f"/boards/{amara.board_id}/threads", title="Mine", body="text")
    assert refused.status_code == 403 and "not in a cohort" in refused.text
    # a cohort with threads is not offered for deletion and is refused
    page = ines.get("/cohorts")
    assert "A cohort with threads cannot be deleted." in page.text
    before = row_counts(app)
    gone = ines.post(f"/cohorts/{cohort_id}/delete")
    assert gone.status_code == 409 and "still has 1 thread" in gone.text
    assert row_counts(app) == before


def test_learners_and_bad_input_get_clear_refusals(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour="0")
    ines, lea = Person(lms, "u-ines", rlid), Person(lms, "u-lea", rlid)
    refresh_class_list(app, ines.browser.http, ines.tool, ines.token)  # the LMS's groups
    before = row_counts(app)
    page = lea.get("/cohorts")
    assert page.status_code == 403 and "Only course staff can manage cohorts." in page.text
    assert lea.post("/cohorts", name="Sneaky").status_code == 403
    assert _api(lea, "GET", "/cohorts").status_code == 403
    assert ines.post("/cohorts", name="   ").status_code == 400
    assert ines.post("/cohorts", name="x" * 101).status_code == 400
    assert ines.post("/cohorts/999999/delete").status_code == 404
    with new_session(app) as s:  # an LMS group is not editable here
        lms_group = s.scalars(select(LmsGroup).where(LmsGroup.source == "lms")).first()
    assert lms_group is not None
    r = ines.post(f"/cohorts/{lms_group.id}", name="Renamed")
    assert r.status_code == 404
    assert row_counts(app) == before  # every refusal above changed nothing
    assert ines.post("/cohorts", name="Ok").status_code == 303
    offered = ines.get("/cohorts").text  # learners of the class list; not staff, not mentors
    assert "Sofia Lindqvist" in offered and "Lea Learner" in offered
    assert "Grace Whitfield" not in offered and "Tomás Alvarez" not in offered
    after_one = row_counts(app)
    with new_session(app) as s:
        cohort_id = s.scalars(
            select(LmsGroup.id).where(LmsGroup.source == GROUP_MADE_IN_TOOL, LmsGroup.name == "Ok")
        ).one()
    for member in ("not-a-number", str(_user_id(app, "u-ines"))):
        r = ines.post(f"/cohorts/{cohort_id}", members_shown="1", member_ids=[member])
        assert r.status_code in (400, 404) and "<title>" in r.text
    assert row_counts(app) == after_one  # the refused member lists changed nothing


def test_cohorts_api_round_trip(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour="0")
    ines = Person(lms, "u-ines", rlid)
    Person(lms, "u-lea", rlid)  # launched once: a member of the course
    lea_id = _user_id(app, "u-lea")
    made = _api(ines, "POST", "/cohorts", json={"name": "Night shift"})
    assert made.status_code == 201
    body = made.json()
    assert body["name"] == "Night shift" and body["members"] == [] and body["thread_count"] == 0
    assert _api(ines, "POST", "/cohorts", json={"name": "night SHIFT"}).status_code == 409
    assert _api(ines, "POST", "/cohorts", json={}).status_code == 422
    patched = _api(
        ines, "PATCH", f"/cohorts/{body['id']}", json={"name": "Nights", "member_ids": [lea_id]}
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "Nights"
    assert [m["user_id"] for m in patched.json()["members"]] == [lea_id]
    listing = _api(ines, "GET", "/cohorts").json()
    assert [c["name"] for c in listing["cohorts"]] == ["Nights"]
    assert lea_id in {p["user_id"] for p in listing["learners"]}
    assert (
        _api(ines, "PATCH", f"/cohorts/{body['id']}", json={"member_ids": [10**9]}).status_code
        == 404
    )
    assert _api(ines, "DELETE", f"/cohorts/{body['id']}").status_code == 204
    assert _api(ines, "DELETE", f"/cohorts/{body['id']}").status_code == 404
    spec = _api(ines, "GET", "/openapi.json").json()
    assert {"get", "post"} <= set(spec["paths"]["/api/cohorts"])
    assert {"patch", "delete"} <= set(spec["paths"]["/api/cohorts/{cohort_id}"])


def test_roster_sync_keeps_staff_made_cohorts_and_their_members(app, lms) -> None:
    rlid = board_link(lms, posts_per_hour="0")
    ines = Person(lms, "u-ines", rlid)
    Person(lms, "u-lea", rlid)
    lea_id = _user_id(app, "u-lea")
    made = _api(ines, "POST", "/cohorts", json={"name": "Kept"}).json()
    _api(ines, "PATCH", f"/cohorts/{made['id']}", json={"member_ids": [lea_id]})
    refresh_class_list(app, ines.browser.http, ines.tool, ines.token)
    with new_session(app) as s:
        kept = s.get(LmsGroup, made["id"])
        assert kept is not None and kept.source == GROUP_MADE_IN_TOOL and kept.name == "Kept"
        members = s.scalars(
            select(LmsGroupMember.user_id).where(LmsGroupMember.group_id == made["id"])
        ).all()
        assert members == [lea_id]
        assert {g.name for g in s.scalars(select(LmsGroup).where(LmsGroup.source == "lms"))} >= {
            "Cohort A",
            "Cohort B",
        }
