"""Mentorships through the real launch from the sandbox LMS (slice "relationship"): Lea asks
Benjamin, he accepts, they agree on the agreement on its page (an edit clears his acceptance),
log a check-in, download the meetings' .ics; Amara (same course) gets 404, staff read without
notes; bad input is a readable 4xx that changes nothing; the JSON API; re-match, leave and the
staff end."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from plugin.db import new_session
from plugin.mail.models import MailOutbox
from plugin.social.mentoring.models import CheckIn, Pair
from tests.conftest import CLIENT_ID, row_counts
from tests.performance.perf_world import MOODLE_CSV
from tests.social.mentoring.test_mentoring_web import Launched
from tests.social.social_web import COURSE

NOTE = "Talked through the reorganisation worries"


def launched_pair(lms, title: str = "Peer mentoring"):
    """Ines's programme (a link titled ``title``) with an imported framework; Lea (mentee) asked Benjamin (mentor), who
    accepted: a proposed pair. Returns the launches, the pair id and two competency ids."""
    custom = {"widget": "mentoring", "setting_cadence_days": "14"}
    rlid = lms.platform.add_resource_link(COURSE, CLIENT_ID, title, custom=custom).resource_link_id
    ines = Launched(lms, "u-ines", rlid)
    upload = ("oecd.csv", MOODLE_CSV.read_bytes(), "text/csv")
    imported = ines.browser.http.post(
        ines.tool + "/api/frameworks/import",
        headers={"Authorization": f"Bearer {ines.token}"},
        files={"file": upload},
        timeout=30,
    )
    assert imported.status_code == 201, imported.text[:300]
    framework = imported.json()["framework_id"]
    items = ines.browser.http.get(
        ines.tool + f"/api/frameworks/{framework}/competencies",
        headers={"Authorization": f"Bearer {ines.token}"},
        timeout=30,
    ).json()["items"]
    first, second = items[0]["id"], items[1]["id"]
    lea = Launched(lms, "u-lea", rlid)
    ben = Launched(lms, "u-benjamin", rlid)
    amara = Launched(lms, "u-amara", rlid)
    base = f"/programmes/{lea.programme_id}"
    need = [{"competency_id": first, "level": 0, "target": 1}]
    assert lea.api("PUT", base + "/profile", json={"as_mentee": True}).status_code == 200
    mentor = ben.api(
        "PUT",
        base + "/profile",
        json={
            "as_mentor": True,
            "capacity": 1,
            "mentor_competencies": [
                {"competency_id": first, "level": 2},
                {"competency_id": second, "level": 2},
            ],
        },
    )
    assert mentor.status_code == 200, mentor.text
    sent = lea.api(
        "POST",
        base + "/requests",
        json={"competencies": need, "mentor_id": mentor.json()["user_id"], "goal": "Lead well"},
    )
    assert sent.status_code == 201, sent.text
    answered = ben.api("POST", f"/requests/{sent.json()['id']}/answer", json={"accept": True})
    assert answered.status_code == 200, answered.text
    listed = lea.api("GET", base + "/pairs")
    assert listed.status_code == 200, listed.text
    (pair,) = listed.json()
    assert pair["state"] == "proposed" and pair["role"] == "mentee"
    return ines, lea, ben, amara, pair["id"], first, second


def agreement(**change):
    return {
        "starts_on": "2026-01-05",
        "ends_on": "2026-07-05",
        "cadence_days": "14",
        "place": "Library, room 2",
        "link": "https://meet.example.org/lea",
        "goals": "Prepare the team day",
        **change,
    }


def test_the_life_of_a_pair_on_its_pages(app, lms) -> None:
    ines, lea, ben, amara, pair_id, first, second = launched_pair(lms)
    page = f"/mentoring/pairs/{pair_id}"
    mine = lea.get(f"/mentoring/programmes/{lea.programme_id}/pairs")
    assert mine.status_code == 200 and f'href="{page}?' in mine.text
    shown = lea.get(page)
    assert shown.status_code == 200 and "Change the agreement" in shown.text
    assert "Accept the agreement" in shown.text
    # a bad edit is a readable 400 and changes nothing
    before = row_counts(app)
    for bad in (
        {"ends_on": "2026-01-08"},
        {"cadence_days": "0"},
        {"link": "javascript:alert(1)"},
        {"starts_on": "soon"},
    ):
        refused = lea.post(page + "/agreement", **agreement(**bad), competency_ids=str(first))
        assert refused.status_code == 400 and "<h1" in refused.text, bad
    refused = lea.post(page + "/agreement", **agreement(), competency_ids="abc")
    assert refused.status_code == 400
    assert row_counts(app) == before
    # Benjamin accepts; Lea's edit clears his acceptance and says so
    assert ben.post(page + "/accept").status_code == 303
    edited = lea.post(page + "/agreement", **agreement(), competency_ids=[str(first), str(second)])
    assert edited.status_code == 303 and "saved=agreement" in edited.headers["Location"]
    told = lea.browser.http.get(lea.tool + edited.headers["Location"], timeout=10)
    assert "Benjamin Hartley must accept it again" in told.text
    assert ben.post(page + "/accept").status_code == 303
    accepted = lea.post(page + "/accept")
    assert accepted.status_code == 303 and "saved=active" in accepted.headers["Location"]
    with new_session(app) as s:
        pair = s.get(Pair, pair_id)
        assert pair.state == "active" and pair.cadence_days == 14
        assert pair.place == "Library, room 2"
    # a check-in, through the page form
    bad = ben.post(page + "/checkins", held_on="2099-01-01", duration_minutes="30")
    assert bad.status_code == 400 and "future" in bad.text
    logged = ben.post(
        page + "/checkins",
        held_on="2026-01-06",
        duration_minutes="45",
        notes=NOTE,
        next_steps="Write the agenda",
        competency_ids=str(first),
    )
    assert logged.status_code == 303, logged.text[:300]
    seen = lea.get(page)
    assert NOTE in seen.text and "45 minutes" in seen.text
    # staff read the agreement, health and the check-in's date and length, never its notes
    staff = ines.get(page)
    assert staff.status_code == 200 and "45 minutes" in staff.text
    assert NOTE not in staff.text and "Write the agenda" not in staff.text
    assert "End this mentorship (staff)" in staff.text and "Log the check-in" not in staff.text
    assert (
        ines.post(page + "/checkins", held_on="2026-01-06", duration_minutes="30").status_code
        == 403
    )
    everyone = ines.get(f"/mentoring/programmes/{ines.programme_id}/pairs")
    assert (
        "Every mentorship of the programme" in everyone.text and f'href="{page}?' in everyone.text
    )
    # Amara, of the same course, finds nothing
    for path in (page, page + "/meetings.ics"):
        assert amara.get(path).status_code == 404
    assert amara.post(page + "/leave").status_code == 404
    # the meetings' calendar file
    ics = lea.get(page + "/meetings.ics")
    assert ics.status_code == 200 and ics.headers["Content-Type"].startswith("text/calendar")
    assert "attachment" in ics.headers["Content-Disposition"]
    body = ics.text
    assert "BEGIN:VEVENT" in body and "RRULE:FREQ=WEEKLY;" in body and "INTERVAL=2" in body
    assert "lea.learner@example.edu" in body and "benjamin.hartley@example.edu" in body
    assert NOTE not in body
    # re-match: Lea ends it and lands on Find a mentor, searched with what the pair was about
    moved = lea.post(page + "/rematch")
    assert moved.status_code == 303
    target = urlsplit(moved.headers["Location"])
    query = parse_qs(target.query)
    assert target.path == f"/mentoring/programmes/{lea.programme_id}/find"
    assert query["search"] == ["1"] and query["goal"] == ["Prepare the team day"]
    assert (query[f"level_{first}"], query[f"target_{first}"]) == (["0"], ["1"])
    assert query["cadence_days"] == ["14"]
    found = lea.browser.http.get(lea.tool + moved.headers["Location"], timeout=10)
    assert found.status_code == 200, found.text[:300]
    assert "Prepare the team day" in found.text and "Benjamin Hartley" in found.text
    with new_session(app) as s:
        pair = s.get(Pair, pair_id)
        assert (pair.state, pair.end_reason) == ("ended", "rematch")
        told = s.scalars(select(MailOutbox).where(MailOutbox.kind == "mentoring.pair")).all()
        assert [m.recipient for m in told] == ["benjamin.hartley@example.edu"]
    assert lea.post(page + "/leave").status_code == 409


def test_the_pair_api(app, lms) -> None:
    ines, lea, ben, amara, pair_id, first, _second = launched_pair(lms)
    path = f"/pairs/{pair_id}"
    got = lea.api("GET", path)
    assert got.status_code == 200, got.text
    assert got.json()["may_accept"] is True and got.json()["summary"]["health"] is None
    body = {**agreement(cadence_days=7), "competency_ids": [first]}
    assert amara.api("GET", path).status_code == 404
    assert amara.api("PUT", path + "/agreement", json=body).status_code == 404
    assert ines.api("PUT", path + "/agreement", json=body).status_code == 403
    bad = lea.api("PUT", path + "/agreement", json={**body, "competency_ids": [999999]})
    assert bad.status_code == 400 and "offers" in bad.json()["message"]
    put = lea.api("PUT", path + "/agreement", json=body)
    assert put.status_code == 200 and put.json()["changed"] is True
    assert put.json()["pair"]["summary"]["cadence_days"] == 7
    assert lea.api("POST", path + "/accept").status_code == 200
    active = ben.api("POST", path + "/accept")
    assert active.status_code == 200 and active.json()["summary"]["state"] == "active"
    assert active.json()["summary"]["health"] == "on_track"
    again = lea.api("PUT", path + "/agreement", json=body)
    assert again.status_code == 409
    made = lea.api(
        "POST",
        path + "/checkins",
        json={"held_on": "2026-01-06", "duration_minutes": 60, "notes": NOTE},
    )
    assert made.status_code == 201, made.text
    assert made.json()["notes"] == NOTE
    short = lea.api(
        "POST", path + "/checkins", json={"held_on": "2026-01-06", "duration_minutes": 2}
    )
    assert short.status_code == 422
    staff = ines.api("GET", path + "/checkins")
    assert staff.status_code == 200
    assert [(c["duration_minutes"], c["notes"], c["next_steps"]) for c in staff.json()] == [
        (60, None, None)
    ]
    assert NOTE not in staff.text
    listed = ines.api("GET", f"/programmes/{ines.programme_id}/pairs", params={"state": "active"})
    assert [p["id"] for p in listed.json()] == [pair_id]
    assert amara.api("GET", f"/programmes/{amara.programme_id}/pairs").json() == []
    assert ben.api("POST", path + "/rematch").status_code == 403  # only a mentee re-matches
    assert ben.api("POST", path + "/end").status_code == 403  # only staff end it this way
    ended = ines.api("POST", path + "/end")
    assert ended.status_code == 200 and ended.json()["summary"]["end_reason"] == "staff"
    assert lea.api("POST", path + "/leave").status_code == 409
    with new_session(app) as s:
        assert s.scalars(select(CheckIn.notes)).one() == NOTE


def test_a_member_leaves_without_a_reason(app, lms) -> None:
    _ines, _lea, ben, _amara, pair_id, _first, _second = launched_pair(lms)
    left = ben.post(f"/mentoring/pairs/{pair_id}/leave")
    assert left.status_code == 303 and "saved=left" in left.headers["Location"]
    page = ben.browser.http.get(ben.tool + left.headers["Location"], timeout=10)
    assert "You have left the mentorship" in page.text
    with new_session(app) as s:
        pair = s.get(Pair, pair_id)
        assert (pair.state, pair.end_reason) == ("ended", "no_fault")
        told = s.scalars(select(MailOutbox).where(MailOutbox.kind == "mentoring.pair")).all()
        assert [m.recipient for m in told] == ["lea.learner@example.edu"]
        assert "Benjamin" not in told[0].text_body


def test_extending_the_end_date_on_the_page_and_through_the_api(app, lms) -> None:
    _ines, lea, ben, amara, pair_id, first, _second = launched_pair(lms)
    path, page = f"/pairs/{pair_id}", f"/mentoring/pairs/{pair_id}"
    body = {**agreement(), "competency_ids": [first]}
    assert lea.api("PUT", path + "/agreement", json=body).status_code == 200
    assert lea.api("POST", path + "/accept").status_code == 200
    assert ben.api("POST", path + "/accept").json()["may_extend"] is True
    before = row_counts(app)
    assert lea.post(page + "/extension", ends_on="2026-07-01").status_code == 400
    assert amara.post(page + "/extension", ends_on="2026-09-01").status_code == 404
    assert row_counts(app) == before
    proposed = lea.post(page + "/extension", ends_on="2026-09-01")
    assert proposed.status_code == 303 and "saved=extension" in proposed.headers["Location"]
    shown = ben.get(page)
    assert "Lea Learner proposes to extend the mentorship until" in shown.text
    assert "Confirm the extension" in shown.text
    with new_session(app) as s:
        assert str(s.get(Pair, pair_id).ends_on) == "2026-07-05"  # the old date holds
    confirmed = ben.post(page + "/extension/confirm")
    assert confirmed.status_code == 303 and "saved=extended" in confirmed.headers["Location"]
    with new_session(app) as s:
        pair = s.get(Pair, pair_id)
        assert (str(pair.ends_on), pair.proposed_ends_on) == ("2026-09-01", None)
    # through the API: proposed, then declined (dropped; the date stays)
    again = ben.api("POST", path + "/extension", json={"ends_on": "2026-10-01"})
    assert again.status_code == 200 and again.json()["proposed_ends_on"] == "2026-10-01"
    assert lea.api("GET", path).json()["may_confirm_extension"] is True
    dropped = lea.api("POST", path + "/extension/decline")
    assert dropped.status_code == 200 and dropped.json()["proposed_ends_on"] is None
    assert dropped.json()["summary"]["ends_on"] == "2026-09-01"
    assert lea.api("POST", path + "/extension/confirm").status_code == 409
