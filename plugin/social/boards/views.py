"""Board pages: thin server-rendered views over :mod:`plugin.social.boards`.

Every page needs the launch token (``lc``); every form carries it back as a hidden field, so the
pages work without any cookie. Every POST answers 303 back to the page it came from. A refused act
(:class:`~plugin.social.Refusal`) becomes a readable 4xx page with the service's message.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from plugin.access import Refusal, Viewer
from plugin.db import unit_of_work
from plugin.pages import back, course_read, form_flag, id_or_none, ids, render
from plugin.social import boards, notifications
from plugin.social.models import REACTION_KINDS, THREAD_KINDS, Post
from plugin.web import course_act, current, launch_required

bp = Blueprint("social", __name__, template_folder="templates")

REACTION_LABELS = {"like": "Like", "helpful": "Helpful"}
SORT_LABELS = {
    boards.SORT_ACTIVITY: "Latest activity",
    boards.SORT_NEWEST: "Newest",
    boards.SORT_HELPFUL: "Most helpful",
    boards.SORT_UNANSWERED: "Unanswered",
}


def back_to_post(thread_id: int, post_id: int | None = None, cursor: str | None = None) -> Response:
    """303 to a thread page (``cursor``: a later page of it) at a post's anchor."""
    anchor = f"post-{post_id}" if post_id is not None else None
    return back("social.thread_page", thread_id=thread_id, cursor=cursor, _anchor=anchor)


def board_param(session: Session, who: Viewer) -> int | None:
    """The board to go back to (``?board=`` or a form field), when it is one of this course's."""
    board_id = id_or_none(request.values.get("board"), "board")
    if board_id is None:
        return None
    return boards.get_board(session, who, board_id).id


# --- pages ---------------------------------------------------------------------------------------
@bp.get("/board")
@launch_required
def placement_board() -> Response:
    """The launch's placement board (made on first use)."""
    cur = current()
    if cur.placement is None or cur.placement.widget != "board":
        raise Refusal(404, "This activity is not a discussion board.", title="No board here")
    with course_act() as (session, _who):
        board = boards.board_for_placement(session, session.merge(cur.placement))
        board_id = board.id
    return back("social.board_page", board_id=board_id)


@bp.get("/boards/<int:board_id>")
@launch_required
def board_page(board_id: int) -> str:
    session, who = course_read()
    cohort = id_or_none(request.args.get("cohort"), "cohort")
    sort = request.args.get("sort") or boards.SORT_ACTIVITY
    board = boards.get_board(session, who, board_id)
    page = boards.list_threads(
        session,
        who,
        board,
        cursor=request.args.get("cursor") or None,
        cohort_group_id=cohort,  # the service applies it for staff only
        sort=sort,
    )
    cohorts = boards.cohort_choices(session, who, board)
    from plugin.social import notifications  # threads with posts the viewer has not read

    unread_ids = notifications.unread_thread_ids(session, who, [t.id for t in page.threads])
    return render_template(
        "social/board.html",
        unread_ids=unread_ids,
        competency_choices=boards.course_competencies(session, who),
        can_moderate=boards.can_moderate(who, board),
        cur=current(),
        token=current().token,
        board=board,
        page=page,
        viewer=who,
        cohorts=cohorts,
        cohort_names={g.id: g.name for g in cohorts},
        cohort_filter=cohort,
        sort=sort,
        sorts=SORT_LABELS,
        kinds=THREAD_KINDS,
        title=(board.placement.title if board.placement else None) or "Discussion board",
    )


@bp.post("/boards/<int:board_id>/threads")
@launch_required
def new_thread(board_id: int) -> Response:
    form = request.form
    with course_act() as (session, who):
        board = boards.get_board(session, who, board_id)
        thread = boards.create_thread(
            session,
            who,
            board,
            title=form.get("title", ""),
            body=form.get("body", ""),
            kind=form.get("kind", "discussion"),
            anonymous=form_flag("anonymous"),
            cohort_group_id=id_or_none(form.get("cohort"), "cohort"),
            competency_ids=ids(form.getlist("competency_ids")),
        )
        thread_id = thread.id
    return back("social.thread_page", thread_id=thread_id)


