"""The discussion boards in headless Chromium, inside the sandbox LMS course page's iframe: a
question answered, endorsed, pinned, locked and accepted; the iframe resizing; cohorts kept apart;
an XSS corpus that never runs; keyboard-only use, focus, target sizes and a 320px width; and the
statements of the first scenario read back from a real Ralph LRS.

Screenshots of every key step go to test-artifacts/ (``artifacts`` fixture)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from plugin.db import new_session
from plugin.social.models import Post, Thread
from plugin.xapi import vocabulary as vocab
from plugin.xapi.forwarder import forward_once
from plugin.xapi.models import XapiOutbox
from tests.social.browser_boards_support import (
    FOCUS_STYLE,
    OVERFLOW,
    TARGET_SIZE_CHECK,
    THREAD_URL,
    XSS_DOM_CHECK,
    CoursePage,
    actions,
    add_board,
    follow,
    goto,
    launch_query,
    open_thread,
    post_article,
    post_reply,
    reply_form,
    standalone_url,
    start_thread,
    submit,
    xss_corpus,
)
from tests.support.chromium import Chromium, check_now
from tests.support.ralph import RalphLRS
from tests.support.roster import worker_pass
from tests.support.servers import LiveServer
from tests.xapi.xapi_world import lrs_config

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tool_server(cross_site_tool_server: LiveServer) -> LiveServer:
    """The tool on another site than the LMS (tests/conftest.py); Chromium's cookie policy is
    its third-party cookie phase-out (``chromium`` fixture), so launches use the cookie path."""
    return cross_site_tool_server


@pytest.fixture(scope="module")
def app(cross_site_app: Flask) -> Flask:
    return cross_site_app


@pytest.fixture(scope="module")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphLRS]:
    lrs = RalphLRS(Path(tmp_path_factory.mktemp("ralph-boards"))).start()
    yield lrs
    lrs.stop()


@pytest.fixture
def course(chromium, lms) -> Iterator[CoursePage]:
    page = CoursePage(chromium, lms)
    yield page
    page.close()


# --- scenario 1: ask, answer, endorse, pin, lock, accept ----------------------------------------
QUESTION = "How do you open a feedback conversation?"
QUESTION_BODY = "I want to use **SBI** with my team. How do you *start*?"
ANSWER = "Ask first whether now is a good time, then describe the situation."
REPLY = "@lea.learner " + ANSWER  # the mention is picked from the autocomplete
STAFF_COMMENT = "Good: asking first keeps it a conversation."
LOCK_REASON = "Week 2 is over"


@dataclass
class AskedAndAnswered:
    link_title: str
    thread_id: int
    reply_id: int


def ask_answer_endorse_accept(
    app, course: CoursePage, artifacts: Path | None = None
) -> AskedAndAnswered:
    """Scenario 1 through the course page's iframe, with clicks and typing: Lea asks, Amara
    answers, Ines endorses, comments, pins and locks, Lea marks the answer helpful and accepts it.
    Amara mentions Lea with the autocomplete, by keyboard; Lea gets the notification.
    Launches: Lea, Amara, Ines, Lea."""
    link_title = "Feedback circle"
    add_board(course.lms, link_title)

    def shot(name: str) -> None:
        if artifacts is not None:
            course.shot(artifacts, name)

    def view_shot(name: str) -> None:
        if artifacts is not None:
            course.view_shot(artifacts, name)

    # Lea asks a question, typed key by key.
    frame = course.launch(link_title, "u-lea")
    expect(frame.get_by_text("No threads yet")).to_be_visible()
    start_thread(frame, QUESTION, QUESTION_BODY, kind="question", typed=True)
    expect(frame.get_by_role("heading", level=1)).to_have_text(QUESTION)
    opening = post_article(frame, "Opening", "Lea Learner")
    expect(opening.locator("strong", has_text="SBI")).to_be_visible()
    expect(opening.locator("em", has_text="start")).to_be_visible()
    expect(frame.get_by_text("No replies yet.")).to_be_visible()
    shot("board-1-lea-asks")
    thread_id = int(re.search(r"/threads/(\d+)", frame.url).group(1))

    # Amara finds it on the board and answers.
    frame = course.launch(link_title, "u-amara")
    row = frame.locator(".board-list li", has_text=QUESTION)
    expect(row.locator(".tag", has_text="Question")).to_be_visible()
    expect(row).to_contain_text("by Lea Learner · 0 replies")
    open_thread(frame, QUESTION)
    mention_by_keyboard(
        frame,
        reply_form(frame).get_by_label("Your reply"),
        "lea",
        "Lea Learner",
        before_pick=lambda: view_shot("board-2-amara-mentions-lea"),
    )
    reply_form(frame).get_by_label("Your reply").press_sequentially(ANSWER)
    expect(reply_form(frame).get_by_label("Your reply")).to_have_value(REPLY)
    submit(frame, reply_form(frame).get_by_role("button", name="Post reply"))
    expect(frame.get_by_role("heading", name="Replies (1)")).to_be_visible()
    answer = post_article(frame, "Reply", "Amara Okafor")
    expect(answer.locator(".body")).to_have_text("@Lea Learner " + ANSWER)
    expect(answer.locator(".body span.mention")).to_have_text("@Lea Learner")
    expect(answer.get_by_role("button", name="Endorse")).to_have_count(0)  # staff only
    expect(answer.get_by_role("button", name="Accept as answer")).to_have_count(0)  # asker only
    shot("board-2-amara-answered")

    # Ines endorses the answer, comments on it, pins and locks the thread.
    frame = course.launch(link_title, "u-ines")
    open_thread(frame, QUESTION)
    answer = post_article(frame, "Reply", "Amara Okafor")
    submit(frame, answer.get_by_role("button", name="Endorse"))
    answer = post_article(frame, "Reply", "Amara Okafor")
    expect(answer.locator(".tag", has_text="Endorsed by staff")).to_be_visible()
    expect(answer.get_by_role("button", name="Remove endorsement")).to_have_attribute(
        "aria-pressed", "true"
    )
    answer.locator("summary", has_text="Comment").click()
    answer.get_by_label("Your comment").press_sequentially(STAFF_COMMENT)
    submit(frame, answer.get_by_role("button", name="Post comment"))
    comment = post_article(frame, "Comment", "Ines Instructor")
    expect(comment.locator(".body")).to_have_text(STAFF_COMMENT)
    moderate = frame.get_by_role("region", name="Moderate")
    submit(frame, moderate.get_by_role("button", name="Pin", exact=True))
    moderate = frame.get_by_role("region", name="Moderate")
    expect(moderate.get_by_role("button", name="Unpin")).to_be_visible()
    moderate.get_by_label("Reason for locking (optional)").press_sequentially(LOCK_REASON)
    submit(frame, moderate.get_by_role("button", name="Lock", exact=True))
    expect(frame.locator("h1 + p .tag", has_text=f"Locked: {LOCK_REASON}")).to_be_visible()
    expect(frame.locator("h1 + p .tag", has_text="Pinned")).to_be_visible()
    expect(reply_form(frame)).to_be_visible()  # staff may still reply in a locked thread
    shot("board-3-ines-endorses-pins-locks")

    # Lea: she was mentioned; the thread is pinned and locked; she marks the answer helpful and
    # accepts it.
    frame = course.launch(link_title, "u-lea")
    notices = frame.get_by_role("link", name=re.compile(r"^Notifications \(\d+ unread\)$"))
    expect(notices).not_to_have_text("Notifications (0 unread)")
    follow(frame, notices)
    mentioned = frame.get_by_role("button", name=f"Amara Okafor mentioned you in “{QUESTION}”")
    expect(mentioned).to_be_visible()
    expect(frame.locator(".notify-list li", has=mentioned).locator(".excerpt")).to_contain_text(
        ANSWER[:30]
    )
    shot("board-4-lea-notified")
    submit(frame, mentioned)  # opens the thread where she was mentioned
    follow(frame, frame.get_by_role("link", name="← All threads"))
    row = frame.locator(".board-list li", has_text=QUESTION)
    for tag in ("Pinned", "Question", "Endorsed answer", "Locked"):
        expect(row.locator(".tag", has_text=tag)).to_be_visible()
    expect(row).to_contain_text("1 reply · 1 comment")
    open_thread(frame, QUESTION)
    expect(
        frame.get_by_text("This thread is locked: new replies are not possible.")
    ).to_be_visible()
    expect(reply_form(frame)).to_have_count(0)
    answer = post_article(frame, "Reply", "Amara Okafor")
    expect(answer.locator("summary", has_text="Comment")).to_have_count(0)
    submit(frame, actions(answer).get_by_role("button", name="Helpful (0)"))
    answer = post_article(frame, "Reply", "Amara Okafor")
    expect(actions(answer).get_by_role("button", name="Helpful (1)")).to_have_attribute(
        "aria-pressed", "true"
    )
    submit(frame, answer.get_by_role("button", name="Accept as answer"))
    answer = post_article(frame, "Reply", "Amara Okafor")
    expect(answer.locator(".tag", has_text="Accepted answer")).to_be_visible()
    expect(answer.get_by_role("button", name="Unaccept answer")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(answer.get_by_role("button", name="Endorse")).to_have_count(0)
    shot("board-5-lea-accepts")
    follow(frame, frame.get_by_role("link", name="← All threads"))
    row = frame.locator(".board-list li", has_text=QUESTION)
    expect(row.locator(".tag", has_text="Answered")).to_be_visible()
    expect(row).to_contain_text("1 helpful")
    assert course.dialogs == [] and course.errors == []

    with new_session(app) as s:
        thread = s.get(Thread, thread_id)
        assert (thread.pinned, thread.locked, thread.lock_reason) == (True, True, LOCK_REASON)
        reply_id = thread.accepted_post_id
        reply = s.get(Post, reply_id)
        assert reply.body_markdown == REPLY and reply.endorsed_at is not None
        assert (thread.reply_count, thread.comment_count, thread.helpful_count) == (1, 1, 1)
    return AskedAndAnswered(link_title, thread_id, reply_id)


def mention_by_keyboard(frame, box, typed: str, name: str, before_pick=None) -> None:
    """Type ``@`` + ``typed`` in ``box``, wait for the suggestions, pick the first with Enter."""
    box.press_sequentially("@" + typed)
    listbox = frame.get_by_role("listbox", name="People to mention")
    expect(listbox).to_be_visible()
    first = listbox.get_by_role("option").first
    expect(first).to_contain_text(name)
    expect(first).to_have_attribute("aria-selected", "true")
    # the WAI-ARIA 1.2 combobox: the text area is the combobox, the list its popup
    expect(box).to_have_attribute("role", "combobox")
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(box).to_have_attribute("aria-controls", listbox.get_attribute("id"))
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    check_now(frame)  # axe, with the list open
    # the open list leaves the textarea and its "Type @…" hint readable
    hint = frame.locator("#" + box.get_attribute("aria-controls") + "-hint")
    list_top = listbox.bounding_box()["y"]
    assert hint.bounding_box()["y"] + hint.bounding_box()["height"] <= list_top + 0.5
    assert box.bounding_box()["y"] + box.bounding_box()["height"] <= list_top + 0.5
    if before_pick is not None:
        before_pick()
    box.press("Enter")
    expect(listbox).to_be_hidden()
    expect(box).to_be_focused()


def test_question_answered_endorsed_pinned_locked_and_accepted_in_the_lms_iframe(
    app, lms, course, artifacts: Path
) -> None:
    ask_answer_endorse_accept(app, course, artifacts)


# --- scenario 6: the same scenario's statements in Ralph ----------------------------------------
def test_scenario_statements_land_in_ralph_exactly_once(app, lms, course, ralph) -> None:
    done = ask_answer_endorse_accept(app, course)
    with new_session(app) as s:
        rows = list(s.scalars(select(XapiOutbox)))
    outbox = {row.statement_id: row for row in rows}
    assert len(outbox) == len(rows)
    delivered = 0
    for _ in range(10):
        stats = forward_once(lambda: new_session(app), lrs_config(ralph.endpoint, ralph))
        if not stats.delivered:
            break
        delivered += stats.delivered
    assert delivered == len(rows)
    with new_session(app) as s:
        assert {r.state for r in s.scalars(select(XapiOutbox))} == {"delivered"}

    stored: dict[str, dict] = {}
    per_actor: dict[str, Counter] = {}
    for user in ("u-lea", "u-amara", "u-ines"):
        agent = {"objectType": "Agent", "account": {"homePage": lms.issuer, "name": user}}
        statements = ralph.statements_for(agent)
        ids = [st["id"] for st in statements]
        assert len(ids) == len(set(ids)), f"duplicates for {user}"
        for st in statements:
            assert st["id"] not in stored
            stored[st["id"]] = st
        per_actor[user] = Counter(_verb_name(st["verb"]["id"]) for st in statements)
    assert per_actor == {
        "u-lea": Counter({"launched": 2, "asked": 1, "voted-up": 1, "accepted-answer": 1}),
        "u-amara": Counter({"launched": 1, "replied": 1}),
        "u-ines": Counter({"launched": 1, "endorsed": 1, "commented": 1}),
    }
    # exactly the outbox: the same ids, the same statements, each stored once in Ralph's file
    assert set(stored) == set(outbox)
    for statement_id, st in stored.items():
        assert st["verb"]["id"] == outbox[statement_id].statement["verb"]["id"]
        assert st["object"]["id"] == outbox[statement_id].statement["object"]["id"]
    in_file = Counter(i for i in ralph.stored_ids() if i in outbox)
    assert set(in_file) == set(outbox) and set(in_file.values()) == {1}
    # the acts point at the right things
    by_verb = {_verb_name(st["verb"]["id"]): st for st in stored.values()}
    assert by_verb["asked"]["object"]["definition"]["name"]["en-US"] == QUESTION
    for name in ("replied", "endorsed", "accepted-answer", "voted-up"):
        assert (
            by_verb[name]["object"]["id"].endswith(f"/{done.reply_id}")
            or str(done.reply_id) in (by_verb[name]["object"]["id"])
        )
    assert by_verb["launched"]["object"]["definition"]["name"]["en-US"] == done.link_title


VERB_NAMES = {
    vocab.Verbs.LAUNCHED.iri: "launched",
    vocab.Verbs.POSTED.iri: "posted",
    vocab.Verbs.ASKED.iri: "asked",
    vocab.Verbs.REPLIED.iri: "replied",
    vocab.Verbs.COMMENTED.iri: "commented",
    vocab.Verbs.EDITED.iri: "edited",
    vocab.Verbs.LIKED.iri: "liked",
    vocab.Verbs.VOTED_UP.iri: "voted-up",
    vocab.Verbs.REPORTED.iri: "reported",
    vocab.Verbs.VIEWED.iri: "viewed",
}


def _verb_name(iri: str) -> str:
    if iri in VERB_NAMES:
        return VERB_NAMES[iri]
    for term, name in (
        (vocab.Verbs.ENDORSED, "endorsed"),
        (vocab.Verbs.ACCEPTED_ANSWER, "accepted-answer"),
    ):
        if iri.endswith("/xapi/" + term.iri):
            return name
    return iri


# --- scenario 2: the iframe follows the page's height --------------------------------------------
def test_long_reply_grows_the_lms_iframe(app, lms, course, artifacts: Path) -> None:
    add_board(lms, "Long reads")
    frame = course.launch("Long reads", "u-lea")
    start_thread(frame, "Share a long story", "Tell us about a hard conversation.")
    course.page.wait_for_function(
        "document.getElementById('tool-frame').style.height !== ''", timeout=10000
    )
    before = course.frame_height()
    story = "\n\n".join(
        f"Paragraph {n}: we met, I described what I saw, and we agreed on a next step."
        for n in range(1, 61)
    )
    post_reply(frame, story)
    expect(frame.locator(".post .body p", has_text="Paragraph 60:")).to_be_visible()
    content = frame.evaluate("document.documentElement.scrollHeight")
    course.page.wait_for_function(
        f"Math.abs(parseFloat(document.getElementById('tool-frame').style.height) - {content})"
        " <= 2",
        timeout=10000,
    )
    after = course.frame_height()
    assert after > before + 1000, (before, after)
    # the frame shows the whole page: no scrollbar inside it
    assert frame.evaluate("window.innerHeight") >= content - 2
    course.shot(artifacts, "board-resized-after-long-reply")


def test_short_page_after_a_long_one_shrinks_the_lms_iframe(app, lms, course) -> None:
    add_board(lms, "Long reads")
    frame = course.launch("Long reads", "u-lea")
    start_thread(frame, "A long story", "\n\n".join(f"Line {n}." for n in range(80)))
    content = frame.evaluate("document.documentElement.scrollHeight")
    course.page.wait_for_function(
        f"parseFloat(document.getElementById('tool-frame').style.height) >= {content} - 2"
    )
    follow(frame, frame.get_by_role("link", name="← All threads"))
    needed = frame.evaluate("Math.ceil(document.body.getBoundingClientRect().bottom)")
    course.page.wait_for_timeout(500)
    assert course.frame_height() <= needed + 40, (course.frame_height(), needed)


# --- scenario 3: cohorts ------------------------------------------------------------------------
def test_cohorts_are_kept_apart_and_staff_see_and_filter_them(
    app, lms, course, artifacts: Path
) -> None:
    title = "Cohort circles"
    add_board(lms, title)
    # Ines fetches the class list with its groups (NRPS + course groups) from the course's
    # not-yet-set-up link, then switches the board to one conversation per group.
    frame = course.launch("Learning Commons", "u-ines", expect=re.compile(r"/app\?"))
    submit(frame, frame.get_by_role("button", name="Refresh class list"))
    expect(frame.get_by_role("status")).to_contain_text("The class list is being refreshed")
    worker_pass(app)  # the worker runs the sync the button queued
    frame = course.launch(title, "u-ines")
    follow(frame, frame.get_by_role("link", name="Board settings"))
    frame.get_by_label("Cohorts").select_option("groups")
    submit(frame, frame.get_by_role("button", name="Save settings"))
    expect(frame.get_by_role("status")).to_have_text("Settings saved.")
    expect(frame.get_by_label("Cohorts")).to_have_value("groups")
    course.shot(artifacts, "board-cohorts-1-settings")
    follow(frame, frame.get_by_role("link", name="← Back to the board"))
    expect(frame.get_by_text("each cohort talks among itself")).to_be_visible()
    cohort_select = frame.get_by_label("Cohort", exact=True)
    expect(cohort_select.locator("option")).to_have_text(["Whole course", "Cohort A", "Cohort B"])
    start_thread(frame, "Welcome, both cohorts", "Introduce yourselves in your cohort.")

    # Lea (Cohort A) posts; her only cohort is chosen for her.
    frame = course.launch(title, "u-lea")
    expect(frame.get_by_label("Cohort", exact=True)).to_have_count(0)
    start_thread(frame, "Cohort A team charter", "Our draft charter: meet on Mondays.")
    lea_thread = int(re.search(r"/threads/(\d+)", frame.url).group(1))

    # Chen (Cohort B) sees the course-wide thread, not Lea's; its address answers 404.
    frame = course.launch(title, "u-chen")
    expect(frame.get_by_role("link", name="Welcome, both cohorts")).to_be_visible()
    expect(frame.get_by_role("link", name="Cohort A team charter")).to_have_count(0)
    start_thread(frame, "Cohort B reading list", "Two books on coaching.")
    launched = launch_query(frame)
    tool = re.match(r"https?://[^/]+", frame.url).group(0)
    response = goto(frame, f"{tool}/threads/{lea_thread}?{launched}")
    assert response.status == 404
    expect(frame.get_by_text("does not exist or is not in this course")).to_be_visible()
    assert "Cohort A team charter" not in frame.content() and "Mondays" not in frame.content()
    course.shot(artifacts, "board-cohorts-2-chen-refused")

    # Amara, Lea's cohort-mate, sees Lea's thread but not Chen's.
    frame = course.launch(title, "u-amara")
    expect(frame.get_by_role("link", name="Cohort A team charter")).to_be_visible()
    expect(frame.get_by_role("link", name="Cohort B reading list")).to_have_count(0)

    # Ines sees every thread with its cohort tag and filters by cohort.
    frame = course.launch(title, "u-ines")
    rows = frame.locator(".board-list li")
    expect(rows).to_have_count(3)
    cohort_tags = rows.locator(".tag", has_text=re.compile(r"^Cohort [AB]$"))
    expect(cohort_tags).to_have_count(2)  # the course-wide thread has none
    expect(rows.filter(has_text="Cohort A team charter").locator(".tag")).to_contain_text(
        ["Cohort A"]
    )
    expect(rows.filter(has_text="Cohort B reading list").locator(".tag")).to_contain_text(
        ["Cohort B"]
    )
    course.shot(artifacts, "board-cohorts-3-staff-all")
    frame.get_by_label("Show cohort").select_option(label="Cohort A")
    submit(frame, frame.get_by_role("button", name="Filter"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Cohort A team charter")
    expect(frame.get_by_label("Show cohort")).to_have_value(
        frame.get_by_label("Show cohort")
        .locator("option", has_text="Cohort A")
        .get_attribute("value")
    )
    course.shot(artifacts, "board-cohorts-4-staff-filtered")


def test_staff_made_cohorts_by_keyboard_in_the_lms_iframe(
    app, lms, course, artifacts: Path
) -> None:
    title = "Project circles"
    add_board(lms, title)
    # the class list first, so the Cohorts page can offer every learner of the course
    frame = course.launch("Learning Commons", "u-ines", expect=re.compile(r"/app\?"))
    submit(frame, frame.get_by_role("button", name="Refresh class list"))
    expect(frame.get_by_role("status")).to_contain_text("The class list is being refreshed")
    worker_pass(app)  # the worker runs the sync the button queued
    frame = course.launch(title, "u-ines")
    follow(frame, frame.get_by_role("link", name="Cohorts"))
    expect(frame.get_by_role("heading", name="Cohorts", exact=True)).to_be_visible()
    name = frame.get_by_label("Name", exact=True)
    name.focus()
    name.press_sequentially("Circle one")
    name.press("Enter")  # the form submits from the keyboard
    frame.wait_for_load_state()
    expect(frame.get_by_role("status")).to_have_text("Cohort made.")
    circle = frame.get_by_role("region", name="Circle one")
    members = circle.get_by_role("group", name="Members of Circle one")
    for person in ("Lea Learner", "Diego Ramírez"):
        box = members.get_by_label(person)
        box.focus()
        box.press("Space")
        expect(box).to_be_checked()
    submit(frame, circle.get_by_role("button", name="Save Circle one"))
    expect(frame.get_by_role("status")).to_have_text("Cohort saved.")
    expect(frame.get_by_text("2 members · 0 threads: Diego Ramírez, Lea Learner")).to_be_visible()
    course.shot(artifacts, "board-cohorts-made-1-page")
    follow(frame, frame.get_by_role("link", name="← Back to the board"))
    follow(frame, frame.get_by_role("link", name="Board settings"))
    frame.get_by_label("Cohorts").select_option("cohorts")
    submit(frame, frame.get_by_role("button", name="Save settings"))
    expect(frame.get_by_role("status")).to_have_text("Settings saved.")

    # Lea (LMS group Cohort A, staff-made Circle one) posts into Circle one; Diego (Cohort B)
    # sees it, Amara (Cohort A, no circle) does not.
    frame = course.launch(title, "u-lea")
    start_thread(frame, "Circle one kickoff", "When do we meet?")
    frame = course.launch(title, "u-diego")
    expect(frame.get_by_role("link", name="Circle one kickoff")).to_be_visible()
    frame = course.launch(title, "u-amara")
    expect(frame.get_by_text("each cohort talks among itself")).to_be_visible()
    expect(frame.get_by_role("link", name="Circle one kickoff")).to_have_count(0)
    frame = course.launch(title, "u-ines")
    row = frame.locator(".board-list li", has_text="Circle one kickoff")
    expect(row.locator(".tag", has_text="Circle one")).to_be_visible()
    course.shot(artifacts, "board-cohorts-made-2-staff")
    assert course.dialogs == [] and course.errors == []


# --- scenario 4: XSS corpus ---------------------------------------------------------------------
def _pwned(cp: CoursePage) -> list[str]:
    """What the sentinel caught on the course page and in the tool frame."""
    found = cp.page.evaluate("window.__pwnedHits.slice()")
    found += cp.frame.evaluate("window.__pwnedHits ? window.__pwnedHits.slice() : ['no sentinel']")
    titles = [cp.page.title(), cp.frame.title()]
    return found + [f"title {t}" for t in titles if t.strip().lower() == "pwned"]


def _assert_clean(cp: CoursePage, where: str) -> None:
    problems = cp.frame.evaluate(XSS_DOM_CHECK)
    assert problems == [], (where, problems)
    assert _pwned(cp) == [], where
    assert cp.dialogs == [], where


def test_xss_corpus_never_executes(app, lms, chromium, artifacts: Path) -> None:
    payloads = xss_corpus()
    assert len(payloads) >= 20
    title = "Safe words"
    add_board(lms, title, posts_per_hour="0")
    # Posting with the tool's CSP on: the sentinel also records any CSP violation, i.e. any
    # payload markup that reached the page and tried to run.
    poster = CoursePage(chromium, lms, sentinel=True)
    threads: list[tuple[int, str, str]] = []
    try:
        frame = poster.launch(title, "u-lea")
        for n, payload in enumerate(payloads, 1):
            heading = f"P{n:02d} {payload.splitlines()[0]}"[:200]
            start_thread(frame, heading, payload)
            expect(frame.get_by_role("heading", level=1)).to_have_text(heading)
            _assert_clean(poster, f"thread {n}")
            threads.append(
                (int(re.search(r"/threads/(\d+)", frame.url).group(1)), heading, payload)
            )
            follow(frame, frame.get_by_role("link", name="← All threads"))
        _assert_clean(poster, "board")
        frame = poster.launch(title, "u-amara")
        launched = launch_query(frame)
        tool = re.match(r"https?://[^/]+", frame.url).group(0)
        for thread_id, heading, payload in threads:
            goto(frame, f"{tool}/threads/{thread_id}?{launched}")
            post_reply(frame, payload)
            expect(post_article(frame, "Reply", "Amara Okafor")).to_be_visible()
            _assert_clean(poster, f"reply to {heading}")
        assert poster.errors == []
    finally:
        poster.close()

    # Reading as staff (who see everything) with the CSP switched off in the browser, so only
    # the sanitiser stands between a payload and execution.
    reader = CoursePage(chromium, lms, sentinel=True, bypass_csp=True)
    try:
        frame = reader.launch(title, "u-ines")
        seen = set()
        while True:
            _assert_clean(reader, "board page")
            seen.update(frame.locator(".board-list li > a").all_inner_texts())
            more = frame.get_by_role("link", name="More threads")
            if not more.count():
                break
            follow(frame, more)
        assert seen == {heading for _, heading, _ in threads}
        launched = launch_query(frame)
        tool = re.match(r"https?://[^/]+", frame.url).group(0)
        for thread_id, heading, payload in threads:
            goto(frame, f"{tool}/threads/{thread_id}?{launched}")
            expect(frame.locator(".post")).to_have_count(2)
            for link in frame.locator(".post .body a").all():
                link.hover()  # would fire an onmouseover that slipped through
            frame.locator("body").press("Tab")  # would fire an autofocus/onfocus handler
            reader.page.wait_for_timeout(50)
            _assert_clean(reader, heading)
            if "{{" in payload:  # template injection: shown as written, never evaluated
                for body in frame.locator(".post .body").all_inner_texts():
                    assert "49" not in body and "{{" in body and "}}" in body
                    assert payload != "{{7*7}}" or body.strip() == "{{7*7}}"
            if payload.startswith("&lt;script&gt;"):
                body = frame.locator(".post.opening .body").inner_text()
                assert '<script>alert("entities")</script>' in body
            if payload.startswith("```html"):
                code = frame.locator(".post.opening .body pre code").inner_text()
                assert '<script>window.__pwned="fenced"</script>' in code
        goto(frame, f"{tool}/threads/{threads[2][0]}?{launched}")
        reader.shot(artifacts, "board-xss-thread")
        goto(frame, f"{tool}/threads/{threads[-1][0]}?{launched}")
        reader.frame_shot(artifacts, "board-xss-markdown")
        assert reader.errors == []
    finally:
        reader.close()


# --- scenario 5: keyboard only, focus, target size, 320px ---------------------------------------
def _tab_to(page, target_id: str, limit: int = 80) -> list[dict]:
    """Press Tab until the element with ``target_id`` has focus; every stop on the way."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUS_STYLE)
        stops.append(stop)
        if stop and stop["id"] == target_id:
            return stops
    raise AssertionError(f"Tab never reached #{target_id}: {stops}")


