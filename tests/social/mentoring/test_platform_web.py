"""Platform-wide programmes and invitations to mentor through the real launch from the sandbox
LMS: an administrator makes a programme, two courses' links join it and their people take part;
course staff cannot make or change it; staff invite a suggested mentor, who accepts (or
declines, for good). Bad input is a readable 4xx that changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from plugin.db import new_session
from plugin.lti.models import User
from plugin.mail.models import MailOutbox
from plugin.social.mentoring.models import (
    Invitation,
    Profile,
    Programme,
    ProgrammeCompetency,
)
from tests.conftest import CLIENT_ID, row_counts
from tests.social.mentoring.platform_world import ADMIN, add_admin, endorsed_answers
from tests.social.mentoring.test_mentoring_web import Launched, mentoring_link

COURSE_2 = "course-two"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def _second_course(lms) -> None:
    lms.platform.add_course(COURSE_2, "C-2", "Course two")
    lms.platform.add_person("u-bea", "Bea", "Teacher", "bea@example.edu")
    lms.platform.add_person("u-bo", "Bo", "Learner", "bo@example.edu")
    lms.platform.enroll("u-bea", COURSE_2, [INSTRUCTOR])
    lms.platform.enroll("u-bo", COURSE_2, [LEARNER])


class LaunchedIn(Launched):
    """Launched into a Mentoring link of another course than the sandbox's demo course."""

    def __init__(self, lms, user: str, rlid: str, context: str) -> None:
        from urllib.parse import urlsplit

        from tests.social.social_web import tool_of
        from tests.support.browser import Browser
        from tests.support.lti import launch, token_of

        self.browser = Browser()
        self.page = launch(self.browser, lms, user, resource_link=rlid, context=context)
        assert self.page.status_code == 200, self.page.text[:500]
        self.programme_id = int(urlsplit(self.page.url).path.rsplit("/", 1)[1])
        self.token = token_of(self.page)
        self.tool = tool_of(self.page)
        self.base = f"/mentoring/programmes/{self.programme_id}"


def _link_in(lms, context: str) -> str:
    link = lms.platform.add_resource_link(
        context, CLIENT_ID, "Mentoring", custom={"widget": "mentoring"}
    )
    return link.resource_link_id


