"""Mentoring requests and bulk matching through the real launch from the sandbox LMS: a mentee
finds a mentor (ranked, every part of the score shown), asks one (or the pool), the mentor
accepts or declines in their own launch, the mentee withdraws; staff of a bulk programme
preview, adjust and approve the matching (pages and JSON API). Bad input — an unknown
competency, a target below the level, another course's request, answering twice, an expired
request — is a readable 4xx that changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update

from plugin.db import new_session
from plugin.lti.models import Platform, User
from plugin.lti.roles import INSTRUCTOR
from plugin.mail.models import MailOutbox
from plugin.social.mentoring.models import Pair, PairMember, Request
from tests.conftest import CLIENT_ID, row_counts
from tests.social.mentoring.programme_world import make_framework
from tests.social.mentoring.test_mentoring_web import Launched, mentoring_link
from tests.social.social_web import tool_of
from tests.support.browser import Browser
from tests.support.lti import launch, token_of

COURSE_B = "course-b"


def _framework(app, lms) -> list[int]:
    """Three competencies on a four-level scale, in the sandbox platform's frameworks."""
    with new_session(app) as s:
        platform_id = s.scalars(select(Platform.id).where(Platform.issuer == lms.issuer)).one()
        found = make_framework(s, platform_id, ("Coaching", "Feedback", "Delegating"))
        s.commit()
        return [c.id for c in found]


def _user_id(app, sub: str) -> int:
    with new_session(app) as s:
        return s.scalars(select(User.id).where(User.sub == sub)).one()


def _mentor(person: Launched, competency: int, level: int = 3, capacity: int = 2) -> None:
    saved = person.post(
        person.base + "/profile",
        as_mentor="1",
        accepting_shown="1",
        accepting="1",
        capacity=str(capacity),
        **{f"mentor_level_{competency}": str(level)},
        time_zone="Europe/Paris",
        from_2="17",
        to_2="19",
        languages="en",
    )
    assert saved.status_code == 303, saved.text[:300]


def _mentee(person: Launched, competency: int, level: int = 1, target: int = 2) -> None:
    saved = person.post(
        person.base + "/profile",
        as_mentee="1",
        accepting_shown="1",
        **{f"mentee_level_{competency}": str(level), f"mentee_target_{competency}": str(target)},
        time_zone="Europe/Paris",
        from_2="17",
        to_2="19",
        languages="en",
        goals="Lead my first retrospective.",
    )
    assert saved.status_code == 303, saved.text[:300]


def _request_ids(app) -> list[int]:
    with new_session(app) as s:
        return list(s.scalars(select(Request.id).order_by(Request.id)))


def _refused(app, calls) -> None:
    """Each call is a readable 4xx page (or JSON error) and no row changes."""
    before = row_counts(app)
    for expected, call in calls:
        response = call()
        assert response.status_code == expected, (expected, response.text[:300])
        if "json" not in response.headers.get("Content-Type", ""):
            assert "<h1" in response.text
    assert row_counts(app) == before