def _tab_until(page, predicate, limit: int = 80) -> list[dict]:
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUS_STYLE)
        stops.append(stop)
        if stop and predicate(stop):
            return stops
    raise AssertionError(f"Tab never got there: {stops}")


def _assert_focus_visible(stops: list[dict]) -> None:
    for stop in stops:
        assert stop is not None, stops
        assert stop["focusVisible"], stop
        assert (stop["outline"] != "none" and stop["width"] >= 2) or stop["shadow"] != "none", stop


ROUGH_REPLY = (
    "Here is my checklist, with a long link "
    "https://example.org/a/very/long/path/that/does/not/break/easily/feedback-conversations-guide"
    "\n\n```\nsituation = 'In Monday's stand-up'; behaviour = 'you interrupted twice'; "
    "impact = 'the team stopped sharing'\n```\n\n"
    "| Step | What you say | Why it matters | Follow-up |\n|---|---|---|---|\n"
    "| Situation | In the stand-up | Anchors the time | Ask |\n"
    "| Behaviour | You interrupted | Observable | Listen |\n"
    "| Impact | People went quiet | Consequence | Agree |\n\n"
    "Supercalifragilisticexpialidociousfeedbackconversationchecklistword."
)


def test_keyboard_only_with_visible_focus_big_targets_and_no_overflow_at_320px(
    app, lms, chromium, course, artifacts: Path
) -> None:
    from tests.social.social_web import Person

    title = "Keyboard board"
    rlid = add_board(lms, title)
    frame = course.launch(title, "u-lea")
    board_url = standalone_url(frame)  # the same launch, opened as a page of its own
    page = course.context.new_page()
    goto(page, board_url)

    # Start a thread with the keyboard alone.
    stops = _tab_to(page, "thread-title")
    assert stops[0]["text"] == "Skip to content"
    _assert_focus_visible(stops)
    page.keyboard.type("Keyboard only: my first thread")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "thread-body"
    page.keyboard.type("Typed without a mouse. **Bold** works too.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "thread-kind"
    page.keyboard.press("ArrowDown")  # Discussion → Question
    stops = _tab_until(page, lambda s: s["text"] == "Post thread")
    _assert_focus_visible(stops)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert THREAD_URL.search(page.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Keyboard only: my first thread")
    expect(page.locator("h1 + p .tag", has_text="Question")).to_be_visible()
    expect(page.locator(".post.opening .body strong")).to_have_text("Bold")
    thread_url = page.url

    # Reply, then comment on the reply, still by keyboard (Enter on a <summary> opens it).
    stops = _tab_to(page, "reply-body")
    _assert_focus_visible(stops)
    page.keyboard.type("Answering my own question: practise with a friend first.")
    stops = _tab_until(page, lambda s: s["text"] == "Post reply")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Replies (1)")).to_be_visible()
    stops = _tab_until(page, lambda s: s["tag"] == "SUMMARY" and s["text"] == "Comment")
    _assert_focus_visible(stops)
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "body"
    page.keyboard.type("And a comment, typed too.")
    _tab_until(page, lambda s: s["text"] == "Post comment")
    with page.expect_navigation():
        page.keyboard.press("Space")
    expect(page.get_by_role("article", name="Comment by Lea Learner")).to_contain_text(
        "And a comment, typed too."
    )
    page.screenshot(path=str(artifacts / "board-keyboard-thread.png"), full_page=True)

    # Others make the thread busy: a wide reply, a comment from staff, an edit with history.
    thread_id = int(re.search(r"/threads/(\d+)", thread_url).group(1))
    amara = Person(lms, "u-amara", rlid)
    assert amara.post(f"/threads/{thread_id}/posts", body=ROUGH_REPLY).status_code == 303
    with new_session(app) as s:
        posts = {p.body_markdown: p.id for p in s.scalars(select(Post))}
    ines = Person(lms, "u-ines", rlid)
    r = ines.post(f"/threads/{thread_id}/posts", body="Nice table.", parent_id=posts[ROUGH_REPLY])
    assert r.status_code == 303
    opening = posts["Typed without a mouse. **Bold** works too."]
    r = Person(lms, "u-lea", rlid).post(
        f"/posts/{opening}/edit", title="Keyboard only: my first thread", body="Edited **once**."
    )
    assert r.status_code == 303

    # Every target in a post is at least 24 by 24 CSS px (or spaced as WCAG 2.2 allows), for the
    # author, a classmate and staff, who each see different controls.
    views = {
        "lea": thread_url,
        "amara": f"{amara.tool}/threads/{thread_id}?lc={amara.token}",
        "ines": f"{ines.tool}/threads/{thread_id}?lc={ines.token}",
    }
    for who, url in views.items():
        goto(page, url)
        for summary in page.locator(".post details > summary").all():
            summary.click()  # open every form so its controls are measured too
        sizes = page.evaluate(TARGET_SIZE_CHECK, ".post")
        assert sizes["count"] >= 6, (who, sizes)
        assert sizes["problems"] == [], (who, sizes["problems"])
    page.close()

    # At 320 CSS px nothing scrolls sideways: as a page of its own and inside the LMS iframe.
    made = ines.post("/cohorts", name="Evening cohort with a long name for narrow screens")
    assert made.status_code == 303
    narrow = chromium.new_context(viewport={"width": 320, "height": 640})
    try:
        small = narrow.new_page()
        urls = {
            "board-lea": board_url,
            "thread-lea": thread_url,
            "board-ines": f"{ines.tool}/boards/{ines.board_id}?lc={ines.token}",
            "thread-ines": views["ines"],
            "settings-ines": f"{ines.tool}/boards/{ines.board_id}/settings?lc={ines.token}",
            "cohorts-ines": f"{ines.tool}/cohorts?lc={ines.token}&board={ines.board_id}",
        }
        for name, url in urls.items():
            goto(small, url)
            assert small.evaluate(OVERFLOW) <= 0, name
            small.screenshot(path=str(artifacts / f"board-320-{name}.png"), full_page=True)
    finally:
        chromium.close_context(narrow)
    in_lms = CoursePage(chromium, lms, width=320, height=640)
    try:
        frame = in_lms.launch(title, "u-ines")
        assert frame.evaluate(OVERFLOW) <= 0
        open_thread(frame, "Keyboard only: my first thread")
        assert frame.evaluate(OVERFLOW) <= 0
        in_lms.frame_shot(artifacts, "board-320-in-lms-iframe")
    finally:
        in_lms.close()


# --- the README's picture -----------------------------------------------------------------------
def test_board_screenshot_for_the_readme(app, lms, chromium, artifacts: Path) -> None:
    """A realistic board seen by the instructor: pinned welcome, answered and open questions,
    competency tags. Saved as test-artifacts/board.png (docs/img/board.png is a copy)."""
    from plugin.performance import frameworks
    from plugin.performance.models import Competency
    from tests.data_files import moodle_text
    from tests.social.social_web import Person

    title = "Leadership circle"
    rlid = add_board(lms, title)
    ines = Person(lms, "u-ines", rlid)
    with new_session(app) as s:
        from plugin.lti.models import Platform

        platform = s.scalars(select(Platform).where(Platform.issuer == lms.issuer)).one()
        frameworks.import_moodle_csv(s, platform.id, moodle_text())
        s.commit()
        ids = {c.name: c.id for c in s.scalars(select(Competency))}
    talent, team, influence = (
        ids["Developing Talent"],
        ids["Teamwork and Team Leadership"],
        ids["Influencing"],
    )
    # the instructor links the board to three competencies: threads are tagged from those
    linked = ines.post(
        f"/boards/{ines.board_id}/settings",
        competencies_shown="1",
        competency_ids=[talent, team, influence],
        posts_per_hour="30",
    )
    assert linked.status_code == 303
    people = {u: Person(lms, u, rlid) for u in ("u-lea", "u-amara", "u-benjamin", "u-chen")}
    people["u-sofia"] = Person(lms, "u-sofia", rlid)
    people["u-diego"] = Person(lms, "u-diego", rlid)

    def reply(who: str, thread_id: int, body: str, parent: int | None = None) -> int:
        extra = {"parent_id": parent} if parent else {}
        person = ines if who == "u-ines" else people[who]
        assert person.post(f"/threads/{thread_id}/posts", body=body, **extra).status_code == 303
        with new_session(app) as s:
            return s.scalars(select(Post.id).order_by(Post.id.desc())).first()

    welcome = ines.new_thread(
        "Welcome to the Leadership circle: start here",
        "Introduce yourself and tell us one leadership habit you want to build this term.",
    )
    assert ines.post(f"/threads/{welcome}/state", pinned="1").status_code == 303
    reply("u-lea", welcome, "Hi all, I lead a team of six and want to get better at feedback.")
    reply("u-chen", welcome, "Hello! My habit: a weekly 1:1 with each person.")
    question = people["u-lea"].new_thread(
        QUESTION, QUESTION_BODY, kind="question", competency_ids=[talent]
    )
    answer = reply("u-amara", question, ANSWER)
    reply("u-benjamin", question, "I write down the situation first so I stay specific.")
    reply("u-ines", question, STAFF_COMMENT, parent=answer)
    assert ines.post(f"/posts/{answer}/endorse", endorsed="1").status_code == 303
    lea = people["u-lea"]
    assert lea.post(f"/posts/{answer}/reactions", kind="helpful").status_code == 303
    assert lea.post(f"/threads/{question}/accept", post_id=answer).status_code == 303
    books = people["u-benjamin"].new_thread(
        "Books that changed how you coach",
        "Mine: *The Coaching Habit*. Seven questions, and most of the time only the first one.",
        competency_ids=[talent],
    )
    reply("u-sofia", books, "*Radical Candor* helped me care personally and challenge directly.")
    reply("u-amara", books, "Seconding The Coaching Habit: the AWE question works.")
    people["u-chen"].new_thread(
        "Delegating when the team is already stretched?",
        "Everyone is at capacity. How do you delegate without overloading people?",
        kind="question",
        competency_ids=[team],
    )
    reflection = people["u-sofia"].new_thread(
        "Reflection: my first month of 1:1s",
        "What worked: letting them set the agenda. What did not: skipping them in busy weeks.",
        competency_ids=[team, influence],
    )
    reply("u-diego", reflection, "Same here: protecting the slot is the hard part.")
    people["u-diego"].new_thread(
        "Giving feedback upward to your manager?",
        "Has anyone tried SBI with their own manager? How did it go?",
        kind="question",
    )

    course = CoursePage(chromium, lms, width=1000, height=900)
    try:
        frame = course.launch(title, "u-ines")
        rows = frame.locator(".board-list li")
        expect(rows).to_have_count(6)
        expect(rows.first).to_contain_text("Welcome to the Leadership circle")
        answered = rows.filter(has_text=QUESTION)
        for tag in ("Question", "Answered", "Endorsed answer"):
            expect(answered.locator(".tag", has_text=tag)).to_be_visible()
        course.frame_shot(artifacts, "board")
        open_thread(frame, QUESTION)
        expect(frame.get_by_text("Counts toward:")).to_contain_text("Developing Talent")
        expect(frame.locator(".tag", has_text="Accepted answer")).to_be_visible()
        course.frame_shot(artifacts, "board-thread")
    finally:
        course.close()


# --- moderation and search ----------------------------------------------------------------------
RUDE = "This question is pointless, just google it."


def test_report_hide_from_the_queue_and_search_with_highlights(
    app, lms, course, artifacts: Path
) -> None:
    from tests.social.social_web import Person

    title = "Respectful talk"
    rlid = add_board(lms, title)
    frame = course.launch(title, "u-lea")
    start_thread(
        frame,
        "Feedback rituals in hybrid teams",
        "We run a monthly retrospective; how do you keep remote people in the feedback loop?",
    )
    thread_id = int(re.search(r"/threads/(\d+)", frame.url).group(1))
    benjamin = Person(lms, "u-benjamin", rlid)
    assert benjamin.post(f"/threads/{thread_id}/posts", body=RUDE).status_code == 303
    amara = Person(lms, "u-amara", rlid)
    kind = "Pair a remote and an office colleague for every retrospective action."
    assert amara.post(f"/threads/{thread_id}/posts", body=kind).status_code == 303

    # Lea reports Benjamin's reply.
    goto(frame, frame.url)
    rude = post_article(frame, "Reply", "Benjamin Hartley")
    rude.locator("summary", has_text="Report").click()
    rude.get_by_label("Why should the moderators look at this reply?").fill(
        "Dismissive; not helpful for anyone."
    )
    submit(frame, rude.get_by_role("button", name="Send report"))
    rude = post_article(frame, "Reply", "Benjamin Hartley")
    expect(actions(rude).locator(".tag", has_text="You reported this")).to_be_visible()
    course.shot(artifacts, "board-mod-1-lea-reports")

    # Ines finds it in the moderation queue and hides it.
    frame = course.launch(title, "u-ines")
    queue_link = frame.get_by_role("link", name=re.compile(r"^Moderation queue"))
    expect(queue_link).to_contain_text("1 open")
    follow(frame, queue_link)
    item = frame.locator("ol.mod-queue > li")
    expect(item).to_have_count(1)
    expect(item.locator(".mod-excerpt")).to_have_text(RUDE)
    expect(item.locator(".mod-reasons")).to_contain_text("Dismissive; not helpful for anyone.")
    expect(item).to_contain_text("by Benjamin Hartley")
    course.shot(artifacts, "board-mod-2-queue")
    item.get_by_label("Reason for your decision").fill("Disrespectful to a classmate")
    submit(frame, item.get_by_role("button", name="Hide post"))
    expect(frame.get_by_text("No open reports.")).to_be_visible()
    follow(frame, frame.get_by_role("link", name="← Back to the board"))
    open_thread(frame, "Feedback rituals in hybrid teams")
    hidden = post_article(frame, "Reply", "Benjamin Hartley")
    expect(hidden.locator(".meta .tag", has_text="Hidden")).to_be_visible()  # staff still see it
    course.shot(artifacts, "board-mod-3-staff-sees-hidden")

    # Lea no longer sees the reply; nor does search find it for her.
    frame = course.launch(title, "u-lea")
    open_thread(frame, "Feedback rituals in hybrid teams")
    expect(post_article(frame, "Reply", "Benjamin Hartley")).to_have_count(0)
    expect(post_article(frame, "Reply", "Amara Okafor")).to_be_visible()
    assert "google" not in frame.content()
    follow(frame, frame.get_by_role("link", name="← All threads"))
    search = frame.get_by_role("search", name="Search the discussions")
    search.get_by_label("Search this board").fill("retrospective")
    submit(frame, search.get_by_role("button", name="Search"))
    hits = frame.locator("ol.search-results > li")
    expect(hits).to_have_count(2)
    for hit in hits.all():
        expect(hit.get_by_role("link", name="Feedback rituals in hybrid teams")).to_be_visible()
        expect(hit.locator(".snippet mark").first).to_have_text(
            re.compile(r"^retrospective$", re.IGNORECASE)
        )
    course.shot(artifacts, "board-search-highlights")
    search = frame.get_by_role("search", name="Search the discussions")
    search.get_by_role("searchbox").fill("google")
    submit(frame, search.get_by_role("button", name="Search"))
    expect(frame.get_by_role("status")).to_contain_text("No posts match “google”")
    # staff find the hidden reply, marked as hidden
    frame = course.launch(title, "u-ines")
    search = frame.get_by_role("search", name="Search the discussions")
    search.get_by_label("Search this board").fill("google")
    submit(frame, search.get_by_role("button", name="Search"))
    hit = frame.locator("ol.search-results > li")
    expect(hit).to_have_count(1)
    expect(hit.locator(".tag", has_text="Hidden")).to_be_visible()
    expect(hit.locator(".snippet mark")).to_have_text("google")
    # following a result lands on the post
    follow(frame, hit.get_by_role("link", name="Feedback rituals in hybrid teams"))
    assert frame.url.endswith(f"#post-{_post_id(app, RUDE)}")
    assert course.dialogs == [] and course.errors == []


def _post_id(app, body: str) -> int:
    with new_session(app) as s:
        return s.scalars(select(Post.id).where(Post.body_markdown == body)).one()


# --- the same scenario under the other cookie policies ---------------------------------------------
@pytest.mark.parametrize("policy", ["allowed", "blocked"])
def test_question_scenario_under_the_other_cookie_policies(
    app, lms, playwright_driver, tool_server, policy: str
) -> None:
    """Scenario 1 again with third-party cookies allowed (the cookie path) and with every cookie
    of the tool's site blocked (URL tokens, the OIDC state in LTI Platform Storage):
    ``CoursePage.launch`` checks which way each of its launches went."""
    other = Chromium(playwright_driver, policy, tool_server.url)
    course = CoursePage(other, lms)
    try:
        ask_answer_endorse_accept(app, course)
    finally:
        course.close()
    other.assert_accessible()
