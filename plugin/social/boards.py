"""Board services: the one place the rules of discussion boards live.

Every function takes plain arguments and a SQLAlchemy session, never reads ``flask.request`` and
never commits: the caller's unit of work commits the act together with the xAPI statement and the
evidence rows its domain event produces (``plugin.events.publish`` runs the subscribers in this
session). Refusals raise :class:`Refusal` with an HTTP-like status; nothing is added to the
session before the checks pass.

Who may see what (see ``docs`` and DESIGN.md "Roles and visibility"):

- a :class:`Viewer` is one person in one course (context); boards, threads and posts of other
  courses are "not found", never "forbidden";
- in cohort mode a learner sees the threads of their own LMS groups and the course-wide threads
  (no cohort, started by staff); staff see every cohort and may filter by one;
- hidden posts are seen by staff only; deleted posts stay as a placeholder without their text;
- anonymous authors are shown to staff and to themselves only.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin import events
from plugin.access import Refusal, Viewer, not_found
from plugin.db import utcnow
from plugin.events import ActivityRef, DomainEvent
from plugin.ids import is_id
from plugin.lti.models import (
    GROUP_FROM_LMS,
    GROUP_MADE_IN_TOOL,
    Context,
    LmsGroup,
    Placement,
    User,
)
from plugin.performance import links
from plugin.performance.models import Competency, CompetencyLink, Framework
from plugin.social import markdown
from plugin.social.models import (
    COHORT_GROUPS,
    COHORT_MADE,
    COHORT_MODES,
    COHORT_NONE,
    DEFAULT_POSTS_PER_HOUR,
    KIND_QUESTION,
    REACTION_HELPFUL,
    REACTION_KINDS,
    SEPARATED_MODES,
    THREAD_KINDS,
    Board,
    ModerationAction,
    Mute,
    Post,
    PostingLock,
    PostRevision,
    Reaction,
    Thread,
)

MAX_TITLE_CHARS = 200
MAX_PAGE_SIZE = 100
ANONYMOUS_NAME = "Anonymous"


# --- input checks --------------------------------------------------------------------------------
def check_body(body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise Refusal(400, "Write something before posting.")
    if len(body) > markdown.MAX_BODY_CHARS:
        raise Refusal(
            413 if len(body) > 4 * markdown.MAX_BODY_CHARS else 400,
            f"A post can be at most {markdown.MAX_BODY_CHARS:,} characters long.",
        )
    if "\x00" in body:
        raise Refusal(400, "The text contains a character that cannot be stored.")
    return body


def check_title(title: object) -> str:
    if not isinstance(title, str) or not title.strip():
        raise Refusal(400, "Give the thread a title.")
    title = " ".join(title.split())
    if len(title) > MAX_TITLE_CHARS:
        raise Refusal(400, f"A title can be at most {MAX_TITLE_CHARS} characters long.")
    return title


# --- boards --------------------------------------------------------------------------------------
def _flag(value: object) -> bool:
    """A setting from LTI custom parameters arrives as a string: only "true"/"1"/"yes" switch on."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return value is True


