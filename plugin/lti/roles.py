"""LTI role URIs → the tool's permissions in one context."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

CONTEXT = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
CONTEXT_SUB = "http://purl.imsglobal.org/vocab/lis/v2/membership/"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

LEARNER = CONTEXT + "Learner"
INSTRUCTOR = CONTEXT + "Instructor"
MENTOR = CONTEXT + "Mentor"
CONTENT_DEVELOPER = CONTEXT + "ContentDeveloper"
CONTEXT_ADMIN = CONTEXT + "Administrator"
TEACHING_ASSISTANT = CONTEXT_SUB + "Instructor#TeachingAssistant"
INSTITUTION_ADMIN = INSTITUTION + "Administrator"
SYSTEM_ADMIN = SYSTEM + "Administrator"

_STAFF_PRINCIPALS = {"Instructor", "ContentDeveloper", "Administrator"}


def _context_principal(role: str) -> tuple[str, str | None]:
    """(principal role, sub-role) of a context role URI or a short (deprecated) simple name."""
    if role.startswith(CONTEXT):
        return role[len(CONTEXT) :], None
    if role.startswith(CONTEXT_SUB):
        principal, _, sub = role[len(CONTEXT_SUB) :].partition("#")
        return principal, sub or None
    if ":" not in role and "/" not in role:  # LTI 1.3 allows simple names for context roles
        return role, None
    return "", None


@dataclass(frozen=True)
class Permissions:
    learner: bool
    staff: bool
    teaching_assistant: bool
    mentor: bool
    admin: bool

    @property
    def label(self) -> str:
        if self.admin:
            return "Administrator"
        if self.teaching_assistant:
            return "Teaching assistant"
        if self.staff:
            return "Instructor"
        if self.mentor:
            return "Mentor"
        if self.learner:
            return "Learner"
        return "Guest"


def permissions(roles: Iterable[str]) -> Permissions:
    learner = staff = ta = mentor = admin = False
    for role in roles:
        if role in (INSTITUTION_ADMIN, SYSTEM_ADMIN):
            admin = True
            continue
        principal, sub = _context_principal(role)
        if principal == "Learner":
            learner = True
        elif principal == "Mentor":
            mentor = True
        elif principal in _STAFF_PRINCIPALS:
            staff = True
            if principal == "Instructor" and sub == "TeachingAssistant":
                ta = True
    return Permissions(
        learner=learner, staff=staff or admin, teaching_assistant=ta, mentor=mentor, admin=admin
    )
