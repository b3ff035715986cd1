"""The authorization matrix (issue 9, item 2): every rule of the app's url_map, every method it
allows, called as each person who must be refused, with the route's ids filled with real rows of
course A (made through real launches and the API, see :mod:`tests.api_world`). Each refused call
must answer a 4xx (401 without a token; 403 or 404 with one) and change no row count.

A rule that is not in :data:`ACCESS` fails the test: a new route joins the matrix by getting a
line there, with who may use it.

Levels (who may use a route):

``public``            anyone, no token (LTI endpoints, key sets, the Profile, static files);
``launch``            any launched person, on their own things (their course, notifications…);
``staff_own``         course staff (or an administrator), in their own course or platform;
``moderator_own``     course moderators (staff; mentors where a board of the course lets them);
``admin``             the platform's administrators;
``platform``          any launched person of the platform the row (a framework) belongs to;
``staff_platform``    staff of the platform the row belongs to;
``member``            members of the course the row (board, thread, post) belongs to;
``course_moderator``  that course's moderators (staff; its mentors when a board lets them);
``moderator``         moderators of the row's board (staff; mentors if ``mentors_moderate``);
``author``            the row's author or asker (and, for some acts, the course's staff);
``staff``             staff of the row's course;
``owner``             the person the row belongs to (a notification, a development plan);
``plan``              a development plan's owner and its course's staff (who read it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from plugin.db import Base, new_session
from plugin.lti.toolconf import clear_jwks_cache
from plugin.social.models import Notification, Post
from tests.api_world import World, build_world
from tests.conftest import row_counts

# Who is refused at each level (besides "anon", refused everywhere but public routes).
OUTSIDERS = ("learner_b", "staff_b", "other_tenant")
REFUSED: dict[str, tuple[str, ...]] = {
    "public": (),
    "launch": (),
    "staff_own": ("learner_b", "learner_a", "mentor_a"),
    "moderator_own": ("learner_b", "learner_a"),
    "admin": ("learner_b", "staff_b", "other_tenant", "learner_a", "mentor_a", "staff_a"),
    "platform": ("other_tenant",),
    "staff_platform": ("learner_b", "other_tenant", "learner_a", "mentor_a"),
    "member": OUTSIDERS,
    "course_moderator": (*OUTSIDERS, "learner_a"),
    "moderator": (*OUTSIDERS, "learner_a", "mentor_a"),
    "author": (*OUTSIDERS, "learner_a", "mentor_a"),
    "staff": (*OUTSIDERS, "learner_a", "mentor_a"),
    "owner": (*OUTSIDERS, "learner_a", "mentor_a", "staff_a"),
    # a mentorship (Lea and Grace): its members, and its programme's staff who read it
    "pair": (*OUTSIDERS, "learner_a", "replier_a"),
    "pair_member": (*OUTSIDERS, "learner_a", "replier_a", "staff_a"),
    # a development plan (Lea's): its owner, and its course's staff who read it
    "plan": (*OUTSIDERS, "learner_a", "mentor_a", "replier_a"),
}


@dataclass(frozen=True)
class Access:
    level: str
    body: dict = field(default_factory=dict)  # JSON for /api, form fields for pages
    query: dict = field(default_factory=dict)
    also: tuple[int, ...] = ()  # refusal statuses besides 403/404 that are right here


A = Access
B, T, P, C = "{board}", "{thread}", "{post}", "{competency}"
AGREEMENT = {"starts_on": "2026-01-05", "ends_on": "2026-07-05", "cadence_days": "14"}
ACCESS: dict[str, dict[str, Access]] = {
    # --- public -----------------------------------------------------------------------------
    "/.well-known/jwks.json": {"GET": A("public")},
    "/lti/jwks": {"GET": A("public")},
    "/lti/config.json": {"GET": A("public")},
    "/lti/login": {"GET": A("public"), "POST": A("public")},
    "/lti/launch": {"POST": A("public")},
    "/lti/register": {"GET": A("public"), "POST": A("public")},
    "/lti/register/<secret>": {"GET": A("public"), "POST": A("public")},
    "/api/openapi.json": {"GET": A("public")},
    "/xapi/profile": {"GET": A("public")},
    "/xapi/profile/v1": {"GET": A("public")},
    "/xapi/activities/<int:platform_id>/<kind>/<path:key>": {"GET": A("public")},
    "/xapi/activity-types/<path:name>": {"GET": A("public")},
    "/xapi/extensions/<path:name>": {"GET": A("public")},
    "/xapi/profile/<path:name>": {"GET": A("public")},
    "/xapi/verbs/<path:name>": {"GET": A("public")},
    "/static/<path:filename>": {"GET": A("public")},
    "/competencies/static/<path:filename>": {"GET": A("public")},
    # the signed token in the path is the credential (no launch): a forged one is a 404
    "/mail/unsubscribe/<token>": {"GET": A("public"), "POST": A("public")},
    # --- the launch's own things ------------------------------------------------------------
    "/app": {"GET": A("launch")},
    "/app/url-token": {"POST": A("launch")},
    "/lti/continue": {"POST": A("launch")},
    "/board": {"GET": A("launch")},
    "/mentoring": {"GET": A("launch")},
    "/mail/preferences": {"GET": A("launch"), "POST": A("launch", {"kind": "mentoring.requested"})},
    "/notifications": {"GET": A("launch")},
    "/notifications/read": {"POST": A("launch", {"id": "{notification}"})},
    "/api/notifications": {"GET": A("launch")},
    "/api/notifications/read": {"POST": A("launch", {"ids": ["{notification}"]})},
    "/search": {"GET": A("launch", query={"q": "feedback"})},
    "/api/search": {"GET": A("launch", query={"q": "feedback"})},
    "/api/frameworks": {"GET": A("launch")},
    "/api/competencies/search": {"GET": A("launch", query={"q": "a"})},
    # --- staff (or moderators, administrators) in their own course or platform --------------
    "/app/setup": {"POST": A("staff_own", {"widget": "board"})},
    "/lti/deep-link": {"GET": A("staff_own", also=(400,)), "POST": A("staff_own", also=(400,))},
    "/lti/roster/sync": {"POST": A("staff_own")},
    "/cohorts": {"GET": A("staff_own"), "POST": A("staff_own", {"name": "Night"})},
    "/api/cohorts": {"GET": A("staff_own"), "POST": A("staff_own", {"name": "Night"})},
    "/competencies/frameworks": {"GET": A("staff_own")},
    "/competencies/frameworks/import": {
        "POST": A("staff_own", {"url": "https://case.example/ims/case/v1p0/CFPackages/x"})
    },
    "/api/frameworks/import": {
        "POST": A("staff_own", {"url": "https://case.example/ims/case/v1p0/CFPackages/x"})
    },
    "/xapi/admin": {"GET": A("staff_own")},
    "/xapi/admin/": {"GET": A("staff_own")},
    "/xapi/admin/statements": {"GET": A("staff_own")},
    "/xapi/admin/export.jsonl": {"GET": A("staff_own")},
    "/api/xapi/outbox/counts": {"GET": A("staff_own")},
    "/api/xapi/statements": {"GET": A("staff_own")},
    "/moderation": {"GET": A("moderator_own")},
    "/moderation/log": {"GET": A("moderator_own")},
    "/api/moderation/reports": {"GET": A("moderator_own")},
    "/api/moderation/log": {"GET": A("moderator_own")},
    "/xapi/admin/dead": {"GET": A("admin")},
    "/xapi/admin/dead/resend": {"POST": A("admin", {"statement_id": "{statement}"})},
    "/api/xapi/statements/resend": {"POST": A("admin", {"statement_ids": ["{statement}"]})},
    "/mentoring/platform-programmes": {"GET": A("admin"), "POST": A("admin", {"title": "Across"})},
    "/api/mentoring/platform-programmes": {
        "GET": A("admin"),
        "POST": A("admin", {"title": "Across"}),
    },
    # --- rows of platform 1 -----------------------------------------------------------------
    "/api/frameworks/<int:framework_id>": {"GET": A("platform")},
    "/api/frameworks/<int:framework_id>/competencies": {"GET": A("platform")},
    "/api/frameworks/<int:framework_id>/associations": {"GET": A("platform")},
    "/api/competencies/<int:competency_id>": {"GET": A("platform")},
    "/competencies/frameworks/<int:framework_id>": {"GET": A("staff_platform")},
    "/competencies/<int:competency_id>": {"GET": A("staff_platform")},
    # --- rows of course A: boards -----------------------------------------------------------
    "/boards/<int:board_id>": {"GET": A("member")},
    "/boards/<int:board_id>/threads": {"POST": A("member", {"title": "Hi", "body": "there"})},
    "/boards/<int:board_id>/members": {"GET": A("member", query={"q": "le"})},
    "/boards/<int:board_id>/settings": {
        "GET": A("staff"),
        "POST": A("staff", {"qa_mode": "1", "posts_per_hour": "3"}),
    },
    "/boards/<int:board_id>/participation": {"GET": A("staff")},
    "/boards/<int:board_id>/participation.csv": {"GET": A("staff")},
    "/boards/<int:board_id>/export.csv": {"GET": A("staff")},
    "/boards/<int:board_id>/export.json": {"GET": A("staff")},
    "/boards/<int:board_id>/grades": {"POST": A("staff")},
    "/api/boards/<int:board_id>": {"GET": A("member"), "PATCH": A("staff", {"qa_mode": True})},
    "/api/boards/<int:board_id>/threads": {
        "GET": A("member"),
        "POST": A("member", {"title": "Hi", "body": "there"}),
    },
    "/api/boards/<int:board_id>/members": {"GET": A("member", query={"q": "le"})},
    "/api/boards/<int:board_id>/competencies": {
        "GET": A("member"),
        "PUT": A("staff", {"competency_ids": [C]}),
    },
    "/api/boards/<int:board_id>/participation": {"GET": A("staff")},
    "/api/boards/<int:board_id>/export": {"GET": A("staff", query={"format": "csv"})},
    "/api/boards/<int:board_id>/grades": {"POST": A("staff")},
    "/api/links/<kind>/<key>": {
        "GET": A("member"),
        "PUT": A("staff", {"competency_ids": [C]}),
    },
    # --- threads ----------------------------------------------------------------------------
    "/threads/<int:thread_id>": {"GET": A("member")},
    "/threads/<int:thread_id>/posts": {"POST": A("member", {"body": "Me too."})},
    "/threads/<int:thread_id>/follow": {"POST": A("member")},
    "/threads/<int:thread_id>/unfollow": {"POST": A("member")},
    "/threads/<int:thread_id>/accept": {"POST": A("author", {"post_id": "{reply_b}"})},
    "/threads/<int:thread_id>/competencies": {"POST": A("author", {"competency_ids": C})},
    "/threads/<int:thread_id>/state": {"POST": A("moderator", {"pinned": "1"})},
    "/api/threads/<int:thread_id>": {"GET": A("member")},
    "/api/threads/<int:thread_id>/posts": {"POST": A("member", {"body": "Me too."})},
    "/api/threads/<int:thread_id>/follow": {"PUT": A("member"), "DELETE": A("member")},
    "/api/threads/<int:thread_id>/accepted": {"PUT": A("author", {"post_id": "{reply_b}"})},
    "/api/threads/<int:thread_id>/competencies": {
        "GET": A("member"),
        "PUT": A("author", {"competency_ids": [C]}),
    },
    "/api/threads/<int:thread_id>/state": {"PATCH": A("moderator", {"pinned": True})},
    # --- posts ------------------------------------------------------------------------------
    "/posts/<int:post_id>": {"GET": A("member")},
    "/posts/<int:post_id>/history": {"GET": A("member")},
    "/posts/<int:post_id>/reactions": {"POST": A("member", {"kind": "like"})},
    "/posts/<int:post_id>/report": {"POST": A("member", {"reason": "rude"})},
    "/posts/<int:post_id>/edit": {"POST": A("author", {"body": "Changed."})},
    "/posts/<int:post_id>/delete": {"POST": A("author")},
    "/posts/<int:post_id>/endorse": {"POST": A("staff")},
    "/posts/<int:post_id>/hide": {"POST": A("moderator", {"reason": "rude"})},
    "/posts/<int:post_id>/unhide": {"POST": A("moderator")},
    "/api/posts/<int:post_id>": {
        "PATCH": A("author", {"body": "Changed."}),
        "DELETE": A("author"),
    },
    "/api/posts/<int:post_id>/place": {"GET": A("member")},
    "/api/posts/<int:post_id>/reactions": {"POST": A("member", {"kind": "like"})},
    "/api/posts/<int:post_id>/reports": {"POST": A("member", {"reason": "rude"})},
    "/api/posts/<int:post_id>/endorsement": {"PUT": A("staff", {"endorsed": True})},
    "/api/posts/<int:post_id>/hide": {"POST": A("moderator", {"reason": "rude"})},
    "/api/posts/<int:post_id>/unhide": {"POST": A("moderator", {})},
    # --- reports, mutes, cohorts, notifications ---------------------------------------------
    "/reports/<int:report_id>/dismiss": {"POST": A("moderator")},
    "/api/reports/<int:report_id>/dismiss": {"POST": A("moderator", {})},
    "/members/<int:user_id>/mute": {"POST": A("course_moderator", {"reason": "again"})},
    "/members/<int:user_id>/unmute": {"POST": A("course_moderator")},
    "/api/mutes/<int:user_id>": {
        "PUT": A("course_moderator", {"reason": "again"}),
        "DELETE": A("course_moderator"),
    },
    "/cohorts/<int:cohort_id>": {"POST": A("staff", {"name": "Morning"})},
    "/cohorts/<int:cohort_id>/delete": {"POST": A("staff")},
    "/api/cohorts/<int:cohort_id>": {
        "PATCH": A("staff", {"name": "Morning"}),
        "DELETE": A("staff"),
    },
    "/notifications/<int:notification_id>/open": {"POST": A("owner")},
    # --- mentoring: course A's programme ----------------------------------------------------
    "/mentoring/programmes/<int:programme_id>": {"GET": A("member")},
    "/mentoring/programmes/<int:programme_id>/profile": {
        "GET": A("member"),
        "POST": A("member", {"as_mentee": "1"}),
    },
    "/mentoring/programmes/<int:programme_id>/profile/leave": {"POST": A("member")},
    "/mentoring/programmes/<int:programme_id>/settings": {
        "GET": A("staff"),
        "POST": A("staff", {"title": "Ours now", "cadence_days": "7"}),
    },
    "/mentoring/programmes/<int:programme_id>/roster": {"GET": A("staff")},
    "/mentoring/programmes/<int:programme_id>/health": {"GET": A("staff"), "POST": A("staff")},
    "/mentoring/programmes/<int:programme_id>/mentors": {
        "POST": A("staff", {"user_id": "{member}"})
    },
    "/api/mentoring/programmes/<int:programme_id>": {
        "GET": A("member"),
        "PATCH": A("staff", {"cadence_days": 7}),
    },
    "/api/mentoring/programmes/<int:programme_id>/profile": {
        "GET": A("member"),
        "PUT": A("member", {"as_mentee": True}),
        "DELETE": A("member"),
    },
    "/api/mentoring/programmes/<int:programme_id>/roster": {"GET": A("staff")},
    "/api/mentoring/programmes/<int:programme_id>/health": {"GET": A("staff")},
    "/api/mentoring/programmes/<int:programme_id>/candidates": {
        "POST": A(
            "member",
            {"competencies": [{"competency_id": "{competency}", "level": 0, "target": 1}]},
            also=(409,),
        )
    },
    "/api/mentoring/programmes/<int:programme_id>/requests": {
        "GET": A("member"),
        "POST": A(
            "member",
            {
                "competencies": [{"competency_id": "{competency}", "level": 0, "target": 1}],
                "mentor_id": "{mentor}",
            },
            also=(409,),
        ),
    },
    "/api/mentoring/programmes/<int:programme_id>/requests/to-me": {"GET": A("member")},
    "/api/mentoring/requests/<int:request_id>/answer": {
        "POST": A("member", {"accept": False}, also=(409,))
    },
    "/api/mentoring/requests/<int:request_id>/withdraw": {"POST": A("member", also=(409,))},
    "/api/mentoring/programmes/<int:programme_id>/mentors/<int:user_id>": {
        "PUT": A("staff", {"nominated": True})
    },
    "/mentoring/programmes/<int:programme_id>/find": {"GET": A("member", query={"search": "1"})},
    "/mentoring/programmes/<int:programme_id>/requests": {
        "GET": A("member"),
        "POST": A("member", {"mentor_id": "{mentor}", "goal": "Lead"}, also=(409,)),
    },
    "/mentoring/programmes/<int:programme_id>/requests/to-me": {"GET": A("member")},
    "/mentoring/requests/<int:request_id>/answer": {
        "POST": A("member", {"decision": "decline"}, also=(409,))
    },
    "/mentoring/requests/<int:request_id>/withdraw": {"POST": A("member", also=(409,))},
    "/mentoring/programmes/<int:programme_id>/bulk": {
        "GET": A("staff"),
        "POST": A("staff", {"mentor_id": "{mentor}"}),
    },
    "/mentoring/programmes/<int:programme_id>/bulk/approve": {
        "POST": A("staff", {"mentor_id": "{mentor}"})
    },
    "/api/mentoring/programmes/<int:programme_id>/bulk/preview": {"POST": A("staff")},
    "/api/mentoring/programmes/<int:programme_id>/bulk/approve": {
        "POST": A("staff", {"pairs": [{"mentee_id": "{member}", "mentor_id": "{mentor}"}]})
    },
    # mentoring jobs: a pulse survey is its person's only (Lea's, in api_world)
    "/mentoring/pulses/<int:pulse_id>": {"GET": A("owner"), "POST": A("owner", {"rating": "4"})},
    "/api/mentoring/pulses/<int:pulse_id>": {"GET": A("owner"), "POST": A("owner", {"rating": 4})},
    "/api/mentoring/programmes/<int:programme_id>/to-do": {"GET": A("member")},
    # course A's programme has people: staff joining it to a platform-wide one get 409
    "/mentoring/programmes/<int:programme_id>/platform-programme": {
        "POST": A("staff", {"platform_programme_id": "{platform_programme}"})
    },
    "/api/mentoring/programmes/<int:programme_id>/platform-programme": {
        "PUT": A("staff", {"platform_programme_id": "{platform_programme}"})
    },
    "/mentoring/programmes/<int:programme_id>/invitations": {
        "POST": A("staff", {"user_id": "{mentor}", "competency_ids": "{competency}"})
    },
    "/api/mentoring/programmes/<int:programme_id>/invitations": {
        "GET": A("staff"),
        "POST": A("staff", {"user_id": "{mentor}", "competency_ids": ["{competency}"]}),
    },
    "/api/mentoring/programmes/<int:programme_id>/suggested-mentors": {"GET": A("staff")},
    "/api/mentoring/programmes/<int:programme_id>/invitation": {"GET": A("member")},
    # Benjamin's invitation (course A's staff invited him)
    "/mentoring/invitations/<int:invitation_id>/answer": {"POST": A("owner", {"answer": "accept"})},
    "/api/mentoring/invitations/<int:invitation_id>/answer": {"POST": A("owner", {"accept": True})},
    # --- mentoring: a mentorship of course A (Lea and Grace) -----------------------------------
    "/mentoring/programmes/<int:programme_id>/pairs": {"GET": A("member")},
    "/mentoring/pairs/<int:pair_id>": {"GET": A("pair")},
    "/mentoring/pairs/<int:pair_id>/agreement": {
        "POST": A("pair_member", {**AGREEMENT, "competency_ids": C})
    },
    "/mentoring/pairs/<int:pair_id>/accept": {"POST": A("pair_member")},
    "/mentoring/pairs/<int:pair_id>/checkins": {
        "POST": A("pair_member", {"held_on": "2026-01-06", "duration_minutes": "30"})
    },
    "/mentoring/pairs/<int:pair_id>/meetings.ics": {"GET": A("pair_member")},
    "/mentoring/pairs/<int:pair_id>/leave": {"POST": A("pair_member")},
    "/mentoring/pairs/<int:pair_id>/rematch": {"POST": A("pair_member")},
    "/mentoring/pairs/<int:pair_id>/end": {"POST": A("staff")},
    # a group circle's co-mentor: staff or a mentor of it (a mentee of it gets 403)
    "/mentoring/pairs/<int:pair_id>/co-mentor": {"POST": A("pair", {"user_id": "{member}"})},
    "/mentoring/pairs/<int:pair_id>/extension": {
        "POST": A("pair_member", {"ends_on": "2027-01-05"})
    },
    "/mentoring/pairs/<int:pair_id>/extension/confirm": {"POST": A("pair_member")},
    "/mentoring/pairs/<int:pair_id>/extension/decline": {"POST": A("pair_member")},
    "/api/mentoring/programmes/<int:programme_id>/pairs": {"GET": A("member")},
    "/api/mentoring/pairs/<int:pair_id>": {"GET": A("pair")},
    "/api/mentoring/pairs/<int:pair_id>/agreement": {
        "PUT": A("pair_member", {**AGREEMENT, "cadence_days": 14, "competency_ids": [C]})
    },
    "/api/mentoring/pairs/<int:pair_id>/accept": {"POST": A("pair_member")},
    "/api/mentoring/pairs/<int:pair_id>/checkins": {
        "GET": A("pair"),
        "POST": A("pair_member", {"held_on": "2026-01-06", "duration_minutes": 30}),
    },
    "/api/mentoring/pairs/<int:pair_id>/leave": {"POST": A("pair_member")},
    "/api/mentoring/pairs/<int:pair_id>/rematch": {"POST": A("pair_member")},
    "/api/mentoring/pairs/<int:pair_id>/end": {"POST": A("staff")},
    "/api/mentoring/pairs/<int:pair_id>/co-mentors": {
        "GET": A("pair"),
        "POST": A("pair", {"user_id": "{member}"}),
    },
    "/api/mentoring/pairs/<int:pair_id>/extension": {
        "POST": A("pair_member", {"ends_on": "2027-01-05"})
    },
    "/api/mentoring/pairs/<int:pair_id>/extension/confirm": {"POST": A("pair_member")},
    "/api/mentoring/pairs/<int:pair_id>/extension/decline": {"POST": A("pair_member")},
    # --- development plans: Lea's plan in course A and its goal ------------------------------
    "/plans": {"GET": A("launch")},
    "/plans/course": {"GET": A("staff_own")},
    "/plans/<int:plan_id>": {"GET": A("plan")},
    "/plans/<int:plan_id>/goals": {"POST": A("owner", {"competency_id": C, "target": "1"})},
    "/plans/goals/<int:goal_id>": {"GET": A("owner"), "POST": A("owner", {"target": "1"})},
    "/plans/goals/<int:goal_id>/remove": {"POST": A("owner")},
    "/plans/<int:plan_id>/state": {"POST": A("owner", {"to": "active"})},
    "/api/plans/course": {"GET": A("staff_own")},
    "/api/plans/<int:plan_id>": {"GET": A("plan")},
    "/api/plans/<int:plan_id>/goals": {"POST": A("owner", {"competency_id": C, "target": 1})},
    "/api/plans/goals/<int:goal_id>": {"PATCH": A("owner", {"why": "x"}), "DELETE": A("owner")},
    "/api/plans/<int:plan_id>/state": {"POST": A("owner", {"to": "active"})},
}

PATH_VALUES = {
    "board_id": "board",
    "thread_id": "thread",
    "post_id": "post",
    "report_id": "report",
    "cohort_id": "cohort",
    "framework_id": "framework",
    "competency_id": "competency",
    "notification_id": "notification",
    "user_id": "member",
    "platform_id": "platform",
    "programme_id": "programme",
    "request_id": "request",
    "pulse_id": "pulse",
    "invitation_id": "invitation",
    "pair_id": "pair",
    "plan_id": "plan",
    "goal_id": "goal",
}
OTHER_PATH_VALUES = {
    "kind": "board",
    "key": "{board}",
    "filename": "commons.css",
    "name": "commented",
    "secret": "not-an-invite",
    "token": "WzEsInRlc3QiXQ.forged-signature",
}


@pytest.fixture(autouse=True)
def _clean_database() -> Iterator[None]:
    """The world lives for the whole module (it replaces conftest's per-test clean-up)."""
    yield


@pytest.fixture(scope="module")
def world(app: Flask, lms_server, tool_server) -> Iterator[World]:
    yield build_world(app, lms_server, tool_server)
    clear_jwks_cache()
    with new_session(app) as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        session.commit()


def _fill(value, world: World):
    """``"{board}"`` → the id of course A's board (in strings, lists and dicts)."""
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, str):
        match = re.fullmatch(r"\{(\w+)\}", value)
        if match:
            name = match.group(1)
            return world.statement_ids[0] if name == "statement" else world.ids[name]
    return value


