"""Strict validation before a statement may enter the outbox.

Three layers, all must pass:
1. Ralph's pydantic model of an xAPI statement (``BaseXapiStatement``: types, IRIs, language
   tags, no empty values);
2. our own rules (absolute IRIs everywhere, UUID id, UTC ``Z`` timestamp, verb display and object
   name present, no personal identifiers in the actor);
3. the statement's Statement Template in our xAPI Profile.

A failure is a programming error: :class:`InvalidStatement` propagates out of the event
subscriber and the caller's unit of work rolls the whole act back.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

from pydantic import ValidationError
from ralph.models.xapi.base.statements import BaseXapiStatement
from rfc3987 import parse as parse_iri

from plugin.xapi import profile as xprofile
from plugin.xapi.vocabulary import StatementKind


class InvalidStatement(ValueError):
    """The statement breaks xAPI, our rules or our profile; ``problems`` lists why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid xAPI statement: " + "; ".join(problems))
        self.problems = problems


def _is_absolute_iri(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    return _parses_as_iri(value)


@lru_cache(maxsize=8192)  # verbs, types, parents and extension keys repeat across statements
def _parses_as_iri(value: str) -> bool:
    try:
        parse_iri(value, rule="IRI")  # the absolute-IRI production of RFC 3987
    except ValueError:
        return False
    return True


def _iris(statement: dict[str, Any]) -> list[tuple[str, Any]]:
    """(where, value) of every IRI-valued property we emit."""
    found: list[tuple[str, Any]] = [
        (
            "actor.account.homePage",
            (statement.get("actor") or {}).get("account", {}).get("homePage"),
        ),
        ("verb.id", (statement.get("verb") or {}).get("id")),
    ]

    def activity(where: str, act: Any) -> None:
        if not isinstance(act, dict):
            found.append((where, act))
            return
        found.append((f"{where}.id", act.get("id")))
        definition = act.get("definition") or {}
        if "type" in definition:
            found.append((f"{where}.definition.type", definition["type"]))
        for key in definition.get("extensions") or {}:
            found.append((f"{where}.definition.extensions key", key))

    activity("object", statement.get("object"))
    context = statement.get("context") or {}
    for slot, acts in (context.get("contextActivities") or {}).items():
        for i, act in enumerate(acts if isinstance(acts, list) else [acts]):
            activity(f"context.contextActivities.{slot}[{i}]", act)
    for key in context.get("extensions") or {}:
        found.append(("context.extensions key", key))
    for key in (statement.get("result") or {}).get("extensions") or {}:
        found.append(("result.extensions key", key))
    return found


def own_problems(statement: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    sid = statement.get("id")
    try:
        if str(uuid.UUID(str(sid))) != sid:
            problems.append("id must be a lowercase canonical UUID")
    except ValueError:
        problems.append(f"id {sid!r} is not a UUID")
    stamp = statement.get("timestamp")
    if not isinstance(stamp, str) or not stamp.endswith("Z"):
        problems.append("timestamp must be UTC and end with Z")
    else:
        try:
            datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"timestamp {stamp!r} is not ISO 8601")
    for where, value in _iris(statement):
        if not _is_absolute_iri(value):
            problems.append(f"{where} must be an absolute IRI, got {value!r}")
    display = (statement.get("verb") or {}).get("display") or {}
    if not any(isinstance(v, str) and v.strip() for v in display.values()):
        problems.append("verb.display must name the verb")
    obj = statement.get("object") or {}
    name = (obj.get("definition") or {}).get("name") or {}
    if not any(isinstance(v, str) and v.strip() for v in name.values()):
        problems.append("object.definition.name must be present")
    actor = statement.get("actor") or {}
    for personal in ("name", "mbox", "mbox_sha1sum", "openid"):
        if personal in actor:
            problems.append(f"actor.{personal} must not be sent")
    if statement.get("version") not in (None, "1.0.0"):
        problems.append("version must be absent (or 1.0.0)")
    return problems


def ralph_problems(statement: dict[str, Any]) -> list[str]:
    try:
        BaseXapiStatement.model_validate(statement)
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
    return []


def validate_statement(
    statement: dict[str, Any], *, base: str | None = None, kind: StatementKind | None = None
) -> None:
    """Raise :class:`InvalidStatement` unless the statement passes all three layers.

    ``base`` and ``kind`` select the profile template to check (skipped when not given)."""
    problems = ralph_problems(statement) + own_problems(statement)
    if kind is not None and base is not None and not problems:
        template = xprofile.template_of(base, kind)
        problems += [
            f"template {kind.slug}: {p}" for p in xprofile.check_statement(statement, template)
        ]
    if problems:
        raise InvalidStatement(problems)