def _count_setting(value: object, what: str, *, high: int) -> int | None:
    """A whole-number board setting (from a form or LTI custom parameters): blank = None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise Refusal(400, f"{what} must be a whole number.")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError as exc:
        raise Refusal(400, f"{what} must be a whole number.") from exc
    if number < 0 or number > high:
        raise Refusal(400, f"{what} must be between 0 and {high}.")
    return number


def _settings_from_placement(settings: dict) -> dict:
    """Board settings from the placement's (deep-linked) settings; bad values fall back to the
    defaults rather than refusing the launch."""
    cohort_mode = settings.get("cohort_mode", COHORT_NONE)
    values: dict = {
        "cohort_mode": cohort_mode if cohort_mode in COHORT_MODES else COHORT_NONE,
        "qa_mode": _flag(settings.get("qa_mode")),
        "anonymous_allowed": _flag(settings.get("anonymous_allowed")),
        "record_views": _flag(settings.get("record_views")),
        "mentors_moderate": _flag(settings.get("mentors_moderate")),
        "posts_per_hour": DEFAULT_POSTS_PER_HOUR,
    }
    for name, high in (("grade_threads", 1000), ("grade_replies", 1000), ("posts_per_hour", 1000)):
        try:
            number = _count_setting(settings.get(name), name, high=high)
        except Refusal:
            number = None
        if number is not None:
            values[name] = number
    return values


def board_for_placement(session: Session, placement: Placement) -> Board:
    """The placement's board, made on first use from the placement's settings (``cohort_mode``,
    ``qa_mode``, ``anonymous_allowed``, ``grade_threads``, ``grade_replies``, ``record_views``,
    ``mentors_moderate``, ``posts_per_hour``)."""
    board = session.scalar(select(Board).where(Board.placement_id == placement.id))
    if board is not None:
        return board
    board = Board(
        placement_id=placement.id,
        context_id=placement.context_id,
        created_at=utcnow(),
        **_settings_from_placement(placement.settings or {}),
    )
    try:
        with session.begin_nested():
            session.add(board)
    except IntegrityError:  # another request made it first
        board = session.scalars(select(Board).where(Board.placement_id == placement.id)).one()
    return board


BOARD_SETTINGS = (
    "cohort_mode",
    "qa_mode",
    "anonymous_allowed",
    "grade_threads",
    "grade_replies",
    "record_views",
    "mentors_moderate",
    "posts_per_hour",
)


def update_settings(session: Session, viewer: Viewer, board: Board, **changes: object) -> Board:
    """Course staff change the board's settings (only the names in :data:`BOARD_SETTINGS`);
    the change is written to the moderation audit log."""
    _check_board(viewer, board)
    if not viewer.staff:
        raise Refusal(403, "Only course staff can change the board's settings.")
    unknown = set(changes) - set(BOARD_SETTINGS)
    if unknown:
        raise Refusal(400, f"Unknown setting: {', '.join(sorted(unknown))}.")
    values: dict[str, object] = {}
    for name, value in changes.items():
        if name == "cohort_mode":
            if value not in COHORT_MODES:
                raise Refusal(400, "Cohort mode is 'none' or 'groups'.")
            values[name] = value
        elif name in ("grade_threads", "grade_replies"):
            values[name] = _count_setting(value, name.replace("_", " ").capitalize(), high=1000)
        elif name == "posts_per_hour":
            number = _count_setting(value, "Posts per hour", high=1000)
            values[name] = DEFAULT_POSTS_PER_HOUR if number is None else number
        else:
            values[name] = _flag(value)
    changed = [n for n, v in values.items() if getattr(board, n) != v]
    for name in changed:
        setattr(board, name, values[name])
    if changed:
        audit(
            session,
            viewer,
            board,
            "settings",
            reason=", ".join(f"{n}={values[n]}" for n in changed),
        )
        session.flush()
    return board


def get_board(session: Session, viewer: Viewer, board_id: int) -> Board:
    board = session.get(Board, board_id)
    if board is None or board.context_id != viewer.context_id:
        raise not_found("This board")
    return board


# --- competencies --------------------------------------------------------------------------------
MAX_THREAD_TAGS = 5
MAX_COMPETENCY_CHOICES = 1000  # the board settings page's list of the platform's competencies


def _platform_of(session: Session, context_id: int) -> int:
    return session.scalars(select(Context.platform_id).where(Context.id == context_id)).one()


def board_competencies(
    session: Session, viewer: Viewer, board: Board
) -> list[links.CompetencyInfo]:
    """The board-level competencies: those linked to the board and to its placement."""
    _check_board(viewer, board)
    platform_id = _platform_of(session, board.context_id)
    found = links.linked(session, platform_id, "board", str(board.id))
    found += links.linked(session, platform_id, "placement", str(board.placement_id))
    return list({c.id: c for c in found}.values())


def course_competencies(session: Session, viewer: Viewer) -> list[links.CompetencyInfo]:
    """The competencies a thread may be tagged with: the current ones linked to the course's
    placements and boards (none until staff link some). One query."""
    platform_id = (
        select(Context.platform_id).where(Context.id == viewer.context_id).scalar_subquery()
    )
    placement_keys = select(cast(Placement.id, String)).where(
        Placement.context_id == viewer.context_id
    )
    board_keys = select(cast(Board.id, String)).where(Board.context_id == viewer.context_id)
    query = (
        _current_competencies(platform_id)
        .join(CompetencyLink, CompetencyLink.competency_id == Competency.id)
        .where(
            CompetencyLink.platform_id == platform_id,
            or_(
                and_(
                    CompetencyLink.ref_kind == "placement",
                    CompetencyLink.ref_key.in_(placement_keys),
                ),
                and_(CompetencyLink.ref_kind == "board", CompetencyLink.ref_key.in_(board_keys)),
            ),
        )
        .order_by(Competency.id)
    )
    rows = session.scalars(query)
    return [links.CompetencyInfo.of(c) for c in {c.id: c for c in rows}.values()]


def competency_choices(session: Session, viewer: Viewer) -> list[links.CompetencyInfo]:
    """What staff may link a board to: the current competencies of the platform's frameworks,
    framework by framework (at most ``MAX_COMPETENCY_CHOICES``)."""
    if not viewer.staff:
        raise Refusal(403, "Only course staff can link the board to competencies.")
    platform_id = _platform_of(session, viewer.context_id)
    rows = session.scalars(
        _current_competencies(platform_id)
        .order_by(Framework.id, Competency.id)
        .limit(MAX_COMPETENCY_CHOICES)
    )
    return [links.CompetencyInfo.of(c) for c in rows]


def _current_competencies(platform_id: int | ColumnElement[int]) -> Select:
    """The competencies of the platform's frameworks that are not retired."""
    return (
        select(Competency)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Framework.platform_id == platform_id, Competency.retired_at.is_(None))
    )


def set_board_competencies(
    session: Session, viewer: Viewer, board: Board, competency_ids: list[int]
) -> list[links.CompetencyInfo]:
    """Staff link the board to competencies: every act on the board then counts toward them."""
    _check_board(viewer, board)
    if not viewer.staff:
        raise Refusal(403, "Only course staff can link the board to competencies.")
    platform_id = _platform_of(session, board.context_id)
    try:
        found = links.set_links(
            session, platform_id, "board", str(board.id), competency_ids, user_id=viewer.user_id
        )
    except links.UnknownCompetencyError as exc:
        raise Refusal(404, exc.message) from exc
    except links.LinkError as exc:
        raise Refusal(400, exc.message) from exc
    audit(session, viewer, board, "competencies", reason=", ".join(c.name for c in found) or "none")
    return found


def thread_competencies(session: Session, thread: Thread) -> list[links.CompetencyInfo]:
    platform_id = (
        select(Context.platform_id)
        .join(Board, Board.context_id == Context.id)
        .where(Board.id == thread.board_id)
        .scalar_subquery()
    )
    return links.linked(session, platform_id, "thread", str(thread.id))


def set_thread_competencies(
    session: Session, viewer: Viewer, thread: Thread, competency_ids: list[int]
) -> list[links.CompetencyInfo]:
    """Tag a thread with some of the course's competencies (its author or staff): statements
    about the thread and its posts then carry them."""
    board = _visible_thread(session, viewer, thread)
    if thread.author_id != viewer.user_id and not viewer.staff:
        raise Refusal(403, "Only the thread's author or course staff can tag it.")
    return _tag_thread(session, viewer, board, thread, competency_ids)


def _tag_thread(
    session: Session, viewer: Viewer, board: Board, thread: Thread, competency_ids: list[int]
) -> list[links.CompetencyInfo]:
    wanted = list(dict.fromkeys(competency_ids))
    if len(wanted) > MAX_THREAD_TAGS:
        raise Refusal(400, f"Tag a thread with at most {MAX_THREAD_TAGS} competencies.")
    allowed = {c.id for c in course_competencies(session, viewer)}
    if any(i not in allowed for i in wanted):
        raise not_found("This competency")
    try:
        return links.set_links(
            session,
            _platform_of(session, board.context_id),
            "thread",
            str(thread.id),
            wanted,
            user_id=viewer.user_id,
        )
    except links.LinkError as exc:
        raise Refusal(400, exc.message) from exc


# --- visibility ----------------------------------------------------------------------------------
def _check_board(viewer: Viewer, board: Board) -> None:
    if board.context_id != viewer.context_id:
        raise not_found("This board")


def can_see_thread(viewer: Viewer, board: Board, thread: Thread) -> bool:
    if thread.board_id != board.id or board.context_id != viewer.context_id:
        return False
    if viewer.staff or board.cohort_mode == COHORT_NONE or thread.cohort_group_id is None:
        return True
    return thread.cohort_group_id in viewer.group_ids


def can_see_post(viewer: Viewer, post: Post) -> bool:
    return viewer.staff or not post.hidden


