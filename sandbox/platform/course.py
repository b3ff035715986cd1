"""The course model: courses, people, enrollments, groups, registered tools and their placements
(resource links), read back as copies; what the course's tools changed (placements, line items,
scores) saved and restored as plain JSON."""

from __future__ import annotations

import copy
import itertools
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from sandbox.platform.base import PlatformState
from sandbox.platform.checks import check_id, is_http_url, short_hash
from sandbox.platform.model import (
    Course,
    Enrollment,
    Group,
    GroupSet,
    LineItem,
    Person,
    ResourceLink,
    Score,
    ToolRegistration,
)
from sandbox.platform.vocabulary import SERVICE_SCOPES


class CourseModel(PlatformState):
    """Building and reading the platform's courses; registering tools."""

    def add_course(self, context_id: str, label: str, title: str) -> Course:
        """Create (or replace) a course."""
        course = Course(check_id(context_id, "context_id"), label, title)
        with self._lock:
            self._courses[context_id] = course
            tools = list(self._tools.values())
        for tool in tools:
            self._ensure_placement(tool, context_id, tool.name)
        return copy.deepcopy(course)

    def add_person(
        self,
        user_id: str,
        given_name: str,
        family_name: str,
        email: str,
        *,
        picture: str | None = None,
        locale: str = "en-US",
    ) -> Person:
        """Create (or replace) a person."""
        person = Person(check_id(user_id, "user_id"), given_name, family_name, email, picture)
        person.locale = locale
        with self._lock:
            self._people[user_id] = person
        return copy.deepcopy(person)

    def enroll(
        self,
        user_id: str,
        context_id: str,
        roles: Sequence[str],
        *,
        status: str = "Active",
        mentees: Sequence[str] = (),
    ) -> Enrollment:
        """Enroll a person in a course with LTI role URIs (and mentees for mentors)."""
        if status not in ("Active", "Inactive", "Deleted"):
            raise ValueError(f"unknown membership status {status!r}")
        with self._lock:
            if user_id not in self._people or context_id not in self._courses:
                raise ValueError("unknown person or course")
            enrollment = Enrollment(context_id, user_id, list(roles), status, list(mentees))
            self._enrollments[(context_id, user_id)] = enrollment
        return copy.deepcopy(enrollment)

    def add_group_set(self, context_id: str, set_id: str, name: str) -> GroupSet:
        """Create a group set in a course."""
        group_set = GroupSet(context_id, check_id(set_id, "set_id"), name)
        with self._lock:
            if context_id not in self._courses:
                raise ValueError(f"unknown course {context_id!r}")
            self._group_sets[(context_id, set_id)] = group_set
        return copy.deepcopy(group_set)

    def add_group(
        self,
        context_id: str,
        group_id: str,
        name: str,
        *,
        set_id: str | None = None,
        tag: str | None = None,
        members: Iterable[str] = (),
    ) -> Group:
        """Create a group in a course, optionally in a group set and with members."""
        group = Group(context_id, check_id(group_id, "group_id"), name, set_id, tag)
        with self._lock:
            if context_id not in self._courses:
                raise ValueError(f"unknown course {context_id!r}")
            if set_id is not None and (context_id, set_id) not in self._group_sets:
                raise ValueError(f"unknown group set {set_id!r}")
            self._groups[(context_id, group_id)] = group
        for user_id in members:
            self.add_to_group(context_id, group_id, user_id)
        return self.group(context_id, group_id)

    def add_to_group(self, context_id: str, group_id: str, user_id: str) -> None:
        """Add an enrolled person to a group."""
        with self._lock:
            group = self._groups[(context_id, group_id)]
            if (context_id, user_id) not in self._enrollments:
                raise ValueError(f"{user_id!r} is not enrolled in {context_id!r}")
            if user_id not in group.members:
                group.members.append(user_id)

    def group(self, context_id: str, group_id: str) -> Group:
        """A copy of one group."""
        with self._lock:
            return copy.deepcopy(self._groups[(context_id, group_id)])

    def courses(self) -> list[Course]:
        """All courses."""
        with self._lock:
            return copy.deepcopy(list(self._courses.values()))

    def course(self, context_id: str) -> Course:
        """One course (``KeyError`` if unknown)."""
        with self._lock:
            return copy.deepcopy(self._courses[context_id])

    def person(self, user_id: str) -> Person:
        """One person (``KeyError`` if unknown)."""
        with self._lock:
            return copy.deepcopy(self._people[user_id])

    def people(self, context_id: str | None = None) -> list[Person]:
        """Everybody, or the people enrolled in one course (in enrollment order)."""
        with self._lock:
            if context_id is None:
                return copy.deepcopy(list(self._people.values()))
            return copy.deepcopy(
                [self._people[uid] for (ctx, uid) in self._enrollments if ctx == context_id]
            )

    def enrollment(self, context_id: str, user_id: str) -> Enrollment | None:
        """A person's enrollment in a course, if any."""
        with self._lock:
            found = self._enrollments.get((context_id, user_id))
            return copy.deepcopy(found)

    def groups_of(self, context_id: str, user_id: str) -> list[Group]:
        """Groups of a course that a person belongs to."""
        with self._lock:
            return copy.deepcopy(
                [
                    g
                    for (ctx, _), g in self._groups.items()
                    if ctx == context_id and user_id in g.members
                ]
            )

    def tools(self) -> list[ToolRegistration]:
        """All registered tools."""
        with self._lock:
            return copy.deepcopy(list(self._tools.values()))

    def tool(self, client_id: str) -> ToolRegistration:
        """One registered tool (``KeyError`` if unknown)."""
        with self._lock:
            return copy.deepcopy(self._tools[client_id])

    def resource_links(
        self, context_id: str | None = None, client_id: str | None = None
    ) -> list[ResourceLink]:
        """Resource links (placements), optionally filtered by course and tool."""
        with self._lock:
            return copy.deepcopy(
                [
                    link
                    for link in self._links.values()
                    if (context_id is None or link.context_id == context_id)
                    and (client_id is None or link.client_id == client_id)
                ]
            )

    def line_items(
        self, context_id: str | None = None, client_id: str | None = None
    ) -> list[LineItem]:
        """Line items, optionally filtered by course and owning tool."""
        with self._lock:
            return copy.deepcopy(
                [
                    item
                    for item in self._line_items.values()
                    if (context_id is None or item.context_id == context_id)
                    and (client_id is None or item.client_id == client_id)
                ]
            )

    def received_scores(
        self,
        context_id: str | None = None,
        *,
        user_id: str | None = None,
        lineitem_id: str | None = None,
    ) -> list[Score]:
        """Every score received through AGS, oldest first (including ignored ones)."""
        with self._lock:
            return copy.deepcopy(
                [
                    s
                    for s in self._scores
                    if (context_id is None or s.context_id == context_id)
                    and (user_id is None or s.user_id == user_id)
                    and (lineitem_id is None or s.lineitem_id == lineitem_id)
                ]
            )

    def course_state(self) -> dict[str, Any]:
        """What the course's tools changed and a restart would otherwise forget: resource links
        (placements), line items and received scores, as plain JSON."""
        with self._lock:
            return {
                "version": 1,
                "links": [asdict(link) for link in self._links.values()],
                "line_items": [asdict(item) for item in self._line_items.values()],
                "scores": [asdict(score) for score in self._scores],
            }

    def restore_course_state(self, state: Mapping[str, Any]) -> None:
        """Put back what :meth:`course_state` saved. Links of unknown courses or tools are left
        out (the demo seed may have changed since); line item ids keep counting after the
        highest restored one."""
        if state.get("version") != 1:
            raise ValueError("unknown sandbox state version")
        with self._lock:
            for data in state.get("links") or []:
                link = ResourceLink(**data)
                if link.context_id in self._courses and link.client_id in self._tools:
                    self._links[(link.context_id, link.resource_link_id)] = link
            for data in state.get("line_items") or []:
                item = LineItem(**data)
                if item.context_id in self._courses:
                    self._line_items[(item.context_id, item.lineitem_id)] = item
            self._scores.extend(Score(**data) for data in state.get("scores") or [])
            numbers = [int(i) for _, i in self._line_items if i.isdigit()]
            self._lineitem_ids = itertools.count(max(numbers, default=0) + 1)

    def register_tool(
        self,
        client_id: str,
        deployment_ids: Sequence[str],
        login_url: str,
        launch_url: str | Sequence[str],
        jwks_url: str | None,
        deep_link_url: str | None = None,
        *,
        name: str = "Learning Commons",
        target_link_uri: str | None = None,
        scopes: Iterable[str] | None = None,
        custom: Mapping[str, str] | None = None,
        claims: Iterable[str] | None = None,
        jwks: Mapping[str, Any] | None = None,
        placements: bool = True,
        placement_title: str | None = None,
    ) -> ToolRegistration:
        """Register (or re-register) a tool.

        :param launch_url: the redirect URI(s) the tool may use in the authentication
            request; the first one is the default ``target_link_uri``.
        :param jwks_url: where the tool publishes its keys (or pass ``jwks`` directly).
        :param deep_link_url: ``target_link_uri`` for deep-linking requests.
        :param scopes: service scopes the tool may obtain (default: all of them).
        :param custom: custom parameters sent with every launch of this tool.
        :param claims: restrict the personal claims sent in id_tokens (``None``: all).
        :param placements: create one resource link per existing course.
        """
        redirect_uris = (launch_url,) if isinstance(launch_url, str) else tuple(launch_url)
        if not client_id or not deployment_ids:
            raise ValueError("client_id and at least one deployment_id are required")
        urls = [login_url, *redirect_uris]
        if deep_link_url is not None:
            urls.append(deep_link_url)
        if target_link_uri is not None:
            urls.append(target_link_uri)
        if not redirect_uris or not all(is_http_url(u) for u in urls):
            raise ValueError("login, launch and deep-link URLs must be absolute http(s) URLs")
        if jwks_url is None and jwks is None:
            raise ValueError("a jwks_url or a static jwks is required")
        if jwks_url is not None and not is_http_url(jwks_url):
            raise ValueError("jwks_url must be an absolute http(s) URL")
        granted = frozenset(SERVICE_SCOPES if scopes is None else scopes)
        if not granted <= set(SERVICE_SCOPES):
            raise ValueError(f"unsupported scopes: {sorted(granted - set(SERVICE_SCOPES))}")
        tool = ToolRegistration(
            client_id=client_id,
            name=name,
            deployment_ids=tuple(deployment_ids),
            login_url=login_url,
            redirect_uris=redirect_uris,
            target_link_uri=target_link_uri or redirect_uris[0],
            jwks_url=jwks_url,
            jwks=dict(jwks) if jwks is not None else None,
            deep_link_url=deep_link_url,
            scopes=granted,
            custom=dict(custom or {}),
            claims=frozenset(claims) if claims is not None else None,
        )
        with self._lock:
            self._tools[client_id] = tool
            self._jwks_cache.pop(client_id, None)
            course_ids = list(self._courses)
        if placements:
            for context_id in course_ids:
                self._ensure_placement(tool, context_id, placement_title or name)
        return self.tool(client_id)

    def _ensure_placement(self, tool: ToolRegistration, context_id: str, title: str) -> None:
        link_id = f"rl-{short_hash(tool.client_id + '|' + context_id)}"
        with self._lock:
            if (context_id, link_id) not in self._links:
                self._links[(context_id, link_id)] = ResourceLink(
                    context_id, link_id, tool.client_id, title
                )

    def add_resource_link(
        self,
        context_id: str,
        client_id: str,
        title: str,
        *,
        resource_link_id: str | None = None,
        description: str = "",
        url: str | None = None,
        custom: Mapping[str, str] | None = None,
        line_item: Mapping[str, Any] | None = None,
    ) -> ResourceLink:
        """Place a tool in a course; ``line_item`` (AGS JSON) adds a bound gradebook column."""
        link_id = resource_link_id or f"rl-{secrets.token_hex(5)}"
        check_id(link_id, "resource_link_id")
        if url is not None and not is_http_url(url):
            raise ValueError("url must be an absolute http(s) URL")
        with self._lock:
            if context_id not in self._courses or client_id not in self._tools:
                raise ValueError("unknown course or tool")
            link = ResourceLink(
                context_id, link_id, client_id, title, description, url, dict(custom or {})
            )
            self._links[(context_id, link_id)] = link
        if line_item is not None:
            body = {"label": title, **line_item, "resourceLinkId": link_id}
            self.create_line_item(client_id, context_id, body)
        return copy.deepcopy(link)
