"""users and contexts belong to their registration

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 15:30:00

A registration (``lti_platform``: issuer + client id) is a trust boundary: each has its own key set,
and an id_token signed with registration B's key can claim any ``sub`` or context id of the issuer.
So users are keyed by (platform_id, sub) instead of (issuer, sub), and contexts by (platform_id,
context_id) instead of (issuer, context_id). See docs/architecture.md ("Tenants").

Backfill. Contexts already name their platform. Each user gets the platform of the rows that
point at them (memberships, launch sessions, posts, evidence, xAPI rows …: every table with a
foreign key to ``lti_user``, through the platform, course, board, thread, post or group the row
sits in), the lowest such id first; a user nothing points at gets their issuer's first
registration, and one whose issuer has no registration any more is deleted (it could never launch
again and nothing refers to it). A user whose rows sit under more than one registration of their
issuer (possible before this change: a course first seen through the second registration) is
split: one user row per registration, with the same profile, and each row that points at the user
moves to the copy of the registration it sits under. (Rows of a table that names none of those
would stay with the user's first registration; no such table exists at 0011, and the migration logs
a warning if one appears.)

Downgrade restores the issuer keys; it refuses when two registrations of one issuer already have
the same person or course (that data has no issuer-keyed form).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

log = logging.getLogger("alembic.runtime.migration")

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# How a row reaches its platform, by the table one of its foreign keys points to (first match).
# ``{t}`` is the referring table, ``{c}`` the foreign-key column.
_PLATFORM_OF = {
    "lti_platform": "{t}.{c}",
    "lti_context": "(SELECT x.platform_id FROM lti_context x WHERE x.id = {t}.{c})",
    "social_board": (
        "(SELECT x.platform_id FROM social_board b JOIN lti_context x ON x.id = b.context_id "
        "WHERE b.id = {t}.{c})"
    ),
    "social_thread": (
        "(SELECT x.platform_id FROM social_thread th JOIN social_board b ON b.id = th.board_id "
        "JOIN lti_context x ON x.id = b.context_id WHERE th.id = {t}.{c})"
    ),
    "social_post": (
        "(SELECT x.platform_id FROM social_post p JOIN social_thread th ON th.id = p.thread_id "
        "JOIN social_board b ON b.id = th.board_id JOIN lti_context x ON x.id = b.context_id "
        "WHERE p.id = {t}.{c})"
    ),
    "lti_group": (
        "(SELECT x.platform_id FROM lti_group g JOIN lti_context x ON x.id = g.context_id "
        "WHERE g.id = {t}.{c})"
    ),
}
_USER_COLUMNS = (
    "issuer",
    "sub",
    "name",
    "given_name",
    "family_name",
    "email",
    "picture",
    "created_at",
    "updated_at",
)


def _user_references(bind) -> list[tuple[str, str, str]]:
    """(table, user column, SQL for the row's platform id) for every foreign key to lti_user."""
    inspector = sa.inspect(bind)
    found = []
    for table in sorted(inspector.get_table_names()):
        fks = inspector.get_foreign_keys(table)
        anchor = None
        for target in _PLATFORM_OF:
            match = [
                fk
                for fk in fks
                if fk["referred_table"] == target and len(fk["constrained_columns"]) == 1
            ]
            if match:
                anchor = _PLATFORM_OF[target].format(t=table, c=match[0]["constrained_columns"][0])
                break
        for fk in fks:
            if fk["referred_table"] != "lti_user":
                continue
            (column,) = fk["constrained_columns"]
            if anchor is None:
                # Rows that name no registration cannot be placed: they stay with the user's
                # first registration (say so, in case a split moves their other rows).
                log.warning("%s.%s names no registration; its rows are not moved", table, column)
                continue
            found.append((table, column, anchor))
    return found


def upgrade() -> None:
    # The SQL below is built from this file's constants and the schema's own table and column
    # names (never from data), hence the S608 exemptions.
    bind = op.get_bind()
    refs = _user_references(bind)
    rows = " UNION ".join(
        f"SELECT {c} AS user_id, {anchor} AS platform_id FROM {t} WHERE {c} IS NOT NULL"  # noqa: S608
        for t, c, anchor in refs
    )
    touched = f"SELECT DISTINCT user_id, platform_id FROM ({rows}) AS touched_rows"  # noqa: S608

    op.add_column("lti_user", sa.Column("platform_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE lti_user SET platform_id = (SELECT MIN(r.platform_id) "  # noqa: S608
        f"FROM ({touched}) AS r WHERE r.user_id = lti_user.id)"
    )
    op.execute(
        "UPDATE lti_user SET platform_id = (SELECT MIN(p.id) FROM lti_platform p "
        "WHERE p.issuer = lti_user.issuer) WHERE platform_id IS NULL"
    )
    op.execute("DELETE FROM lti_user WHERE platform_id IS NULL")

    with op.batch_alter_table("lti_user", schema=None) as batch_op:
        batch_op.alter_column("platform_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("uq_lti_user_issuer_sub", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_lti_user_platform_id_sub"), ["platform_id", "sub"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_lti_user_platform_id_lti_platform"),
            "lti_platform",
            ["platform_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("lti_context", schema=None) as batch_op:
        batch_op.drop_constraint("uq_lti_context_issuer_context_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_lti_context_platform_id_context_id"), ["platform_id", "context_id"]
        )

    # Split users whose rows sit under several registrations: a copy for each other one …
    copied = ", ".join(f"u.{c}" for c in _USER_COLUMNS)
    op.execute(
        f"INSERT INTO lti_user (platform_id, {', '.join(_USER_COLUMNS)}) "  # noqa: S608
        f"SELECT r.platform_id, {copied} FROM lti_user u JOIN ({touched}) AS r "
        "ON r.user_id = u.id WHERE r.platform_id <> u.platform_id"
    )
    # … and every row that points at the user moves to the copy of the registration it sits under.
    for table, column, anchor in refs:
        op.execute(
            f"UPDATE {table} SET {column} = (SELECT n.id FROM lti_user o "  # noqa: S608
            f"JOIN lti_user n ON n.sub = o.sub AND n.issuer = o.issuer "
            f"WHERE o.id = {table}.{column} AND n.platform_id = {anchor}) "
            f"WHERE {column} IS NOT NULL AND {anchor} <> "
            f"(SELECT u.platform_id FROM lti_user u WHERE u.id = {table}.{column})"
        )


def downgrade() -> None:
    bind = op.get_bind()
    clash = bind.execute(
        sa.text(
            "SELECT 'user' FROM lti_user GROUP BY issuer, sub HAVING COUNT(*) > 1 UNION ALL "
            "SELECT 'course' FROM lti_context GROUP BY issuer, context_id HAVING COUNT(*) > 1"
        )
    ).first()
    if clash is not None:
        raise RuntimeError(
            "Cannot downgrade below 0011: two registrations of one issuer hold the same "
            f"{clash[0]}; remove one registration (commons platform remove) first."
        )
    with op.batch_alter_table("lti_context", schema=None) as batch_op:
        batch_op.drop_constraint("uq_lti_context_platform_id_context_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_lti_context_issuer_context_id"), ["issuer", "context_id"]
        )
    with op.batch_alter_table("lti_user", schema=None) as batch_op:
        batch_op.drop_constraint("fk_lti_user_platform_id_lti_platform", type_="foreignkey")
        batch_op.drop_constraint("uq_lti_user_platform_id_sub", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_lti_user_issuer_sub"), ["issuer", "sub"])
        batch_op.drop_column("platform_id")