def can_moderate(viewer: Viewer, board: Board) -> bool:
    """Instructors and TAs moderate every board of their course; members with the LTI Mentor
    role moderate boards that allow it (``Board.mentors_moderate``)."""
    if board.context_id != viewer.context_id:
        return False
    return viewer.staff or (board.mentors_moderate and viewer.perms.mentor)


def require_moderator(viewer: Viewer, board: Board) -> None:
    if not can_moderate(viewer, board):
        raise Refusal(403, "Only the course's moderators can do this.")


def audit(
    session: Session,
    viewer: Viewer,
    board: Board | None,
    action: str,
    *,
    thread_id: int | None = None,
    post_id: int | None = None,
    target_user_id: int | None = None,
    report_id: int | None = None,
    reason: str | None = None,
) -> ModerationAction:
    """Add one row to the moderation audit log (in the caller's transaction)."""
    row = ModerationAction(
        context_id=viewer.context_id,
        board_id=board.id if board is not None else None,
        actor_id=viewer.user_id,
        action=action,
        thread_id=thread_id,
        post_id=post_id,
        target_user_id=target_user_id,
        report_id=report_id,
        reason=((reason or "").strip()[:1000] or None),
        created_at=utcnow(),
    )
    session.add(row)
    return row


def is_muted(session: Session, context_id: int, user_id: int) -> bool:
    return bool(
        session.scalar(
            select(exists().where(Mute.context_id == context_id, Mute.user_id == user_id))
        )
    )


def check_not_muted(session: Session, viewer: Viewer) -> None:
    """A member a moderator muted can read but not post, edit or react."""
    if is_muted(session, viewer.context_id, viewer.user_id):
        raise Refusal(403, "A moderator has muted you in this course: you can read but not post.")


def check_can_post(session: Session, viewer: Viewer, board: Board) -> None:
    """A muted member cannot post, edit or react; members may write at most
    ``board.posts_per_hour`` threads and posts an hour in the course (staff are not limited).

    The count is atomic across workers: the person's posting lock for the course (a
    :class:`PostingLock` row, updated first) is held until the caller's transaction ends, so two
    posts of one person never count the same last hour; the new post commits with it."""
    check_not_muted(session, viewer)
    if viewer.staff or not board.posts_per_hour:
        return
    now = utcnow()
    _take_posting_lock(session, viewer, now)
    recent = session.scalar(
        select(func.count())
        .select_from(Post)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Board, Board.id == Thread.board_id)
        .where(
            Post.author_id == viewer.user_id,
            Post.created_at >= now - timedelta(hours=1),
            Board.context_id == viewer.context_id,
        )
    )
    if (recent or 0) >= board.posts_per_hour:
        raise Refusal(
            429,
            f"You have posted {recent} times in the last hour, the most this board allows. "
            "Please wait a little before posting again.",
        )


def _take_posting_lock(session: Session, viewer: Viewer, now: datetime) -> None:
    """Create the person's lock row for the course if needed, then update it: the update waits
    for (PostgreSQL: the row lock; SQLite: the write lock) any other transaction posting as
    them, and what that one wrote is visible to the count that follows."""
    table = PostingLock.__table__
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    session.execute(
        insert.values(context_id=viewer.context_id, user_id=viewer.user_id).on_conflict_do_nothing()
    )
    session.execute(
        update(table)
        .where(table.c.context_id == viewer.context_id, table.c.user_id == viewer.user_id)
        .values(last_post_at=now)
    )


def load_thread(session: Session, viewer: Viewer, thread_id: int) -> Thread:
    """A thread the viewer may see (404 otherwise, also for a hidden opening post)."""
    return load_thread_and_board(session, viewer, thread_id)[0]


def load_thread_and_board(session: Session, viewer: Viewer, thread_id: int) -> tuple[Thread, Board]:
    """:func:`load_thread` with its board, in one query."""
    hidden = opening_hidden_query(Thread.id).limit(1).scalar_subquery()
    row = session.execute(
        select(Thread, Board, hidden.label("opening_hidden"))
        .join(Board, Board.id == Thread.board_id)
        .where(Thread.id == thread_id, Board.context_id == viewer.context_id)
    ).first()
    if row is None or not can_see_thread(viewer, row.Board, row.Thread):
        raise not_found("This thread")
    if not viewer.staff and row.opening_hidden:
        raise not_found("This thread")
    return row.Thread, row.Board


def load_post(session: Session, viewer: Viewer, post_id: int) -> Post:
    return _load_post_in_thread(session, viewer, post_id)[0]


def _load_post_in_thread(
    session: Session, viewer: Viewer, post_id: int
) -> tuple[Post, Thread, Board]:
    """A post the viewer may see, in a thread they may see, with that thread and its board."""
    post = session.get(Post, post_id)
    if post is None or not can_see_post(viewer, post):
        raise not_found("This post")
    return (post, *load_thread_and_board(session, viewer, post.thread_id))


def opening_hidden_query(thread_id: int | ColumnElement[int]) -> Select:
    """``SELECT hidden`` of a thread's opening post (``thread_id`` may be a correlated column);
    the index ``(thread_id, is_opening)`` answers it directly."""
    return select(Post.hidden).where(Post.thread_id == thread_id, Post.is_opening.is_(True))


def opening_hidden(session: Session, thread: Thread) -> bool:
    """The thread's opening post is hidden (the whole thread is then for staff only)."""
    return bool(session.scalar(opening_hidden_query(thread.id)))


def _visible_thread(session: Session, viewer: Viewer, thread: Thread) -> Board:
    board = session.get(Board, thread.board_id)
    if board is None or not can_see_thread(viewer, board, thread):
        raise not_found("This thread")
    return board


def _visible_post(session: Session, viewer: Viewer, post: Post) -> tuple[Thread, Board]:
    if not can_see_post(viewer, post):
        raise not_found("This post")
    thread = session.get(Thread, post.thread_id)
    if thread is None:
        raise not_found("This post")
    return thread, _visible_thread(session, viewer, thread)


# --- events --------------------------------------------------------------------------------------
def _board_ref(session: Session, board: Board) -> ActivityRef:
    placement = session.get(Placement, board.placement_id)
    name = (placement.title if placement is not None else None) or "Discussion board"
    return ActivityRef("board", str(board.id), name)


def _thread_ref(thread: Thread) -> ActivityRef:
    # The variant (discussion or question) is the thread's own: its xAPI activity type is the
    # same whether the thread is a statement's object or the parent of a reply.
    return ActivityRef("thread", str(thread.id), thread.title, variant=thread.kind)


