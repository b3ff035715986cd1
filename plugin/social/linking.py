"""Boards and threads as linkable kinds (:func:`plugin.performance.links.register_kind`): the
competency-links API lets a person read and change their links exactly as the board's and the
thread's own routes do.

- ``board``: anyone who may open the board (a member of its course) reads its links; course staff
  change them (:func:`plugin.social.boards.set_board_competencies`, written to the audit log);
- ``thread``: anyone who may see the thread (its cohort, not hidden from them) reads its tags; its
  author or course staff change them, with the course's competencies only
  (:func:`plugin.social.boards.set_thread_competencies`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from plugin import access
from plugin.access import Refusal, Viewer
from plugin.performance import links
from plugin.social import boards


@contextmanager
def _as_link_errors() -> Iterator[None]:
    try:
        yield
    except Refusal as exc:
        raise links.LinkAccessError(exc.status, exc.message) from exc


def _viewer(session: Session, requester: links.Requester, what: str) -> Viewer:
    if requester.context_id is None:
        raise links.LinkAccessError(404, f"{what} does not exist or is not in this course.")
    with _as_link_errors():
        return access.viewer_for(
            session, requester.user_id, requester.context_id, roles=requester.roles
        )


def resolve_board(session: Session, requester: links.Requester, key: str) -> links.LinkTarget:
    board_id = links.key_id(key, "This board")
    who = _viewer(session, requester, "This board")
    with _as_link_errors():
        board = boards.get_board(session, who, board_id)

    def set_board_links(session: Session, competency_ids: list[int]) -> list[links.CompetencyInfo]:
        with _as_link_errors():
            return boards.set_board_competencies(session, who, board, competency_ids)

    return links.LinkTarget("board", str(board.id), set_board_links)


def resolve_thread(session: Session, requester: links.Requester, key: str) -> links.LinkTarget:
    thread_id = links.key_id(key, "This thread")
    who = _viewer(session, requester, "This thread")
    with _as_link_errors():
        thread = boards.load_thread(session, who, thread_id)

    def set_thread_links(session: Session, competency_ids: list[int]) -> list[links.CompetencyInfo]:
        with _as_link_errors():
            return boards.set_thread_competencies(session, who, thread, competency_ids)

    return links.LinkTarget("thread", str(thread.id), set_thread_links)


def register() -> None:
    links.register_kind("board", resolve_board)
    links.register_kind("thread", resolve_thread)
