"""Deep Linking 2.0 from the platform's side: the settings of an ``LtiDeepLinkingRequest``, then
strict validation of the tool's ``LtiDeepLinkingResponse``, whose ``ltiResourceLink`` items become
placements of the course (with a gradebook column when they carry ``lineItem``)."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from typing import Any

from sandbox.platform.base import PlatformState
from sandbox.platform.checks import is_http_url, is_number, parse_datetime, string_dict
from sandbox.platform.model import DeepLinkResult, PlatformError
from sandbox.platform.vocabulary import (
    CLAIM_DEPLOYMENT_ID,
    CLAIM_DL_CONTENT_ITEMS,
    CLAIM_DL_DATA,
    CLAIM_DL_ERRORLOG,
    CLAIM_DL_ERRORMSG,
    CLAIM_DL_LOG,
    CLAIM_DL_MSG,
    CLAIM_MESSAGE_TYPE,
    CLAIM_VERSION,
    DL_CONTENT_TYPES,
    LTI_VERSION,
    MEDIA_LTI_LINK,
    MSG_DEEP_LINKING_RESPONSE,
    PRESENTATION_TARGETS,
)


class DeepLinking(PlatformState):
    """Deep-linking requests' settings and the responses tools send back."""

    def _deep_linking_settings(
        self, context_id: str, overrides: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """The ``deep_linking_settings`` claim of a request into a course (``overrides`` on top)."""
        course = self.course(context_id)
        settings: dict[str, Any] = {
            "deep_link_return_url": self.deep_link_return_url,
            "accept_types": ["ltiResourceLink", "link"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_media_types": MEDIA_LTI_LINK,
            "accept_multiple": True,
            "accept_lineitem": True,
            "auto_create": True,
            "title": "Add an activity",
            "text": f"Choose Learning Commons content to add to {course.title}",
            "data": secrets.token_urlsafe(16),
        }
        settings.update(overrides or {})
        if settings.get("data") is None:
            settings["data"] = secrets.token_urlsafe(16)
        unknown = set(settings["accept_types"]) - set(DL_CONTENT_TYPES)
        if unknown:
            raise PlatformError("invalid_request", f"unknown accept_types {sorted(unknown)}")
        return settings

    def receive_deep_link_response(self, jwt_str: str) -> list[dict[str, Any]]:
        """Validate a tool's ``LtiDeepLinkingResponse`` and create the returned content.

        ``ltiResourceLink`` items become resource links of the course (with a bound AGS
        line item when they carry ``lineItem``), so they can be launched afterwards.
        Returns the content items; see :meth:`accept_deep_link_response` for details.
        """
        return self.accept_deep_link_response(jwt_str).content_items

    def accept_deep_link_response(self, jwt_str: str) -> DeepLinkResult:
        """Like :meth:`receive_deep_link_response`, returning the full :class:`DeepLinkResult`
        (also appended to :attr:`deep_link_results`)."""
        tool, claims = self._verify_tool_jwt(
            jwt_str, "invalid_request", self.issuer, ["iss", "aud", "exp", "iat", "nonce"]
        )
        if not isinstance(claims.get("nonce"), str) or not claims["nonce"]:
            raise PlatformError("invalid_request", "nonce must be a non-empty string")
        if claims.get(CLAIM_MESSAGE_TYPE) != MSG_DEEP_LINKING_RESPONSE:
            raise PlatformError("invalid_request", "message_type must be LtiDeepLinkingResponse")
        if claims.get(CLAIM_VERSION) != LTI_VERSION:
            raise PlatformError("invalid_request", "version must be 1.3.0")
        deployment_id = claims.get(CLAIM_DEPLOYMENT_ID)
        if deployment_id not in tool.deployment_ids:
            raise PlatformError("invalid_request", "deployment_id is not one of the tool's")
        data = claims.get(CLAIM_DL_DATA)
        with self._lock:
            pending = self._pending_deep_links.get(data) if isinstance(data, str) else None
        if pending is None:
            raise PlatformError(
                "invalid_request", "data does not match any pending deep-linking request"
            )
        if pending.client_id != tool.client_id or pending.deployment_id != deployment_id:
            raise PlatformError("invalid_request", "the deep-linking request was for another tool")
        items = claims.get(CLAIM_DL_CONTENT_ITEMS, [])
        self._validate_content_items(items, pending.settings)
        with self._lock:
            if self._pending_deep_links.pop(data, None) is None:
                raise PlatformError("invalid_request", "this deep-linking request was answered")
        link_ids = []
        for item in items:
            if item["type"] == "ltiResourceLink":
                link = self.add_resource_link(
                    pending.context_id,
                    tool.client_id,
                    item.get("title") or "Untitled activity",
                    description=item.get("text") or "",
                    url=item.get("url"),
                    custom=item.get("custom"),
                    line_item=item.get("lineItem"),
                )
                link_ids.append(link.resource_link_id)

        def text(claim: str) -> str | None:
            value = claims.get(claim)
            return value if isinstance(value, str) else None

        result = DeepLinkResult(
            client_id=tool.client_id,
            deployment_id=deployment_id,
            context_id=pending.context_id,
            user_id=pending.user_id,
            content_items=copy.deepcopy(items),
            resource_link_ids=link_ids,
            msg=text(CLAIM_DL_MSG),
            log=text(CLAIM_DL_LOG),
            errormsg=text(CLAIM_DL_ERRORMSG),
            errorlog=text(CLAIM_DL_ERRORLOG),
        )
        with self._lock:
            self.deep_link_results.append(result)
        return copy.deepcopy(result)

    def _validate_content_items(self, items: object, settings: Mapping[str, Any]) -> None:
        def bad(message: str) -> PlatformError:
            return PlatformError("invalid_request", message)

        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise bad("content_items must be an array of objects")
        if len(items) > 1 and not settings.get("accept_multiple", True):
            raise bad("the request did not accept multiple content items")
        accept_types = settings.get("accept_types", [])
        targets = settings.get("accept_presentation_document_targets", [])
        for index, item in enumerate(items):
            where = f"content_items[{index}]"
            kind = item.get("type")
            if kind not in accept_types:
                raise bad(f"{where}: type {kind!r} was not in accept_types")
            for target in PRESENTATION_TARGETS:
                if target in item and target not in targets:
                    raise bad(f"{where}: presentation target {target!r} was not accepted")
            for key in ("title", "text", "html"):
                if key in item and not isinstance(item[key], str):
                    raise bad(f"{where}: {key} must be a string")
            needs_url = kind in ("link", "file", "image")
            if ("url" in item or needs_url) and not is_http_url(item.get("url")):
                raise bad(f"{where}: url must be an absolute http(s) URL")
            if kind == "html" and not item.get("html"):
                raise bad(f"{where}: html items need html")
            if kind != "ltiResourceLink":
                continue
            string_dict(item.get("custom"), f"{where}.custom")
            for block in ("available", "submission"):
                if block in item:
                    if not isinstance(item[block], dict):
                        raise bad(f"{where}: {block} must be an object")
                    for key in ("startDateTime", "endDateTime"):
                        if key in item[block]:
                            parse_datetime(item[block][key], f"{where}.{block}.{key}")
            if "lineItem" in item:
                if not settings.get("accept_lineitem", False):
                    raise bad(f"{where}: the request did not accept line items")
                line_item = item["lineItem"]
                if not isinstance(line_item, dict):
                    raise bad(f"{where}: lineItem must be an object")
                maximum = line_item.get("scoreMaximum")
                if not is_number(maximum) or maximum <= 0:
                    raise bad(f"{where}: lineItem.scoreMaximum must be a positive number")
                for key in ("label", "resourceId", "tag"):
                    if key in line_item and not isinstance(line_item[key], str):
                        raise bad(f"{where}: lineItem.{key} must be a string")
                if "gradesReleased" in line_item and not isinstance(
                    line_item["gradesReleased"], bool
                ):
                    raise bad(f"{where}: lineItem.gradesReleased must be a boolean")