def test_a_mentee_finds_asks_and_the_mentor_accepts(app, lms) -> None:
    rlid = mentoring_link(lms)
    ines = Launched(lms, "u-ines", rlid)
    coaching, feedback, _ = _framework(app, lms)
    targeted = ines.api(
        "PATCH", f"/programmes/{ines.programme_id}", json={"competency_ids": [coaching, feedback]}
    )
    assert targeted.status_code == 200, targeted.text
    lea = Launched(lms, "u-lea", rlid)
    amara = Launched(lms, "u-amara", rlid)
    chen = Launched(lms, "u-chen", rlid)
    _mentor(amara, coaching, level=3)
    _mentor(chen, coaching, level=4, capacity=1)
    _mentee(lea, coaching)
    page = lea.get(lea.base)
    assert "Find a mentor" in page.text and "My requests" in page.text
    assert "Requests to me" in amara.get(amara.base).text

    form = lea.get(lea.base + "/find")
    assert form.status_code == 200 and "What you want help with" in form.text
    assert f'name="target_{coaching}"' in form.text and "Mentors for you" not in form.text
    query = {
        "search": "1",
        f"level_{coaching}": "1",
        f"target_{coaching}": "2",
        "goal": "Lead my first retrospective.",
        "cadence_days": "14",
    }
    found = lea.get(lea.base + "/find", **query)
    assert found.status_code == 200, found.text[:300]
    text = found.text
    assert "Amara Okafor —" in text and "Chen Wei —" in text and "out of 100" in text
    for label in ("Competency fit", "Level gap", "Availability", "Free capacity", "Languages"):
        assert label in text, label
    assert "History" in text and "of 35 points" in text
    # Amara is one level above Lea's target and shares her evening: she ranks first
    assert text.index("Amara Okafor —") < text.index("Chen Wei —")
    assert "Ask Amara Okafor" in text and "Send to the mentor pool" not in text
    amara_id = _user_id(app, "u-amara")

    # bad input: a readable 4xx, nothing changes
    _refused(
        app,
        [
            (404, lambda: lea.get(lea.base + "/find", **{**query, "target_999999": "2"})),
            (400, lambda: lea.get(lea.base + "/find", **{**query, f"level_{coaching}": "2"})),
            (400, lambda: lea.get(lea.base + "/find", **{**query, "cadence_days": "soon"})),
            (400, lambda: lea.get(lea.base + "/find", **{**query, "cadence_days": "0"})),
            (
                400,
                lambda: lea.post(
                    lea.base + "/requests",
                    **{f"level_{coaching}": "3", f"target_{coaching}": "2"},
                    mentor_id=str(amara_id),
                ),
            ),
            (
                404,
                lambda: lea.post(
                    lea.base + "/requests",
                    **{"level_999999": "0", "target_999999": "1"},
                    mentor_id=str(amara_id),
                ),
            ),
            (400, lambda: lea.post(lea.base + "/requests", mentor_id=str(amara_id))),
            (
                409,
                lambda: lea.post(
                    lea.base + "/requests",
                    **{f"level_{coaching}": "1", f"target_{coaching}": "2"},
                    to_pool="1",
                ),
            ),
        ],
    )

    asked = lea.post(
        lea.base + "/requests",
        **{f"level_{coaching}": "1", f"target_{coaching}": "2"},
        goal="Lead my first retrospective.",
        cadence_days="14",
        mentor_id=str(amara_id),
    )
    assert asked.status_code == 303 and "saved=sent" in asked.headers["Location"]
    (request_id,) = _request_ids(app)
    mine = lea.get(lea.base + "/requests", saved="sent")
    assert "Request sent." in mine.text and "To Amara Okafor" in mine.text
    assert "Waiting for an answer" in mine.text and "expires" in mine.text
    to_me = amara.get(amara.base + "/requests/to-me")
    assert "From Lea Learner" in to_me.text and "Accept Lea Learner" in to_me.text
    assert "Lead my first retrospective." in to_me.text

    # the mentee cannot answer, another course's staff cannot see it, a bad decision is a 400
    b = lms.platform
    b.add_course(COURSE_B, "B-1", "Course B")
    b.add_person("u-bea", "Bea", "Teacher", "bea@example.edu")
    b.enroll("u-bea", COURSE_B, [INSTRUCTOR])
    link_b = b.add_resource_link(COURSE_B, CLIENT_ID, "Mentoring B", custom={"widget": "mentoring"})
    bea = Browser()
    page_b = launch(bea, lms, "u-bea", resource_link=link_b.resource_link_id, context=COURSE_B)
    assert page_b.status_code == 200
    bea_token, tool = token_of(page_b), tool_of(page_b)

    def as_bea(path: str, **data):
        return bea.http.post(
            tool + path, data={"lc": bea_token, **data}, allow_redirects=False, timeout=10
        )

    _refused(
        app,
        [
            (403, lambda: lea.post(f"/mentoring/requests/{request_id}/answer", decision="accept")),
            (404, lambda: as_bea(f"/mentoring/requests/{request_id}/answer", decision="accept")),
            (404, lambda: as_bea(f"/mentoring/requests/{request_id}/withdraw")),
            (
                404,
                lambda: bea.http.get(
                    tool + lea.base + "/requests", params={"lc": bea_token}, timeout=10
                ),
            ),
            (400, lambda: amara.post(f"/mentoring/requests/{request_id}/answer", decision="maybe")),
            (403, lambda: amara.post(f"/mentoring/requests/{request_id}/withdraw")),
        ],
    )

    accepted = amara.post(
        f"/mentoring/requests/{request_id}/answer", decision="accept", message="Gladly!"
    )
    assert accepted.status_code == 303 and "saved=accepted" in accepted.headers["Location"]
    assert "you are now paired" in amara.get(amara.base + "/requests/to-me", saved="accepted").text
    mine = lea.get(lea.base + "/requests").text
    assert "Accepted" in mine and "Gladly!" in mine and "Withdraw" not in mine
    with new_session(app) as s:
        pair = s.scalars(select(Pair)).one()
        assert pair.state == "proposed" and pair.cadence_days == 14
        kinds = sorted(m.kind for m in s.scalars(select(MailOutbox)))
        assert kinds == ["mentoring.answered", "mentoring.requested"]
    # answering twice is refused and changes nothing
    _refused(
        app,
        [
            (
                409,
                lambda: amara.post(f"/mentoring/requests/{request_id}/answer", decision="accept"),
            ),
            (
                409,
                lambda: amara.post(f"/mentoring/requests/{request_id}/answer", decision="decline"),
            ),
            (409, lambda: lea.post(f"/mentoring/requests/{request_id}/withdraw")),
        ],
    )

    # a request to Chen expires unanswered: shown as expired, refused to answer and to withdraw
    _mentee(lea, feedback, level=0, target=1)
    asked = lea.post(
        lea.base + "/requests",
        **{f"level_{coaching}": "1", f"target_{coaching}": "2"},
        mentor_id=str(_user_id(app, "u-chen")),
    )
    assert asked.status_code == 303, asked.text[:300]
    second = _request_ids(app)[-1]
    with new_session(app) as s:
        s.execute(
            update(Request)
            .where(Request.id == second)
            .values(expires_at=datetime.now(UTC) - timedelta(hours=1))
        )
        s.commit()
    assert "Expired" in lea.get(lea.base + "/requests").text
    _refused(
        app,
        [
            (409, lambda: chen.post(f"/mentoring/requests/{second}/answer", decision="accept")),
            (409, lambda: lea.post(f"/mentoring/requests/{second}/withdraw")),
        ],
    )


