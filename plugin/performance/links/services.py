"""Competency links: "this board / placement / goal is about these competencies".

A link names the linked thing the way :class:`plugin.events.ActivityRef` does (``kind`` + ``key``),
so a domain event's object and parents find their competencies without knowing any other package.

Who may read or change a thing's links is decided by the package that owns the thing, exactly as
its own routes decide (see "Linkable kinds" below): each owner registers a resolver for its kinds
at ``init_app`` (``plugin.social`` for ``board`` and ``thread``; this package for ``placement``, a
platform-layer object), so this package needs to know none of them. A kind nobody registered
cannot be linked through the API.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.orm import Session

from plugin.access import TITLES, Refusal
from plugin.events import DomainEvent
from plugin.ids import parse_id
from plugin.lti.models import Membership, Placement
from plugin.lti.roles import permissions
from plugin.performance.models import Competency, CompetencyLink, Framework

REF_KIND_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,39}")
MAX_LINKS_PER_REF = 500


class LinkError(Refusal):
    """A link request was refused (422 unless a subclass says otherwise); ``message`` says why."""

    def __init__(self, message: str, *, status: int = 422, title: str = "Not linked") -> None:
        super().__init__(status, message, title=title)


class UnknownCompetencyError(LinkError):
    """Some competency ids are not competencies of this platform (404)."""

    def __init__(self, ids: list[int]) -> None:
        listed = ", ".join(str(i) for i in ids)
        super().__init__(
            f"No competency with id {listed} in this platform.", status=404, title=TITLES[404]
        )
        self.ids = ids


@dataclass(frozen=True)
class CompetencyInfo:
    """What statements and other packages need of a competency."""

    id: int
    iri: str
    name: str
    code: str | None
    framework_id: int
    retired: bool

    @classmethod
    def of(cls, competency: Competency) -> CompetencyInfo:
        return cls(
            id=competency.id,
            iri=competency.uri,
            name=competency.name,
            code=competency.code,
            framework_id=competency.framework_id,
            retired=competency.retired_at is not None,
        )


def check_ref(ref_kind: str, ref_key: str) -> None:
    """:class:`LinkError` unless ``ref_kind`` is a short lower-case name and ``ref_key`` 1 to 255
    characters."""
    if not isinstance(ref_kind, str) or not REF_KIND_PATTERN.fullmatch(ref_kind):
        raise LinkError(
            "The kind must be a short lower-case name such as board, placement or goal."
        )
    if not isinstance(ref_key, str) or not ref_key or len(ref_key) > 255:
        raise LinkError("The key must be 1 to 255 characters.")


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(ids))


def platform_competencies(
    session: Session, platform_id: int, competency_ids: Iterable[int]
) -> dict[int, Competency]:
    """The given competencies that belong to the platform, by id (others are left out)."""
    ids = _unique(competency_ids)
    if not ids:
        return {}
    rows = session.scalars(
        select(Competency)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Framework.platform_id == platform_id, Competency.id.in_(ids))
    )
    return {c.id: c for c in rows}


def _require(
    session: Session, platform_id: int, competency_ids: list[int]
) -> dict[int, Competency]:
    found = platform_competencies(session, platform_id, competency_ids)
    missing = [i for i in competency_ids if i not in found]
    if missing:
        raise UnknownCompetencyError(missing)
    return found


def _of_thing(
    platform_id: int | ColumnElement[int], ref_kind: str, ref_key: str
) -> ColumnElement[bool]:
    """SQL: the link is one of this thing's, on this platform."""
    return and_(
        CompetencyLink.platform_id == platform_id,
        CompetencyLink.ref_kind == ref_kind,
        CompetencyLink.ref_key == ref_key,
    )


def _links(session: Session, platform_id: int, ref_kind: str, ref_key: str) -> list[CompetencyLink]:
    return list(
        session.scalars(
            select(CompetencyLink)
            .where(_of_thing(platform_id, ref_kind, ref_key))
            .order_by(CompetencyLink.id)
        )
    )


def linked(
    session: Session, platform_id: int | ColumnElement[int], ref_kind: str, ref_key: str
) -> list[CompetencyInfo]:
    """The competencies linked to one thing, in the order they were linked. ``platform_id`` may
    be a scalar subquery (the platform of a course), saving the caller a query."""
    check_ref(ref_kind, ref_key)
    rows = session.scalars(
        select(Competency)
        .join(CompetencyLink, CompetencyLink.competency_id == Competency.id)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(_of_thing(platform_id, ref_kind, ref_key), Framework.platform_id == platform_id)
        .order_by(CompetencyLink.id)
    )
    return [CompetencyInfo.of(c) for c in rows]


