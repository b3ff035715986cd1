"""The JSON API (flask-smorest): one ``Api`` for the app; each package registers its blueprints.
The OpenAPI document is served at /api/openapi.json.

The document and the answers agree (a schemathesis run in the test suite checks it):

- every error is one JSON shape, :class:`ErrorSchema` (``code``, ``status``, ``message``, and
  ``title``, ``hint`` and structured field ``errors`` where there are some), made by the app-level
  error handlers in :mod:`plugin`;
- every operation lists the 4xx it really answers (:meth:`Blueprint.refusals`); there is no
  catch-all "default" response;
- a documented JSON body is required: an operation whose body is required answers 422 without
  one (a ``PATCH`` with no body changes nothing and says so), and every JSON body is parsed by the
  app's JSON provider (a document nested too deeply is a 400, see :class:`plugin.web.JSONProvider`).
"""

from __future__ import annotations

import functools
import http
from collections.abc import Callable
from typing import Any

import flask_smorest
from flask import Flask, current_app, request
from marshmallow import Schema, fields, validate
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

# What each refusal means, for the document (the message in the answer says more).
REFUSALS: dict[int, str] = {
    400: "Bad request: the message says what to change (any operation: text with a NUL "
    "character, a body that is not JSON)",
    401: "No valid launch token: open the tool from the course again",
    403: "Your role in this course does not allow this",
    404: "Not found in your course (or platform)",
    409: "Not possible in the current state",
    413: "Too long",
    429: "Too many posts in the last hour",
    502: "The LMS could not be reached",
}


def non_blank() -> validate.Regexp:
    """A text field that must hold more than spaces (documented as a ``pattern``; the services
    still check, as the pages send the same text)."""
    return validate.Regexp(r"[\s\S]*\S", error="Write something (not only spaces).")


def longest(chars: int) -> dict[str, int]:
    """The documented ``maxLength`` of a text the service limits itself (with its own status,
    e.g. 413 for a far too long post)."""
    return {"maxLength": chars}


class ErrorSchema(Schema):
    """Every error answer of the API (and of the pages, when JSON is asked for)."""

    code = fields.Integer(required=True, metadata={"description": "the HTTP status"})
    status = fields.String(required=True, metadata={"description": "the HTTP status's name"})
    message = fields.String(required=True, metadata={"description": "what went wrong, in words"})
    title = fields.String(metadata={"description": "a short summary (the page's heading)"})
    hint = fields.String(metadata={"description": "what to do about it"})
    errors = fields.Dict(
        metadata={
            "description": "422: the refused fields, by location then field name, each with "
            'its messages, e.g. {"json": {"title": ["Missing data for required field."]}}'
        }
    )


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None  # each operation documents the refusals it really makes


class ArgumentsParser(FlaskParser):
    """webargs' parser, reading JSON with the app's JSON provider (one set of limits)."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return core.missing
        return current_app.json.loads(req.get_data(cache=True))


def _has_json_body() -> bool:
    return is_json_request(request) and bool(request.get_data(cache=True).strip())


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint with the app's JSON parsing, required bodies and documented
    refusals."""

    ARGUMENTS_PARSER = ArgumentsParser()

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Callable:
        """As flask-smorest's; a required JSON body (the default) must be there: without one
        (or without ``Content-Type: application/json``) the answer is 422."""
        decorator = super().arguments(schema, location=location, **kwargs)
        if location != "json" or not kwargs.get("required", True):
            return decorator

        def wrap(func: Callable) -> Callable:
            parsed = decorator(func)

            @functools.wraps(parsed)
            def check_body(*args: Any, **kw: Any) -> Any:
                if not _has_json_body():
                    flask_smorest.abort(
                        422,
                        message="Send a JSON object as the request body "
                        "(Content-Type: application/json).",
                        errors={"json": {"_schema": ["A JSON body is required."]}},
                    )
                return parsed(*args, **kw)

            return check_body

        return wrap

    def refusals(self, *statuses: int) -> Callable:
        """Document the error answers of an operation: 400 and 401 (every operation refuses
        text with a NUL character and needs the launch token) and the given statuses, each with
        :class:`ErrorSchema`."""
        decorators = [
            self.alt_response(
                status,
                schema=ErrorSchema,
                description=REFUSALS.get(status, http.HTTPStatus(status).phrase),
            )
            for status in sorted({400, 401, *statuses})
        ]

        def decorate(func: Callable) -> Callable:
            for decorator in reversed(decorators):
                func = decorator(func)
            return func

        return decorate


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
