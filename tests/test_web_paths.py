"""plugin.web.path_for: the per-page URL builder the thread page uses for its per-post forms."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from plugin.web import path_for


def test_path_for_builds_what_url_for_builds(app: Flask) -> None:
    with app.test_request_context("/"):
        for post_id in (1, 42, 7_391_846_205, 10**12):
            assert path_for("social.react", post_id=post_id) == url_for(
                "social.react", post_id=post_id
            )
        assert path_for("social.thread_page", thread_id=3) == url_for(
            "social.thread_page", thread_id=3
        )
        assert path_for("social_moderation.mute", user_id=9) == url_for(
            "social_moderation.mute", user_id=9
        )


def test_path_for_takes_only_integer_path_values(app: Flask) -> None:
    with app.test_request_context("/"):
        with pytest.raises(ValueError):
            path_for("social.react", post_id="1/../../admin")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="not a path value"):
            path_for("social.react", post_id=1, lc=5)  # lc would be a query value


def test_path_for_builds_each_pattern_once_per_request(app: Flask) -> None:
    with app.test_request_context("/"):
        from flask import g

        path_for("social.react", post_id=1)
        path_for("social.react", post_id=2)
        path_for("social.endorse", post_id=2)
        assert len(g._path_patterns) == 2