def _post_ref(thread: Thread, post: Post) -> ActivityRef:
    if post.is_opening:
        name = f"Opening post of “{thread.title}”"
    elif post.parent_id is None:
        name = f"Reply in “{thread.title}”"
    else:
        name = f"Comment in “{thread.title}”"
    return ActivityRef("post", str(post.id), name)


def find_activity(session: Session, platform_id: int, kind: str, key: str) -> ActivityRef | None:
    """The board, thread or post ``key`` of the platform as the ActivityRef its events use (the
    finder behind the xAPI activity IRIs), or None when it does not exist on that platform.
    Hidden and deleted posts still exist: statements about them keep pointing at them."""
    row_id = events.key_id(key)
    if row_id is None:
        return None
    on_platform = (Context.id == Board.context_id) & (Context.platform_id == platform_id)
    if kind == "board":
        board = session.scalars(
            select(Board).join(Context, on_platform).where(Board.id == row_id)
        ).first()
        return _board_ref(session, board) if board is not None else None
    if kind == "thread":
        thread = session.scalars(
            select(Thread)
            .join(Board, Board.id == Thread.board_id)
            .join(Context, on_platform)
            .where(Thread.id == row_id)
        ).first()
        return _thread_ref(thread) if thread is not None else None
    if kind == "post":
        found = session.execute(
            select(Post, Thread)
            .join(Thread, Thread.id == Post.thread_id)
            .join(Board, Board.id == Thread.board_id)
            .join(Context, on_platform)
            .where(Post.id == row_id)
        ).first()
        return _post_ref(found[1], found[0]) if found is not None else None
    return None


def _publish(
    session: Session,
    kind: str,
    identity: str,
    viewer: Viewer,
    board: Board,
    obj: ActivityRef,
    parents: tuple[ActivityRef, ...],
    when: datetime,
    data: dict,
) -> None:
    events.publish(
        session,
        DomainEvent(
            kind=kind,
            identity=identity,
            occurred_at=when,
            platform_id=_platform_of(session, board.context_id),
            actor_user_id=viewer.user_id,
            object=obj,
            context_id=board.context_id,
            placement_id=board.placement_id,
            parents=parents,
            data=data,
        ),
    )


# --- acts ----------------------------------------------------------------------------------------
def _check_anonymous(board: Board, anonymous: bool) -> bool:
    if anonymous and not board.anonymous_allowed:
        raise Refusal(400, "This board does not allow anonymous posts.")
    return bool(anonymous)


def _cohort_for_new_thread(
    session: Session, viewer: Viewer, board: Board, cohort_group_id: int | None
) -> int | None:
    if board.cohort_mode not in SEPARATED_MODES:
        if cohort_group_id is not None:
            raise Refusal(400, "This board has no cohorts.")
        return None
    if viewer.staff:
        if cohort_group_id is None:
            return None  # a course-wide thread, seen by every cohort
        group = session.get(LmsGroup, cohort_group_id)
        if (
            group is None
            or group.context_id != board.context_id
            or group.source != cohort_source(board)
        ):
            raise not_found("This cohort")
        return group.id
    mine = viewer.groups_from(cohort_source(board))
    if cohort_group_id is None:
        if len(mine) == 1:
            return next(iter(mine))
        if not mine:
            raise Refusal(403, "You are not in a cohort of this course yet.")
        raise Refusal(400, "Choose which of your cohorts the thread is for.")
    if cohort_group_id not in mine:
        raise not_found("This cohort")
    return cohort_group_id


def cohort_source(board: Board) -> str | None:
    """Which groups are the board's cohorts (``LmsGroup.source``); None without cohorts."""
    if board.cohort_mode == COHORT_GROUPS:
        return GROUP_FROM_LMS
    if board.cohort_mode == COHORT_MADE:
        return GROUP_MADE_IN_TOOL
    return None


def create_thread(
    session: Session,
    viewer: Viewer,
    board: Board,
    title: str,
    body: str,
    kind: str = "discussion",
    anonymous: bool = False,
    cohort_group_id: int | None = None,
    competency_ids: list[int] | None = None,
) -> Thread:
    """Start a thread (its opening post holds ``body``), optionally tagged with some of the
    course's competencies; publishes ``board.thread_posted``."""
    _check_board(viewer, board)
    title = check_title(title)
    body = check_body(body)
    if kind not in THREAD_KINDS:
        raise Refusal(400, "A thread is a discussion or a question.")
    anonymous = _check_anonymous(board, anonymous)
    cohort = _cohort_for_new_thread(session, viewer, board, cohort_group_id)
    check_can_post(session, viewer, board)
    now = utcnow()
    thread = Thread(
        board_id=board.id,
        cohort_group_id=cohort,
        kind=kind,
        title=title,
        author_id=viewer.user_id,
        anonymous=anonymous,
        pinned=False,
        locked=False,
        closed=False,
        endorsed=False,
        reply_count=0,
        comment_count=0,
        helpful_count=0,
        last_activity_at=now,
        created_at=now,
    )
    session.add(thread)
    session.flush()
    opening = Post(
        thread_id=thread.id,
        parent_id=None,
        is_opening=True,
        author_id=viewer.user_id,
        anonymous=anonymous,
        body_markdown=body,
        body_html=markdown.render(body),
        hidden=False,
        deleted=False,
        created_at=now,
    )
    session.add(opening)
    session.flush()
    if competency_ids:
        _tag_thread(session, viewer, board, thread, competency_ids)
    _publish(
        session,
        events.THREAD_POSTED,
        f"thread:{thread.id}",
        viewer,
        board,
        _thread_ref(thread),
        (_board_ref(session, board),),
        now,
        {"thread_kind": kind, "text": body, "anonymous": anonymous, "post_id": opening.id},
    )
    return thread


def count_change(thread: Thread, post: Post, delta: int) -> None:
    """Keep the thread's counters: they hold its visible, not deleted replies and comments."""
    if post.deleted or post.is_opening:
        return
    if post.parent_id is None:
        thread.reply_count = max(0, (thread.reply_count or 0) + delta)
    else:
        thread.comment_count = max(0, (thread.comment_count or 0) + delta)


def _check_open(viewer: Viewer, thread: Thread) -> None:
    if thread.locked and not viewer.staff:
        reason = f" ({thread.lock_reason})" if thread.lock_reason else ""
        raise Refusal(409, f"This thread is locked{reason}.")
    if thread.closed and not viewer.staff:
        raise Refusal(409, "This thread is closed.")


