"""Tenancy and identity: platforms, deployments, tool keys, users, contexts, memberships, groups,
placements, and the one-time OIDC state records and launch sessions of the LTI flow."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plugin.db import Base, UTCDateTime, utcnow


def new_uuid() -> str:
    return str(uuid.uuid4())


PLATFORM_ACTIVE = "active"
PLATFORM_PENDING = "pending"


class Platform(Base):
    """An LMS registration: one issuer + client_id pair (a platform may register the tool twice).

    ``status`` is "active", or "pending" for a dynamic registration made without an invite (open
    registration): a pending registration cannot launch until the operator approves it."""

    __tablename__ = "lti_platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    auth_audience: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    key_set_url: Mapped[str] = mapped_column(String(1000))
    product_family_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Per-platform xAPI settings (the LRS override and the actor pseudonymisation key).
    lrs_endpoint: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    lrs_username: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lrs_password: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pseudonymise_actors: Mapped[bool] = mapped_column(Boolean, default=False)
    actor_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    is_sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(
        String(20), default=PLATFORM_ACTIVE, server_default=PLATFORM_ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan"
    )


class Deployment(Base):
    __tablename__ = "lti_deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class ToolKey(Base):
    """The tool's own RSA signing keys. The newest active key signs; retired keys leave the JWKS."""

    __tablename__ = "lti_tool_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key_pem: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | retired
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class User(Base):
    """A person as one registration knows them: keyed by (platform_id, sub).

    A registration (issuer + client id) is a trust boundary: each has its own key set, and an
    id_token signed with one registration's key can claim any ``sub``. So a user belongs to the
    registration that verified them; the same person reaching the tool through two
    registrations of one issuer is two users. ``issuer`` is kept for the xAPI actor (account
    homePage = issuer, name = sub), which is the same for both.
    """

    __tablename__ = "lti_user"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    issuer: Mapped[str] = mapped_column(String(500))
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    given_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    family_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    picture: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def display_name(self) -> str:
        full = self.name or " ".join(p for p in (self.given_name, self.family_name) if p)
        return full or f"User {self.sub[:8]}"


class Context(Base):
    """A course (or other LTI context) of one registration, keyed by (platform_id, context id).

    Like users, contexts belong to the registration that verified the launch: a course reached
    through two registrations of one issuer is two tool courses (a second registration is
    another tenant).
    """

    __tablename__ = "lti_context"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    issuer: Mapped[str] = mapped_column(String(500))
    context_id: Mapped[str] = mapped_column(String(255))
    deployment_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    label: Mapped[str | None] = mapped_column(String(255), nullable=True)
    title: Mapped[str | None] = mapped_column(String(500), nullable=True)
    nrps_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    groups_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    group_sets_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    ags_lineitems_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    ags_scopes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    roster_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    platform: Mapped[Platform] = relationship()

    @property
    def display_title(self) -> str:
        return self.title or self.label or self.context_id


class Membership(Base):
    __tablename__ = "lti_membership"
    __table_args__ = (UniqueConstraint("context_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="Active")  # Active | Inactive | Deleted
    mentor_scope: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    source: Mapped[str] = mapped_column(String(20), default="launch")  # launch | nrps
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()
    context: Mapped[Context] = relationship()


GROUP_FROM_LMS = "lms"
GROUP_MADE_IN_TOOL = "tool"


class LmsGroup(Base):
    """A group of a course: one of the LMS's course groups, or a cohort made by course staff."""

    __tablename__ = "lti_group"
    __table_args__ = (UniqueConstraint("context_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    group_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    set_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    set_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # "lms": from the platform's course groups (NRPS sync keeps it and its members); "tool": a
    # cohort course staff made in Learning Commons (the sync never touches it).
    source: Mapped[str] = mapped_column(String(10), default="lms", server_default="lms")


class LmsGroupMember(Base):
    __tablename__ = "lti_group_member"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("lti_group.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)


class Placement(Base):
    """A resource link in a context, and the widget it opens (set by deep linking or by staff)."""

    __tablename__ = "lti_placement"
    __table_args__ = (UniqueConstraint("context_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(500), nullable=True)
    widget: Mapped[str | None] = mapped_column(String(40), nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lineitem_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    context: Mapped[Context] = relationship()


class OidcState(Base):
    """One OIDC login attempt: its state and nonce are single-use and bound to one browser."""

    __tablename__ = "lti_oidc_state"
    # How many logins one client address started at one platform lately (the login cap).
    __table_args__ = (Index("ix_lti_oidc_state_client", "platform_id", "client_ip", "created_at"),)

    state: Mapped[str] = mapped_column(String(100), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(100), unique=True)
    browser_secret_hash: Mapped[str] = mapped_column(String(64))
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    login_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    storage_target: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The address the login came from (kept until the purge deletes the state).
    client_ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LaunchSession(Base):
    """What one successful launch established; the widget's signed token points here."""

    __tablename__ = "lti_launch_session"
    __table_args__ = (Index("ix_lti_launch_session_expires", "expires_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    context_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_context.id", ondelete="CASCADE"), nullable=True
    )
    placement_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_placement.id", ondelete="CASCADE"), nullable=True
    )
    message_type: Mapped[str] = mapped_column(String(60))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    platform: Mapped[Platform] = relationship()
    user: Mapped[User] = relationship()
    context: Mapped[Context | None] = relationship()
    placement: Mapped[Placement | None] = relationship()


class AccessTokenCache(Base):
    """OAuth2 access tokens from platforms' token endpoints, reused until they expire."""

    __tablename__ = "lti_access_token"
    __table_args__ = (UniqueConstraint("platform_id", "scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    scope_key: Mapped[str] = mapped_column(String(64))
    access_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RegistrationLog(Base):
    """Each finished dynamic registration, for audit."""

    __tablename__ = "lti_registration_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_platform.id", ondelete="SET NULL"), nullable=True
    )
    issuer: Mapped[str] = mapped_column(String(500))
    openid_configuration_url: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegistrationInvite(Base):
    """A single-use, expiring invitation to register a platform by LTI Dynamic Registration.

    Only the SHA-256 of the invite's secret is stored; the secret itself is shown once, inside the
    registration URL. ``used_at`` is set (atomically) by the registration it allowed, which
    ``platform_id`` then names."""

    __tablename__ = "lti_registration_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    platform_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_platform.id", ondelete="SET NULL"), nullable=True
    )