def test_withdraw_and_the_mentor_pool(app, lms) -> None:
    rlid = mentoring_link(lms, matching="mentor_pool")
    ines = Launched(lms, "u-ines", rlid)
    coaching, _, _ = _framework(app, lms)
    ines.api("PATCH", f"/programmes/{ines.programme_id}", json={"competency_ids": [coaching]})
    lea = Launched(lms, "u-lea", rlid)
    amara = Launched(lms, "u-amara", rlid)
    chen = Launched(lms, "u-chen", rlid)
    _mentor(amara, coaching)
    _mentor(chen, coaching)
    _mentee(lea, coaching)
    need = {f"level_{coaching}": "1", f"target_{coaching}": "2"}
    found = lea.get(lea.base + "/find", search="1", **need)
    assert "Send to the mentor pool" in found.text and "Ask Chen Wei" in found.text
    # ask Chen, then withdraw
    assert (
        lea.post(lea.base + "/requests", mentor_id=str(_user_id(app, "u-chen")), **need).status_code
        == 303
    )
    first = _request_ids(app)[-1]
    withdrawn = lea.post(f"/mentoring/requests/{first}/withdraw")
    assert withdrawn.status_code == 303 and "saved=withdrawn" in withdrawn.headers["Location"]
    assert "Withdrawn" in lea.get(lea.base + "/requests").text
    # to the pool: both mentors see it; Chen declines (it stays open for Amara), Amara accepts
    pooled = lea.post(lea.base + "/requests", to_pool="1", **need)
    assert pooled.status_code == 303, pooled.text[:300]
    pool_id = _request_ids(app)[-1]
    assert "To the mentor pool" in lea.get(lea.base + "/requests").text
    for mentor in (amara, chen):
        assert "(to the mentor pool)" in mentor.get(mentor.base + "/requests/to-me").text
    declined = chen.post(
        f"/mentoring/requests/{pool_id}/answer", decision="decline", message="Full"
    )
    assert declined.status_code == 303
    assert "(to the mentor pool)" not in chen.get(chen.base + "/requests/to-me").text
    assert amara.post(f"/mentoring/requests/{pool_id}/answer", decision="accept").status_code == 303
    assert "taken by Amara Okafor" in lea.get(lea.base + "/requests").text
    with new_session(app) as s:
        members = {m.role for m in s.scalars(select(PairMember))}
        assert members == {"mentor", "mentee"}