def link(
    session: Session,
    platform_id: int,
    ref_kind: str,
    ref_key: str,
    competency_ids: Iterable[int],
    *,
    user_id: int | None = None,
) -> list[CompetencyInfo]:
    """Add links (already linked ones are kept as they are). Returns all linked competencies."""
    current = {link.competency_id for link in _links(session, platform_id, ref_kind, ref_key)}
    wanted = [i for i in _unique(competency_ids) if i not in current]
    return set_links(session, platform_id, ref_kind, ref_key, [*current, *wanted], user_id=user_id)


def unlink(
    session: Session,
    platform_id: int,
    ref_kind: str,
    ref_key: str,
    competency_ids: Iterable[int] | None = None,
) -> int:
    """Remove the given links (all of the thing's links when ``competency_ids`` is None).
    Returns how many were removed."""
    check_ref(ref_kind, ref_key)
    query = delete(CompetencyLink).where(_of_thing(platform_id, ref_kind, ref_key))
    if competency_ids is not None:
        ids = _unique(competency_ids)
        if not ids:
            return 0
        query = query.where(CompetencyLink.competency_id.in_(ids))
    result = session.execute(query, execution_options={"synchronize_session": "fetch"})
    return result.rowcount or 0


def set_links(
    session: Session,
    platform_id: int,
    ref_kind: str,
    ref_key: str,
    competency_ids: Iterable[int],
    *,
    user_id: int | None = None,
) -> list[CompetencyInfo]:
    """Make exactly these competencies linked to the thing. Unknown or other platforms' ids
    raise :class:`UnknownCompetencyError`; a retired competency cannot be newly linked."""
    check_ref(ref_kind, ref_key)
    wanted = _unique(competency_ids)
    if len(wanted) > MAX_LINKS_PER_REF:
        raise LinkError(f"At most {MAX_LINKS_PER_REF} competencies can be linked to one thing.")
    found = _require(session, platform_id, wanted)
    existing = {
        link.competency_id: link for link in _links(session, platform_id, ref_kind, ref_key)
    }
    retired = [i for i in wanted if i not in existing and found[i].retired_at is not None]
    if retired:
        raise LinkError(
            "These competencies were removed from their framework and cannot be linked: "
            + ", ".join(found[i].label for i in retired)
        )
    for competency_id, row in existing.items():
        if competency_id not in wanted:
            session.delete(row)
    for competency_id in wanted:
        if competency_id not in existing:
            session.add(
                CompetencyLink(
                    platform_id=platform_id,
                    ref_kind=ref_kind,
                    ref_key=ref_key,
                    competency_id=competency_id,
                    created_by_user_id=user_id,
                )
            )
    session.flush()
    return linked(session, platform_id, ref_kind, ref_key)


def _explicit_ids(value: object) -> list[int]:
    if not isinstance(value, list | tuple):
        return []
    ids = []
    for item in value:
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            ids.append(item)
        elif isinstance(item, str) and item.strip().isdigit():
            ids.append(int(item))
    return ids


def competencies_for(session: Session, event: DomainEvent) -> list[CompetencyInfo]:
    """The competencies an event bears on, within the event's platform only: those linked to its
    object, then to each of its parents (in the event's order), then to the placement it happened
    in, then those listed in
    ``event.data["competency_ids"]``; each once, at its first place."""
    refs = list(dict.fromkeys((ref.kind, ref.key) for ref in (event.object, *event.parents)))
    if event.placement_id is not None:  # every act inside a placement counts toward its links
        refs.append(("placement", str(event.placement_id)))
        refs = list(dict.fromkeys(refs))
    found: dict[int, CompetencyInfo] = {}
    if refs:
        rows = session.execute(
            select(CompetencyLink.ref_kind, CompetencyLink.ref_key, Competency)
            .join(Competency, Competency.id == CompetencyLink.competency_id)
            .join(Framework, Framework.id == Competency.framework_id)
            .where(
                CompetencyLink.platform_id == event.platform_id,
                Framework.platform_id == event.platform_id,
                or_(
                    *(
                        and_(CompetencyLink.ref_kind == kind, CompetencyLink.ref_key == key)
                        for kind, key in refs
                    )
                ),
            )
            .order_by(CompetencyLink.id)
        ).all()
        by_ref: dict[tuple[str, str], list[Competency]] = {}
        for kind, key, competency in rows:
            by_ref.setdefault((kind, key), []).append(competency)
        for ref in refs:
            for competency in by_ref.get(ref, []):
                found.setdefault(competency.id, CompetencyInfo.of(competency))
    explicit = _explicit_ids(event.data.get("competency_ids"))
    allowed = platform_competencies(session, event.platform_id, explicit)
    for competency_id in explicit:
        if competency_id in allowed:
            found.setdefault(competency_id, CompetencyInfo.of(allowed[competency_id]))
    return list(found.values())


