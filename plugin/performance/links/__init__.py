"""Competency links: which competencies a board, thread, placement or goal is about, who may read
and change them (each kind's owner decides), and the competencies an event bears on.

``services.py`` holds the rules, ``api.py`` / ``schemas.py`` the JSON API
(``/api/links/<kind>/<key>``). This module names what other packages use
(``from plugin.performance import links``: ``links.set_links``, ``links.register_kind`` …).
"""

from plugin.performance.links.services import (
    MAX_LINKS_PER_REF,
    REF_KIND_PATTERN,
    CompetencyInfo,
    LinkAccessError,
    LinkError,
    LinkSet,
    LinkTarget,
    Requester,
    Resolver,
    UnknownCompetencyError,
    check_ref,
    competencies_for,
    key_id,
    link,
    linkable_kinds,
    linked,
    links_of,
    platform_competencies,
    register_kind,
    replace_links,
    resolve,
    resolve_placement,
    set_links,
    unlink,
)

__all__ = [
    "MAX_LINKS_PER_REF",
    "REF_KIND_PATTERN",
    "CompetencyInfo",
    "LinkAccessError",
    "LinkError",
    "LinkSet",
    "LinkTarget",
    "Requester",
    "Resolver",
    "UnknownCompetencyError",
    "check_ref",
    "competencies_for",
    "key_id",
    "link",
    "linkable_kinds",
    "linked",
    "links_of",
    "platform_competencies",
    "register_kind",
    "replace_links",
    "resolve",
    "resolve_placement",
    "set_links",
    "unlink",
]
