"""The whole class, not only those who launched: a launch with the NRPS claim queues a roster
sync when the course's roster is missing or old (the worker runs it, never the request), and
staff have *Refresh class list* on every page that lists people. Through the real sandbox
platform, whose demo course has 6 learners."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update

from plugin.db import new_session, utcnow
from plugin.jobs import DONE, QUEUED, Job
from plugin.lti.models import Context, Membership
from plugin.social.models import Mention
from sandbox.platform.demo import DEMO_COURSE_ID
from sandbox.platform.vocabulary import ROLE_LEARNER
from tests.conftest import row_counts
from tests.social.social_web import Person, board_link
from tests.support.roster import worker_pass

LEARNERS = [
    "Amara Okafor",
    "Benjamin Hartley",
    "Chen Wei",
    "Diego Ramírez",
    "Lea Learner",
    "Sofia Lindqvist",
]


def roster_jobs(app) -> list[Job]:
    with new_session(app) as s:
        return list(s.scalars(select(Job).where(Job.kind == "lti.roster_sync").order_by(Job.id)))


def mention_names(person, q: str) -> list[str]:
    r = person.browser.http.get(
        person.tool + f"/boards/{person.board_id}/members",
        params={"lc": person.token, "q": q},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return [m["name"] for m in r.json()["members"]]


def listed(page_text: str, names: list[str]) -> list[str]:
    return [n for n in names if n in page_text]


def test_learners_who_never_launched_appear_after_the_first_staff_launch(app, lms) -> None:
    learners = [
        p
        for p in lms.platform.people(DEMO_COURSE_ID)
        if ROLE_LEARNER in lms.platform.enrollment(DEMO_COURSE_ID, p.user_id).roles
    ]
    assert sorted(p.name for p in learners) == LEARNERS
    rlid = board_link(lms, grade_replies="2")
    lea = Person(lms, "u-lea", rlid)  # one learner has launched before
    with new_session(app) as s:  # her launch queued the sync (the course had no roster yet)
        assert s.query(Membership).count() == 1
    ines = Person(lms, "u-ines", rlid)  # the first staff launch
    (job,) = roster_jobs(app)  # still the one job: the second launch found it queued
    assert job.state == QUEUED and job.dedupe_key == f"lti.roster_sync:{job.payload['context_id']}"
    with new_session(app) as s:  # the requests did not call the platform's NRPS
        assert s.query(Membership).count() == 2
        assert s.scalars(select(Context.roster_synced_at)).one() is None

    participation = ines.get(f"/boards/{ines.board_id}/participation").text
    assert listed(participation, LEARNERS) == ["Lea Learner"]
    assert "Not refreshed from the course yet" in participation
    assert ines.post("/cohorts", name="Team 1").status_code == 303  # its learner picker:
    assert listed(ines.get("/cohorts").text, LEARNERS) == ["Lea Learner"]
    assert mention_names(ines, "c") == []

    worker_pass(app)  # what `commons worker` (or the development thread) does next
    (job,) = roster_jobs(app)
    assert job.state == DONE and job.result.startswith("9 members")

    participation = ines.get(f"/boards/{ines.board_id}/participation").text
    assert listed(participation, LEARNERS) == LEARNERS  # with or without activity
    assert participation.count("<tr>") - 1 == len(LEARNERS)  # the rows, under the heading row
    cohorts_page = ines.get("/cohorts").text
    assert listed(cohorts_page, LEARNERS) == LEARNERS
    assert mention_names(ines, "c") == ["Chen Wei"]
    assert mention_names(lea, "s") == ["Sofia Lindqvist"]
    # grades go to every learner of the course, not only those who launched
    assert ines.post(f"/boards/{ines.board_id}/grades").status_code == 303
    graded = {sc.user_id for sc in lms.platform.received_scores(DEMO_COURSE_ID)}
    assert graded == {p.user_id for p in learners}
    # a learner who never launched can be mentioned, and is
    thread = lea.new_thread("Hello", "Welcome @sofia.lindqvist!")
    with new_session(app) as s:
        (mention,) = s.scalars(select(Mention))
        sofia = s.scalars(select(Membership).where(Membership.user_id == mention.user_id)).one()
        assert sofia.source == "nrps"
    assert thread


def test_a_fresh_roster_is_not_fetched_again_until_it_is_old(app, lms) -> None:
    rlid = board_link(lms)
    Person(lms, "u-ines", rlid)
    worker_pass(app)
    Person(lms, "u-ines", rlid)
    Person(lms, "u-lea", rlid)
    assert [j.state for j in roster_jobs(app)] == [DONE]  # fresh: no new job
    max_age = app.config["COMMONS_SETTINGS"].roster_max_age
    with new_session(app) as s:
        s.execute(
            update(Context).values(roster_synced_at=utcnow() - timedelta(seconds=max_age + 60))
        )
        s.commit()
    Person(lms, "u-amara", rlid)
    Person(lms, "u-ines", rlid)  # queued already: not twice
    assert [j.state for j in roster_jobs(app)] == [DONE, QUEUED]


def test_refresh_class_list_queues_a_sync_from_every_page_listing_people(app, lms) -> None:
    rlid = board_link(lms, grade_threads="1")
    ines = Person(lms, "u-ines", rlid)
    worker_pass(app)
    lea = Person(lms, "u-lea", rlid)
    pages = {
        "participation": f"/boards/{ines.board_id}/participation",
        "cohorts": "/cohorts",
    }
    for path in pages.values():
        text = ines.get(path, board=str(ines.board_id)).text
        assert "Refresh class list" in text and "Last refreshed from the course" in text
        assert text.count('name="lc"') == text.count("<form")  # every form carries the token
    # only staff get it, and only staff may use it
    assert "Refresh class list" not in lea.get(f"/boards/{lea.board_id}").text
    before = row_counts(app)
    refused = lea.post("/lti/roster/sync")
    assert refused.status_code == 403 and "staff" in refused.text
    assert row_counts(app) == before

    # the Cohorts page's button: back to the same page (with its board), told what happens
    back = ines.post(
        "/lti/roster/sync", return_to=f"/cohorts?board={ines.board_id}&lc={ines.token}"
    )
    assert back.status_code == 303
    where = urlsplit(back.headers["Location"])
    assert where.path == "/cohorts"
    assert parse_qs(where.query) == {
        "board": [str(ines.board_id)],
        "roster": ["queued"],
        "lc": [ines.token],
    }
    page = ines.get("/cohorts", board=str(ines.board_id), roster="queued").text
    assert "The class list is being refreshed" in page
    (_, queued) = roster_jobs(app)
    assert queued.state == QUEUED
    # pressed again while queued: still one job
    again = ines.post("/lti/roster/sync", return_to=pages["participation"])
    assert (
        again.status_code == 303
        and urlsplit(again.headers["Location"]).path == (pages["participation"])
    )
    assert len(roster_jobs(app)) == 2
    # a return address that is not a page of this tool goes to the activity instead
    for elsewhere in (
        "https://evil.example/x",
        "//evil.example/x",
        "/no/such/page",
        "javascript:x",
    ):
        r = ines.post("/lti/roster/sync", return_to=elsewhere)
        assert r.status_code == 303
        assert (
            urlsplit(r.headers["Location"]).path == "/app" and "evil" not in r.headers["Location"]
        )
    worker_pass(app)
    assert [j.state for j in roster_jobs(app)] == [DONE, DONE]


def test_refresh_class_list_without_nrps_is_refused_readably(app, lms) -> None:
    rlid = board_link(lms)
    ines = Person(lms, "u-ines", rlid)
    with new_session(app) as s:
        s.execute(update(Context).values(nrps_url=None))
        s.commit()
    before = row_counts(app)
    r = ines.post("/lti/roster/sync")
    assert r.status_code == 400 and "class list" in r.text
    assert row_counts(app) == before
