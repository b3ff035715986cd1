"""Social learning: discussion boards (and, later, mentoring).

The domain core lives in :mod:`plugin.social.models` and :mod:`plugin.social.boards`; the board
pages (:mod:`plugin.social.views`) and the JSON API (:mod:`plugin.social.api`) sit on top of those
services.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from plugin.api import api
    from plugin.social import models  # noqa: F401  (tables known to the metadata)
    from plugin.social.api import blp
    from plugin.social.views import bp

    app.register_blueprint(bp)
    api.register_blueprint(blp)
