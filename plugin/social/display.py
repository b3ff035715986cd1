"""How posts and people are shown across the social features (boards, moderation, search,
notifications, participation): an author as the viewer may see them, and a post's excerpt."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

import nh3
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.access import Viewer
from plugin.lti.models import User

ANONYMOUS_NAME = "Anonymous"


@dataclass(frozen=True)
class AuthorView:
    """An author as this viewer may see them: ``user_id``/``name`` are None for an anonymous post
    seen by a peer."""

    user_id: int | None
    name: str
    anonymous: bool


def author_view(
    viewer: Viewer, author_id: int, anonymous: bool, names: dict[int, str]
) -> AuthorView:
    """An anonymous author is shown as "Anonymous" to peers; staff and the author see who it is
    (``names`` from :func:`display_names`)."""
    if anonymous and not viewer.staff and author_id != viewer.user_id:
        return AuthorView(None, ANONYMOUS_NAME, True)
    return AuthorView(author_id, names.get(author_id, "Unknown"), anonymous)


def display_names(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """The display names of these people, in one query (none asked: no query)."""
    ids = set(user_ids)
    if not ids:
        return {}
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(ids)))}


def excerpt(body_html: str, size: int) -> str:
    """Plain text of a post's sanitised HTML, whitespace collapsed, cut at ``size`` characters
    (an ellipsis marks the cut)."""
    text = " ".join(html.unescape(nh3.clean(body_html, tags=set())).split())
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"
