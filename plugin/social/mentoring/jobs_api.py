"""JSON API of the pulse surveys and the viewer's "To do" (:mod:`.reminders`): the same services
and checks as the pages. Another person's pulse, or another course's, answers 404."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from plugin.api import longest
from plugin.pages import course_read
from plugin.social.mentoring import programmes, reminders
from plugin.social.mentoring.api import PROGRAMME, SECURITY, blp
from plugin.social.mentoring.models import PULSE_KINDS
from plugin.web import course_act, launch_required


class PulseSchema(Schema):
    id = fields.Integer()
    pair_id = fields.Integer()
    programme_id = fields.Integer()
    programme_title = fields.String()
    kind = fields.String(metadata={"enum": list(PULSE_KINDS)})
    partners = fields.List(fields.String(), metadata={"description": "the other members' names"})
    due_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)
    rating = fields.Integer(allow_none=True)
    comment = fields.String(
        metadata={"description": "private to the pair; shown only to its author"}
    )


class PulseAnswerSchema(Schema):
    rating = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    comment = fields.String(
        load_default="",
        validate=validate.Length(max=reminders.MAX_COMMENT_CHARS),
        metadata=longest(reminders.MAX_COMMENT_CHARS),
    )


class CheckInDueSchema(Schema):
    pair_id = fields.Integer()
    partners = fields.List(fields.String())
    due_at = fields.DateTime()


class PulseDueSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(PULSE_KINDS)})
    partners = fields.List(fields.String())
    due_at = fields.DateTime()


class ToDoSchema(Schema):
    check_ins = fields.List(fields.Nested(CheckInDueSchema))
    pulses = fields.List(fields.Nested(PulseDueSchema))


@blp.route("/pulses/<int:pulse_id>", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="One of the viewer's pulse surveys")
@launch_required
@blp.response(200, PulseSchema)
def get_pulse(pulse_id: int) -> reminders.PulseView:
    session, who = course_read()
    return reminders.get_pulse(session, who, pulse_id)


@blp.route("/pulses/<int:pulse_id>", methods=["POST"])
@blp.refusals(400, 403, 404, 409)
@blp.doc(security=SECURITY, summary="Answer one's pulse survey once: a rating 1-5, a comment")
@launch_required
@blp.arguments(PulseAnswerSchema)
@blp.response(200, PulseSchema)
def answer_pulse(data: dict[str, Any], pulse_id: int) -> reminders.PulseView:
    with course_act() as (session, who):
        return reminders.answer_pulse(session, who, pulse_id, **data)


@blp.route(PROGRAMME + "/to-do", methods=["GET"])
@blp.refusals(400, 403, 404)
@blp.doc(security=SECURITY, summary="The viewer's check-ins due and pulse surveys to answer")
@launch_required
@blp.response(200, ToDoSchema)
def to_do(programme_id: int) -> reminders.ToDo:
    session, who = course_read()
    programme = programmes.get_programme(session, who, programme_id)
    return reminders.to_do(session, who, programme)
