"""Evidence: each act that bears on competencies becomes one pending evidence row per competency.

The ``performance.evidence`` subscriber runs inside the publishing service's transaction, so the act,
its xAPI statement (outbox) and its evidence are committed together or not at all. It only adds rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin import events
from plugin.events import DomainEvent
from plugin.performance.associations import exact_matches
from plugin.performance.links import competencies_for
from plugin.performance.models import (
    EVIDENCE_EXPERIENTIAL,
    EVIDENCE_KINDS,
    EVIDENCE_SOCIAL,
    STATUS_PENDING,
    Competency,
    Evidence,
)

SUBSCRIBER_NAME = "performance.evidence"
log = logging.getLogger(__name__)

# Events that are not acts of learning by their actor: opening the tool or a thread, reporting a
# post, a reviewer accepting evidence, staff approving a mentoring match, and plan bookkeeping
# (goal progress is computed from evidence, so evidence from it would count twice).
NOT_EVIDENCE = frozenset(
    {
        events.LAUNCHED,
        events.POST_REPORTED,
        events.THREAD_VIEWED,
        events.EVIDENCE_ACCEPTED,
        events.MENTORSHIP_MATCHED,  # the actor is the staff member who approved a matching
        events.GOAL_SET,
        events.GOAL_PROGRESSED,
        events.GOAL_COMPLETED,
    }
)


def evidence_kind(event: DomainEvent) -> str:
    """Boards and mentoring are social learning, logged experiences experiential; any other event
    is social unless its ``data["evidence_kind"]`` names another kind (e.g. formal)."""
    if event.kind.startswith(("board.", "mentoring.")):
        return EVIDENCE_SOCIAL
    if event.kind == events.EXPERIENCE_LOGGED:
        return EVIDENCE_EXPERIENTIAL
    kind = event.data.get("evidence_kind")
    if kind is None:
        return EVIDENCE_SOCIAL
    if kind not in EVIDENCE_KINDS:
        raise ValueError(f"evidence_kind must be one of {', '.join(EVIDENCE_KINDS)}, not {kind!r}")
    return kind


def record_evidence(session: Session, event: DomainEvent) -> list[Evidence]:
    """Add the event's evidence rows (none when it bears on no competency). Idempotent: a replayed
    event (same statement id) adds only rows that are not there yet."""
    if event.kind in NOT_EVIDENCE or event.data.get("evidence") is False:
        return []
    competencies = competencies_for(session, event)
    if not competencies:
        return []
    kind = evidence_kind(event)
    learner = event.data.get("evidence_user_id", event.actor_user_id)
    if not isinstance(learner, int) or isinstance(learner, bool):
        raise ValueError(f"evidence_user_id must be a user id, not {learner!r}")
    statement = events.statement_id(event)
    present = set(
        session.scalars(select(Evidence.competency_id).where(Evidence.statement_id == statement))
    )
    added = []
    for competency in competencies:
        if competency.id in present:
            continue
        row = Evidence(
            platform_id=event.platform_id,
            user_id=learner,
            competency_id=competency.id,
            context_id=event.context_id,
            statement_id=statement,
            kind=kind,
            source=event.kind,
            status=STATUS_PENDING,
            occurred_at=event.occurred_at,
        )
        session.add(row)
        added.append(row)
    if added:
        log.debug("evidence: %s rows for statement %s", len(added), statement)
    return added


def on_event(session: Session, event: DomainEvent) -> None:
    """The event subscriber (registered as ``performance.evidence``)."""
    record_evidence(session, event)


# --- what counts for a competency --------------------------------------------------------------
def evidence_for(
    session: Session,
    platform_id: int,
    competency: Competency,
    *,
    user_id: int | None = None,
    context_id: int | None = None,
) -> list[Evidence]:
    """The evidence that counts for a competency: its own rows and those of its exact matches
    (CASE ``exactMatchOf``, in either direction and through chains — the same competency in
    another framework), one row per act (statement), the competency's own row when an act bears
    on both. ``isRelatedTo`` does not count. Optionally one learner's, or one course's; oldest
    first. Every reader of evidence goes through here, so the rule holds everywhere, and a match
    imported later counts for earlier acts too."""
    same = [competency, *exact_matches(session, platform_id, competency)]
    rank = {c.id: index for index, c in enumerate(same)}
    query = select(Evidence).where(
        Evidence.platform_id == platform_id, Evidence.competency_id.in_(list(rank))
    )
    if user_id is not None:
        query = query.where(Evidence.user_id == user_id)
    if context_id is not None:
        query = query.where(Evidence.context_id == context_id)
    chosen: dict[str, Evidence] = {}
    for row in session.scalars(query.order_by(Evidence.occurred_at, Evidence.id)):
        kept = chosen.get(row.statement_id)
        if kept is None or rank[row.competency_id] < rank[kept.competency_id]:
            chosen[row.statement_id] = row
    return sorted(chosen.values(), key=lambda r: (r.occurred_at, r.id))


@dataclass(frozen=True)
class EvidenceSummary:
    acts: int  # acts (statements) that count
    learners: int
    through_matches: int  # of those, acts recorded only for an exact match


def summarize_evidence(
    session: Session, platform_id: int, competency: Competency, *, context_id: int | None = None
) -> EvidenceSummary:
    rows = evidence_for(session, platform_id, competency, context_id=context_id)
    return EvidenceSummary(
        acts=len(rows),
        learners=len({r.user_id for r in rows}),
        through_matches=sum(1 for r in rows if r.competency_id != competency.id),
    )
