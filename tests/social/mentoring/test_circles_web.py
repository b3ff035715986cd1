"""Group circles through the real launch from the sandbox LMS (slice "circles"): in a ``group``
programme Benjamin accepts Lea's and Amara's requests and both land in his one circle; Ines adds
Chen as co-mentor on the pair's page (bad input is a readable 4xx that changes nothing, a mentee
cannot); the JSON API lists and adds co-mentors; Amara leaves and the circle goes on, her list
shows it as left and her page is read only; a programme switched to staff matching refuses to
accept an old request."""

from __future__ import annotations

from sqlalchemy import select

from plugin.db import new_session
from plugin.mail.models import MailOutbox
from plugin.social.mentoring.models import Pair, PairMember, Programme
from tests.conftest import row_counts
from tests.performance.perf_world import MOODLE_CSV
from tests.social.mentoring.test_mentoring_web import Launched, mentoring_link


def import_competency(ines: Launched) -> int:
    upload = ("oecd.csv", MOODLE_CSV.read_bytes(), "text/csv")
    imported = ines.browser.http.post(
        ines.tool + "/api/frameworks/import",
        headers={"Authorization": f"Bearer {ines.token}"},
        files={"file": upload},
        timeout=30,
    )
    assert imported.status_code == 201, imported.text[:300]
    items = ines.browser.http.get(
        ines.tool + f"/api/frameworks/{imported.json()['framework_id']}/competencies",
        headers={"Authorization": f"Bearer {ines.token}"},
        timeout=30,
    ).json()["items"]
    return items[0]["id"]


def opt_in_mentor(who: Launched, competency: int, capacity: int) -> int:
    saved = who.api(
        "PUT",
        f"/programmes/{who.programme_id}/profile",
        json={
            "as_mentor": True,
            "capacity": capacity,
            "mentor_competencies": [{"competency_id": competency, "level": 2}],
        },
    )
    assert saved.status_code == 200, saved.text
    return saved.json()["user_id"]


def ask_mentor(who: Launched, competency: int, mentor_id: int) -> int:
    base = f"/programmes/{who.programme_id}"
    assert who.api("PUT", base + "/profile", json={"as_mentee": True}).status_code == 200
    sent = who.api(
        "POST",
        base + "/requests",
        json={
            "competencies": [{"competency_id": competency, "level": 0, "target": 1}],
            "mentor_id": mentor_id,
        },
    )
    assert sent.status_code == 201, sent.text
    return sent.json()["id"]


def test_a_group_circle_on_its_pages_and_api(app, lms) -> None:
    rlid = mentoring_link(lms, kind="group", cadence_days="14")
    ines = Launched(lms, "u-ines", rlid)
    competency = import_competency(ines)
    lea, amara = Launched(lms, "u-lea", rlid), Launched(lms, "u-amara", rlid)
    ben, chen = Launched(lms, "u-benjamin", rlid), Launched(lms, "u-chen", rlid)
    ben_id = opt_in_mentor(ben, competency, 3)
    chen_id = opt_in_mentor(chen, competency, 2)
    for who in (lea, amara):
        request_id = ask_mentor(who, competency, ben_id)
        answered = ben.post(f"/mentoring/requests/{request_id}/answer", decision="accept")
        assert answered.status_code == 303, answered.text[:300]
    (pair,) = lea.api("GET", f"/programmes/{lea.programme_id}/pairs").json()
    assert sorted(p["name"] for p in pair["people"]) == [
        "Amara Okafor",
        "Benjamin Hartley",
        "Lea Learner",
    ]
    page = f"/mentoring/pairs/{pair['id']}"
    shown = ines.get(page)
    assert shown.status_code == 200 and "Mentoring circle" in shown.text
    assert "Add a co-mentor" in shown.text and "Chen Wei (2 free places)" in shown.text
    # a mentee may not add one (403); bad input is a readable 400/404; nothing changes
    before = row_counts(app)
    assert "Add a co-mentor" not in lea.get(page).text
    refused = lea.post(page + "/co-mentor", user_id=str(chen_id))
    assert refused.status_code == 403 and "<h1" in refused.text
    for bad, status in (("abc", 400), ("", 400), ("999999", 404), (str(ben_id), 409)):
        refused = ines.post(page + "/co-mentor", user_id=bad)
        assert refused.status_code == status and "<h1" in refused.text, (bad, refused.status_code)
    assert row_counts(app) == before
    # the API lists Chen; Ines adds him on the page; he accepts the agreement there
    options = ben.api("GET", f"/pairs/{pair['id']}/co-mentors")
    assert options.status_code == 200 and [o["user_id"] for o in options.json()] == [chen_id]
    assert lea.api("GET", f"/pairs/{pair['id']}/co-mentors").status_code == 403
    added = ines.post(page + "/co-mentor", user_id=str(chen_id))
    assert added.status_code == 303 and "saved=co_mentor" in added.headers["Location"]
    assert "Co-mentor added" in ines.browser.http.get(ines.tool + added.headers["Location"]).text
    again = ines.api("POST", f"/pairs/{pair['id']}/co-mentors", json={"user_id": chen_id})
    assert again.status_code == 409
    chen_page = chen.get(page)
    assert "Accept the agreement" in chen_page.text
    with new_session(app) as session:
        [mail] = session.scalars(
            select(MailOutbox).where(MailOutbox.recipient == "chen.wei@example.edu")
        ).all()
        assert "co-mentor" in mail.text_body
    edited = lea.api(
        "PUT",
        f"/pairs/{pair['id']}/agreement",
        json={
            "starts_on": "2026-01-05",
            "ends_on": "2026-07-05",
            "cadence_days": 14,
            "place": "Library, room 2",
            "competency_ids": [competency],
        },
    )
    assert edited.status_code == 200, edited.text
    for who in (ben, lea, amara, chen):
        assert who.post(page + "/accept").status_code == 303
    assert lea.api("GET", f"/pairs/{pair['id']}").json()["summary"]["state"] == "active"
    # Amara leaves: the circle goes on; her list shows it as left, her page is read only
    left = amara.post(page + "/leave")
    assert left.status_code == 303
    detail = lea.api("GET", f"/pairs/{pair['id']}").json()
    assert detail["summary"]["state"] == "active"
    assert [p["left"] for p in detail["summary"]["people"] if p["name"] == "Amara Okafor"] == [True]
    mine = amara.get(f"/mentoring/programmes/{amara.programme_id}/pairs")
    assert "You left this circle" in mine.text and "Amara Okafor (mentee, left)" in mine.text
    hers = amara.get(page)
    assert hers.status_code == 200 and "You left this circle" in hers.text
    assert "Log the check-in" not in hers.text and "Leave this mentorship" not in hers.text
    assert "meetings.ics" not in hers.text and "Accept the agreement" not in hers.text
    refused = amara.post(page + "/checkins", held_on="2026-01-06", duration_minutes="30")
    assert refused.status_code == 403 and "You left this circle" in refused.text
    leas = lea.get(page).text
    assert "Log the check-in" in leas and "meetings.ics" in leas


