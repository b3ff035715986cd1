"""What every importer produces: one neutral structure for a framework, whatever its format.

An importer (:mod:`.importers.case`, :mod:`.importers.moodle_csv`) parses and checks its whole input
into a :class:`ParsedFramework` — pure, no database — or raises :class:`FrameworkImportError`; only
then does :func:`plugin.performance.frameworks.store.store` write it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from plugin.access import Refusal


class FrameworkImportError(Refusal):
    """The framework cannot be imported: ``message`` says why, in words for the person importing.
    Bad input is a 422; an import asked for wrongly (400) or racing another (409) says so."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 422,
        title: str = "The framework was not imported",
        hint: str = "",
    ) -> None:
        super().__init__(status, message, title=title, hint=hint)


@dataclass
class ParsedItem:
    identifier: str
    uri: str
    name: str
    code: str | None = None
    description: str | None = None
    item_type: str | None = None
    parent: str | None = None  # the parent item's identifier; None at the top level
    sort_order: int = 0

    @property
    def short_label(self) -> str:
        """How messages name the item: its code and (shortened) name, else its name and
        identifier."""
        name = self.name if len(self.name) <= 60 else self.name[:57] + "…"
        return f"{self.code} “{name}”" if self.code else f"“{name}” ({self.identifier})"


@dataclass
class ParsedNode:
    """One end of an association. An item of the same package carries that item's identifier
    and uri; the package's own CFDocument has ``is_document``; anything else is external."""

    uri: str | None
    identifier: str | None
    title: str | None = None
    item: str | None = None  # the identifier of an item of this package
    is_document: bool = False

    @property
    def key(self) -> str:
        return self.uri or f"identifier:{self.identifier}"


@dataclass
class ParsedAssociation:
    association_type: str
    origin: ParsedNode
    destination: ParsedNode
    identifier: str | None = None
    uri: str | None = None
    sequence_number: int | None = None
    changed_at: datetime | None = None

    key: str = ""  # what identifies it across imports (see association_key)

    @property
    def signature(self) -> str:
        return f"{self.association_type}|{self.origin.key}|{self.destination.key}"


@dataclass
class ParsedScale:
    name: str
    levels: list[str]
    proficient_position: int
    default_position: int | None = None
    external_id: str | None = None


@dataclass
class ParsedFramework:
    identifier: str
    uri: str
    title: str
    source_kind: str
    description: str | None = None
    creator: str | None = None
    version: str | None = None
    case_version: str | None = None
    changed_at: datetime | None = None
    items: list[ParsedItem] = field(default_factory=list)
    scale: ParsedScale | None = None
    hierarchy_links: int = 0  # parent/child relations read (CASE isChildOf associations)
    associations: list[ParsedAssociation] = field(default_factory=list)  # CASE: all of them
    warnings: list[str] = field(default_factory=list)


def association_key(
    identifier: str | None, uri: str | None, signature: str, seen: dict[str, str]
) -> str | None:
    """What identifies an association across imports, so that a re-import updates it in place:
    its identifier, else its uri, else its type and ends. Packages are read in order; an
    identifier (or uri) that an earlier association with other ends or type already used gets
    those appended, and a repeat of an earlier association (same key, type and ends) gives None.
    ``seen`` maps the keys given so far to their signatures."""
    base = f"id:{identifier}" if identifier else f"uri:{uri}" if uri else f"ends:{signature}"
    for key in (base, f"{base}|{signature}"):
        if key not in seen:
            seen[key] = signature
            return key
        if seen[key] == signature:
            return None
    return None
