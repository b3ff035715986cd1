"""LTI 1.3 core launches from the platform's side: third-party-initiated OpenID Connect login
(:meth:`Launch.login_initiation`), then the authentication response carrying a signed RS256
``id_token`` (:meth:`Launch.authorize`) with the claims a real launch carries (resource link or
deep-linking request, roles, context, services, substituted custom parameters)."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Mapping
from typing import Any

from sandbox.platform.base import PlatformState
from sandbox.platform.checks import check_id, is_http_url, short_hash, string_dict
from sandbox.platform.model import (
    AuthResponse,
    ClaimsHook,
    LaunchIntent,
    PendingDeepLink,
    PlatformError,
    ResourceLink,
    ToolRegistration,
)
from sandbox.platform.substitution import substitute
from sandbox.platform.vocabulary import (
    AGS_SCOPES,
    CLAIM_AGS,
    CLAIM_CONTEXT,
    CLAIM_CUSTOM,
    CLAIM_DEPLOYMENT_ID,
    CLAIM_DL_SETTINGS,
    CLAIM_GROUPS,
    CLAIM_LAUNCH_PRESENTATION,
    CLAIM_LIS,
    CLAIM_MESSAGE_TYPE,
    CLAIM_NRPS,
    CLAIM_RESOURCE_LINK,
    CLAIM_ROLE_SCOPE_MENTOR,
    CLAIM_ROLES,
    CLAIM_TARGET_LINK_URI,
    CLAIM_TOOL_PLATFORM,
    CLAIM_VERSION,
    COURSE_OFFERING,
    ID_TOKEN_LIFETIME,
    LTI_VERSION,
    MESSAGE_HINT_LIFETIME,
    MSG_DEEP_LINKING,
    MSG_RESOURCE_LINK,
    PRODUCT_FAMILY_CODE,
    PRODUCT_VERSION,
    SCOPE_GROUPS,
    SCOPE_NRPS,
    SUPPORTED_MESSAGES,
)


class Launch(PlatformState):
    """Login initiation, the OIDC authorization endpoint, and the claims of a launch."""

    def login_initiation(
        self,
        client_id: str,
        user_id: str,
        context_id: str,
        message_type: str = MSG_RESOURCE_LINK,
        resource_link: Mapping[str, Any] | None = None,
        custom: Mapping[str, str] | None = None,
        target_link_uri: str | None = None,
        deployment_id: str | None = None,
        deep_linking_settings: Mapping[str, Any] | None = None,
    ) -> dict[str, str]:
        """Start a launch: the parameters to send to the tool's OIDC login URL.

        ``resource_link`` (``{"id", "title", "description"}``) picks a placement; an
        unknown id creates it.  Without it, the tool's default placement in the course is
        used.  The returned ``lti_message_hint`` is an unguessable, short-lived key of the
        launch intent kept server-side.
        """
        intent = self._make_intent(
            client_id,
            user_id,
            context_id,
            message_type,
            resource_link,
            custom,
            target_link_uri,
            deployment_id,
            deep_linking_settings,
        )
        hint = secrets.token_urlsafe(18)
        now = time.time()
        with self._lock:
            for key in [
                k for k, v in self._intents.items() if v.created + MESSAGE_HINT_LIFETIME < now
            ]:
                del self._intents[key]
            self._intents[hint] = intent
        return {
            "iss": self.issuer,
            "login_hint": intent.login_hint,
            "target_link_uri": intent.target_link_uri,
            "lti_message_hint": hint,
            "client_id": client_id,
            "lti_deployment_id": intent.deployment_id,
        }

    def _make_intent(
        self,
        client_id: str,
        user_id: str,
        context_id: str,
        message_type: str,
        resource_link: Mapping[str, Any] | None,
        custom: Mapping[str, str] | None,
        target_link_uri: str | None,
        deployment_id: str | None,
        deep_linking_settings: Mapping[str, Any] | None,
    ) -> LaunchIntent:
        if message_type not in SUPPORTED_MESSAGES:
            raise PlatformError("invalid_request", f"unsupported message type {message_type!r}")
        extra_custom = string_dict(custom, "custom")
        with self._lock:
            tool = self._tools.get(client_id)
            if tool is None:
                raise PlatformError("unauthorized_client", f"unknown client_id {client_id!r}")
            deployment_id = deployment_id or tool.deployment_ids[0]
            if deployment_id not in tool.deployment_ids:
                raise PlatformError(
                    "invalid_request", f"deployment {deployment_id!r} is not the tool's"
                )
            if (context_id, user_id) not in self._enrollments:
                raise PlatformError(
                    "invalid_request", f"{user_id!r} is not enrolled in {context_id!r}"
                )
            link: ResourceLink | None = None
            if message_type == MSG_RESOURCE_LINK:
                link = self._resolve_link(tool, context_id, resource_link)
            merged = dict(tool.custom)
            if link is not None:
                merged.update(link.custom)
            merged.update(extra_custom)
        dl_settings: dict[str, Any] | None = None
        if message_type == MSG_DEEP_LINKING:
            target = target_link_uri or tool.deep_link_url or tool.target_link_uri
            dl_settings = self._deep_linking_settings(context_id, deep_linking_settings)
        else:
            assert link is not None
            target = target_link_uri or link.url or tool.target_link_uri
        if not is_http_url(target):
            raise PlatformError("invalid_request", "target_link_uri must be an http(s) URL")
        return LaunchIntent(
            client_id=client_id,
            deployment_id=deployment_id,
            user_id=user_id,
            context_id=context_id,
            message_type=message_type,
            login_hint=user_id,
            target_link_uri=target,
            resource_link_id=link.resource_link_id if link else None,
            custom=merged,
            dl_settings=dl_settings,
            created=time.time(),
        )

    def _resolve_link(
        self, tool: ToolRegistration, context_id: str, requested: Mapping[str, Any] | None
    ) -> ResourceLink:
        """Find (or create) the resource link of a launch. Caller holds the lock."""
        if requested is None or not requested.get("id"):
            for link in self._links.values():
                if link.context_id == context_id and link.client_id == tool.client_id:
                    return link
            requested = {"id": f"rl-{short_hash(tool.client_id + '|' + context_id)}"}
        link_id = str(requested["id"])
        link = self._links.get((context_id, link_id))
        if link is not None:
            if link.client_id != tool.client_id:
                raise PlatformError("invalid_request", "that resource link belongs to another tool")
            return link
        try:
            check_id(link_id, "resource link id")
        except ValueError as exc:
            raise PlatformError("invalid_request", str(exc)) from exc
        link = ResourceLink(
            context_id,
            link_id,
            tool.client_id,
            str(requested.get("title") or tool.name),
            str(requested.get("description") or ""),
        )
        self._links[(context_id, link_id)] = link
        return link

    def authorize(
        self,
        params: Mapping[str, str],
        *,
        claims_hook: ClaimsHook | None = None,
        sign_options: Mapping[str, Any] | None = None,
    ) -> AuthResponse:
        """Answer the tool's OIDC authentication request with a signed id_token.

        Validates the request as the LTI security framework requires; raises
        :class:`PlatformError` with an OIDC error code otherwise.  ``claims_hook`` and
        ``sign_options`` let a security test doctor the token (see
        :meth:`tamper_next_launch` for the HTTP equivalent).
        """

        def need(name: str) -> str:
            value = params.get(name)
            if not value:
                raise PlatformError("invalid_request", f"missing {name}")
            return value

        if "openid" not in need("scope").split():
            raise PlatformError("invalid_scope", "scope must contain openid")
        if need("response_type") != "id_token":
            raise PlatformError("unsupported_response_type", "response_type must be id_token")
        client_id = need("client_id")
        with self._lock:
            tool = self._tools.get(client_id)
        if tool is None:
            raise PlatformError("unauthorized_client", f"unknown client_id {client_id!r}")
        redirect_uri = need("redirect_uri")
        if redirect_uri not in tool.redirect_uris:
            raise PlatformError("invalid_request", "redirect_uri is not registered for the client")
        if need("response_mode") != "form_post":
            raise PlatformError("invalid_request", "response_mode must be form_post")
        if params.get("prompt") not in (None, "", "none"):
            raise PlatformError("invalid_request", "only prompt=none is supported")
        nonce = need("nonce")
        login_hint = need("login_hint")
        hint = need("lti_message_hint")
        with self._lock:
            intent = self._intents.get(hint)
            if intent is None or intent.created + MESSAGE_HINT_LIFETIME < time.time():
                raise PlatformError("invalid_request", "unknown or expired lti_message_hint")
            if intent.client_id != client_id:
                raise PlatformError(
                    "invalid_request", "lti_message_hint was issued to another client"
                )
            if intent.login_hint != login_hint:
                raise PlatformError("login_required", "login_hint does not match the current user")
            del self._intents[hint]
            tamper, self._tamper = self._tamper, None
        claims = self._build_claims(intent, nonce)
        key_pem, kid = self.client_key(client_id)
        options = {"key_pem": key_pem, "kid": kid, **(sign_options or {})}
        hooks = [claims_hook]
        if tamper is not None:
            hooks.append(tamper[0])
            options.update(tamper[1])
        for hook in hooks:
            if hook is not None:
                replaced = hook(claims)
                claims = replaced if replaced is not None else claims
        fields = {"id_token": self.make_id_token(claims, **options)}
        if params.get("state") is not None:
            fields["state"] = params["state"]
        return AuthResponse(action_url=redirect_uri, fields=fields)

    def base_claims(
        self,
        client_id: str,
        user_id: str,
        context_id: str,
        nonce: str,
        message_type: str = MSG_RESOURCE_LINK,
        *,
        resource_link: Mapping[str, Any] | None = None,
        custom: Mapping[str, str] | None = None,
        target_link_uri: str | None = None,
        deployment_id: str | None = None,
        deep_linking_settings: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The exact claims a real launch would carry, for tests to tamper with and sign."""
        intent = self._make_intent(
            client_id,
            user_id,
            context_id,
            message_type,
            resource_link,
            custom,
            target_link_uri,
            deployment_id,
            deep_linking_settings,
        )
        return self._build_claims(intent, nonce)

    def _build_claims(self, intent: LaunchIntent, nonce: str) -> dict[str, Any]:
        with self._lock:
            tool = self._tools[intent.client_id]
            person = self._people[intent.user_id]
            course = self._courses[intent.context_id]
            enrollment = self._enrollments[(intent.context_id, intent.user_id)]
            link = (
                self._links.get((intent.context_id, intent.resource_link_id))
                if intent.resource_link_id
                else None
            )
            bound_items = (
                [
                    li
                    for li in self._line_items.values()
                    if li.context_id == intent.context_id
                    and li.resource_link_id == intent.resource_link_id
                    and li.client_id == tool.client_id
                ]
                if link
                else []
            )
            tool, person, course, enrollment, link = copy.deepcopy(
                (tool, person, course, enrollment, link)
            )
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": person.user_id,
            "aud": tool.client_id,
            "azp": tool.client_id,
            "exp": now + ID_TOKEN_LIFETIME,
            "iat": now,
            "nonce": nonce,
            CLAIM_MESSAGE_TYPE: intent.message_type,
            CLAIM_VERSION: LTI_VERSION,
            CLAIM_DEPLOYMENT_ID: intent.deployment_id,
            CLAIM_TARGET_LINK_URI: intent.target_link_uri,
            CLAIM_ROLES: list(enrollment.roles),
            CLAIM_CONTEXT: {
                "id": course.context_id,
                "label": course.label,
                "title": course.title,
                "type": [COURSE_OFFERING],
            },
            CLAIM_TOOL_PLATFORM: {
                "guid": self.guid,
                "name": self.name,
                "contact_email": "lms-admin@example.edu",
                "description": "Development LMS for Learning Commons",
                "url": self.issuer,
                "product_family_code": PRODUCT_FAMILY_CODE,
                "version": PRODUCT_VERSION,
            },
            CLAIM_LAUNCH_PRESENTATION: {
                "document_target": "iframe",
                "return_url": self.return_url(course.context_id),
                "locale": person.locale,
            },
            CLAIM_LIS: {
                "person_sourcedid": person.sourced_id,
                "course_offering_sourcedid": course.sourced_id,
                "course_section_sourcedid": f"{course.sourced_id}-S1",
            },
        }
        personal = {
            "name": person.name,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "email": person.email,
            "picture": person.picture or self.avatar_url(person.user_id),
            "locale": person.locale,
        }
        for claim, value in personal.items():
            if tool.claims is None or claim in tool.claims:
                claims[claim] = value
        if enrollment.mentees:
            claims[CLAIM_ROLE_SCOPE_MENTOR] = list(enrollment.mentees)
        if link is not None:
            claims[CLAIM_RESOURCE_LINK] = {"id": link.resource_link_id, "title": link.title}
            if link.description:
                claims[CLAIM_RESOURCE_LINK]["description"] = link.description
        custom = substitute(
            intent.custom,
            person,
            course,
            enrollment,
            link,
            platform_guid=self.guid,
            platform_name=self.name,
        )
        if custom:
            claims[CLAIM_CUSTOM] = custom
        if SCOPE_NRPS in tool.scopes:
            claims[CLAIM_NRPS] = {
                "context_memberships_url": self.memberships_url(course.context_id),
                "service_versions": ["2.0"],
            }
        ags_scopes = [s for s in AGS_SCOPES if s in tool.scopes]
        if ags_scopes:
            ags: dict[str, Any] = {
                "scope": ags_scopes,
                "lineitems": self.lineitems_url(course.context_id),
            }
            if len(bound_items) == 1:
                ags["lineitem"] = self.lineitem_url(course.context_id, bound_items[0].lineitem_id)
            claims[CLAIM_AGS] = ags
        if SCOPE_GROUPS in tool.scopes:
            claims[CLAIM_GROUPS] = {
                "context_groups_url": self.groups_url(course.context_id),
                "context_group_sets_url": self.group_sets_url(course.context_id),
                "scope": [SCOPE_GROUPS],
                "service_versions": ["1.0"],
            }
        if intent.message_type == MSG_DEEP_LINKING:
            assert intent.dl_settings is not None
            claims[CLAIM_DL_SETTINGS] = dict(intent.dl_settings)
            data = intent.dl_settings.get("data")
            with self._lock:
                self._pending_deep_links[str(data)] = PendingDeepLink(
                    tool.client_id,
                    intent.deployment_id,
                    course.context_id,
                    person.user_id,
                    dict(intent.dl_settings),
                    nonce,
                    time.time(),
                )
        return claims

    def tamper_next_launch(
        self,
        claims_hook: ClaimsHook | None = None,
        **sign_options: Any,
    ) -> None:
        """Make the next :meth:`authorize` call emit a doctored id_token.

        ``claims_hook`` may mutate the claims in place or return new ones;
        ``sign_options`` are passed to :meth:`make_id_token` (``key_pem``, ``kid``,
        ``alg``, ``headers``).  Lets security tests go through the real HTTP flow.
        """
        with self._lock:
            self._tamper = (claims_hook, dict(sign_options))