def reply(
    session: Session,
    viewer: Viewer,
    thread: Thread,
    body: str,
    parent_post: Post | None = None,
    anonymous: bool = False,
) -> Post:
    """Reply in a thread, or comment on a reply (``parent_post``, a top-level reply of the same
    thread). Publishes ``board.reply_posted`` (object: the reply) or ``board.comment_posted``
    (object: the post commented on)."""
    board = _visible_thread(session, viewer, thread)
    if not viewer.staff and opening_hidden(session, thread):
        raise not_found("This thread")
    _check_open(viewer, thread)
    body = check_body(body)
    anonymous = _check_anonymous(board, anonymous)
    if parent_post is not None:
        if (
            parent_post.thread_id != thread.id
            or parent_post.is_opening
            or parent_post.parent_id is not None
        ):
            raise Refusal(400, "Comments go under a reply of this thread.")
        if not can_see_post(viewer, parent_post):
            raise not_found("This post")
        if parent_post.deleted:
            raise Refusal(409, "This reply was deleted.")
    check_can_post(session, viewer, board)
    now = utcnow()
    post = Post(
        thread_id=thread.id,
        parent_id=parent_post.id if parent_post is not None else None,
        is_opening=False,
        author_id=viewer.user_id,
        anonymous=anonymous,
        body_markdown=body,
        body_html=markdown.render(body),
        hidden=False,
        deleted=False,
        created_at=now,
    )
    session.add(post)
    count_change(thread, post, +1)
    thread.last_activity_at = now
    session.flush()
    parents = (_thread_ref(thread), _board_ref(session, board))
    data = {"text": body, "anonymous": anonymous, "thread_kind": thread.kind}
    if parent_post is None:
        _publish(
            session,
            events.REPLY_POSTED,
            f"post:{post.id}",
            viewer,
            board,
            _post_ref(thread, post),
            parents,
            now,
            data,
        )
    else:
        _publish(
            session,
            events.COMMENT_POSTED,
            f"comment:{post.id}",
            viewer,
            board,
            _post_ref(thread, parent_post),
            parents,
            now,
            {**data, "comment_post_id": post.id},
        )
    return post


def edit_post(
    session: Session, viewer: Viewer, post: Post, body: str, *, title: str | None = None
) -> Post:
    """The author edits their post (the old text is kept as a :class:`PostRevision`); the opening
    post's author may also retitle the thread. Publishes ``board.post_edited``."""
    thread, board = _visible_post(session, viewer, post)
    if post.author_id != viewer.user_id:
        raise Refusal(403, "Only the author can edit a post.")
    if post.deleted:
        raise Refusal(409, "A deleted post cannot be edited.")
    _check_open(viewer, thread)
    body = check_body(body)
    new_title = None
    if title is not None:
        if not post.is_opening:
            raise Refusal(400, "Only the opening post carries the thread's title.")
        new_title = check_title(title)
    check_not_muted(session, viewer)
    if body == post.body_markdown and (new_title is None or new_title == thread.title):
        return post  # nothing changed: no revision, no statement
    now = utcnow()
    revision = PostRevision(
        post_id=post.id, body_markdown=post.body_markdown, edited_at=now, editor_id=viewer.user_id
    )
    session.add(revision)
    post.body_markdown = body
    post.body_html = markdown.render(body)
    post.edited_at = now
    if new_title is not None:
        thread.title = new_title
    session.flush()
    _publish(
        session,
        events.POST_EDITED,
        f"revision:{revision.id}",
        viewer,
        board,
        _post_ref(thread, post),
        (_thread_ref(thread), _board_ref(session, board)),
        now,
        {"text": body, "anonymous": post.anonymous, "thread_kind": thread.kind},
    )
    return post


def delete_post(session: Session, viewer: Viewer, post: Post) -> Post:
    """Soft delete by the author or staff: the post stays as a "deleted" placeholder (its text is
    kept for moderators' audit but never shown)."""
    thread, _board = _visible_post(session, viewer, post)
    if post.author_id != viewer.user_id and not viewer.staff:
        raise Refusal(403, "Only the author or course staff can delete a post.")
    if post.deleted:
        return post
    if not post.hidden:  # a hidden post already left the counts
        count_change(thread, post, -1)
    post.deleted = True
    if thread.accepted_post_id == post.id:
        thread.accepted_post_id = None
    session.flush()
    if post.endorsed_at is not None:
        refresh_endorsed(session, thread)
    return post


def react(session: Session, viewer: Viewer, post: Post, kind: str) -> Reaction:
    """Like or mark helpful (once per person and kind; again is a no-op). Publishes
    ``board.reaction_added`` for a new reaction."""
    if kind not in REACTION_KINDS:
        raise Refusal(400, "Unknown reaction.")
    thread, board = _visible_post(session, viewer, post)
    if post.deleted:
        raise Refusal(409, "This post was deleted.")
    if post.author_id == viewer.user_id:
        raise Refusal(400, "You cannot react to your own post.")
    check_not_muted(session, viewer)
    existing = session.scalar(
        select(Reaction).where(
            Reaction.post_id == post.id, Reaction.user_id == viewer.user_id, Reaction.kind == kind
        )
    )
    if existing is not None:
        return existing
    now = utcnow()
    reaction = Reaction(post_id=post.id, user_id=viewer.user_id, kind=kind, created_at=now)
    session.add(reaction)
    if kind == REACTION_HELPFUL:
        thread.helpful_count = (thread.helpful_count or 0) + 1
    session.flush()
    _publish(
        session,
        events.REACTION_ADDED,
        f"reaction:{reaction.id}",
        viewer,
        board,
        _post_ref(thread, post),
        (_thread_ref(thread), _board_ref(session, board)),
        now,
        {
            "reaction": kind,
            "post_author_id": post.author_id,
            # a post marked helpful is evidence for its author; a like is the reactor's act
            **({"evidence_user_id": post.author_id} if kind == REACTION_HELPFUL else {}),
        },
    )
    return reaction


def unreact(session: Session, viewer: Viewer, post: Post, kind: str) -> bool:
    """Take a reaction back (no statement: xAPI has no "unliked"). True when one was removed."""
    thread, _board = _visible_post(session, viewer, post)
    reaction = session.scalar(
        select(Reaction).where(
            Reaction.post_id == post.id, Reaction.user_id == viewer.user_id, Reaction.kind == kind
        )
    )
    if reaction is None:
        return False
    session.delete(reaction)
    if kind == REACTION_HELPFUL:
        thread.helpful_count = max(0, (thread.helpful_count or 0) - 1)
    session.flush()
    return True