def _path(rule: str, world: World) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1).split(":")[-1]
        if name in PATH_VALUES:
            return str(world.ids[PATH_VALUES[name]])
        return str(_fill(OTHER_PATH_VALUES[name], world))

    return re.sub(r"<([^>]+)>", value, rule)


def _call(world: World, who: str | None, method: str, rule: str, access: Access):
    url = world.tool + _path(rule, world)
    token = world.token(who) if who else None
    body, query = _fill(access.body, world), _fill(access.query, world)
    kwargs: dict = {"allow_redirects": False, "timeout": 30}
    if rule.startswith("/api/"):
        kwargs["headers"] = {"Authorization": f"Bearer {token}"} if token else {}
        kwargs["params"] = query
        if method in ("POST", "PUT", "PATCH"):
            kwargs["json"] = body
    elif method == "GET":
        kwargs["params"] = {**query, **({"lc": token} if token else {})}
    else:
        kwargs["params"] = query
        kwargs["data"] = {**body, **({"lc": token} if token else {})}
    return requests.request(method, url, **kwargs)


def _rules(app: Flask) -> list[tuple[str, str]]:
    return sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def test_every_route_is_classified(app) -> None:
    routes = set(_rules(app))
    listed = {(rule, method) for rule, methods in ACCESS.items() for method in methods}
    assert not routes - listed, f"routes without an access level: {sorted(routes - listed)}"
    assert not listed - routes, f"no such routes (stale lines): {sorted(listed - routes)}"
    for methods in ACCESS.values():
        assert {a.level for a in methods.values()} <= set(REFUSED)