def test_two_courses_join_a_platform_wide_programme(app, lms, lms_factory) -> None:
    _second_course(lms)
    add_admin(lms)
    ada = Launched(lms, ADMIN, mentoring_link(lms))
    rl1 = mentoring_link(lms)
    ines = Launched(lms, "u-ines", rl1)
    # administrators list and make platform-wide programmes; course staff cannot
    page = ada.get("/mentoring/platform-programmes")
    assert page.status_code == 200 and "No platform-wide programme yet." in page.text
    assert "Platform-wide programmes" in ada.get(ada.base).text  # the nav offers it to admins
    assert "Platform-wide programmes" not in ines.get(ines.base).text
    before = row_counts(app)
    assert ines.get("/mentoring/platform-programmes").status_code == 403
    assert ines.post("/mentoring/platform-programmes", title="Mine").status_code == 403
    assert ines.api("POST", "/platform-programmes", json={"title": "Mine"}).status_code == 403
    for bad in (
        {"cadence_days": "0"},
        {"title": " "},
        {"kind": "trio"},
        {"who_mentors": "course_group"},
    ):
        fields = {
            "title": "Across",
            "kind": "one_to_one",
            "matching": "mentee_choice",
            "enrolment": "open",
            "who_mentors": "anyone",
            "duration_days": "180",
            "cadence_days": "14",
            "default_capacity": "2",
            "escalation_hours": "72",
            **bad,
        }
        refused = ada.post("/mentoring/platform-programmes", **fields)
        assert refused.status_code == 400 and "<h1" in refused.text, bad
    assert row_counts(app) == before
    made = ada.post(
        "/mentoring/platform-programmes",
        title="Leaders across courses",
        kind="one_to_one",
        matching="mentee_choice",
        enrolment="open",
        who_mentors="anyone",
        duration_days="180",
        cadence_days="14",
        default_capacity="3",
        escalation_hours="48",
    )
    assert made.status_code == 303 and "saved=1" in made.headers["Location"]
    with new_session(app) as s:
        across = s.scalars(select(Programme).where(Programme.context_id.is_(None))).one()
        assert (across.title, across.cadence_days, across.default_capacity) == (
            "Leaders across courses",
            14,
            3,
        )
        across_id = across.id
    listed = ada.api("GET", "/platform-programmes").json()
    assert [(p["title"], p["links"], p["platform_wide"]) for p in listed] == [
        ("Leaders across courses", 0, True)
    ]
    # course 1: Ines joins her link on the settings page
    settings = ines.get(ines.base + "/settings")
    assert (
        "Open a platform-wide programme" in settings.text
        and "Leaders across courses" in settings.text
    )
    assert (
        ines.post(ines.base + "/platform-programme", platform_programme_id="x").status_code == 400
    )
    joined = ines.post(ines.base + "/platform-programme", platform_programme_id=str(across_id))
    assert (
        joined.status_code == 303
        and f"/mentoring/programmes/{across_id}?" in joined.headers["Location"]
    )
    with new_session(app) as s:
        assert s.get(Programme, ines.programme_id) is None  # the emptied course programme
    # course 2: Bea joins hers through the API
    rl2 = _link_in(lms, COURSE_2)
    bea = LaunchedIn(lms, "u-bea", rl2, COURSE_2)
    put = bea.api(
        "PUT",
        f"/programmes/{bea.programme_id}/platform-programme",
        json={"platform_programme_id": across_id},
    )
    assert put.status_code == 200, put.text
    assert put.json()["platform_wide"] is True and put.json()["may_manage"] is False
    # both courses' people now open the one programme and take part
    lea = Launched(lms, "u-lea", rl1)
    bo = LaunchedIn(lms, "u-bo", rl2, COURSE_2)
    assert lea.programme_id == bo.programme_id == across_id
    assert "Platform-wide" in lea.page.text
    assert lea.post(lea.base + "/profile", as_mentee="1").status_code == 303
    assert bo.post(bo.base + "/profile", as_mentor="1").status_code == 303
    ada_sees = ada.get(f"/mentoring/programmes/{across_id}/roster")
    assert ada_sees.status_code == 200 and "Lea" in ada_sees.text and "Bo Learner" in ada_sees.text
    assert ada.api("GET", "/platform-programmes").json()[0]["courses"] == 2
    # course staff cannot change it
    before = row_counts(app)
    assert (
        bea.post(
            bea.base.replace(str(bea.programme_id), str(across_id)) + "/settings", title="Ours"
        ).status_code
        == 403
    )
    assert bea.api("PATCH", f"/programmes/{across_id}", json={"cadence_days": 7}).status_code == 403
    assert row_counts(app) == before
    # the administrator changes it from its settings page
    changed = ada.api("PATCH", f"/programmes/{across_id}", json={"cadence_days": 21})
    assert changed.status_code == 200 and changed.json()["cadence_days"] == 21


def test_joining_is_refused_once_people_opted_in_and_across_platforms(
    app, lms, lms_factory
) -> None:
    add_admin(lms)
    ada = Launched(lms, ADMIN, mentoring_link(lms))
    made = ada.api("POST", "/platform-programmes", json={"title": "Across", "cadence_days": 7})
    assert made.status_code == 201 and made.json()["platform_wide"] is True, made.text
    across_id = made.json()["id"]
    rlid = mentoring_link(lms)
    ines = Launched(lms, "u-ines", rlid)
    lea = Launched(lms, "u-lea", rlid)
    assert lea.post(lea.base + "/profile", as_mentee="1").status_code == 303
    before = row_counts(app)
    refused = ines.post(ines.base + "/platform-programme", platform_programme_id=str(across_id))
    assert refused.status_code == 409 and "already opted in" in refused.text
    assert "keeps opening it" in ines.get(ines.base + "/settings").text
    assert (
        lea.post(lea.base + "/platform-programme", platform_programme_id=str(across_id)).status_code
        == 403
    )
    # another platform's administrator and staff: its programme is not found here
    other = lms_factory("LMS two")
    add_admin(other)
    their_ada = Launched(other, ADMIN, mentoring_link(other))
    theirs = their_ada.api("POST", "/platform-programmes", json={"title": "Theirs"}).json()["id"]
    assert [p["id"] for p in their_ada.api("GET", "/platform-programmes").json()] == [theirs]
    fresh = Launched(lms, "u-ines", mentoring_link(lms))
    before = row_counts(app)
    cross = fresh.post(fresh.base + "/platform-programme", platform_programme_id=str(theirs))
    assert cross.status_code == 404
    assert fresh.get(f"/mentoring/programmes/{theirs}").status_code == 404
    assert their_ada.get(f"/mentoring/programmes/{across_id}/settings").status_code == 404
    assert row_counts(app) == before
    # a course programme that is platform-wide already, or not a platform-wide target
    with new_session(app) as s:
        assert (
            s.scalar(
                select(func.count()).select_from(Programme).where(Programme.context_id.is_(None))
            )
            == 2
        )
    assert (
        fresh.post(
            fresh.base + "/platform-programme", platform_programme_id=str(fresh.programme_id)
        ).status_code
        == 404
    )