def set_thread_state(
    session: Session,
    viewer: Viewer,
    thread: Thread,
    *,
    pinned: bool | None = None,
    locked: bool | None = None,
    lock_reason: str | None = None,
    closed: bool | None = None,
) -> Thread:
    """Moderators pin, lock (with a reason) and close threads; each change is in the audit log."""
    board = _visible_thread(session, viewer, thread)
    if not can_moderate(viewer, board):
        raise Refusal(403, "Only the course's moderators can pin, lock or close threads.")
    changes = []
    if pinned is not None and pinned != thread.pinned:
        thread.pinned = pinned
        changes.append(("pin" if pinned else "unpin", None))
    if locked is not None:
        reason = ((lock_reason or "").strip()[:500] or None) if locked else None
        if locked != thread.locked or (locked and reason != thread.lock_reason):
            thread.locked = locked
            thread.lock_reason = reason
            changes.append(("lock" if locked else "unlock", reason))
    if closed is not None and closed != thread.closed:
        thread.closed = closed
        changes.append(("close" if closed else "reopen", None))
    for action, reason in changes:
        audit(session, viewer, board, action, thread_id=thread.id, reason=reason)
    session.flush()
    return thread


def refresh_endorsed(session: Session, thread: Thread) -> None:
    """``Thread.endorsed``: the thread has an endorsed reply that is neither deleted nor hidden."""
    thread.endorsed = bool(
        session.scalar(
            select(
                exists().where(
                    Post.thread_id == thread.id,
                    Post.endorsed_at.is_not(None),
                    Post.deleted.is_(False),
                    Post.hidden.is_(False),
                )
            )
        )
    )


def endorse(session: Session, viewer: Viewer, post: Post, endorsed: bool = True) -> Post:
    """Course staff endorse a reply as a good answer (or take the endorsement back). Publishes
    ``board.answer_endorsed`` (evidence for the reply's author) and logs the act."""
    thread, board = _visible_post(session, viewer, post)
    if not viewer.staff:
        raise Refusal(403, "Only course staff can endorse answers.")
    if post.is_opening or post.is_comment:
        raise Refusal(400, "Only replies can be endorsed.")
    if post.deleted:
        raise Refusal(409, "This post was deleted.")
    if endorsed == post.endorsed:
        return post
    now = utcnow()
    if endorsed:
        if post.hidden:
            raise Refusal(409, "A hidden post cannot be endorsed.")
        post.endorsed_at, post.endorsed_by_id = now, viewer.user_id
        thread.endorsed = True
    else:
        post.endorsed_at, post.endorsed_by_id = None, None
        session.flush()
        refresh_endorsed(session, thread)
    audit(
        session,
        viewer,
        board,
        "endorse" if endorsed else "unendorse",
        thread_id=thread.id,
        post_id=post.id,
        target_user_id=post.author_id,
    )
    session.flush()
    if endorsed:
        _publish(
            session,
            events.ANSWER_ENDORSED,
            f"endorsement:{post.id}:{now.isoformat()}",
            viewer,
            board,
            _post_ref(thread, post),
            (_thread_ref(thread), _board_ref(session, board)),
            now,
            {
                "post_author_id": post.author_id,
                "evidence_user_id": post.author_id,
                "thread_kind": thread.kind,
            },
        )
    return post


def accept_answer(session: Session, viewer: Viewer, thread: Thread, post: Post | None) -> Thread:
    """The question's author (or staff) accepts a reply as the answer; ``post=None`` takes the
    acceptance back. Publishes ``board.answer_accepted`` (evidence for the reply's author)."""
    board = _visible_thread(session, viewer, thread)
    if thread.kind != KIND_QUESTION:
        raise Refusal(400, "Only a question has an accepted answer.")
    if thread.author_id != viewer.user_id and not viewer.staff:
        raise Refusal(403, "Only the person who asked, or course staff, can accept an answer.")
    if post is None:
        thread.accepted_post_id = None
        session.flush()
        return thread
    if post.thread_id != thread.id or post.is_opening or post.is_comment:
        raise Refusal(400, "Choose a reply of this question as its answer.")
    if not can_see_post(viewer, post):
        raise not_found("This post")
    if post.deleted or post.hidden:
        raise Refusal(409, "This reply cannot be the answer any more.")
    if thread.accepted_post_id == post.id:
        return thread
    now = utcnow()
    thread.accepted_post_id = post.id
    session.flush()
    _publish(
        session,
        events.ANSWER_ACCEPTED,
        f"acceptance:{thread.id}:{post.id}:{now.isoformat()}",
        viewer,
        board,
        _post_ref(thread, post),
        (_thread_ref(thread), _board_ref(session, board)),
        now,
        {
            "post_author_id": post.author_id,
            "evidence_user_id": post.author_id,
            "thread_kind": thread.kind,
        },
    )
    return thread


# --- reading -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuthorView:
    """An author as this viewer may see them: ``user_id``/``name`` are None for an anonymous post
    seen by a peer."""

    user_id: int | None
    name: str
    anonymous: bool


def _author(viewer: Viewer, author_id: int, anonymous: bool, names: dict[int, str]) -> AuthorView:
    if anonymous and not viewer.staff and author_id != viewer.user_id:
        return AuthorView(None, ANONYMOUS_NAME, True)
    return AuthorView(author_id, names.get(author_id, "Unknown"), anonymous)


def _names(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    ids = set(user_ids)
    if not ids:
        return {}
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(ids)))}


@dataclass(frozen=True)
class ThreadSummary:
    id: int
    kind: str
    title: str
    author: AuthorView
    cohort_group_id: int | None
    pinned: bool
    locked: bool
    closed: bool
    endorsed: bool
    answered: bool
    reply_count: int
    comment_count: int
    helpful_count: int
    last_activity_at: datetime
    created_at: datetime
    hidden: bool = False  # the opening post is hidden (only staff see such threads)


@dataclass(frozen=True)
class ThreadPage:
    threads: list[ThreadSummary]
    next_cursor: str | None


