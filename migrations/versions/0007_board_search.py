"""boards: full-text search index

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 09:00:00

The search index over every post's Markdown and, for a thread's opening post, the thread's title,
kept in step with ``social_post`` and ``social_thread`` by triggers (plugin/social/search.py reads
it; docs/boards-search.md explains it):

- SQLite: ``social_post_fts``, an FTS5 table (porter + unicode61 tokenizer) whose external content
  is the view ``social_post_fts_source`` (post id, title for opening posts, body), so the text is
  stored once. FTS5 needs the old values to take a row out of the index: the triggers give them,
  and a thread that is deleted first takes its title out of its opening post's entry (SQLite runs
  the ON DELETE CASCADE of the posts after the thread row is gone).
- PostgreSQL: ``social_post_fts``, one row per post holding its course and a ``tsvector`` (title
  weight A, body weight B) under a GIN index, so only the course's matches are ranked; in the text search configuration ``social_search``: 'english'
  (Snowball stemmer, stop words) that also ignores accents when the ``unaccent`` extension can be
  created (the downgrade leaves the extension in place). A stored vector rather than an expression
  index: ranking reads the vector of every match, and re-parsing the Markdown of each costs about
  ten times as much (measured: 57 ms against 6 ms for 1,000 matches among 100,000 posts); nor can
  an expression index or a generated column on ``social_post`` reach the thread's title.

These objects are not in the models (they differ per database): migrations/env.py and the drift
test skip them by name (``plugin.social.search.alembic_include_name``). On SQLite, a later batch
migration that recreates ``social_post`` or ``social_thread`` fails loudly ("error in view
social_post_fts_source") rather than losing the triggers: it must run ``_SQLITE_DOWN`` below
first and ``_SQLITE_UP`` (which ends by rebuilding the index) afterwards.
Existing posts are indexed here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


# The indexed title of a post: the thread's title for an opening post, '' otherwise or once the
# thread is gone. The view and every trigger spell out this same expression (for new/old/p), so
# the values FTS5 is given to delete are always the ones it indexed.
_SQLITE_UP = [
    """CREATE VIEW social_post_fts_source AS
        SELECT p.id AS id,
            CASE WHEN p.is_opening THEN coalesce((SELECT t.title FROM social_thread t
                WHERE t.id = p.thread_id), '') ELSE '' END AS title,
            p.body_markdown AS body
        FROM social_post p""",
    """CREATE VIRTUAL TABLE social_post_fts USING fts5(
        title, body,
        content='social_post_fts_source', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER social_post_fts_insert AFTER INSERT ON social_post BEGIN
        INSERT INTO social_post_fts (rowid, title, body) VALUES (
            new.id,
            CASE WHEN new.is_opening THEN coalesce((SELECT t.title FROM social_thread t
                WHERE t.id = new.thread_id), '') ELSE '' END,
            new.body_markdown
        );
    END""",
    """CREATE TRIGGER social_post_fts_update
    AFTER UPDATE OF body_markdown, is_opening, thread_id ON social_post BEGIN
        INSERT INTO social_post_fts (social_post_fts, rowid, title, body) VALUES (
            'delete',
            old.id,
            CASE WHEN old.is_opening THEN coalesce((SELECT t.title FROM social_thread t
                WHERE t.id = old.thread_id), '') ELSE '' END,
            old.body_markdown
        );
        INSERT INTO social_post_fts (rowid, title, body) VALUES (
            new.id,
            CASE WHEN new.is_opening THEN coalesce((SELECT t.title FROM social_thread t
                WHERE t.id = new.thread_id), '') ELSE '' END,
            new.body_markdown
        );
    END""",
    """CREATE TRIGGER social_post_fts_delete AFTER DELETE ON social_post BEGIN
        INSERT INTO social_post_fts (social_post_fts, rowid, title, body) VALUES (
            'delete',
            old.id,
            CASE WHEN old.is_opening THEN coalesce((SELECT t.title FROM social_thread t
                WHERE t.id = old.thread_id), '') ELSE '' END,
            old.body_markdown
        );
    END""",
    """CREATE TRIGGER social_thread_fts_title
    AFTER UPDATE OF title ON social_thread WHEN old.title IS NOT new.title BEGIN
        INSERT INTO social_post_fts (social_post_fts, rowid, title, body)
        SELECT 'delete', p.id, old.title, p.body_markdown FROM social_post p
        WHERE p.thread_id = new.id AND p.is_opening;
        INSERT INTO social_post_fts (rowid, title, body)
        SELECT p.id, new.title, p.body_markdown FROM social_post p
        WHERE p.thread_id = new.id AND p.is_opening;
    END""",
    """CREATE TRIGGER social_thread_fts_delete BEFORE DELETE ON social_thread BEGIN
        INSERT INTO social_post_fts (social_post_fts, rowid, title, body)
        SELECT 'delete', p.id, old.title, p.body_markdown FROM social_post p
        WHERE p.thread_id = old.id AND p.is_opening;
        INSERT INTO social_post_fts (rowid, title, body)
        SELECT p.id, '', p.body_markdown FROM social_post p
        WHERE p.thread_id = old.id AND p.is_opening;
    END""",
    "INSERT INTO social_post_fts (social_post_fts) VALUES ('rebuild')",
]

_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS social_thread_fts_delete",
    "DROP TRIGGER IF EXISTS social_thread_fts_title",
    "DROP TRIGGER IF EXISTS social_post_fts_delete",
    "DROP TRIGGER IF EXISTS social_post_fts_update",
    "DROP TRIGGER IF EXISTS social_post_fts_insert",
    "DROP TABLE IF EXISTS social_post_fts",
    "DROP VIEW IF EXISTS social_post_fts_source",
]

_POSTGRES_CONFIG = "CREATE TEXT SEARCH CONFIGURATION social_search (COPY = pg_catalog.english)"

_POSTGRES_UP = [
    """CREATE TABLE social_post_fts (
        post_id integer PRIMARY KEY REFERENCES social_post (id) ON DELETE CASCADE,
        context_id integer NOT NULL,
        document tsvector NOT NULL
    )""",
    "CREATE INDEX ix_social_post_fts_document ON social_post_fts USING gin (document)",
    "CREATE INDEX ix_social_post_fts_context ON social_post_fts (context_id)",
    """CREATE FUNCTION social_post_fts_document(title text, body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT setweight(to_tsvector('social_search'::regconfig, coalesce(title, '')), 'A')
            || setweight(to_tsvector('social_search'::regconfig, coalesce(body, '')), 'B')
    $$""",
    """CREATE FUNCTION social_post_fts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO social_post_fts (post_id, context_id, document)
        SELECT
            NEW.id,
            b.context_id,
            social_post_fts_document(CASE WHEN NEW.is_opening THEN t.title END, NEW.body_markdown)
        FROM social_thread t JOIN social_board b ON b.id = t.board_id
        WHERE t.id = NEW.thread_id
        ON CONFLICT (post_id) DO UPDATE
        SET context_id = EXCLUDED.context_id, document = EXCLUDED.document;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER social_post_fts_sync
    AFTER INSERT OR UPDATE OF body_markdown, is_opening, thread_id ON social_post
    FOR EACH ROW EXECUTE FUNCTION social_post_fts_sync()""",
    """CREATE FUNCTION social_thread_fts_title() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE social_post_fts f
        SET document = social_post_fts_document(NEW.title, p.body_markdown)
        FROM social_post p
        WHERE p.thread_id = NEW.id AND p.is_opening AND f.post_id = p.id;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER social_thread_fts_title
    AFTER UPDATE OF title ON social_thread
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title)
    EXECUTE FUNCTION social_thread_fts_title()""",
    """INSERT INTO social_post_fts (post_id, context_id, document)
    SELECT
        p.id,
        b.context_id,
        social_post_fts_document(CASE WHEN p.is_opening THEN t.title END, p.body_markdown)
    FROM social_post p
    JOIN social_thread t ON t.id = p.thread_id
    JOIN social_board b ON b.id = t.board_id""",
]

_POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS social_thread_fts_title ON social_thread",
    "DROP TRIGGER IF EXISTS social_post_fts_sync ON social_post",
    "DROP TABLE IF EXISTS social_post_fts",
    "DROP FUNCTION IF EXISTS social_thread_fts_title()",
    "DROP FUNCTION IF EXISTS social_post_fts_sync()",
    "DROP FUNCTION IF EXISTS social_post_fts_document(text, text)",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS social_search",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def _ignore_accents_on_postgres() -> None:
    """Make the ``social_search`` configuration fold accents ("Délégation" finds "delegation", as
    FTS5's ``remove_diacritics`` does) when the ``unaccent`` extension can be had; without it (no
    contrib package, or no right to create it) accents simply count."""
    bind = op.get_bind()
    available = bind.execute(
        sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'unaccent'")
    ).scalar()
    if not available:
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent"))
    except sa.exc.DBAPIError:
        return
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION social_search "
        "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_UP)
    elif dialect == "postgresql":
        op.execute(_POSTGRES_CONFIG)
        _ignore_accents_on_postgres()  # before anything is indexed
        _run(_POSTGRES_UP)
    else:
        raise NotImplementedError(f"board search has no index for {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(_POSTGRES_DOWN)