# --- Linkable kinds: who may read and change a thing's links --------------------------------------
@dataclass(frozen=True)
class Requester:
    """A launched person asking about a thing's links: their platform, course and launch roles."""

    platform_id: int
    user_id: int
    context_id: int | None
    roles: tuple[str, ...]


class LinkAccessError(LinkError):
    """The requester may not read (404: not found or not visible to them) or change (403) the
    thing's links, or the owner refused the change (its status: 400, 404 …)."""

    def __init__(self, status: int, message: str) -> None:
        title = TITLES[status] if status in (403, 404) else "Not linked"
        super().__init__(message, status=status, title=title)


Setter = Callable[[Session, list[int]], list[CompetencyInfo]]


@dataclass(frozen=True)
class LinkTarget:
    """A thing the requester may see, so whose links they may read. ``key`` is its canonical key
    (``"7"`` for ``"007"``); ``set`` replaces its links by the owner's rules (their permission
    check first: :class:`LinkAccessError` 403 before anything changes)."""

    kind: str
    key: str
    set: Setter


Resolver = Callable[[Session, Requester, str], LinkTarget]
"""``resolve(session, requester, key)``: the :class:`LinkTarget`, or :class:`LinkAccessError` 404
when the thing does not exist or the requester may not see it (never "forbidden" for another
course's thing)."""

_resolvers: dict[str, Resolver] = {}


def register_kind(kind: str, resolver: Resolver) -> None:
    """Make ``kind`` linkable through the API; its owner decides who may read and change."""
    if not REF_KIND_PATTERN.fullmatch(kind):
        raise ValueError(f"not a link kind: {kind!r}")
    _resolvers[kind] = resolver


def linkable_kinds() -> list[str]:
    """The kinds whose links the API reads and changes, sorted."""
    return sorted(_resolvers)


def resolve(session: Session, requester: Requester, kind: str, key: str) -> LinkTarget:
    """The thing ``kind``/``key`` as the requester may use it; :class:`LinkAccessError` 404 for an
    unknown kind or a thing they cannot see."""
    resolver = _resolvers.get(kind)
    if resolver is None:
        raise LinkAccessError(
            404,
            f"Things of kind {kind!r} have no competency links "
            f"(these do: {', '.join(linkable_kinds())}).",
        )
    return resolver(session, requester, key)


def key_id(key: str, what: str) -> int:
    """The row id in a link key (``"42"``): :class:`LinkAccessError` 404 unless it is one."""
    try:
        number = parse_id(key)
    except ValueError:
        number = None
    if number is None:
        raise LinkAccessError(404, f"{what} does not exist or is not in this course.")
    return number


def resolve_placement(session: Session, requester: Requester, key: str) -> LinkTarget:
    """A placement (LMS resource link) of the requester's course: its active members read its
    links, course staff change them."""
    placement_id = key_id(key, "This placement")
    placement = session.get(Placement, placement_id)
    if (
        placement is None
        or requester.context_id is None
        or placement.context_id != requester.context_id
    ):
        raise LinkAccessError(404, "This placement does not exist or is not in this course.")
    member = session.scalar(
        select(Membership.id).where(
            Membership.context_id == requester.context_id,
            Membership.user_id == requester.user_id,
            Membership.status == "Active",
        )
    )
    if member is None:
        raise LinkAccessError(403, "You are not a member of this course.")

    def set_links_of_placement(session: Session, competency_ids: list[int]) -> list[CompetencyInfo]:
        if not permissions(requester.roles).staff:
            raise LinkAccessError(403, "Only course staff can link an activity to competencies.")
        return set_links(
            session,
            requester.platform_id,
            "placement",
            str(placement_id),
            competency_ids,
            user_id=requester.user_id,
        )

    return LinkTarget("placement", str(placement_id), set_links_of_placement)


@dataclass(frozen=True)
class LinkSet:
    """A thing (canonical kind and key) and the competencies linked to it."""

    ref_kind: str
    ref_key: str
    competencies: list[CompetencyInfo]


def links_of(session: Session, requester: Requester, kind: str, key: str) -> LinkSet:
    """The thing's links, for a requester who may see the thing (its owner's rule); 404 when
    they may not, or for a kind nobody registered."""
    target = resolve(session, requester, kind, key)
    found = linked(session, requester.platform_id, target.kind, target.key)
    return LinkSet(target.kind, target.key, found)


def replace_links(
    session: Session, requester: Requester, kind: str, key: str, competency_ids: list[int]
) -> LinkSet:
    """Make exactly these competencies linked to the thing, by its owner's rule (who may change
    it, which competencies it takes): :class:`LinkAccessError` before anything changes."""
    target = resolve(session, requester, kind, key)
    return LinkSet(target.kind, target.key, target.set(session, competency_ids))
