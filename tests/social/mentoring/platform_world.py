"""Rows for the platform-wide programme and invitation tests, made through real launches and the
tool's API: an administrator of the sandbox platform, and answers on a board about a competency
that staff endorsed (what makes someone a suggested mentor)."""

from __future__ import annotations

from dataclasses import dataclass

from plugin.lti import roles
from tests.data_files import MOODLE_CSV
from tests.social.social_web import COURSE, Person, board_link

ADMIN = "u-ada"


def add_admin(lms, course: str = COURSE) -> str:
    """Ada, the platform's (institution) administrator, in ``course``."""
    lms.platform.add_person(ADMIN, "Ada", "Admin", "ada.admin@example.edu")
    lms.platform.enroll(ADMIN, course, [roles.INSTITUTION_ADMIN])
    return ADMIN


def api(person: Person, method: str, path: str, status: int = 200, **kw):
    """Call ``/api`` as ``person`` (their launch token as the Bearer token); checks the status."""
    headers = {"Authorization": f"Bearer {person.token}"}
    r = person.browser.http.request(
        method, person.tool + "/api" + path, headers=headers, timeout=30, **kw
    )
    assert r.status_code == status, (method, path, r.status_code, r.text[:400])
    return r.json() if r.content else None


@dataclass
class Answers:
    competency_id: int
    competency_name: str
    board_id: int


def endorsed_answers(lms, repliers: tuple[str, ...] = ("u-amara",)) -> Answers:
    """A framework imported by Ines, a board linked to its first competency, Lea's question there,
    a reply from each of ``repliers``, each endorsed by Ines."""
    link = board_link(lms)
    ines, lea = Person(lms, "u-ines", link), Person(lms, "u-lea", link)
    upload = ("oecd.csv", MOODLE_CSV.read_bytes(), "text/csv")
    framework = api(ines, "POST", "/frameworks/import", 201, files={"file": upload})
    items = api(ines, "GET", f"/frameworks/{framework['framework_id']}/competencies")
    competency = items["items"][0]
    board = ines.board_id
    api(ines, "PUT", f"/boards/{board}/competencies", json={"competency_ids": [competency["id"]]})
    made = api(
        lea,
        "POST",
        f"/boards/{board}/threads",
        201,
        json={"title": "How do you coach?", "body": "Any tips?", "kind": "question"},
    )
    for user in repliers:
        person = Person(lms, user, link)
        reply = api(
            person, "POST", f"/threads/{made['thread']['id']}/posts", 201, json={"body": "Ask."}
        )
        api(ines, "PUT", f"/posts/{reply['id']}/endorsement", json={"endorsed": True})
    return Answers(competency["id"], competency["name"], board)
