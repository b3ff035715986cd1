"""Names and Role Provisioning Services 2.0 (with the Course Groups ``group_enrollments``
extension) and Course Groups 1.0: the course's members, groups and group sets, paged."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.platform.base import PlatformState
from sandbox.platform.model import PlatformError
from sandbox.platform.substitution import substitute
from sandbox.platform.vocabulary import (
    CLAIM_CUSTOM,
    CLAIM_MESSAGE_TYPE,
    MEMBERSHIP,
    MSG_RESOURCE_LINK,
)


def _role_matches(role_uri: str, wanted: str) -> bool:
    """NRPS ``role`` filter: a full URI, or a context role short name such as ``Learner``."""
    if role_uri == wanted:
        return True
    return role_uri.startswith(MEMBERSHIP + "#") and role_uri.split("#", 1)[1] == wanted


class RosterServices(PlatformState):
    """NRPS memberships, Course Groups groups and group sets."""

    def memberships(
        self,
        context_id: str,
        *,
        limit: int | None = None,
        page: int = 1,
        rlid: str | None = None,
        role: str | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        """NRPS membership container page and its ``Link`` header (``None`` if single page).

        ``role`` filters by a role URI or a context role short name (``Learner``);
        ``rlid`` restricts to a resource link and adds each member's ``message`` section
        with the link's resolved custom parameters.
        """
        course = self._require_course(context_id)
        with self._lock:
            link = self._links.get((context_id, rlid)) if rlid else None
            if rlid and link is None:
                raise PlatformError("not_found", f"unknown resource link {rlid!r}", 404)
            tool_custom = dict(self._tools[link.client_id].custom) if link else {}
            rows = [
                (copy.deepcopy(self._people[uid]), copy.deepcopy(e))
                for (ctx, uid), e in self._enrollments.items()
                if ctx == context_id
            ]
            groups = [g for (ctx, _), g in self._groups.items() if ctx == context_id]
            group_ids = {
                person.user_id: [g.group_id for g in groups if person.user_id in g.members]
                for person, _ in rows
            }
            link = copy.deepcopy(link)
        if role:
            rows = [(p, e) for p, e in rows if any(_role_matches(r, role) for r in e.roles)]
        chunk, link_header, current = self._page(
            rows, self.memberships_url(context_id), limit, page, {"role": role, "rlid": rlid}
        )
        members = []
        for person, enrollment in chunk:
            member: dict[str, Any] = {
                "status": enrollment.status,
                "user_id": person.user_id,
                "roles": [r for r in enrollment.roles if r.startswith(MEMBERSHIP)],
                "name": person.name,
                "given_name": person.given_name,
                "family_name": person.family_name,
                "email": person.email,
                "picture": person.picture or self.avatar_url(person.user_id),
                "lis_person_sourcedid": person.sourced_id,
                "group_enrollments": [{"group_id": gid} for gid in group_ids[person.user_id]],
            }
            if link is not None:
                custom = substitute(
                    {**tool_custom, **link.custom},
                    person,
                    course,
                    enrollment,
                    link,
                    platform_guid=self.guid,
                    platform_name=self.name,
                )
                message: dict[str, Any] = {CLAIM_MESSAGE_TYPE: MSG_RESOURCE_LINK}
                if custom:
                    message[CLAIM_CUSTOM] = custom
                member["message"] = [message]
            members.append(member)
        body = {
            "id": current,
            "context": {"id": course.context_id, "label": course.label, "title": course.title},
            "members": members,
        }
        return body, link_header

    # ---------------------------------------------------------------- Course Groups

    def groups(
        self,
        context_id: str,
        *,
        limit: int | None = None,
        page: int = 1,
        user_id: str | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        """Course Groups container page (``{"id", "groups": [...]}``) and ``Link`` header."""
        self._require_course(context_id)
        with self._lock:
            found = [
                copy.deepcopy(g)
                for (ctx, _), g in self._groups.items()
                if ctx == context_id and (user_id is None or user_id in g.members)
            ]
        chunk, link_header, current = self._page(
            found, self.groups_url(context_id), limit, page, {"user_id": user_id}
        )
        groups = []
        for group in chunk:
            entry: dict[str, Any] = {"id": group.group_id, "name": group.name}
            if group.tag:
                entry["tag"] = group.tag
            if group.set_id:
                entry["set_id"] = group.set_id
            groups.append(entry)
        return {"id": current, "groups": groups}, link_header

    def group_sets(
        self, context_id: str, *, limit: int | None = None, page: int = 1
    ) -> tuple[dict[str, Any], str | None]:
        """Course Groups group-set container page (``{"id", "sets": [...]}``)."""
        self._require_course(context_id)
        with self._lock:
            found = [
                copy.deepcopy(s) for (ctx, _), s in self._group_sets.items() if ctx == context_id
            ]
        chunk, link_header, current = self._page(
            found, self.group_sets_url(context_id), limit, page, {}
        )
        sets = [{"id": s.set_id, "name": s.name} for s in chunk]
        return {"id": current, "sets": sets}, link_header
