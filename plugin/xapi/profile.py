"""Our vocabulary as an xAPI Profile (ADL xAPI Profiles 1.0, JSON-LD), and a Statement Template
checker that follows the Profile spec's validation rules (determining properties + rules with
the JSONPath subset the spec allows).

Concepts list only the IRIs we mint: the Profiles spec forbids redefining concepts that belong to
other profiles (ADL, AcrossX, TLA, cmi5, Tin Can registry); our templates reference those."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from plugin.xapi import vocabulary as vocab
from plugin.xapi.statements import PLATFORM_NAME, profile_id, profile_version_id
from plugin.xapi.vocabulary import ACTIVITY_TYPES, STATEMENT_KINDS, StatementKind

PROFILES_CONTEXT = "https://w3id.org/xapi/profiles/context"
PROFILES_SPEC = "https://w3id.org/xapi/profiles#1.0"
VERSION_GENERATED_AT = datetime(2026, 11, 23, tzinfo=UTC)


def template_id(base: str, kind: StatementKind) -> str:
    return f"{profile_id(base)}/templates/{kind.slug}"


def _en(text: str) -> dict[str, str]:
    return {"en": text}


def _rules(base: str, kind: StatementKind) -> list[dict[str, Any]]:
    version = profile_version_id(base)
    rules: list[dict[str, Any]] = [
        {"location": "$.id", "presence": "included"},
        {"location": "$.timestamp", "presence": "included"},
        {"location": "$.actor.objectType", "presence": "included", "all": ["Agent"]},
        {
            "location": "$.actor.account.homePage",
            "presence": "included",
            "scopeNote": _en("The LMS platform's issuer (its LTI 1.3 iss)."),
        },
        {
            "location": "$.actor.account.name",
            "presence": "included",
            "scopeNote": _en(
                "The LMS user id (LTI sub), or HMAC-SHA256 of it under the platform's key "
                "when the platform pseudonymises actors."
            ),
        },
        {
            "location": "$.actor.name | $.actor.mbox | $.actor.mbox_sha1sum | $.actor.openid",
            "presence": "excluded",
            "scopeNote": _en("No names or e-mail addresses leave the tool."),
        },
        {"location": "$.verb.display['en-US']", "presence": "included"},
        {"location": "$.object.definition.name['en-US']", "presence": "included"},
        {
            "location": "$.context.contextActivities.category[*].id",
            "presence": "included",
            "any": [version],
        },
        {"location": "$.context.platform", "presence": "included", "all": [PLATFORM_NAME]},
        {
            "location": f"$.context.extensions['{vocab.Extensions.TOOL_VERSION.resolve(base)}']",
            "presence": "included",
        },
        {
            "location": "$.context.contextActivities.other[*].definition.type",
            "presence": "recommended",
            "all": [vocab.Types.COMPETENCY.resolve(base)],
            "scopeNote": _en("Competencies linked to the act (TLA competency activities)."),
        },
        {
            "location": "$.result.response",
            "presence": "recommended",
            "scopeNote": _en(
                "Post text, only when the deployment opts in and the author is not anonymous."
            ),
        },
    ]
    for parent_kind in kind.parent_kinds:
        types = vocab.kind_types(parent_kind)
        if len(types) > 1:
            rules.append(
                {
                    "location": "$.context.contextActivities.parent[*].definition.type",
                    "presence": "included",
                    "any": [t.resolve(base) for t in types],
                    "scopeNote": _en(
                        f"The {parent_kind} the object sits in, with its own type: "
                        + " or ".join(t.label for t in types)
                        + "."
                    ),
                }
            )
    if kind.grouping_kinds:
        rules.append(
            {"location": "$.context.contextActivities.grouping[*].id", "presence": "included"}
        )
    if kind.result_progress:
        rules.append(
            {
                "location": f"$.result.extensions['{vocab.PROGRESS_EXTENSION}']",
                "presence": "included",
                "scopeNote": _en("Progress towards the goal, as an integer percentage 0-100."),
            }
        )
        rules.append({"location": "$.result.completion", "presence": "excluded"})
    else:
        rules.append(
            {
                "location": f"$.result.extensions['{vocab.PROGRESS_EXTENSION}']",
                "presence": "excluded",
            }
        )
    if kind.result_completion:
        rules.append({"location": "$.result.completion", "presence": "included", "all": [True]})
    if kind.result_reaction:
        rules.append(
            {
                "location": f"$.result.extensions['{vocab.Extensions.REACTION.resolve(base)}']",
                "presence": "recommended",
            }
        )
    if kind.result_score:
        rules.append(
            {
                "location": "$.result.score.raw",
                "presence": "included",
                "scopeNote": _en("The rating given, between result.score.min and max (1-5)."),
            }
        )
    if kind.event_kind.startswith("mentoring."):
        # What a pair writes to each other (notes, messages, comments) stays in the tool.
        rules.append(
            {
                "location": "$.result.response",
                "presence": "excluded",
                "scopeNote": _en("Check-in notes, messages and comments are private to the tool."),
            }
        )
    if kind.context_statement:
        rules.append(
            {
                "location": "$.context.instructor.account.name",
                "presence": "recommended",
                "scopeNote": _en("The reviewer who accepted the evidence."),
            }
        )
        rules.append(
            {
                "location": "$.context.statement.id",
                "presence": "recommended",
                "scopeNote": _en("The statement that recorded the accepted evidence."),
            }
        )
    return rules


def template_for(base: str, kind: StatementKind) -> dict[str, Any]:
    template: dict[str, Any] = {
        "id": template_id(base, kind),
        "type": "StatementTemplate",
        "inScheme": profile_version_id(base),
        "prefLabel": _en(kind.title),
        "definition": _en(kind.definition),
        "verb": kind.verb.resolve(base),
        "objectActivityType": kind.object_type.resolve(base),
        "contextCategoryActivityType": [vocab.PROFILE_ACTIVITY_TYPE],
    }
    # A parent kind with one type is a determining property; a kind with variants (a thread is a
    # discussion or a question) becomes a rule in _rules: one of its types must be a parent's.
    single = [k for k in kind.parent_kinds if len(vocab.kind_types(k)) == 1]
    if single:
        template["contextParentActivityType"] = [ACTIVITY_TYPES[k].resolve(base) for k in single]
    if kind.grouping_kinds:
        template["contextGroupingActivityType"] = [
            ACTIVITY_TYPES[k].resolve(base) for k in kind.grouping_kinds
        ]
    template["rules"] = _rules(base, kind)
    return template


def build_profile(base: str) -> dict[str, Any]:
    """The Learning Commons xAPI Profile for a deployment at ``base`` (JSON-LD document)."""
    base = base.rstrip("/")
    version = profile_version_id(base)
    concepts = []
    for concept_type, term in vocab.minted_terms():
        concept: dict[str, Any] = {
            "id": term.resolve(base),
            "type": concept_type,
            "inScheme": version,
            "prefLabel": _en(term.label),
            "definition": _en(term.definition),
        }
        if term is vocab.Extensions.TOOL_VERSION:
            concept["inlineSchema"] = '{ "type": "string" }'
        elif term is vocab.Extensions.REACTION:
            concept["inlineSchema"] = '{ "type": "string" }'
            concept["recommendedVerbs"] = [vocab.Verbs.LIKED.iri, vocab.Verbs.VOTED_UP.iri]
        elif term is vocab.Verbs.ENDORSED:
            concept["relatedMatch"] = [vocab.Verbs.LIKED.iri]
        elif term is vocab.Types.EXPERIENCE:
            concept["relatedMatch"] = ["https://w3id.org/xapi/tla/activity-types/activity"]
        concepts.append(concept)
    return {
        "@context": PROFILES_CONTEXT,
        "id": profile_id(base),
        "type": "Profile",
        "conformsTo": PROFILES_SPEC,
        "prefLabel": _en("Learning Commons"),
        "definition": _en(
            "Statements recorded by Learning Commons, an LTI 1.3 tool for discussion boards, "
            "mentoring and development plans: one statement per act, the LMS course and "
            "activity in grouping, linked competencies in 'other'."
        ),
        "seeAlso": f"{vocab.xapi_base(base)}/profile",
        "versions": [
            {
                "id": version,
                "generatedAtTime": VERSION_GENERATED_AT.isoformat().replace("+00:00", "Z"),
            }
        ],
        "author": {"type": "Organization", "name": "Learning Commons"},
        "concepts": concepts,
        "templates": [template_for(base, k) for k in STATEMENT_KINDS],
    }


# --- JSONPath (the subset the Profiles spec allows: no filters or scripts) ---------------------
_TOKEN = re.compile(
    r"""\.(?P<name>[A-Za-z_$][\w$-]*)      # .name
      | \.\*                               # .*
      | \[\s*\*\s*\]                       # [*]
      | \[\s*(?P<index>\d+)\s*\]           # [0]
      | \[\s*(?P<quoted>(?:'[^']*'|"[^"]*")(?:\s*,\s*(?:'[^']*'|"[^"]*"))*)\s*\]  # ['a','b']
    """,
    re.VERBOSE,
)


def _steps(path: str) -> list[tuple[str, Any]]:
    path = path.strip()
    if not path.startswith("$"):
        raise ValueError(f"JSONPath must start with $: {path!r}")
    pos, steps = 1, []
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if not match:
            raise ValueError(f"unsupported JSONPath {path!r} at {pos}")
        if match.group("name") is not None:
            steps.append(("keys", [match.group("name")]))
        elif match.group("index") is not None:
            steps.append(("index", int(match.group("index"))))
        elif match.group("quoted") is not None:
            keys = re.findall(r"'([^']*)'|\"([^\"]*)\"", match.group("quoted"))
            steps.append(("keys", [a or b for a, b in keys]))
        else:
            steps.append(("all", None))
        pos = match.end()
    return steps


def jsonpath(document: Any, path: str) -> list[Any]:
    """Values at ``path`` (``|`` unions allowed); missing locations yield nothing."""
    values: list[Any] = []
    for alternative in path.split("|"):
        current = [document]
        for op, arg in _steps(alternative):
            following: list[Any] = []
            for value in current:
                if op == "keys" and isinstance(value, dict):
                    following.extend(value[k] for k in arg if k in value)
                elif op == "index" and isinstance(value, list) and arg < len(value):
                    following.append(value[arg])
                elif op == "all":
                    if isinstance(value, dict):
                        following.extend(value.values())
                    elif isinstance(value, list):
                        following.extend(value)
            current = following
        values.extend(current)
    return values


def _normalised(statement: dict[str, Any]) -> dict[str, Any]:
    """contextActivities with singleton objects turned into arrays (as the spec requires)."""
    ctx = statement.get("context") or {}
    acts = ctx.get("contextActivities")
    if not isinstance(acts, dict):
        return statement
    fixed = {k: (v if isinstance(v, list) else [v]) for k, v in acts.items()}
    return {**statement, "context": {**ctx, "contextActivities": fixed}}


def _check_rule(statement: dict[str, Any], rule: dict[str, Any]) -> list[str]:
    values = jsonpath(statement, rule["location"])
    unmatchable = False
    if rule.get("selector"):
        selected: list[Any] = []
        for value in values:
            found = jsonpath(value, rule["selector"])
            if not found:
                unmatchable = True
            selected.extend(found)
        values = selected
    where = rule["location"]
    presence = rule.get("presence")
    errors = []
    if presence == "included":
        if not values:
            errors.append(f"{where}: must be present")
        if unmatchable:
            errors.append(f"{where}: has a value the selector does not match")
    elif presence == "excluded" and values:
        errors.append(f"{where}: must not be present")
    if presence in (None, "included") or (presence == "recommended" and values):
        if "any" in rule and not any(v in rule["any"] for v in values):
            errors.append(f"{where}: needs one of {rule['any']}")
        if "all" in rule:
            bad = [v for v in values if v not in rule["all"]]
            if bad or unmatchable:
                errors.append(f"{where}: {bad} not in {rule['all']}")
        if "none" in rule:
            bad = [v for v in values if v in rule["none"]]
            if bad:
                errors.append(f"{where}: {bad} not allowed")
    return errors


def _activity_types(statement: dict[str, Any], slot: str) -> set[str]:
    return set(jsonpath(statement, f"$.context.contextActivities.{slot}[*].definition.type"))


def check_statement(statement: dict[str, Any], template: dict[str, Any]) -> list[str]:
    """Why ``statement`` does not follow ``template`` (an empty list when it does)."""
    statement = _normalised(statement)
    errors: list[str] = []
    if "verb" in template and jsonpath(statement, "$.verb.id") != [template["verb"]]:
        errors.append(f"verb must be {template['verb']}")
    if "objectActivityType" in template:
        found = jsonpath(statement, "$.object.definition.type")
        if found != [template["objectActivityType"]]:
            errors.append(f"object type must be {template['objectActivityType']}, got {found}")
    for key, slot in (
        ("contextParentActivityType", "parent"),
        ("contextGroupingActivityType", "grouping"),
        ("contextCategoryActivityType", "category"),
        ("contextOtherActivityType", "other"),
    ):
        wanted = set(template.get(key) or ())
        missing = wanted - _activity_types(statement, slot)
        if missing:
            errors.append(f"context {slot} activities need types {sorted(missing)}")
    for rule in template.get("rules", ()):
        errors.extend(_check_rule(statement, rule))
    return errors


def templates_by_id(profile: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in profile.get("templates", ())}


_cache: dict[str, tuple[dict[str, Any], dict[str, dict[str, Any]]]] = {}


def _cached(base: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    base = base.rstrip("/")
    if base not in _cache:
        document = build_profile(base)
        _cache[base] = (document, templates_by_id(document))
    return _cache[base]


def profile_for(base: str) -> dict[str, Any]:
    """The profile for ``base`` (built once per base URL; do not mutate)."""
    return _cached(base)[0]


def template_of(base: str, kind: StatementKind) -> dict[str, Any]:
    return _cached(base)[1][template_id(base.rstrip("/"), kind)]
