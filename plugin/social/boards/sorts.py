"""The orders a board's thread list can be sorted in."""

from __future__ import annotations

from sqlalchemy.orm import InstrumentedAttribute

from plugin.social.models import Thread

SORT_ACTIVITY = "activity"
SORT_NEWEST = "newest"
SORT_HELPFUL = "helpful"
SORT_UNANSWERED = "unanswered"
SORTS = (SORT_ACTIVITY, SORT_NEWEST, SORT_HELPFUL, SORT_UNANSWERED)


def sort_key(sort: str) -> InstrumentedAttribute:
    """The column a sort orders threads by (after "pinned first"): newest and unanswered both
    order by when the thread was started."""
    if sort == SORT_ACTIVITY:
        return Thread.last_activity_at
    if sort == SORT_HELPFUL:
        return Thread.helpful_count
    return Thread.created_at  # newest, unanswered
