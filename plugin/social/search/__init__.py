"""Full-text search across the discussion boards of a course (services: ``services``).

``views``, ``api``, ``schemas`` and ``templates/`` are its page and JSON API, wired by
:func:`init_app`.
"""

from __future__ import annotations

from flask import Flask

from plugin.social.search.services import (
    BODY_WEIGHT,
    INDEX_TABLE,
    INDEX_TABLES,
    KIND_COMMENT,
    KIND_REPLY,
    KIND_THREAD,
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    MIN_PREFIX_CHARS,
    SNIPPET_TOKENS,
    TITLE_WEIGHT,
    WINDOW_FACTOR,
    SearchHit,
    SearchPage,
    alembic_include_name,
    fts5_query,
    plain_text,
    search,
    snippet_html,
    terms_of,
    tsquery,
)

__all__ = [
    "BODY_WEIGHT",
    "INDEX_TABLE",
    "INDEX_TABLES",
    "KIND_COMMENT",
    "KIND_REPLY",
    "KIND_THREAD",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "MAX_TERMS",
    "MIN_PREFIX_CHARS",
    "SNIPPET_TOKENS",
    "TITLE_WEIGHT",
    "WINDOW_FACTOR",
    "SearchHit",
    "SearchPage",
    "alembic_include_name",
    "fts5_query",
    "plain_text",
    "search",
    "snippet_html",
    "terms_of",
    "tsquery",
]


def init_app(app: Flask) -> None:
    """Register the search page and API."""
    from plugin.api import api
    from plugin.social.search.api import blp
    from plugin.social.search.views import bp

    app.register_blueprint(bp)
    api.register_blueprint(blp)