def test_a_programme_switched_to_staff_matching_refuses_an_old_request(app, lms) -> None:
    rlid = mentoring_link(lms, kind="group")
    ines = Launched(lms, "u-ines", rlid)
    competency = import_competency(ines)
    lea, ben = Launched(lms, "u-lea", rlid), Launched(lms, "u-benjamin", rlid)
    request_id = ask_mentor(lea, competency, opt_in_mentor(ben, competency, 2))
    with new_session(app) as session:
        session.get(Programme, ines.programme_id).matching = "staff_bulk"
        session.commit()
    before = row_counts(app)
    refused = ben.post(f"/mentoring/requests/{request_id}/answer", decision="accept")
    assert refused.status_code == 409 and "done by programme staff" in refused.text
    assert row_counts(app) == before
    with new_session(app) as session:
        assert session.scalars(select(Pair)).all() == []
        assert session.scalars(select(PairMember)).all() == []


def test_bulk_approval_in_a_group_programme_makes_one_circle(app, lms) -> None:
    rlid = mentoring_link(lms, kind="group", matching="staff_bulk")
    ines = Launched(lms, "u-ines", rlid)
    competency = import_competency(ines)
    ben_id = opt_in_mentor(Launched(lms, "u-benjamin", rlid), competency, 3)
    ids = []
    for sub in ("u-lea", "u-amara"):
        who = Launched(lms, sub, rlid)
        saved = who.api(
            "PUT",
            f"/programmes/{who.programme_id}/profile",
            json={
                "as_mentee": True,
                "mentee_competencies": [{"competency_id": competency, "level": 0, "target": 1}],
            },
        )
        assert saved.status_code == 200, saved.text
        ids.append(saved.json()["user_id"])
    base = f"/mentoring/programmes/{ines.programme_id}/bulk"
    approved = ines.post(base + "/approve", **{f"mentor_{m}": str(ben_id) for m in ids})
    assert approved.status_code == 303 and "saved=1" in approved.headers["Location"]
    shown = ines.browser.http.get(ines.tool + approved.headers["Location"], timeout=10)
    assert "1 pair made" in shown.text
    with new_session(app) as session:
        (pair,) = session.scalars(select(Pair)).all()
        members = {m.user_id: m.role for m in session.scalars(select(PairMember))}
    assert members == {ben_id: "mentor", ids[0]: "mentee", ids[1]: "mentee"}
    listed = ines.api("GET", f"/programmes/{ines.programme_id}/pairs").json()
    assert [p["id"] for p in listed] == [pair.id]
    # a later approval through the API adds Chen to Benjamin's open circle
    chen = Launched(lms, "u-chen", rlid)
    saved = chen.api(
        "PUT",
        f"/programmes/{chen.programme_id}/profile",
        json={
            "as_mentee": True,
            "mentee_competencies": [{"competency_id": competency, "level": 0, "target": 1}],
        },
    )
    chen_id = saved.json()["user_id"]
    made = ines.api(
        "POST",
        f"/programmes/{ines.programme_id}/bulk/approve",
        json={"pairs": [{"mentee_id": chen_id, "mentor_id": ben_id}]},
    )
    assert made.status_code == 201, made.text
    assert made.json()["pairs"] == [
        {"id": pair.id, "state": "proposed", "mentee_id": chen_id, "mentor_id": ben_id}
    ]