def test_every_route_refuses_who_may_not_use_it(app, world: World) -> None:
    problems: list[str] = []
    calls = 0
    for rule, method in _rules(app):
        access = ACCESS[rule][method]
        if access.level == "public":
            response = _call(world, None, method, rule, access)
            calls += 1
            if response.status_code >= 500:
                problems.append(f"{method} {rule} as anyone: {response.status_code}")
            continue
        before = row_counts(app)
        for who in ("anon", *REFUSED[access.level]):
            response = _call(world, None if who == "anon" else who, method, rule, access)
            calls += 1
            status = response.status_code
            allowed = (401,) if who == "anon" else (403, 404, *access.also)
            if status not in allowed:
                problems.append(
                    f"{method} {rule} as {who}: {status} (expected {allowed}) "
                    f"{response.text[:160]!r}"
                )
        after = row_counts(app)
        if after != before:
            changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
            problems.append(f"{method} {rule}: rows changed {changed}")
    assert not problems, f"{len(problems)} holes in {calls} calls:\n" + "\n".join(problems)


def test_marking_someone_elses_notification_read_changes_nothing(app, world: World) -> None:
    """``/notifications/read`` acts on the caller's own notifications: another person's ids are
    skipped, not marked (rows counts cannot show an update)."""
    notification = world.ids["notification"]
    for who in ("learner_a", "learner_b", "staff_b", "other_tenant"):
        r = world.api(who, "POST", "/notifications/read", json={"ids": [notification]})
        assert r.status_code in (200, 404), r.text
        page = world.people[who].post("/notifications/read", id=str(notification))
        assert page.status_code in (303, 404), page.text[:300]
    with new_session(app) as session:
        assert session.get(Notification, notification).read_at is None


