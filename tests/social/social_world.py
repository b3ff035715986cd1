"""Rows for the board tests: a platform with a course, a board placement, people and cohorts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from plugin import access
from plugin.access import Viewer
from plugin.lti import roles
from plugin.lti.models import (
    Context,
    LmsGroup,
    LmsGroupMember,
    Membership,
    Placement,
    Platform,
    User,
)


@dataclass
class Course:
    platform: Platform
    context: Context
    placement: Placement
    users: dict[str, User]
    groups: dict[str, LmsGroup]

    def viewer(self, session: Session, name: str) -> Viewer:
        return access.viewer_for(session, self.users[name].id, self.context.id)


def make_course(
    session: Session,
    *,
    settings: dict | None = None,
    platform: Platform | None = None,
    context_key: str = "c-101",
) -> Course:
    if platform is None:
        issuer = f"https://lms-{uuid.uuid4().hex[:8]}.example"
        platform = Platform(
            name="Test LMS",
            issuer=issuer,
            client_id="tool",
            auth_login_url=issuer + "/auth",
            auth_token_url=issuer + "/token",
            key_set_url=issuer + "/jwks",
        )
        session.add(platform)
        session.flush()
    issuer = platform.issuer
    context = Context(
        platform_id=platform.id, issuer=issuer, context_id=context_key, title="Leadership 101"
    )
    session.add(context)
    session.flush()
    placement = Placement(
        context_id=context.id,
        resource_link_id=f"rl-{uuid.uuid4().hex[:6]}",
        title="Cohort board",
        widget="board",
        settings=settings or {},
    )
    session.add(placement)
    people = {
        "lea": ("Lea Learner", [roles.LEARNER]),
        "leo": ("Leo Learner", [roles.LEARNER]),
        "liv": ("Liv Learner", [roles.LEARNER]),
        "ines": ("Ines Instructor", [roles.INSTRUCTOR]),
    }
    users: dict[str, User] = {}
    for key, (name, role_list) in people.items():
        user = User(
            platform_id=platform.id,
            issuer=issuer,
            sub=f"{key}-{context_key}-{uuid.uuid4().hex[:6]}",
            name=name,
        )
        session.add(user)
        session.flush()
        session.add(Membership(context_id=context.id, user_id=user.id, roles=role_list))
        users[key] = user
    groups = {
        "red": LmsGroup(context_id=context.id, group_id="g-red", name="Red cohort"),
        "blue": LmsGroup(context_id=context.id, group_id="g-blue", name="Blue cohort"),
    }
    session.add_all(groups.values())
    session.flush()
    # lea and leo are in red, liv in blue; the instructor in none.
    for person, group in (("lea", "red"), ("leo", "red"), ("liv", "blue")):
        session.add(LmsGroupMember(group_id=groups[group].id, user_id=users[person].id))
    session.flush()
    return Course(platform, context, placement, users, groups)
