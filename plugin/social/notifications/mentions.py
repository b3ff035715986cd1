"""@mentions: handles of course members, who may be mentioned, and the autocomplete's suggestions.

A member's handle comes from their display name: the words of the name, accents removed, case
folded, joined by dots (``Diego Ramírez`` → ``@diego.ramirez``). Handles are unique within a course:
when several active members share a name, the one with the lowest user id keeps the plain handle
and the others get the smallest free number (``@lea.learner2``). A mention resolves only to an
active member of the post's course who can see the thread (in cohort mode: staff, or a member of
the thread's cohort); anything else stays plain text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.access import Refusal, Viewer
from plugin.lti.models import LmsGroupMember, Membership, User
from plugin.lti.roles import permissions
from plugin.social import boards
from plugin.social.models import SEPARATED_MODES, Board, Post, Thread

MAX_HANDLE_CHARS = 40
MAX_QUERY_CHARS = 50
MAX_SUGGESTIONS = 20
FALLBACK_HANDLE = "member"
_WORD_RE = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Member:
    """An active member of a course as mentions see them."""

    user_id: int
    name: str
    handle: str
    staff: bool
    learner: bool


def _fold(text: str) -> str:
    """Accents removed and case folded (``Ramírez`` → ``ramirez``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def base_handle(name: str) -> str:
    """The handle a display name gives before de-duplication (letters and digits, dots)."""
    handle = ".".join(_WORD_RE.findall(_fold(name)))[:MAX_HANDLE_CHARS].strip(".")
    return handle or FALLBACK_HANDLE


def assign_handles(people: Iterable[tuple[int, str]]) -> dict[int, str]:
    """Unique handles for (user id, display name) pairs: deterministic for the same people."""
    ordered = sorted(people)
    bases = {user_id: base_handle(name) for user_id, name in ordered}
    reserved = set(bases.values())
    taken: set[str] = set()
    handles: dict[int, str] = {}
    for user_id, _name in ordered:
        handle = bases[user_id]
        if handle in taken:
            number = 2
            while f"{handle}{number}" in reserved or f"{handle}{number}" in taken:
                number += 1
            handle = f"{handle}{number}"
        taken.add(handle)
        handles[user_id] = handle
    return handles


def course_members(session: Session, context_id: int) -> list[Member]:
    """Every active member of the course with their handle (one query)."""
    rows = session.execute(
        select(User, Membership.roles)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.context_id == context_id, Membership.status == "Active")
    ).all()
    names = {user.id: user.display_name for user, _roles in rows}
    handles = assign_handles(names.items())
    found = []
    for user, roles in rows:
        perms = permissions(roles or [])
        found.append(
            Member(
                user_id=user.id,
                name=names[user.id],
                handle=handles[user.id],
                staff=perms.staff,
                learner=perms.learner,
            )
        )
    return found


def staff_flags(session: Session, context_id: int, user_ids: Iterable[int]) -> dict[int, bool]:
    """Active members among ``user_ids`` → whether they are course staff (one query)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Membership.user_id, Membership.roles).where(
            Membership.context_id == context_id,
            Membership.status == "Active",
            Membership.user_id.in_(ids),
        )
    )
    return {user_id: permissions(roles or []).staff for user_id, roles in rows}


def who_can_see(
    session: Session,
    board: Board,
    thread: Thread,
    staff: dict[int, bool],
    *,
    post: Post | None = None,
) -> dict[int, bool]:
    """The people of ``staff`` (active members → staff flag) who can see the thread (and
    ``post``): staff always; learners only in the thread's cohort (cohort mode), never a hidden
    post or a thread whose opening post is hidden; nobody a deleted post."""
    if post is not None and post.deleted:
        return {}
    staff_only = post is not None and post.hidden
    if not staff_only:
        staff_only = boards.opening_hidden(session, thread)
    learners = [u for u, is_staff in staff.items() if not is_staff]
    if staff_only:
        learners = []
    elif learners and board.cohort_mode in SEPARATED_MODES and thread.cohort_group_id is not None:
        in_cohort = set(
            session.scalars(
                select(LmsGroupMember.user_id).where(
                    LmsGroupMember.group_id == thread.cohort_group_id,
                    LmsGroupMember.user_id.in_(sorted(learners)),
                )
            )
        )
        learners = [u for u in learners if u in in_cohort]
    seen = {u: True for u, is_staff in staff.items() if is_staff}
    seen.update({u: False for u in learners})
    return seen


def resolve(session: Session, board: Board, thread: Thread, post: Post) -> dict[str, Member]:
    """The post's mentions that reach someone: case-folded handle → member (the author included,
    so a self-mention renders; callers do not notify the author)."""
    from plugin.social import markdown

    candidates = markdown.mention_candidates(post.body_markdown)
    if not candidates:
        return {}
    by_handle = {m.handle: m for m in course_members(session, board.context_id)}
    wanted = {h: by_handle[h] for h in candidates if h in by_handle}
    if not wanted:
        return {}
    visible = who_can_see(
        session, board, thread, {m.user_id: m.staff for m in wanted.values()}, post=post
    )
    return {h: m for h, m in wanted.items() if m.user_id in visible}


def _matches(member: Member, folded: str) -> bool:
    if member.handle.startswith(folded):
        return True
    name = _fold(member.name)
    if name.startswith(folded):
        return True
    return any(word.startswith(folded) for word in _WORD_RE.findall(name))


def member_suggestions(
    session: Session,
    viewer: Viewer,
    board: Board,
    prefix: str,
    limit: int = 8,
    *,
    thread: Thread | None = None,
) -> list[Member]:
    """Course members whose name, a word of it, or handle starts with ``prefix`` (case and
    accents ignored), for the @mention autocomplete. Only active members of the viewer's course
    whom the viewer could reach: with ``thread``, those who can see it; otherwise, in cohort mode, a
    learner gets staff and the members of their own cohorts. The viewer is left out."""
    boards.get_board(session, viewer, board.id)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise Refusal(400, "The number of suggestions must be a positive number.")
    limit = min(limit, MAX_SUGGESTIONS)
    text = (prefix or "").strip().lstrip("@")
    if not text:
        raise Refusal(400, "Type the start of a name.")
    if len(text) > MAX_QUERY_CHARS:
        raise Refusal(400, f"Type at most {MAX_QUERY_CHARS} characters of a name.")
    if thread is not None and (
        thread.board_id != board.id or not boards.can_see_thread(viewer, board, thread)
    ):
        raise Refusal(404, "This thread does not exist or is not in this course.")
    folded = _fold(text)
    found = [
        m
        for m in course_members(session, board.context_id)
        if m.user_id != viewer.user_id and _matches(m, folded)
    ]
    if not found:
        return []
    flags = {m.user_id: m.staff for m in found}
    if thread is not None:
        reachable = set(who_can_see(session, board, thread, flags))
    elif board.cohort_mode in SEPARATED_MODES and not viewer.staff:
        mates = set(
            session.scalars(
                select(LmsGroupMember.user_id).where(
                    LmsGroupMember.group_id.in_(
                        sorted(viewer.groups_from(boards.cohort_source(board)))
                    ),
                    LmsGroupMember.user_id.in_(sorted(flags)),
                )
            )
        )
        reachable = {u for u, is_staff in flags.items() if is_staff or u in mates}
    else:
        reachable = set(flags)
    found = [m for m in found if m.user_id in reachable]
    found.sort(key=lambda m: (not _fold(m.name).startswith(folded), _fold(m.name), m.user_id))
    return found[:limit]