def test_forged_unsubscribe_tokens_change_nothing(app, world: World) -> None:
    """The unsubscribe routes need no launch: the signed token is the credential. A token signed
    with another key, or cut short, is a 404 on GET and on the one-click POST, and no row (no
    preference, no outbox row) changes."""
    from itsdangerous import URLSafeSerializer

    from plugin.mail.models import MailPreference
    from plugin.mail.services import TOKEN_SALT, unsubscribe_token

    member = world.ids["member"]
    forged = URLSafeSerializer("guessed-secret", salt=TOKEN_SALT).dumps([member, "any.kind"])
    cut = unsubscribe_token(app.config["SECRET_KEY"], member, "any.kind")[:-4]
    before = row_counts(app)
    for token in (forged, cut):
        url = f"{world.tool}/mail/unsubscribe/{token}"
        assert requests.get(url, timeout=30).status_code == 404
        one_click = requests.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=30)
        assert one_click.status_code == 404
    assert row_counts(app) == before
    with new_session(app) as session:
        assert session.scalars(select(MailPreference)).first() is None


def test_learners_do_not_moderate_boards_that_mentors_moderate(app, world: World) -> None:
    """Issue 9, item 21: on a board with ``mentors_moderate`` on, a plain learner may neither hide
    a post nor read the report queue (its mentor may: the rule is about the role, not the
    board)."""
    post = world.ids["post_m"]
    before = row_counts(app)
    for who in ("learner_a", "replier_a"):
        assert world.api(who, "POST", f"/posts/{post}/hide", json={}).status_code == 403
        assert world.api(who, "GET", "/moderation/reports").status_code == 403
        person = world.people[who]
        assert person.post(f"/posts/{post}/hide", reason="x").status_code == 403
        assert person.get("/moderation").status_code == 403
    assert row_counts(app) == before
    with new_session(app) as session:
        assert session.get(Post, post).hidden is False
    queue = world.api("mentor_m", "GET", "/moderation/reports")
    assert queue.status_code == 200, queue.text
    hidden = world.api("mentor_m", "POST", f"/posts/{post}/hide", json={"reason": "check"})
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    assert world.api("mentor_m", "POST", f"/posts/{post}/unhide", json={}).status_code == 200
    assert (
        world.api("mentor_a", "POST", f"/posts/{world.ids['post']}/hide", json={}).status_code
        == 403
    )


