"""Custom-parameter substitution (LTI 1.3 Appendix C): the values a launch and an NRPS member's
``message`` section put in place of ``$User.id``, ``$Context.title``..."""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.platform.model import Course, Enrollment, Person, ResourceLink
from sandbox.platform.vocabulary import COURSE_OFFERING, PRODUCT_FAMILY_CODE, PRODUCT_VERSION


def substitute(
    custom: Mapping[str, str],
    person: Person,
    course: Course,
    enrollment: Enrollment,
    link: ResourceLink | None,
    *,
    platform_guid: str,
    platform_name: str,
) -> dict[str, str]:
    """Resolve ``$Variable`` custom parameter values (those of
    :data:`~sandbox.platform.vocabulary.SUBSTITUTION_VARIABLES`); unknown ones, and variables
    without a value in this launch, pass unchanged."""
    values: dict[str, str | None] = {
        "User.id": person.user_id,
        "User.username": person.username,
        "Person.sourcedId": person.sourced_id,
        "Person.name.full": person.name,
        "Person.name.given": person.given_name,
        "Person.name.family": person.family_name,
        "Person.email.primary": person.email,
        "Context.id": course.context_id,
        "Context.label": course.label,
        "Context.title": course.title,
        "Context.type": COURSE_OFFERING,
        "CourseOffering.sourcedId": course.sourced_id,
        "CourseOffering.label": course.label,
        "CourseOffering.title": course.title,
        "CourseSection.sourcedId": f"{course.sourced_id}-S1",
        "ResourceLink.id": link.resource_link_id if link else None,
        "ResourceLink.title": link.title if link else None,
        "ResourceLink.description": link.description if link else None,
        "Membership.role": ",".join(enrollment.roles),
        "Membership.role.scope.mentor": ",".join(enrollment.mentees),
        "Message.locale": person.locale,
        "ToolPlatform.productFamilyCode": PRODUCT_FAMILY_CODE,
        "ToolPlatform.version": PRODUCT_VERSION,
        "ToolPlatformInstance.guid": platform_guid,
        "ToolPlatformInstance.name": platform_name,
    }
    out = {}
    for key, value in custom.items():
        resolved = values.get(value[1:]) if value.startswith("$") else None
        out[key] = resolved if resolved is not None else value
    return out