@bp.get("/threads/<int:thread_id>")
@launch_required
def thread_page(thread_id: int) -> str:
    session, who = course_read()
    detail = boards.get_thread(session, who, thread_id, cursor=request.args.get("cursor") or None)
    # read up to now (posts since the last visit are "New"); a view statement where the board asks
    with unit_of_work(session):
        new_since = notifications.mark_thread_read(session, who, detail.thread)
        boards.record_view(session, who, detail.thread)
    tags = boards.thread_competencies(session, detail.thread)
    can_tag = boards.can_tag_thread(who, detail.thread)
    return render_template(
        "social/thread.html",
        new_since=new_since,
        thread_tags=tags,
        can_tag=can_tag,
        competency_choices=boards.course_competencies(session, who) if can_tag else [],
        can_moderate=boards.can_moderate(who, detail.board),
        cur=current(),
        token=current().token,
        detail=detail,
        thread=detail.thread,
        board=detail.board,
        viewer=who,
        can_post=boards.open_to(who, detail.thread),
        bodies=_own_bodies(session, who, detail),
        reaction_kinds=REACTION_KINDS,
        reaction_labels=REACTION_LABELS,
    )


def _own_bodies(session: Session, who: Viewer, detail: boards.ThreadDetail) -> dict[int, str]:
    """The Markdown of the viewer's own posts on the page (for their edit forms): one query."""
    views = ([detail.opening] if detail.opening else []) + detail.replies
    views += [c for r in detail.replies for c in r.comments]
    ids = [v.id for v in views if v.author is not None and v.author.user_id == who.user_id]
    if not ids:
        return {}
    rows = session.execute(
        select(Post.id, Post.body_markdown).where(Post.id.in_(ids), Post.author_id == who.user_id)
    )
    return {post_id: body for post_id, body in rows}


@bp.get("/posts/<int:post_id>")
@launch_required
def post_link(post_id: int) -> Response:
    """A link to one post (search results, notifications): the thread page that shows it."""
    session, who = course_read()
    place = boards.locate_post(session, who, post_id)
    return back_to_post(place.thread_id, post_id, place.cursor)


@bp.post("/threads/<int:thread_id>/posts")
@launch_required
def new_post(thread_id: int) -> Response:
    form = request.form
    with course_act() as (session, who):
        thread = boards.load_thread(session, who, thread_id)
        parent_id = id_or_none(form.get("parent_id"), "reply")
        parent = boards.load_post(session, who, parent_id) if parent_id is not None else None
        boards.reply(
            session,
            who,
            thread,
            form.get("body", ""),
            parent_post=parent,
            anonymous=form_flag("anonymous"),
        )
    return back("social.thread_page", thread_id=thread_id)


def _post_and_thread(session: Session, who: Viewer, post_id: int) -> Post:
    return boards.load_post(session, who, post_id)


@bp.post("/posts/<int:post_id>/edit")
@launch_required
def edit_post(post_id: int) -> Response:
    form = request.form
    with course_act() as (session, who):
        post = _post_and_thread(session, who, post_id)
        title = form.get("title") if post.is_opening else None
        boards.edit_post(session, who, post, form.get("body", ""), title=title)
        thread_id = post.thread_id
    return back("social.thread_page", thread_id=thread_id)


@bp.post("/posts/<int:post_id>/delete")
@launch_required
def delete_post(post_id: int) -> Response:
    with course_act() as (session, who):
        post = _post_and_thread(session, who, post_id)
        boards.delete_post(session, who, post)
        thread_id = post.thread_id
    return back("social.thread_page", thread_id=thread_id)


@bp.post("/posts/<int:post_id>/reactions")
@launch_required
def react(post_id: int) -> Response:
    kind = request.form.get("kind", "")
    with course_act() as (session, who):
        post = _post_and_thread(session, who, post_id)
        if request.form.get("action") == "remove":
            boards.unreact(session, who, post, kind)
        else:
            boards.react(session, who, post, kind)
        thread_id = post.thread_id
    return back("social.thread_page", thread_id=thread_id)


