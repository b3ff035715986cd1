"""Social learning: discussion boards (and, later, mentoring).

The domain core lives in :mod:`plugin.social.models` and :mod:`plugin.social.boards`; pages and the
JSON API are added on top of those services.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from plugin.social import models  # noqa: F401  (tables known to the metadata)