def test_staff_invite_a_suggested_mentor_who_accepts_or_declines(app, lms) -> None:
    answers = endorsed_answers(lms, repliers=("u-amara", "u-benjamin"))
    rlid = mentoring_link(lms)
    ines = Launched(lms, "u-ines", rlid)
    base = f"/programmes/{ines.programme_id}"
    roster = ines.get(ines.base + "/roster")
    assert (
        "Suggested mentors" in roster.text and "No one to suggest." in roster.text
    )  # no targets yet
    assert (
        ines.api(
            "PATCH",
            base,
            json={"who_mentors": "staff_nominated", "competency_ids": [answers.competency_id]},
        ).status_code
        == 200
    )
    roster = ines.get(ines.base + "/roster")
    assert f"1 endorsed answer on {answers.competency_name}" in roster.text
    assert (
        "Invite Amara Okafor to mentor" in roster.text
        and "Invite Benjamin Hartley to mentor" in roster.text
    )
    with new_session(app) as s:
        people = {u.sub: u.id for u in s.scalars(select(User))}
    amara, benjamin = people["u-amara"], people["u-benjamin"]
    lea = Launched(lms, "u-lea", rlid)
    before = row_counts(app)
    assert (
        lea.post(
            lea.base + "/invitations", user_id=str(amara), competency_ids=str(answers.competency_id)
        ).status_code
        == 403
    )
    assert lea.api("GET", base + "/suggested-mentors").status_code == 403
    assert ines.post(ines.base + "/invitations", user_id="abc").status_code == 400
    assert ines.post(ines.base + "/invitations", user_id=str(amara)).status_code == 400
    assert (
        ines.post(
            ines.base + "/invitations", user_id=str(amara), competency_ids="999999"
        ).status_code
        == 404
    )
    assert row_counts(app) == before
    invited = ines.post(
        ines.base + "/invitations", user_id=str(amara), competency_ids=str(answers.competency_id)
    )
    assert invited.status_code == 303 and "saved=invited" in invited.headers["Location"]
    assert "Invited: waiting for their answer." in ines.get(ines.base + "/roster").text
    again = ines.post(
        ines.base + "/invitations", user_id=str(amara), competency_ids=str(answers.competency_id)
    )
    assert again.status_code == 409 and "has been invited already" in again.text
    with new_session(app) as s:
        mail = s.scalars(select(MailOutbox).where(MailOutbox.user_id == amara)).one()
        assert mail.kind == "mentoring.invitation" and answers.competency_name in mail.subject
        assert "only if you accept" in mail.text_body
        invitation = s.scalars(select(Invitation).where(Invitation.user_id == amara)).one()
        assert s.scalar(select(Profile).where(Profile.user_id == amara)) is None  # not yet
    # Amara sees the invitation on the programme page; nobody else may answer it
    amara_in = Launched(lms, "u-amara", rlid)
    assert "You are invited to mentor" in amara_in.page.text
    assert "You are invited to mentor" not in lea.get(lea.base).text
    assert (
        lea.post(f"/mentoring/invitations/{invitation.id}/answer", answer="accept").status_code
        == 404
    )
    assert (
        ines.api("POST", f"/invitations/{invitation.id}/answer", json={"accept": True}).status_code
        == 404
    )
    assert (
        amara_in.post(f"/mentoring/invitations/{invitation.id}/answer", answer="maybe").status_code
        == 400
    )
    mine = amara_in.api("GET", base + "/invitation")
    assert mine.status_code == 200 and mine.json()["competencies"] == [
        {"id": answers.competency_id, "name": answers.competency_name}
    ]
    accepted = amara_in.post(f"/mentoring/invitations/{invitation.id}/answer", answer="accept")
    assert accepted.status_code == 303 and "saved=invitation-accept" in accepted.headers["Location"]
    page = amara_in.get(amara_in.base, saved="invitation-accept")
    assert "You are now a mentor" in page.text and "You are invited to mentor" not in page.text
    with new_session(app) as s:
        profile = s.scalars(select(Profile).where(Profile.user_id == amara)).one()
        assert (profile.is_mentor, profile.nominated, profile.is_mentee) == (True, True, False)
    assert (
        amara_in.post(
            f"/mentoring/invitations/{invitation.id}/answer", answer="decline"
        ).status_code
        == 409
    )
    # Benjamin declines through the API: never invited again, no longer suggested
    made = ines.api(
        "POST",
        base + "/invitations",
        json={"user_id": benjamin, "competency_ids": [answers.competency_id]},
    )
    assert made.status_code == 201 and made.json()["state"] == "pending", made.text
    ben = Launched(lms, "u-benjamin", rlid)
    declined = ben.api("POST", f"/invitations/{made.json()['id']}/answer", json={"accept": False})
    assert declined.status_code == 200 and declined.json()["state"] == "declined"
    assert ben.api("GET", base + "/invitation").status_code == 404
    assert ines.api("GET", base + "/suggested-mentors").json() == []  # Amara mentors, Ben declined
    refused = ines.api(
        "POST",
        base + "/invitations",
        json={"user_id": benjamin, "competency_ids": [answers.competency_id]},
    )
    assert refused.status_code == 409 and "not invited again" in refused.json()["message"]
    states = {i["name"]: i["state"] for i in ines.api("GET", base + "/invitations").json()}
    assert states == {"Amara Okafor": "accepted", "Benjamin Hartley": "declined"}
    with new_session(app) as s:
        assert s.scalar(select(Profile).where(Profile.user_id == benjamin)) is None
        assert s.scalar(select(func.count()).select_from(ProgrammeCompetency)) == 1