def _base_id(url: str) -> int:
    match = re.search(r"/mentoring/programmes/(\d+)", urlsplit(url).path)
    assert match
    return int(match.group(1))


def test_staff_preview_adjust_and_approve_a_bulk_matching(app, lms) -> None:
    rlid = mentoring_link(lms, matching="staff_bulk")
    ines = Launched(lms, "u-ines", rlid)
    coaching, _, _ = _framework(app, lms)
    ines.api("PATCH", f"/programmes/{ines.programme_id}", json={"competency_ids": [coaching]})
    ines.api("PATCH", f"/programmes/{ines.programme_id}", json={"exclude_lti_mentor": True})
    lea = Launched(lms, "u-lea", rlid)
    amara = Launched(lms, "u-amara", rlid)
    grace = Launched(lms, "u-grace", rlid)  # the LMS names her Lea's mentor
    chen = Launched(lms, "u-chen", rlid)
    diego = Launched(lms, "u-diego", rlid)
    _mentee(lea, coaching)
    _mentee(amara, coaching)
    _mentor(grace, coaching, level=3, capacity=2)
    _mentor(chen, coaching, level=4, capacity=1)
    _mentor(diego, coaching, level=3, capacity=1)
    ids = {k: _user_id(app, f"u-{k}") for k in ("lea", "amara", "grace", "chen", "diego")}
    # learners are told staff match; they have no find form and no bulk page
    assert "staff match mentors and mentees" in lea.get(lea.base + "/find").text
    assert "Bulk matching" in ines.get(ines.base).text
    _refused(
        app,
        [
            (403, lambda: lea.get(lea.base + "/bulk")),
            (
                403,
                lambda: lea.post(
                    lea.base + "/bulk/approve", **{f"mentor_{ids['lea']}": str(ids["chen"])}
                ),
            ),
            (
                409,
                lambda: lea.post(
                    lea.base + "/requests",
                    **{f"level_{coaching}": "1", f"target_{coaching}": "2"},
                    mentor_id=str(ids["chen"]),
                ),
            ),
        ],
    )
    preview = ines.get(ines.base + "/bulk")
    assert preview.status_code == 200, preview.text[:500]
    text = preview.text
    assert "The best matching" in text and "Greedy baseline" in text
    assert "Lea Learner with" in text and "Amara Okafor with" in text and "out of 100" in text
    # Grace is Lea's LMS mentor: never offered to Lea
    lea_select = re.search(rf'name="mentor_{ids["lea"]}">(.*?)</select>', text, re.S).group(1)
    assert f'value="{ids["grace"]}"' not in lea_select and f'value="{ids["chen"]}"' in lea_select

    # adjust: Lea to Diego, Amara to no one; an impossible choice is a readable 409
    adjusted = ines.get(
        ines.base + "/bulk",
        adjusted="1",
        **{f"mentor_{ids['lea']}": str(ids["diego"]), f"mentor_{ids['amara']}": ""},
    )
    assert adjusted.status_code == 200 and "Your adjusted matching" in adjusted.text
    # the page's "Update the preview" posts the choices and lands on that address
    updated = ines.post(
        ines.base + "/bulk",
        **{f"mentor_{ids['lea']}": str(ids["diego"]), f"mentor_{ids['amara']}": ""},
    )
    assert updated.status_code == 303
    location = updated.headers["Location"]
    assert "adjusted=1" in location and f"mentor_{ids['lea']}={ids['diego']}" in location
    assert "Lea Learner with Diego" in adjusted.text and "No mentor chosen" in adjusted.text
    _refused(
        app,
        [
            (
                409,
                lambda: ines.get(
                    ines.base + "/bulk", adjusted="1", **{f"mentor_{ids['lea']}": str(ids["grace"])}
                ),
            ),
            (
                409,
                lambda: ines.post(
                    ines.base + "/bulk/approve", **{f"mentor_{ids['lea']}": str(ids["grace"])}
                ),
            ),
            (
                409,
                lambda: ines.post(
                    ines.base + "/bulk/approve",
                    **{
                        f"mentor_{ids['lea']}": str(ids["chen"]),
                        f"mentor_{ids['amara']}": str(ids["chen"]),
                    },
                ),
            ),
            (
                409,
                lambda: ines.post(
                    ines.base + "/bulk/approve", **{f"mentor_{ids['grace']}": str(ids["chen"])}
                ),
            ),
            (400, lambda: ines.post(ines.base + "/bulk/approve", **{f"mentor_{ids['lea']}": "x"})),
            (400, lambda: ines.post(ines.base + "/bulk/approve")),
        ],
    )
    approved = ines.post(
        ines.base + "/bulk/approve",
        **{f"mentor_{ids['lea']}": str(ids["diego"]), f"mentor_{ids['amara']}": str(ids["grace"])},
    )
    assert approved.status_code == 303 and "saved=2" in approved.headers["Location"]
    after = ines.get(ines.base + "/bulk", saved="2").text
    assert "2 pairs made" in after and "No one is waiting for a mentor." in after
    with new_session(app) as s:
        made = {(m.user_id, m.role) for m in s.scalars(select(PairMember))}
        assert made == {
            (ids["lea"], "mentee"),
            (ids["diego"], "mentor"),
            (ids["amara"], "mentee"),
            (ids["grace"], "mentor"),
        }
        mails = s.scalars(select(MailOutbox).where(MailOutbox.kind == "mentoring.matched")).all()
        assert len(mails) == 4
    # approving the same pairs again: they are no longer waiting
    _refused(
        app,
        [
            (
                409,
                lambda: ines.post(
                    ines.base + "/bulk/approve", **{f"mentor_{ids['lea']}": str(ids["diego"])}
                ),
            )
        ],
    )