@bp.post("/threads/<int:thread_id>/state")
@launch_required
def thread_state(thread_id: int) -> Response:
    form = request.form
    changes: dict[str, bool | None] = {}
    for name in ("pinned", "locked", "closed"):
        if name in form:
            changes[name] = form.get(name) in ("1", "true", "on", "yes")
    with course_act() as (session, who):
        thread = boards.load_thread(session, who, thread_id)
        boards.set_thread_state(
            session, who, thread, lock_reason=form.get("lock_reason"), **changes
        )
    return back("social.thread_page", thread_id=thread_id)


@bp.post("/posts/<int:post_id>/endorse")
@launch_required
def endorse(post_id: int) -> Response:
    with course_act() as (session, who):
        post = _post_and_thread(session, who, post_id)
        boards.endorse(session, who, post, endorsed=form_flag("endorsed"))
        thread_id = post.thread_id
    return back("social.thread_page", thread_id=thread_id)


@bp.post("/threads/<int:thread_id>/accept")
@launch_required
def accept(thread_id: int) -> Response:
    post_id = id_or_none(request.form.get("post_id"), "reply")
    with course_act() as (session, who):
        thread = boards.load_thread(session, who, thread_id)
        post = boards.load_post(session, who, post_id) if post_id is not None else None
        boards.accept_answer(session, who, thread, post)
    return back("social.thread_page", thread_id=thread_id)


@bp.get("/posts/<int:post_id>/history")
@launch_required
def post_history(post_id: int) -> str:
    session, who = course_read()
    post = boards.load_post(session, who, post_id)
    history = boards.revisions(session, who, post)
    thread = boards.load_thread(session, who, post.thread_id)
    return render(
        "social/history.html",
        post=post,
        thread=thread,
        history=history,
        current_html="" if post.deleted else post.body_html,
    )


SETTING_LABELS = {
    "cohort_mode": "Cohorts",
    "qa_mode": "Q&A mode",
    "anonymous_allowed": "Anonymous posts",
    "grade_threads": "Threads for full participation marks",
    "grade_replies": "Replies and comments for full participation marks",
    "record_views": "Record thread views as xAPI statements",
    "mentors_moderate": "LTI Mentors may moderate",
    "posts_per_hour": "Posts per person per hour",
}
FLAG_SETTINGS = ("qa_mode", "anonymous_allowed", "record_views", "mentors_moderate")


@bp.route("/boards/<int:board_id>/settings", methods=["GET", "POST"])
@launch_required
def settings_page(board_id: int) -> str | Response:
    if request.method == "POST":
        form = request.form
        changes: dict[str, object] = {name: form_flag(name) for name in FLAG_SETTINGS}
        for name in ("cohort_mode", "grade_threads", "grade_replies", "posts_per_hour"):
            if name in form:
                changes[name] = form.get(name, "")
        with course_act() as (session, who):
            board = boards.get_board(session, who, board_id)
            boards.update_settings(session, who, board, **changes)
            if "competency_ids" in form or form.get("competencies_shown"):
                boards.set_board_competencies(
                    session, who, board, ids(form.getlist("competency_ids"))
                )
        return back("social.settings_page", board_id=board_id, saved=1)
    session, who = course_read()
    board = boards.get_board(session, who, board_id)
    offer = boards.settings_form(session, who, board)
    return render(
        "social/settings.html",
        board=board,
        labels=SETTING_LABELS,
        linked_ids={c.id for c in offer.linked},
        choices=offer.choices,
        saved=request.args.get("saved") == "1",
        title=(board.placement.title if board.placement else None) or "Discussion board",
    )


@bp.post("/threads/<int:thread_id>/competencies")
@launch_required
def thread_competencies(thread_id: int) -> Response:
    with course_act() as (session, who):
        thread = boards.load_thread(session, who, thread_id)
        boards.set_thread_competencies(
            session, who, thread, ids(request.form.getlist("competency_ids"))
        )
    return back("social.thread_page", thread_id=thread_id)
