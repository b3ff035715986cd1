"""Competency frameworks, scales, links from the tool's things to competencies, and evidence.

Every row belongs to one platform (tenant): frameworks and scales directly, competencies through their
framework, links and evidence directly. Queries always filter on the platform first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plugin.db import Base, UTCDateTime, utcnow

SOURCE_CASE = "case"
SOURCE_MOODLE_CSV = "moodle-csv"
SOURCE_DEFAULT = "default"

EVIDENCE_SOCIAL = "social"
EVIDENCE_EXPERIENTIAL = "experiential"
EVIDENCE_FORMAL = "formal"
EVIDENCE_KINDS = (EVIDENCE_FORMAL, EVIDENCE_SOCIAL, EVIDENCE_EXPERIENTIAL)

STATUS_PENDING = "pending"
STATUS_ACCEPTED = "accepted"
STATUS_REJECTED = "rejected"
EVIDENCE_STATUSES = (STATUS_PENDING, STATUS_ACCEPTED, STATUS_REJECTED)


class Scale(Base):
    """An ordered set of proficiency levels; positions count from 1 (lowest)."""

    __tablename__ = "perf_scale"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        ForeignKey("lti_platform.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(20))  # default | moodle-csv
    # The scale's id where it came from (Moodle's scaleid), for information only.
    external_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Levels at or above this position count as proficient.
    proficient_position: Mapped[int] = mapped_column(Integer)
    default_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    levels: Mapped[list[ScaleLevel]] = relationship(
        back_populates="scale",
        cascade="all, delete-orphan",
        order_by="ScaleLevel.position",
        passive_deletes=True,
    )


class ScaleLevel(Base):
    __tablename__ = "perf_scale_level"
    __table_args__ = (UniqueConstraint("scale_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scale_id: Mapped[int] = mapped_column(ForeignKey("perf_scale.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)

    scale: Mapped[Scale] = relationship(back_populates="levels")

    @property
    def proficient(self) -> bool:
        return self.position >= self.scale.proficient_position


class Framework(Base):
    """A competency framework imported into one platform: a CASE CFDocument or a Moodle framework."""

    __tablename__ = "perf_framework"
    __table_args__ = (
        UniqueConstraint("platform_id", "uri"),
        UniqueConstraint("platform_id", "identifier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    # CASE: the CFDocument's uri and identifier. Moodle CSV: a urn:uuid derived from the platform
    # issuer and the framework idnumber, and the idnumber.
    uri: Mapped[str] = mapped_column(String(1000))
    identifier: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    creator: Mapped[str | None] = mapped_column(String(255), nullable=True)
    version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    source_kind: Mapped[str] = mapped_column(String(20))  # case | moodle-csv
    case_version: Mapped[str | None] = mapped_column(String(10), nullable=True)  # 1.0 | 1.1
    source_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    # The source's own "last changed" time (CASE lastChangeDateTime), when it gives one.
    source_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scale_id: Mapped[int | None] = mapped_column(
        ForeignKey("perf_scale.id", ondelete="SET NULL"), nullable=True
    )
    last_imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    scale: Mapped[Scale | None] = relationship()


class Competency(Base):
    """One item of a framework (a CASE CFItem or a Moodle competency)."""

    __tablename__ = "perf_competency"
    __table_args__ = (
        UniqueConstraint("framework_id", "identifier"),
        Index("ix_perf_competency_tree", "framework_id", "parent_id", "sort_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("perf_framework.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("perf_competency.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # The IRI used in xAPI statements: the CASE item's uri, or a urn:uuid for Moodle competencies.
    uri: Mapped[str] = mapped_column(String(1000), index=True)
    identifier: Mapped[str] = mapped_column(String(255))
    code: Mapped[str | None] = mapped_column(String(255), nullable=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    item_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # Set when a re-import no longer contains the item but links or evidence still point at it.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    framework: Mapped[Framework] = relationship()

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}" if self.code else self.name


class CompetencyAssociation(Base):
    """One CASE association (CFAssociation) of a framework's package, of any type: ``isChildOf``
    (also kept as ``Competency.parent_id``), ``exactMatchOf``, ``isRelatedTo``, ``precedes``,
    ``isPartOf``, ``exemplar``, ``hasSkillLevel``, ``replacedBy``, ``isPeerOf`` or an extension
    type. Each end is kept as the package gives it (uri, identifier, title); an end that is an
    item of the same package carries that item's uri. Ends are matched to competencies by uri
    when read (:mod:`plugin.performance.associations`), so an end in another framework resolves
    as soon as that framework is imported, and stops resolving when its item is removed."""

    __tablename__ = "perf_competency_association"
    __table_args__ = (
        Index("ix_perf_competency_association_framework", "framework_id", "position"),
        Index("ix_perf_competency_association_origin", "origin_uri"),
        Index("ix_perf_competency_association_destination", "destination_uri"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The framework whose package declares the association (deleted with it).
    framework_id: Mapped[int] = mapped_column(ForeignKey("perf_framework.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # order in the package
    identifier: Mapped[str | None] = mapped_column(String(255), nullable=True)
    uri: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    association_type: Mapped[str] = mapped_column(String(255))
    origin_uri: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    origin_identifier: Mapped[str | None] = mapped_column(String(255), nullable=True)
    origin_title: Mapped[str | None] = mapped_column(Text, nullable=True)
    destination_uri: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    destination_identifier: Mapped[str | None] = mapped_column(String(255), nullable=True)
    destination_title: Mapped[str | None] = mapped_column(Text, nullable=True)
    sequence_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The package's lastChangeDateTime of the association.
    source_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CompetencyLink(Base):
    """Something in the tool (an ActivityRef kind + key: a board, a placement, a goal...) is
    about a competency. Activity done on it becomes evidence for that competency."""

    __tablename__ = "perf_competency_link"
    __table_args__ = (
        UniqueConstraint(
            "platform_id", "ref_kind", "ref_key", "competency_id", name="uq_perf_competency_link"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    ref_kind: Mapped[str] = mapped_column(String(40))
    ref_key: Mapped[str] = mapped_column(String(255))
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("perf_competency.id", ondelete="CASCADE"), index=True
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    competency: Mapped[Competency] = relationship()


class Evidence(Base):
    """One act (an xAPI statement) that bears on one competency of one learner."""

    __tablename__ = "perf_evidence"
    __table_args__ = (
        UniqueConstraint("statement_id", "competency_id"),
        Index("ix_perf_evidence_learner", "platform_id", "user_id", "competency_id"),
        Index("ix_perf_evidence_review", "platform_id", "status", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    # No ON DELETE: a competency with evidence is retired, never deleted (see frameworks.py).
    competency_id: Mapped[int] = mapped_column(ForeignKey("perf_competency.id"), index=True)
    context_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_context.id", ondelete="SET NULL"), nullable=True, index=True
    )
    statement_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(20))  # formal | social | experiential
    source: Mapped[str] = mapped_column(String(60))  # the domain event kind
    status: Mapped[str] = mapped_column(String(20), default=STATUS_PENDING)
    reviewer_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL"), nullable=True
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    competency: Mapped[Competency] = relationship()