def test_the_bulk_json_api(app, lms) -> None:
    rlid = mentoring_link(lms, matching="staff_bulk")
    ines = Launched(lms, "u-ines", rlid)
    coaching, _, _ = _framework(app, lms)
    ines.api("PATCH", f"/programmes/{ines.programme_id}", json={"competency_ids": [coaching]})
    lea = Launched(lms, "u-lea", rlid)
    chen = Launched(lms, "u-chen", rlid)
    _mentee(lea, coaching)
    _mentor(chen, coaching, level=3)
    lea_id, chen_id = _user_id(app, "u-lea"), _user_id(app, "u-chen")
    base = f"/programmes/{ines.programme_id}/bulk"
    shown = ines.api("POST", base + "/preview", json={})
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert [(p["mentee"]["user_id"], p["mentor"]["user_id"]) for p in body["pairs"]] == [
        (lea_id, chen_id)
    ]
    assert len(body["pairs"][0]["score"]["parts"]) == 6 and body["total"] == body["optimal_total"]
    assert body["options"][str(lea_id)][0]["mentor_id"] == chen_id
    removed = ines.api(
        "POST", base + "/preview", json={"pairs": [{"mentee_id": lea_id, "mentor_id": None}]}
    )
    assert removed.json()["pairs"] == [] and removed.json()["adjusted"] is True
    before = row_counts(app)
    assert lea.api("POST", base + "/preview", json={}).status_code == 403
    bad = ines.api(
        "POST", base + "/approve", json={"pairs": [{"mentee_id": lea_id, "mentor_id": lea_id}]}
    )
    assert bad.status_code == 409 and "mentor" in bad.json()["message"]
    assert ines.api("POST", base + "/approve", json={"pairs": []}).status_code == 422
    assert row_counts(app) == before
    made = ines.api(
        "POST", base + "/approve", json={"pairs": [{"mentee_id": lea_id, "mentor_id": chen_id}]}
    )
    assert made.status_code == 201, made.text
    assert made.json()["pairs"][0]["state"] == "proposed"
    assert made.json()["pairs"][0]["mentor_id"] == chen_id
    assert _base_id(ines.page.url) == ines.programme_id
