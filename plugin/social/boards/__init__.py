"""Discussion boards: the one place the rules of boards live, and the board widget.

This package's names are the boards service API that views, the JSON API and the other social
features call (``from plugin.social import boards``; ``boards.create_thread(...)``); its modules
hold them by job: ``checks`` (text, title, mute, rate limit), ``settings`` (a board and its
settings), ``tags`` (competencies), ``visibility`` (who may see what; the loaders),
``log`` (the moderation audit log), ``activity`` (activity refs and domain events), ``acts``
(what people do), ``reading`` (lists, a thread, where a post is, history) and ``sorts``. The web
layer is ``views`` (pages), ``api`` and ``schemas`` (JSON API), ``widget`` (the course-link entry
in :mod:`plugin.widgets`) and ``templates/``; :func:`init_app` wires them.

Every service takes plain arguments and a SQLAlchemy session, never reads ``flask.request`` and
never commits: the caller's unit of work commits the act together with the xAPI statement and the
evidence rows its domain event produces (``plugin.events.publish`` runs the subscribers in this
session). Services decide permissions: refusals raise :class:`plugin.access.Refusal` with an
HTTP-like status, and nothing is added to the session before the checks pass.

Who may see what (docs/boards.md, "Rules that always hold"):

- a :class:`~plugin.access.Viewer` is one person in one course (context); boards, threads and
  posts of other courses are "not found", never "forbidden";
- in cohort mode a learner sees the threads of their own LMS groups and the course-wide threads
  (no cohort, started by staff); staff see every cohort and may filter by one;
- hidden posts are seen by staff only; deleted posts stay as a placeholder without their text;
- anonymous authors are shown to staff and to themselves only.
"""

from __future__ import annotations

from flask import Flask

from plugin.social.boards.activity import (
    board_ref,
    find_activity,
    platform_of,
    post_ref,
    publish_event,
    thread_ref,
)
from plugin.social.boards.acts import (
    accept_answer,
    count_change,
    create_thread,
    delete_post,
    edit_post,
    endorse,
    open_to,
    react,
    refresh_endorsed,
    reply,
    set_thread_state,
    unreact,
)
from plugin.social.boards.checks import (
    MAX_TITLE_CHARS,
    check_body,
    check_can_post,
    check_not_muted,
    check_title,
    is_muted,
)
from plugin.social.boards.log import audit
from plugin.social.boards.reading import (
    PostPlace,
    PostView,
    ThreadDetail,
    ThreadPage,
    ThreadSummary,
    answers_withheld,
    get_thread,
    list_threads,
    locate_post,
    record_view,
    revisions,
)
from plugin.social.boards.settings import (
    BOARD_SETTINGS,
    SettingsForm,
    board_for_placement,
    get_board,
    settings_form,
    update_settings,
)
from plugin.social.boards.sorts import (
    SORT_ACTIVITY,
    SORT_HELPFUL,
    SORT_NEWEST,
    SORT_UNANSWERED,
    SORTS,
    sort_key,
)
from plugin.social.boards.tags import (
    MAX_COMPETENCY_CHOICES,
    MAX_THREAD_TAGS,
    board_competencies,
    can_tag_thread,
    competency_choices,
    course_competencies,
    set_board_competencies,
    set_thread_competencies,
    tag_thread,
    thread_competencies,
)
from plugin.social.boards.visibility import (
    can_moderate,
    can_see_post,
    can_see_thread,
    check_board,
    cohort_choices,
    cohort_source,
    load_post,
    load_post_in_thread,
    load_thread,
    load_thread_and_board,
    opening_hidden,
    opening_hidden_query,
    visible_post,
    visible_thread,
)

__all__ = [
    "BOARD_SETTINGS",
    "MAX_COMPETENCY_CHOICES",
    "MAX_THREAD_TAGS",
    "MAX_TITLE_CHARS",
    "SORTS",
    "SORT_ACTIVITY",
    "SORT_HELPFUL",
    "SORT_NEWEST",
    "SORT_UNANSWERED",
    "PostPlace",
    "PostView",
    "SettingsForm",
    "ThreadDetail",
    "ThreadPage",
    "ThreadSummary",
    "accept_answer",
    "answers_withheld",
    "audit",
    "board_competencies",
    "board_for_placement",
    "board_ref",
    "can_moderate",
    "can_see_post",
    "can_see_thread",
    "can_tag_thread",
    "check_board",
    "check_body",
    "check_can_post",
    "check_not_muted",
    "check_title",
    "cohort_choices",
    "cohort_source",
    "competency_choices",
    "count_change",
    "course_competencies",
    "create_thread",
    "delete_post",
    "edit_post",
    "endorse",
    "find_activity",
    "get_board",
    "get_thread",
    "is_muted",
    "list_threads",
    "load_post",
    "load_post_in_thread",
    "load_thread",
    "load_thread_and_board",
    "locate_post",
    "open_to",
    "opening_hidden",
    "opening_hidden_query",
    "platform_of",
    "post_ref",
    "publish_event",
    "react",
    "record_view",
    "refresh_endorsed",
    "reply",
    "revisions",
    "set_board_competencies",
    "set_thread_competencies",
    "set_thread_state",
    "settings_form",
    "sort_key",
    "tag_thread",
    "thread_competencies",
    "thread_ref",
    "unreact",
    "update_settings",
    "visible_post",
    "visible_thread",
]


def init_app(app: Flask) -> None:
    """Register the board widget, the board pages and the boards API, and make boards, threads
    and posts findable by the keys their events name (the xAPI activity IRIs)."""
    from plugin import events, widgets
    from plugin.api import api
    from plugin.social.boards.api import blp
    from plugin.social.boards.views import bp
    from plugin.social.boards.widget import BOARD

    widgets.register(app, BOARD)
    for kind in ("board", "thread", "post"):
        events.register_finder(
            kind,
            lambda session, platform_id, key, kind=kind: find_activity(
                session, platform_id, kind, key
            ),
        )
    app.register_blueprint(bp)
    api.register_blueprint(blp)
