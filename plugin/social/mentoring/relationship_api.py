"""JSON API of mentorships (pairs): the same services and checks as the pages (:mod:`.pairs`,
:mod:`.checkins`). A pair is its members' (staff of its programme read it, without check-in
notes); anyone else, and another course or platform, gets 404."""

from __future__ import annotations

from typing import Any

from plugin.pages import course_read
from plugin.social.mentoring import checkins, pairs, programmes
from plugin.social.mentoring.api import SECURITY, blp
from plugin.social.mentoring.relationship_schemas import (
    AgreementEditSchema,
    AgreementInputSchema,
    CheckInInputSchema,
    CheckInSchema,
    ExtensionInputSchema,
    PairListArgs,
    PairSchema,
    PairSummarySchema,
    RematchSchema,
)
from plugin.web import course_act, launch_required, path_for

PAIR = "/pairs/<int:pair_id>"


@blp.route("/programmes/<int:programme_id>/pairs", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(
    security=SECURITY,
    summary="Mentorships of a programme: the viewer's own, or every one for its staff",
)
@launch_required
@blp.arguments(PairListArgs, location="query")
@blp.response(200, PairSummarySchema(many=True))
def list_pairs(args: dict[str, Any], programme_id: int) -> list[pairs.PairSummary]:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    state = args.get("state")
    if programmes.may_manage(who, programme):
        return pairs.programme_pairs(session, who, programme, state=state)
    found = pairs.my_pairs(session, who, programme)
    return [p for p in found if state is None or p.state == state]


@blp.route(PAIR, methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="A mentorship: agreement, people, health, what one may do")
@launch_required
@blp.response(200, PairSchema)
def get_pair(pair_id: int) -> pairs.PairDetail:
    session, who = course_read()
    return pairs.detail(session, who, pair_id)


@blp.route(PAIR + "/agreement", methods=["PUT"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(
    security=SECURITY,
    summary="Change a proposed mentorship's agreement (a member; clears the others' acceptance)",
)
@launch_required
@blp.arguments(AgreementInputSchema)
@blp.response(200, AgreementEditSchema)
def put_agreement(data: dict[str, Any], pair_id: int) -> dict[str, Any]:
    with course_act() as (session, who):
        edit = pairs.update_agreement(session, who, pair_id, **data)
        return {
            "pair": pairs.detail(session, who, pair_id),
            "changed": edit.changed,
            "cleared": edit.cleared,
        }


@blp.route(PAIR + "/accept", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Accept the agreement (active once every member has)")
@launch_required
@blp.response(200, PairSchema)
def accept(pair_id: int) -> pairs.PairDetail:
    with course_act() as (session, who):
        pairs.accept_agreement(session, who, pair_id)
        return pairs.detail(session, who, pair_id)


@blp.route(PAIR + "/checkins", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="A mentorship's check-ins (staff: no notes, no next steps)")
@launch_required
@blp.response(200, CheckInSchema(many=True))
def list_checkins(pair_id: int) -> list[checkins.CheckInView]:
    session, who = course_read()
    return checkins.list_checkins(session, who, pair_id)


@blp.route(PAIR + "/checkins", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Log a check-in of an active mentorship (a member)")
@launch_required
@blp.arguments(CheckInInputSchema)
@blp.response(201, CheckInSchema)
def log_checkin(data: dict[str, Any], pair_id: int) -> checkins.CheckInView:
    with course_act() as (session, who):
        made = checkins.log(session, who, pair_id, **data)
        return next(c for c in checkins.list_checkins(session, who, pair_id) if c.id == made.id)


@blp.route(PAIR + "/leave", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Leave a mentorship (no-fault exit; no reason asked)")
@launch_required
@blp.response(200, PairSchema)
def leave(pair_id: int) -> pairs.PairDetail:
    with course_act() as (session, who):
        pairs.leave(session, who, pair_id)
        return pairs.detail(session, who, pair_id)


@blp.route(PAIR + "/rematch", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(
    security=SECURITY,
    summary="End the mentorship to find another mentor (the mentee); what to prefill next",
)
@launch_required
@blp.response(200, RematchSchema)
def rematch(pair_id: int) -> dict[str, Any]:
    with course_act() as (session, who):
        found = pairs.rematch(session, who, pair_id)
        return {
            "pair": pairs.detail(session, who, pair_id),
            "competency_ids": found.competency_ids,
            "goal": found.goal,
            "request_form": path_for("mentoring.find_page", programme_id=found.pair.programme_id),
        }


@blp.route(PAIR + "/end", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="End a mentorship (programme staff)")
@launch_required
@blp.response(200, PairSchema)
def end(pair_id: int) -> pairs.PairDetail:
    with course_act() as (session, who):
        pairs.staff_end(session, who, pair_id)
        return pairs.detail(session, who, pair_id)


@blp.route(PAIR + "/extension", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(
    security=SECURITY,
    summary="Propose a later end date (a member; the others confirm it, the old date holds)",
)
@launch_required
@blp.arguments(ExtensionInputSchema)
@blp.response(200, PairSchema)
def propose_extension(data: dict[str, Any], pair_id: int) -> pairs.PairDetail:
    with course_act() as (session, who):
        pairs.propose_extension(session, who, pair_id, **data)
        return pairs.detail(session, who, pair_id)


@blp.route(PAIR + "/extension/confirm", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(
    security=SECURITY, summary="Confirm the pending extension (the end date moves once all did)"
)
@launch_required
@blp.response(200, PairSchema)
def confirm_extension(pair_id: int) -> pairs.PairDetail:
    with course_act() as (session, who):
        pairs.confirm_extension(session, who, pair_id)
        return pairs.detail(session, who, pair_id)


@blp.route(PAIR + "/extension/decline", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Decline (or withdraw) the pending extension")
@launch_required
@blp.response(200, PairSchema)
def decline_extension(pair_id: int) -> pairs.PairDetail:
    with course_act() as (session, who):
        pairs.decline_extension(session, who, pair_id)
        return pairs.detail(session, who, pair_id)