def _encode(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Refusal(400, "This page link is not valid.") from exc
    if not isinstance(values, list) or len(values) != size:
        raise Refusal(400, "This page link is not valid.")
    return values


def _cursor_id(value: object) -> int:
    """A row id from a page cursor (an edited cursor may hold any number): 400 unless in the id
    range, so the query never sees a number its column cannot hold."""
    if not is_id(value):
        raise Refusal(400, "This page link is not valid.")
    return value  # type: ignore[return-value]


def _cursor_count(value: object) -> int:
    """A count from a page cursor (e.g. helpful reactions): a whole number within the id range."""
    if value != 0 and not is_id(value):
        raise Refusal(400, "This page link is not valid.")
    return value  # type: ignore[return-value]


def _when(value: object) -> datetime:
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise Refusal(400, "This page link is not valid.") from exc
    if when.tzinfo is None:
        raise Refusal(400, "This page link is not valid.")
    return when


def _limit(limit: object, maximum: int = MAX_PAGE_SIZE) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise Refusal(400, "The page size must be a positive number.")
    return min(limit, maximum)


SORT_ACTIVITY = "activity"
SORT_NEWEST = "newest"
SORT_HELPFUL = "helpful"
SORT_UNANSWERED = "unanswered"
SORTS = (SORT_ACTIVITY, SORT_NEWEST, SORT_HELPFUL, SORT_UNANSWERED)


def _sort_key(sort: str):
    if sort == SORT_ACTIVITY:
        return Thread.last_activity_at
    if sort == SORT_HELPFUL:
        return Thread.helpful_count
    return Thread.created_at  # newest, unanswered


def list_threads(
    session: Session,
    viewer: Viewer,
    board: Board,
    *,
    cursor: str | None = None,
    limit: int = 20,
    cohort_group_id: int | None = None,
    sort: str = SORT_ACTIVITY,
) -> ThreadPage:
    """A page of the board's threads the viewer may see, pinned first, then by ``sort``: latest
    activity (default), newest, most helpful (helpful reactions on its posts), or unanswered
    (no reply yet, newest first). Keyset pagination; two queries whatever the page size (threads,
    then their authors' names)."""
    _check_board(viewer, board)
    limit = _limit(limit)
    if sort not in SORTS:
        raise Refusal(400, "Sort by activity, newest, helpful or unanswered.")
    key = _sort_key(sort)
    opening = Post.__table__.alias("opening")
    query = (
        select(Thread, opening.c.hidden)
        .join(opening, and_(opening.c.thread_id == Thread.id, opening.c.is_opening.is_(True)))
        .where(Thread.board_id == board.id)
    )
    if sort == SORT_UNANSWERED:
        query = query.where(Thread.reply_count == 0, Thread.accepted_post_id.is_(None))
    if not viewer.staff:
        query = query.where(opening.c.hidden.is_(False))
        if board.cohort_mode in SEPARATED_MODES:
            query = query.where(
                or_(
                    Thread.cohort_group_id.is_(None),
                    Thread.cohort_group_id.in_(sorted(viewer.group_ids)),
                )
            )
    elif cohort_group_id is not None:
        query = query.where(Thread.cohort_group_id == cohort_group_id)
    if cursor:
        cursor_sort, pinned, last, last_id = _decode(cursor, 4)
        if cursor_sort != sort or not isinstance(pinned, bool):
            raise Refusal(400, "This page link is not valid.")
        last_id = _cursor_id(last_id)
        if sort == SORT_HELPFUL:
            last_value: object = _cursor_count(last)
        else:
            last_value = _when(last)
        pinned_value = literal(pinned, Boolean())
        query = query.where(
            or_(
                Thread.pinned < pinned_value,
                and_(Thread.pinned == pinned_value, key < last_value),
                and_(Thread.pinned == pinned_value, key == last_value, Thread.id < last_id),
            )
        )
    query = query.order_by(Thread.pinned.desc(), key.desc(), Thread.id.desc()).limit(limit + 1)
    result = session.execute(query).all()
    more = len(result) > limit
    result = result[:limit]
    rows = [r[0] for r in result]
    hidden_ids = {r[0].id for r in result if r[1]}
    names = _names(session, (t.author_id for t in rows))
    summaries = [
        ThreadSummary(
            id=t.id,
            kind=t.kind,
            title=t.title,
            author=_author(viewer, t.author_id, t.anonymous, names),
            cohort_group_id=t.cohort_group_id,
            pinned=t.pinned,
            locked=t.locked,
            closed=t.closed,
            endorsed=t.endorsed,
            answered=t.accepted_post_id is not None,
            reply_count=t.reply_count,
            comment_count=t.comment_count or 0,
            helpful_count=t.helpful_count or 0,
            last_activity_at=t.last_activity_at,
            created_at=t.created_at,
            hidden=t.id in hidden_ids,
        )
        for t in rows
    ]
    next_cursor = None
    if more and rows:
        last_row = rows[-1]
        value = getattr(last_row, key.key)
        next_cursor = _encode(
            [
                sort,
                bool(last_row.pinned),
                value if sort == SORT_HELPFUL else value.isoformat(),
                last_row.id,
            ]
        )
    return ThreadPage(summaries, next_cursor)


@dataclass(frozen=True)
class PostView:
    """A post as the viewer may see it: a deleted post keeps its place without its text."""

    id: int
    parent_id: int | None
    is_opening: bool
    author: AuthorView | None  # None for a deleted post
    body_html: str
    hidden: bool
    deleted: bool
    created_at: datetime
    edited_at: datetime | None
    reactions: dict[str, int]
    my_reactions: frozenset[str]
    endorsed: bool = False
    comments: list[PostView] = field(default_factory=list)


@dataclass(frozen=True)
class ThreadDetail:
    thread: Thread
    board: Board
    opening: PostView | None
    replies: list[PostView]
    next_cursor: str | None
    # Q&A mode: a learner sees others' answers to a question only after answering themselves.
    answers_withheld: bool = False


def _answers_withheld(session: Session, viewer: Viewer, board: Board, thread: Thread) -> bool:
    """Q&A mode: a learner sees others' answers to a question only after answering it."""
    if (
        not board.qa_mode
        or thread.kind != KIND_QUESTION
        or viewer.staff
        or thread.author_id == viewer.user_id
    ):
        return False
    answered = session.scalar(
        select(
            exists().where(
                Post.thread_id == thread.id,
                Post.author_id == viewer.user_id,
                Post.parent_id.is_(None),
                Post.is_opening.is_(False),
                Post.deleted.is_(False),
            )
        )
    )
    return not answered


def _listed_replies(viewer: Viewer, thread: Thread, withheld: bool) -> list:
    """The conditions for the replies a thread page lists to this viewer."""
    conditions = [
        Post.thread_id == thread.id,
        Post.parent_id.is_(None),
        Post.is_opening.is_(False),
    ]
    if not viewer.staff:
        conditions.append(Post.hidden.is_(False))
    if withheld:
        conditions.append(Post.author_id == viewer.user_id)
    return conditions


@dataclass(frozen=True)
class PostPlace:
    """Where a post is shown: its thread and the thread page's cursor (None: the first page)."""

    thread_id: int
    cursor: str | None


def locate_post(session: Session, viewer: Viewer, post_id: int, *, limit: int = 50) -> PostPlace:
    """The page of its thread (pages of ``limit`` replies, as :func:`get_thread` makes them) that
    shows a post: a reply's own page, a comment's reply's page, the first page for the opening
    post. 404 for a post the viewer may not see. At most six queries whatever the thread's length
    (the count and the page's first row come from the replies index)."""
    limit = _limit(limit)
    post, thread, board = _load_post_in_thread(session, viewer, post_id)
    if post.is_opening:
        return PostPlace(thread.id, None)
    reply = post if post.parent_id is None else session.get(Post, post.parent_id)
    if reply is None or not can_see_post(viewer, reply):  # a comment under a hidden reply
        raise not_found("This post")
    listed = _listed_replies(viewer, thread, _answers_withheld(session, viewer, board, thread))
    before = session.scalar(
        select(func.count())
        .select_from(Post)
        .where(
            *listed,
            or_(
                Post.created_at < reply.created_at,
                and_(Post.created_at == reply.created_at, Post.id < reply.id),
            ),
        )
    )
    start = (int(before or 0) // limit) * limit
    if start == 0:
        return PostPlace(thread.id, None)
    last = session.execute(
        select(Post.created_at, Post.id)
        .where(*listed)
        .order_by(Post.created_at, Post.id)
        .offset(start - 1)
        .limit(1)
    ).one()
    return PostPlace(thread.id, _encode([last.created_at.isoformat(), last.id]))


def get_thread(
    session: Session,
    viewer: Viewer,
    thread_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> ThreadDetail:
    """A thread with a page of its replies (oldest first, keyset) and all their comments; a bounded
    number of queries whatever the page size."""
    limit = _limit(limit)
    thread, board = load_thread_and_board(session, viewer, thread_id)
    visible = [] if viewer.staff else [Post.hidden.is_(False)]
    opening = session.scalar(select(Post).where(Post.thread_id == thread.id, Post.is_opening))
    withheld = _answers_withheld(session, viewer, board, thread)
    query = select(Post).where(*_listed_replies(viewer, thread, withheld))
    if cursor:
        last, last_id = _decode(cursor, 2)
        last_id = _cursor_id(last_id)
        last_at = _when(last)
        query = query.where(
            or_(Post.created_at > last_at, and_(Post.created_at == last_at, Post.id > last_id))
        )
    replies = list(session.scalars(query.order_by(Post.created_at, Post.id).limit(limit + 1)))
    more = len(replies) > limit
    replies = replies[:limit]
    comments: list[Post] = []
    if replies:
        comments = list(
            session.scalars(
                select(Post)
                .where(Post.parent_id.in_([r.id for r in replies]), *visible)
                .order_by(Post.created_at, Post.id)
            )
        )
    everything = ([opening] if opening is not None else []) + replies + comments
    ids = [p.id for p in everything]
    counts: dict[int, dict[str, int]] = {}
    mine: dict[int, set[str]] = {}
    if ids:
        for post_id, kind, count, own in session.execute(
            select(
                Reaction.post_id,
                Reaction.kind,
                func.count(),
                func.max(case((Reaction.user_id == viewer.user_id, 1), else_=0)),
            )
            .where(Reaction.post_id.in_(ids))
            .group_by(Reaction.post_id, Reaction.kind)
        ):
            counts.setdefault(post_id, {})[kind] = count
            if own:
                mine.setdefault(post_id, set()).add(kind)
    names = _names(session, (p.author_id for p in everything))

    def view(p: Post) -> PostView:
        return PostView(
            id=p.id,
            parent_id=p.parent_id,
            is_opening=p.is_opening,
            author=None if p.deleted else _author(viewer, p.author_id, p.anonymous, names),
            body_html="" if p.deleted else p.body_html,
            hidden=p.hidden,
            deleted=p.deleted,
            created_at=p.created_at,
            edited_at=p.edited_at,
            reactions=counts.get(p.id, {}),
            my_reactions=frozenset(mine.get(p.id, ())),
            endorsed=p.endorsed_at is not None and not p.deleted,
        )

    by_parent: dict[int, list[PostView]] = {}
    for c in comments:
        by_parent.setdefault(c.parent_id, []).append(view(c))  # type: ignore[arg-type]
    reply_views = []
    for r in replies:
        v = view(r)
        v.comments.extend(by_parent.get(r.id, []))
        reply_views.append(v)
    next_cursor = None
    if more and replies:
        next_cursor = _encode([replies[-1].created_at.isoformat(), replies[-1].id])
    return ThreadDetail(
        thread=thread,
        board=board,
        opening=view(opening) if opening is not None else None,
        replies=reply_views,
        next_cursor=next_cursor,
        answers_withheld=withheld,
    )


def record_view(session: Session, viewer: Viewer, thread: Thread) -> bool:
    """Publish ``board.thread_viewed`` when the board records views (off by default). At most one
    statement per person, thread and minute, so reloading a page does not flood the LRS. True when
    one was published."""
    board = _visible_thread(session, viewer, thread)
    if not board.record_views:
        return False
    now = utcnow()
    _publish(
        session,
        events.THREAD_VIEWED,
        f"view:{thread.id}:{viewer.user_id}:{now.strftime('%Y-%m-%dT%H:%M')}",
        viewer,
        board,
        _thread_ref(thread),
        (_board_ref(session, board),),
        now,
        {"thread_kind": thread.kind},
    )
    return True


def revisions(session: Session, viewer: Viewer, post: Post) -> list[PostRevision]:
    """A post's edit history, oldest first (hidden from peers when the post is deleted)."""
    _visible_post(session, viewer, post)
    if post.deleted and not viewer.staff:
        return []
    return list(
        session.scalars(
            select(PostRevision)
            .where(PostRevision.post_id == post.id)
            .order_by(PostRevision.edited_at, PostRevision.id)
        )
    )