def test_the_e_mail_preferences_page(app, lms) -> None:
    from plugin.mail.models import MailPreference

    lea = Launched(lms, "u-lea", mentoring_link(lms))
    assert "E-mail preferences" in lea.page.text
    page = lea.get("/mail/preferences")
    assert page.status_code == 200 and "<h1>E-mail preferences</h1>" in page.text
    for label in (
        "Invitations to mentor",
        "Mentoring requests to you",
        "Answers to your mentoring requests",
    ):
        assert label in page.text
    assert page.text.count('type="checkbox"') == page.text.count("checked") >= 3
    assert lea.browser.http.get(lea.tool + "/mail/preferences", timeout=10).status_code == 401
    before = row_counts(app)
    assert lea.post("/mail/preferences", kind="no.such.kind").status_code == 400
    assert row_counts(app) == before
    saved = lea.post("/mail/preferences", kind=["mentoring.requested", "mentoring.answered"])
    assert saved.status_code == 303 and "saved=1" in saved.headers["Location"]
    page = lea.get("/mail/preferences", saved="1")
    assert "Preferences saved." in page.text
    assert (
        'value="mentoring.invitation" >' in page.text
        or 'value="mentoring.invitation"  >' in page.text
    )
    with new_session(app) as s:
        off = {(p.kind, p.delivery) for p in s.scalars(select(MailPreference))}
        assert ("mentoring.invitation", "off") in off
        assert ("mentoring.requested", "off") not in off
    assert (
        lea.post(
            "/mail/preferences",
            kind=["mentoring.invitation", "mentoring.requested", "mentoring.answered"],
        ).status_code
        == 303
    )
    with new_session(app) as s:
        assert ("mentoring.invitation", "immediate") in {
            (p.kind, p.delivery) for p in s.scalars(select(MailPreference))
        }


def test_the_invitation_e_mail_reaches_the_invitee_over_smtp(app, lms) -> None:
    """The invitation, queued in the act, is sent by the worker to a real SMTP server: to the
    invitee's address, naming the programme and competency, with the unsubscribe link of its
    kind."""
    from plugin.mail.delivery import MailConfig, send_once
    from tests.mail.conftest import SmtpServer

    answers = endorsed_answers(lms)
    rlid = mentoring_link(lms)
    ines = Launched(lms, "u-ines", rlid)
    targets = {"competency_ids": [answers.competency_id]}
    assert ines.api("PATCH", f"/programmes/{ines.programme_id}", json=targets).status_code == 200
    with new_session(app) as s:
        amara = s.scalars(select(User.id).where(User.sub == "u-amara")).one()
    invited = ines.post(
        ines.base + "/invitations", user_id=str(amara), competency_ids=str(answers.competency_id)
    )
    assert invited.status_code == 303
    server = SmtpServer().start()
    try:
        config = MailConfig(
            host="127.0.0.1",
            port=server.port,
            mail_from='"Learning Commons" <noreply@commons.test>',
            base_url=app.config["MAIL_BASE_URL"],
            secret_key=app.config["SECRET_KEY"],
            timeout=5.0,
        )
        assert send_once(lambda: new_session(app), config).sent == 1
    finally:
        server.stop()
    (message,) = server.sink.messages
    assert "amara.okafor@example.edu" in message["To"]
    assert message["Subject"] == f"An invitation to mentor: {answers.competency_name}"
    text = message.get_body(("plain",)).get_content()
    assert "Peer mentoring" in text and "only if you accept" in text
    assert "Invitations to mentor" in text and "/mail/unsubscribe/" in message["List-Unsubscribe"]
