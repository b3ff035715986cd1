"""JSON API: the competencies linked to a thing (``/api/links/<kind>/<key>``).

Every route needs the launch token. Who may read and change a thing's links is its owner's rule
(:func:`plugin.performance.links.services.resolve`); refusals are :class:`plugin.access.Refusal`
(``LinkError`` and its subclasses), answered by the app's error handler.
"""

from __future__ import annotations

from typing import Any

from plugin.api import Blueprint
from plugin.db import db_session, unit_of_work
from plugin.performance.links import services
from plugin.performance.links.schemas import LinkSetSchema, LinkUpdateSchema
from plugin.web import current, launch_required

blp = Blueprint(
    "links_api",
    __name__,
    url_prefix="/api",
    description="Competency links: which competencies a board, thread or placement is about.",
)
SECURITY = [{"launchToken": []}]


def _requester() -> services.Requester:
    """The launch's person as the linkable kinds' owners see them."""
    cur = current()
    return services.Requester(
        platform_id=cur.platform.id,
        user_id=cur.user.id,
        context_id=cur.context.id if cur.context is not None else None,
        roles=tuple(cur.launch.roles or ()),
    )


@blp.route("/links/<kind>/<key>", methods=["GET"])
@blp.doc(
    security=SECURITY,
    summary="The competencies linked to a board, thread or placement",
    description="Whoever may see the thing (by its own rules: a member of its course; for a "
    "thread, its cohort) reads its links; other courses' things and unknown kinds answer 404.",
)
@blp.refusals(403, 404)
@launch_required
@blp.response(200, LinkSetSchema)
def get_links(kind: str, key: str) -> services.LinkSet:
    return services.links_of(db_session(), _requester(), kind, key)


@blp.route("/links/<kind>/<key>", methods=["PUT"])
@blp.doc(
    security=SECURITY,
    summary="Set the competencies linked to a thing (by its owner's rules)",
    description="A board's and a placement's links are set by course staff, a thread's tags by "
    "its author or staff (course competencies only, at most 5). 404 for things the caller "
    "cannot see and for unknown competency ids.",
)
@blp.refusals(400, 403, 404)
@launch_required
@blp.arguments(LinkUpdateSchema)
@blp.response(200, LinkSetSchema)
def put_links(args: dict[str, Any], kind: str, key: str) -> services.LinkSet:
    with unit_of_work() as session:
        return services.replace_links(session, _requester(), kind, key, args["competency_ids"])
