"""The JSON API (flask-smorest): one ``Api`` for the app; each package registers its blueprints.
The OpenAPI document is served at /api/openapi.json."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

api = Api()


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Learning Commons API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(
        app,
        spec_kwargs={
            "components": {
                "securitySchemes": {"launchToken": {"type": "http", "scheme": "bearer"}}
            },
        },
    )
