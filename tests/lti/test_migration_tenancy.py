"""Migration 0011 on a database with data: users get the registration of the rows that point at
them, a user whose rows sit under two registrations of one issuer is split, and courses keep their
registration. Runs on SQLite, and on PostgreSQL with TEST_DATABASE=postgres."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from plugin.migrate import downgrade, upgrade

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Rows:
    """Insert rows into the reflected tables of a database at an older revision."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.meta = sa.MetaData()
        self.meta.reflect(conn)

    def add(self, table: str, **values) -> int:
        result = self.conn.execute(sa.insert(self.meta.tables[table]).values(**values))
        return result.inserted_primary_key[0]

    def platform(self, issuer: str, client_id: str) -> int:
        return self.add(
            "lti_platform",
            name=client_id,
            issuer=issuer,
            client_id=client_id,
            auth_login_url=issuer + "/auth",
            auth_token_url=issuer + "/token",
            key_set_url=issuer + "/jwks",
            pseudonymise_actors=False,
            is_sandbox=False,
            created_at=NOW,
        )

    def user(self, issuer: str, sub: str, name: str) -> int:
        return self.add(
            "lti_user",
            issuer=issuer,
            sub=sub,
            name=name,
            email=f"{sub}@example.edu",
            created_at=NOW,
            updated_at=NOW,
        )

    def context(self, platform_id: int, issuer: str, context_id: str) -> int:
        return self.add(
            "lti_context",
            platform_id=platform_id,
            issuer=issuer,
            context_id=context_id,
            title=context_id,
            created_at=NOW,
        )

    def member(self, context_id: int, user_id: int) -> int:
        return self.add(
            "lti_membership",
            context_id=context_id,
            user_id=user_id,
            roles=["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            status="Active",
            source="launch",
            updated_at=NOW,
        )

    def board(self, context_id: int) -> int:
        placement = self.add(
            "lti_placement",
            context_id=context_id,
            resource_link_id=f"rl-{uuid.uuid4().hex[:6]}",
            widget="board",
            settings={},
            created_at=NOW,
        )
        return self.add(
            "social_board",
            placement_id=placement,
            context_id=context_id,
            cohort_mode="none",
            qa_mode=False,
            anonymous_allowed=False,
            created_at=NOW,
        )

    def thread(self, board_id: int, author_id: int) -> tuple[int, int]:
        thread = self.add(
            "social_thread",
            board_id=board_id,
            kind="discussion",
            title="Hello",
            author_id=author_id,
            anonymous=False,
            pinned=False,
            locked=False,
            closed=False,
            endorsed=False,
            last_activity_at=NOW,
            reply_count=0,
            created_at=NOW,
        )
        post = self.add(
            "social_post",
            thread_id=thread,
            is_opening=True,
            author_id=author_id,
            anonymous=False,
            body_markdown="Hi",
            body_html="<p>Hi</p>",
            hidden=False,
            deleted=False,
            created_at=NOW,
        )
        return thread, post


def column(conn: sa.Connection, sql: str, **params) -> list:
    return list(conn.execute(sa.text(sql), params).scalars())


def test_users_get_their_registration_and_are_split_across_two(fresh_url: str, caplog) -> None:
    upgrade(fresh_url, "0009")
    engine = sa.create_engine(fresh_url)
    x, y = "https://lms-x.example", "https://lms-y.example"
    try:
        with engine.begin() as conn:
            rows = Rows(conn)
            p1, p2, p3 = rows.platform(x, "key-1"), rows.platform(x, "key-2"), rows.platform(y, "k")
            lea = rows.user(x, "lea", "Lea Learner")  # launched through both keys of x
            ines = rows.user(x, "ines", "Ines Instructor")  # only through the second key
            sam = rows.user(y, "sam", "Sam Nobody")  # nothing points at him
            rows.user("https://gone.example", "ghost", "Gus Ghost")  # of no registration
            c1 = rows.context(p1, x, "course-1")  # first seen through key 1
            c2 = rows.context(p2, x, "course-2")  # first seen through key 2
            for ctx, user in ((c1, lea), (c2, lea), (c2, ines)):
                rows.member(ctx, user)
            group = rows.add("lti_group", context_id=c2, group_id="g1", name="G", source="lms")
            rows.add("lti_group_member", group_id=group, user_id=lea)
            rows.add(
                "lti_launch_session",
                id=str(uuid.uuid4()),
                platform_id=p2,
                deployment_id="d",
                user_id=lea,
                context_id=c2,
                message_type="LtiResourceLinkRequest",
                roles=[],
                claims={"sub": "lea"},
                created_at=NOW,
                expires_at=NOW + timedelta(hours=1),
            )
            board1, board2 = rows.board(c1), rows.board(c2)
            _t1, post1 = rows.thread(board1, lea)
            t2, post2 = rows.thread(board2, lea)
            rows.add("social_reaction", post_id=post1, user_id=lea, kind="helpful", created_at=NOW)
            rows.add("social_reaction", post_id=post2, user_id=lea, kind="helpful", created_at=NOW)
            rows.add("social_reaction", post_id=post2, user_id=ines, kind="helpful", created_at=NOW)
            rows.add(
                "xapi_outbox",
                statement_id=str(uuid.uuid4()),
                platform_id=p2,
                context_id=c2,
                actor_user_id=lea,
                event_kind="board.thread_posted",
                verb_id="http://example/verb",
                object_id="http://example/object",
                competency_iris=[],
                statement={},
                state="pending",
                attempts=0,
                next_attempt_at=NOW,
                created_at=NOW,
            )

        upgrade(fresh_url)
        # every table that points at a user names a registration the migration can place it by
        assert "names no registration" not in caplog.text

        with engine.connect() as conn:
            users = {
                (r.sub, r.platform_id): r
                for r in conn.execute(sa.text("SELECT * FROM lti_user ORDER BY id"))
            }
            assert set(users) == {("lea", p1), ("lea", p2), ("ines", p2), ("sam", p3)}
            assert users[("lea", p1)].id == lea and users[("ines", p2)].id == ines
            assert users[("sam", p3)].id == sam  # and the ghost, of no registration, is gone
            lea2 = users[("lea", p2)].id
            copy = users[("lea", p2)]
            assert (copy.issuer, copy.name, copy.email) == (x, "Lea Learner", "lea@example.edu")

            def users_of(sql: str, **params) -> list[int]:
                return sorted(column(conn, sql, **params))

            assert users_of("SELECT user_id FROM lti_membership WHERE context_id = :c", c=c1) == [
                lea
            ]
            assert users_of("SELECT user_id FROM lti_membership WHERE context_id = :c", c=c2) == [
                ines,
                lea2,
            ]
            assert users_of("SELECT user_id FROM lti_group_member") == [lea2]
            assert users_of("SELECT user_id FROM lti_launch_session") == [lea2]
            assert users_of(
                "SELECT author_id FROM social_thread WHERE board_id = :b", b=board1
            ) == [lea]
            assert users_of("SELECT author_id FROM social_thread WHERE id = :t", t=t2) == [lea2]
            assert users_of("SELECT author_id FROM social_post WHERE id = :p", p=post2) == [lea2]
            assert users_of("SELECT user_id FROM social_reaction WHERE post_id = :p", p=post1) == [
                lea
            ]
            assert users_of("SELECT user_id FROM social_reaction WHERE post_id = :p", p=post2) == [
                ines,
                lea2,
            ]
            assert users_of("SELECT actor_user_id FROM xapi_outbox") == [lea2]
            contexts = conn.execute(sa.text("SELECT id, platform_id FROM lti_context")).all()
            assert sorted(contexts) == sorted([(c1, p1), (c2, p2)])

        inspector = sa.inspect(engine)
        assert {u["name"] for u in inspector.get_unique_constraints("lti_user")} == {
            "uq_lti_user_platform_id_sub"
        }
        assert {u["name"] for u in inspector.get_unique_constraints("lti_context")} == {
            "uq_lti_context_platform_id_context_id"
        }
        assert [
            (fk["referred_table"], fk["options"].get("ondelete"))
            for fk in inspector.get_foreign_keys("lti_user")
        ] == [("lti_platform", "CASCADE")]

        # The same person under two registrations has no issuer-keyed form: downgrade refuses.
        with pytest.raises(RuntimeError, match="two registrations of one issuer"):
            downgrade(fresh_url, "0009")
    finally:
        engine.dispose()
