"""One world for the whole-app tests (the authorization matrix and the OpenAPI fuzzing), built
through real launches from the sandbox LMS and the tool's own API, once per test module.

Platform 1, course A ("Leadership Foundations"): Ines (instructor), Lea (learner; she wrote the
thread and its posts), Amara (a learner who wrote nothing), Benjamin (a learner who replied and
reported one of Lea's posts, then was muted), Grace (an LTI Mentor). Two boards: the main one
(mentors do not moderate it) and one with ``mentors_moderate`` on. Platform 1, course B: Bea
(instructor) and Bo (learner). Platform 2: its own Ines (instructor). Course A also has a
Mentoring programme (made by Ines's launch of its link) that Amara joined as a mentee, where
Ines invited Benjamin to mentor; platform 1 has a platform-wide programme. Course A has a
Development plan link: Lea's plan (made by her launch of it) has one goal.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from plugin.db import new_session, utcnow
from plugin.lti.models import Placement, User
from plugin.social.mentoring import pairs, programmes, reminders
from plugin.social.mentoring.models import Programme, Pulse
from plugin.social.models import Notification
from plugin.xapi.models import XapiOutbox
from tests.conftest import CLIENT_ID, DEPLOYMENT_ID, Lms, register_platform_with_tool
from tests.performance.perf_world import MOODLE_CSV
from tests.social.social_web import COURSE, Person, board_link
from tests.support.browser import Browser
from tests.support.lti import launch
from tests.support.servers import LiveServer

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
COURSE_B = "course-b"


def make_lms(app: Flask, lms_server: LiveServer, tool_server: LiveServer, name: str) -> Lms:
    """A sandbox platform on the shared LMS server, registered on both sides (as the ``lms``
    fixtures do, but for a module-wide world)."""
    prefix = f"/lms-{uuid.uuid4().hex[:8]}"
    lms = Lms(lms_server, prefix, name)
    lms_server.dispatch[prefix] = lms.app  # type: ignore[attr-defined]
    lms.register_tool(tool_server.url, CLIENT_ID, [DEPLOYMENT_ID])
    register_platform_with_tool(app, lms, CLIENT_ID, [DEPLOYMENT_ID])
    return lms


@dataclass
class World:
    lms: Lms
    other_lms: Lms
    people: dict[str, Person]  # who → their launch (browser, token, board)
    ids: dict[str, int] = field(default_factory=dict)  # what → a row of course A (or platform 1)
    statement_ids: list[str] = field(default_factory=list)  # course A's xAPI statements

    def token(self, who: str) -> str:
        return self.people[who].token

    @property
    def tool(self) -> str:
        return next(iter(self.people.values())).tool

    def api(self, who: str, method: str, path: str, **kw):
        """Call /api as someone (their launch token as a Bearer token)."""
        person = self.people[who]
        headers = {"Authorization": f"Bearer {person.token}"}
        return person.browser.http.request(
            method, person.tool + "/api" + path, headers=headers, timeout=30, **kw
        )


def _ok(response, status: int = 200):
    assert response.status_code == status, (response.request.url, response.text[:500])
    return response.json() if response.content else None


def build_world(app: Flask, lms_server: LiveServer, tool_server: LiveServer) -> World:
    lms = make_lms(app, lms_server, tool_server, "LMS one")
    other = make_lms(app, lms_server, tool_server, "LMS two")
    platform = lms.platform
    platform.add_course(COURSE_B, "B-1", "Course B")
    platform.add_person("u-bea", "Bea", "Teacher", "bea@example.edu")
    platform.add_person("u-bo", "Bo", "Learner", "bo@example.edu")
    platform.enroll("u-bea", COURSE_B, [INSTRUCTOR])
    platform.enroll("u-bo", COURSE_B, [LEARNER])

    main, mentored = board_link(lms), board_link(lms, mentors_moderate="true")
    people = {
        "staff_a": Person(lms, "u-ines", main),
        "author_a": Person(lms, "u-lea", main),
        "learner_a": Person(lms, "u-amara", main),
        "replier_a": Person(lms, "u-benjamin", main),
        "mentor_a": Person(lms, "u-grace", main),
        "learner_b": Person(lms, "u-bo", board_link(lms, COURSE_B), context=COURSE_B),
        "staff_b": Person(lms, "u-bea", board_link(lms, COURSE_B), context=COURSE_B),
        "other_tenant": Person(other, "u-ines", board_link(other)),
        # the board mentors moderate, as its author and its mentor see it
        "author_m": Person(lms, "u-lea", mentored),
        "mentor_m": Person(lms, "u-grace", mentored),
    }
    world = World(lms, other, people)
    ids = world.ids
    ids["board"] = people["staff_a"].board_id
    ids["board_m"] = people["author_m"].board_id
    assert ids["board"] != ids["board_m"]

    # A framework of platform 1, its competencies linked to the board.
    upload = ("oecd.csv", MOODLE_CSV.read_bytes(), "text/csv")
    framework = _ok(world.api("staff_a", "POST", "/frameworks/import", files={"file": upload}), 201)
    ids["framework"] = framework["framework_id"]
    items = _ok(world.api("staff_a", "GET", f"/frameworks/{ids['framework']}/competencies"))
    ids["competency"] = items["items"][0]["id"]
    _ok(
        world.api(
            "staff_a",
            "PUT",
            f"/boards/{ids['board']}/competencies",
            json={"competency_ids": [ids["competency"]]},
        )
    )

    # Lea's question, a reply and a comment of hers; Benjamin replies and reports her reply.
    board = ids["board"]
    made = _ok(
        world.api(
            "author_a",
            "POST",
            f"/boards/{board}/threads",
            json={"title": "How do you give feedback?", "body": "I use SBI.", "kind": "question"},
        ),
        201,
    )
    ids["thread"], ids["opening"] = made["thread"]["id"], made["opening"]["id"]
    thread = ids["thread"]
    ids["post"] = _ok(
        world.api("author_a", "POST", f"/threads/{thread}/posts", json={"body": "Also: listen."}),
        201,
    )["id"]
    ids["reply_b"] = _ok(
        world.api("replier_a", "POST", f"/threads/{thread}/posts", json={"body": "Ask first."}),
        201,
    )["id"]
    ids["report"] = _ok(
        world.api("replier_a", "POST", f"/posts/{ids['post']}/reports", json={"reason": "spam"}),
        201,
    )["id"]
    # On the board mentors moderate: a thread of Lea's, reported by Benjamin.
    made_m = _ok(
        world.api(
            "author_m",
            "POST",
            f"/boards/{ids['board_m']}/threads",
            json={"title": "Mentored talk", "body": "Hello mentors."},
        ),
        201,
    )
    ids["thread_m"], ids["post_m"] = made_m["thread"]["id"], made_m["opening"]["id"]

    # A cohort made by staff; Benjamin muted.
    ids["cohort"] = _ok(world.api("staff_a", "POST", "/cohorts", json={"name": "Evening"}), 201)[
        "id"
    ]
    with new_session(app) as session:
        users = {
            u.sub: u.id for u in session.scalars(select(User).where(User.issuer == lms.issuer))
        }
        ids["member"] = users["u-benjamin"]
        ids["placement"] = session.scalars(
            select(Placement.id).where(Placement.resource_link_id == main)
        ).one()
        ids["notification"] = session.scalars(
            select(Notification.id)
            .where(Notification.user_id == users["u-lea"])
            .order_by(Notification.id)
        ).first()
        assert ids["notification"] is not None, "Lea was not notified of Benjamin's reply"
        world.statement_ids = list(
            session.scalars(
                select(XapiOutbox.statement_id).where(XapiOutbox.actor_user_id == users["u-lea"])
            )
        )
    _ok(world.api("staff_a", "PUT", f"/mutes/{ids['member']}", json={"reason": "a break"}))
    ids["platform"] = _platform_id(app, lms)
    _mentoring(app, world)
    _mentoring_pulse(app, world)
    _plan(world)
    assert COURSE  # course A is the sandbox's demo course
    return world


def _mentoring(app: Flask, world: World) -> None:
    """Course A's mentoring programme (Ines launches its link first), targeting the framework's
    first competency; Amara opts in as a mentee; Ines invites Benjamin to mentor. A platform-wide
    programme of platform 1 (a row: the world has no administrator)."""
    lms, ids = world.lms, world.ids
    custom = {"widget": "mentoring", "setting_cadence_days": "14"}
    link = lms.platform.add_resource_link(COURSE, CLIENT_ID, "Mentoring", custom=custom)
    staff = Browser()
    page = launch(staff, lms, "u-ines", resource_link=link.resource_link_id, context=COURSE)
    match = re.search(r"/mentoring/programmes/(\d+)", page.url)
    assert page.status_code == 200 and match, (page.url, page.text[:300])
    ids["programme"] = int(match.group(1))
    programme = f"/mentoring/programmes/{ids['programme']}"
    _ok(world.api("staff_a", "PATCH", programme, json={"competency_ids": [ids["competency"]]}))
    competency = ids["competency"]
    _ok(
        world.api(
            "learner_a",
            "PUT",
            programme + "/profile",
            json={
                "as_mentee": True,
                "mentee_competencies": [{"competency_id": competency, "level": 0, "target": 1}],
            },
        )
    )
    mentor = _ok(
        world.api(
            "mentor_a",
            "PUT",
            programme + "/profile",
            json={
                "as_mentor": True,
                "mentor_competencies": [{"competency_id": competency, "level": 2}],
            },
        )
    )
    ids["mentor"] = mentor["user_id"]
    ids["request"] = _ok(
        world.api(
            "learner_a",
            "POST",
            programme + "/requests",
            json={
                "competencies": [{"competency_id": competency, "level": 0, "target": 1}],
                "mentor_id": ids["mentor"],
            },
        ),
        201,
    )["id"]
    ids["invitation"] = _ok(
        world.api(
            "staff_a",
            "POST",
            programme + "/invitations",
            json={"user_id": ids["member"], "competency_ids": [competency]},
        ),
        201,
    )["id"]
    with new_session(app) as session:
        platform_wide = Programme(
            platform_id=ids["platform"],
            context_id=None,
            title="Across courses",
            who_mentors="anyone",
            exclude_lti_mentor=False,
            **programmes.settings_from_placement({}),
        )
        session.add(platform_wide)
        session.commit()
        ids["platform_programme"] = platform_wide.id
    _pair(world, programme, competency)


def _pair(world: World, programme: str, competency: int) -> None:
    """A proposed mentorship of course A: Lea (a mentee) asked Grace, who accepted; Amara and
    Benjamin are other members of the course (not in it)."""
    ids = world.ids
    need = [{"competency_id": competency, "level": 0, "target": 1}]
    _ok(world.api("author_a", "PUT", programme + "/profile", json={"as_mentee": True}))
    asked = _ok(
        world.api(
            "author_a",
            "POST",
            programme + "/requests",
            json={"competencies": need, "mentor_id": ids["mentor"]},
        ),
        201,
    )
    _ok(
        world.api(
            "mentor_a", "POST", f"/mentoring/requests/{asked['id']}/answer", json={"accept": True}
        )
    )
    (pair,) = _ok(world.api("author_a", "GET", programme + "/pairs"))
    ids["pair"] = pair["id"]


def _mentoring_pulse(app: Flask, world: World) -> None:
    """An active mentorship of Benjamin (mentor) and Lea (mentee) in course A's programme, a month
    old, and the pulse surveys the worker made for it: ``pulse`` is Lea's."""
    ids = world.ids
    now = utcnow()
    with new_session(app) as session:
        programme = session.get(Programme, ids["programme"])
        lea = session.scalars(
            select(User.id).where(User.sub == "u-lea", User.platform_id == programme.platform_id)
        ).one()
        pair = pairs.propose(
            session,
            programme,
            mentor_ids=[ids["member"]],
            mentee_ids=[lea],
            competency_ids=[ids["competency"]],
            cadence_days=14,
            goals="",
            when=now - timedelta(days=31),
        )
        pair.state = "active"
        pair.activated_at = now - timedelta(days=31)
        pair.check_in_due_at = now - timedelta(days=17)
        assert reminders.create_pulses(session, now=now) == 2
        ids["pulse"] = session.scalars(
            select(Pulse.id).where(Pulse.pair_id == pair.id, Pulse.user_id == lea)
        ).one()
        session.commit()


def _plan(world: World) -> None:
    """Lea's development plan in course A (her launch of its link makes it) with a goal on the
    framework's first competency."""
    custom = {"widget": "plan"}
    link = world.lms.platform.add_resource_link(COURSE, CLIENT_ID, "My plan", custom=custom)
    page = launch(
        Browser(), world.lms, "u-lea", resource_link=link.resource_link_id, context=COURSE
    )
    match = re.search(r"/plans/(\d+)", page.url)
    assert page.status_code == 200 and match, (page.url, page.text[:300])
    world.ids["plan"] = int(match.group(1))
    goal = world.api(
        "author_a",
        "POST",
        f"/plans/{world.ids['plan']}/goals",
        json={"competency_id": world.ids["competency"], "target": 1},
    )
    world.ids["goal"] = _ok(goal, 201)["id"]


def _platform_id(app: Flask, lms: Lms) -> int:
    from plugin.lti.models import Platform

    with new_session(app) as session:
        return session.scalars(select(Platform.id).where(Platform.issuer == lms.issuer)).one()