def test_the_matrix_calls_real_rows(app, world: World) -> None:
    """The ids the matrix uses are rows the allowed people can use (so a refusal is about who
    asks, not a missing row)."""
    ids = world.ids
    assert world.api("staff_a", "GET", f"/boards/{ids['board']}").status_code == 200
    assert world.api("learner_a", "GET", f"/threads/{ids['thread']}").status_code == 200
    assert world.api("learner_a", "GET", f"/posts/{ids['post']}/place").status_code == 200
    assert world.api("staff_a", "GET", f"/links/board/{ids['board']}").status_code == 200
    assert world.api("learner_b", "GET", f"/frameworks/{ids['framework']}").status_code == 200
    programme = f"/mentoring/programmes/{ids['programme']}"
    assert world.api("learner_a", "GET", programme + "/profile").status_code == 200
    assert world.api("staff_a", "GET", programme + "/roster").json()["entries"]
    assert world.people["staff_a"].get(programme + "/settings").status_code == 200
    assert world.api("author_a", "GET", f"/mentoring/pulses/{ids['pulse']}").status_code == 200
    assert world.api("replier_a", "GET", programme + "/invitation").json()["state"] == "pending"
    pair = f"/mentoring/pairs/{ids['pair']}"
    assert world.api("author_a", "GET", pair).json()["may_accept"] is True
    assert world.api("mentor_a", "GET", pair + "/checkins").status_code == 200
    assert world.api("staff_a", "GET", pair).json()["staff_view"] is True
    assert world.people["author_a"].get(f"/posts/{ids['post']}").status_code in (200, 303)
    with new_session(app) as session:
        assert session.scalar(
            select(Notification.user_id).where(Notification.id == ids["notification"])
        )
