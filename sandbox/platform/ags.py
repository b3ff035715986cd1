"""Assignment and Grade Services 2.0: line items (gradebook columns) owned by the tool that made
them, scores (kept verbatim; one older than the last applied score is recorded but does not update
the result) and results (the latest applied score per person), paged."""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from sandbox.platform.base import PlatformState
from sandbox.platform.checks import is_number, parse_datetime
from sandbox.platform.model import LineItem, PlatformError, Score
from sandbox.platform.vocabulary import ACTIVITY_PROGRESS, GRADING_PROGRESS


class GradeServices(PlatformState):
    """AGS line items, scores and results."""

    def _line_item_json(self, item: LineItem) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.lineitem_url(item.context_id, item.lineitem_id),
            "scoreMaximum": item.score_maximum,
            "label": item.label,
        }
        optional = {
            "resourceLinkId": item.resource_link_id,
            "resourceId": item.resource_id,
            "tag": item.tag,
            "startDateTime": item.start_date_time,
            "endDateTime": item.end_date_time,
            "gradesReleased": item.grades_released,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return body

    def _validated_line_item(
        self, client_id: str, context_id: str, body: object, lineitem_id: str
    ) -> LineItem:
        if not isinstance(body, dict):
            raise PlatformError("invalid_request", "the line item must be a JSON object")
        label = body.get("label")
        if not isinstance(label, str) or not label.strip():
            raise PlatformError("invalid_request", "label is required")
        maximum = body.get("scoreMaximum")
        if not is_number(maximum) or maximum <= 0:
            raise PlatformError("invalid_request", "scoreMaximum must be a number > 0")
        for key in ("resourceLinkId", "resourceId", "tag", "startDateTime", "endDateTime"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise PlatformError("invalid_request", f"{key} must be a string")
        if "gradesReleased" in body and not isinstance(body["gradesReleased"], bool):
            raise PlatformError("invalid_request", "gradesReleased must be a boolean")
        start, end = body.get("startDateTime"), body.get("endDateTime")
        if start is not None and end is not None:
            if parse_datetime(start, "startDateTime") > parse_datetime(end, "endDateTime"):
                raise PlatformError("invalid_request", "startDateTime is after endDateTime")
        elif start is not None or end is not None:
            parse_datetime(start or end, "startDateTime/endDateTime")
        link_id = body.get("resourceLinkId")
        if link_id is not None:
            with self._lock:
                link = self._links.get((context_id, link_id))
            if link is None or link.client_id != client_id:
                raise PlatformError("invalid_request", f"unknown resourceLinkId {link_id!r}")
        return LineItem(
            context_id=context_id,
            lineitem_id=lineitem_id,
            client_id=client_id,
            label=label,
            score_maximum=maximum,
            resource_link_id=link_id,
            resource_id=body.get("resourceId"),
            tag=body.get("tag"),
            start_date_time=start,
            end_date_time=end,
            grades_released=body.get("gradesReleased"),
        )

    def _owned_line_item(self, client_id: str, context_id: str, lineitem_id: str) -> LineItem:
        self._require_course(context_id)
        with self._lock:
            item = self._line_items.get((context_id, lineitem_id))
        if item is None or item.client_id != client_id:
            raise PlatformError("not_found", f"unknown line item {lineitem_id!r}", 404)
        return copy.deepcopy(item)

    def list_line_items(
        self,
        client_id: str,
        context_id: str,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        page: int = 1,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The tool's line items in a course (filtered, paged) and the ``Link`` header."""
        self._require_course(context_id)
        with self._lock:
            found = [
                copy.deepcopy(li)
                for li in self._line_items.values()
                if li.context_id == context_id
                and li.client_id == client_id
                and (resource_link_id is None or li.resource_link_id == resource_link_id)
                and (resource_id is None or li.resource_id == resource_id)
                and (tag is None or li.tag == tag)
            ]
        params = {"resource_link_id": resource_link_id, "resource_id": resource_id, "tag": tag}
        chunk, link_header, _ = self._page(
            found, self.lineitems_url(context_id), limit, page, params
        )
        return [self._line_item_json(li) for li in chunk], link_header

    def create_line_item(
        self, client_id: str, context_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Create a line item owned by ``client_id``; returns its JSON (with ``id``)."""
        self._require_course(context_id)
        lineitem_id = str(next(self._lineitem_ids))
        item = self._validated_line_item(client_id, context_id, dict(body), lineitem_id)
        with self._lock:
            self._line_items[(context_id, lineitem_id)] = item
        return self._line_item_json(item)

    def get_line_item(self, client_id: str, context_id: str, lineitem_id: str) -> dict[str, Any]:
        """One line item's JSON."""
        return self._line_item_json(self._owned_line_item(client_id, context_id, lineitem_id))

    def update_line_item(
        self, client_id: str, context_id: str, lineitem_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Replace a line item (PUT); its ``id`` cannot change."""
        self._owned_line_item(client_id, context_id, lineitem_id)
        if "id" in body and body["id"] != self.lineitem_url(context_id, lineitem_id):
            raise PlatformError("invalid_request", "the line item id cannot change")
        item = self._validated_line_item(client_id, context_id, dict(body), lineitem_id)
        with self._lock:
            self._line_items[(context_id, lineitem_id)] = item
        return self._line_item_json(item)

    def delete_line_item(self, client_id: str, context_id: str, lineitem_id: str) -> None:
        """Delete a line item (its results go with it; received scores are kept)."""
        self._owned_line_item(client_id, context_id, lineitem_id)
        with self._lock:
            del self._line_items[(context_id, lineitem_id)]

    def post_score(
        self, client_id: str, context_id: str, lineitem_id: str, body: Mapping[str, Any]
    ) -> Score:
        """Receive a score (AGS ``POST {lineitem}/scores``) after validating it.

        A score older than the last applied one for the same user and line item is
        recorded but does not update the result, as the spec requires.
        """
        item = self._owned_line_item(client_id, context_id, lineitem_id)
        if not isinstance(body, Mapping):
            raise PlatformError("invalid_request", "the score must be a JSON object")
        user_id = body.get("userId")
        if not isinstance(user_id, str) or not user_id:
            raise PlatformError("invalid_request", "userId is required")
        with self._lock:
            enrolled = (context_id, user_id) in self._enrollments
        if not enrolled:
            raise PlatformError("invalid_request", f"userId {user_id!r} is not in this context")
        if body.get("activityProgress") not in ACTIVITY_PROGRESS:
            raise PlatformError(
                "invalid_request", f"activityProgress must be one of {ACTIVITY_PROGRESS}"
            )
        if body.get("gradingProgress") not in GRADING_PROGRESS:
            raise PlatformError(
                "invalid_request", f"gradingProgress must be one of {GRADING_PROGRESS}"
            )
        stamp = parse_datetime(body.get("timestamp"), "timestamp")
        given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
        if given is not None:
            if not is_number(given) or given < 0:
                raise PlatformError("invalid_request", "scoreGiven must be a number >= 0")
            if not is_number(maximum) or maximum <= 0:
                raise PlatformError(
                    "invalid_request", "scoreMaximum (> 0) is required with scoreGiven"
                )
            if given > maximum and not self.allow_extra_credit:
                raise PlatformError("invalid_request", "scoreGiven exceeds scoreMaximum")
        elif maximum is not None and (not is_number(maximum) or maximum <= 0):
            raise PlatformError("invalid_request", "scoreMaximum must be a number > 0")
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise PlatformError("invalid_request", "comment must be a string")
        submission = body.get("submission")
        if submission is not None:
            if not isinstance(submission, Mapping):
                raise PlatformError("invalid_request", "submission must be an object")
            for key in ("startedAt", "submittedAt"):
                if key in submission:
                    parse_datetime(submission[key], f"submission.{key}")
        score = Score(
            context_id=context_id,
            lineitem_id=item.lineitem_id,
            client_id=client_id,
            user_id=user_id,
            activity_progress=body["activityProgress"],
            grading_progress=body["gradingProgress"],
            timestamp=body["timestamp"],
            score_given=given,
            score_maximum=maximum,
            comment=comment,
            received_at=time.time(),
            body=copy.deepcopy(dict(body)),
        )
        with self._lock:
            for previous in reversed(self._scores):
                if (
                    previous.applied
                    and previous.context_id == context_id
                    and previous.lineitem_id == item.lineitem_id
                    and previous.user_id == user_id
                ):
                    if parse_datetime(previous.timestamp, "timestamp") > stamp:
                        score.applied = False
                    break
            self._scores.append(score)
        return copy.deepcopy(score)

    def list_results(
        self,
        client_id: str,
        context_id: str,
        lineitem_id: str,
        *,
        user_id: str | None = None,
        limit: int | None = None,
        page: int = 1,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """AGS results of a line item (latest applied score per user), paged."""
        item = self._owned_line_item(client_id, context_id, lineitem_id)
        latest: dict[str, Score] = {}
        with self._lock:
            for score in self._scores:
                if (
                    score.applied
                    and score.context_id == context_id
                    and score.lineitem_id == lineitem_id
                ):
                    latest[score.user_id] = copy.deepcopy(score)
        rows = [s for uid, s in latest.items() if user_id is None or uid == user_id]
        lineitem_url = self.lineitem_url(context_id, lineitem_id)
        chunk, link_header, _ = self._page(
            rows, lineitem_url + "/results", limit, page, {"user_id": user_id}
        )
        results = []
        for score in chunk:
            result: dict[str, Any] = {
                "id": f"{lineitem_url}/results/{quote(score.user_id, safe='')}",
                "scoreOf": lineitem_url,
                "userId": score.user_id,
                "resultMaximum": item.score_maximum,
            }
            if score.score_given is not None and score.score_maximum:
                result["resultScore"] = round(
                    score.score_given * item.score_maximum / score.score_maximum, 6
                )
            if score.comment is not None:
                result["comment"] = score.comment
            results.append(result)
        return results, link_header
