"""Rows for the social tests: a platform with a course, a board placement, people and cohorts;
a course with its board; counting the queries a block of code issues."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from plugin import access
from plugin.access import Viewer
from plugin.db import get_engine
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
from plugin.social import boards
from plugin.social.models import Board


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


def course_board(
    session: Session, *, unlimited: bool = False, **settings: object
) -> tuple[Course, Board]:
    """A course (:func:`make_course`) and the board of its placement, made from ``settings`` and
    committed. ``unlimited``: no posts-per-hour limit unless ``settings`` names one."""
    if unlimited:
        settings = {"posts_per_hour": "0", **settings}
    course = make_course(session, settings=settings)
    board = boards.board_for_placement(session, course.placement)
    session.commit()
    return course, board


@contextlib.contextmanager
def count_queries(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the block sends to the app's database, in order."""
    engine = get_engine(app)
    seen: list[str] = []

    def before(conn, cursor, statement, params, context, executemany) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
