"""Social learning: discussion boards and what grows around them, and mentoring.

A package per feature, each with the same few files (see docs/architecture.md): its service API
in its ``__init__`` (from ``services`` or, for boards, one module per job), ``views`` (pages),
``api`` and ``schemas`` (JSON API), ``templates/social/`` and an ``init_app`` that wires them:

- :mod:`plugin.social.boards`: boards, threads, posts, reactions, answers; the board widget;
- :mod:`plugin.social.moderation`: abuse reports, the moderation queue, hiding, mutes, the log;
- :mod:`plugin.social.notifications`: @mentions, follows, read markers, notifications;
- :mod:`plugin.social.search`: full-text search;
- :mod:`plugin.social.cohorts`: cohorts made by staff;
- :mod:`plugin.social.participation`: staff participation summaries, exports and grades;
- :mod:`plugin.social.mentoring`: the Mentoring widget (programmes, profiles, matching).

Shared by them, here at the top: ``models`` (the tables), ``markdown`` (posts' Markdown),
``display`` (authors as a viewer may see them, excerpts), ``schemas`` (API schemas every feature
uses), ``linking`` (boards and threads in the competency-links API), ``cli`` and
``templates/social/_styles.html`` (the style every social page includes).
"""

from __future__ import annotations

from flask import Blueprint, Flask

# Templates every social feature's pages share (the features' own are in their packages).
shared_templates = Blueprint("social_shared", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from plugin.social import (
        boards,
        cohorts,
        linking,
        mentoring,
        models,  # noqa: F401  (tables known to the metadata)
        moderation,
        notifications,
        participation,
        search,
    )

    app.register_blueprint(shared_templates)
    boards.init_app(app)
    mentoring.init_app(app)
    search.init_app(app)
    moderation.init_app(app)
    participation.init_app(app)
    notifications.init_app(app)
    cohorts.init_app(app)
    linking.register()  # boards and threads in the competency-links API
