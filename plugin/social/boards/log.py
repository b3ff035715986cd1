"""The moderation audit log: one row per act of staff or moderators (settings, tags, pins,
hides, mutes, endorsements), written in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from plugin.access import Viewer
from plugin.db import utcnow
from plugin.social.models import Board, ModerationAction


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
