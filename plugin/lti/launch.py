"""OIDC login and launch validation (services: plain arguments and a session, no Flask request).

pylti1p3 checks the id_token's signature, registration, deployment and message claims. Two of its
defects are covered here: its nonces are not single-use (we bind the nonce to a one-time state record
and consume it atomically), and its state check relies on cookies alone (we also accept LTI Platform
Storage, so a browser that blocks third-party cookies can still launch).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from pylti1p3.exception import LtiException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.request import Request
from pylti1p3.session import SessionService
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from plugin.config import Settings
from plugin.db import utcnow
from plugin.lti import claims as C
from plugin.lti import identity
from plugin.lti.errors import LaunchError
from plugin.lti.models import PLATFORM_ACTIVE, LaunchSession, OidcState, Platform
from plugin.lti.toolconf import DbToolConf, KeySetError, fetch_platform_jwks

ALLOWED_ALGS = ("RS256", "RS384", "RS512")
MAX_ID_LENGTH = 255  # sub, context id, resource link id (LTI 1.3 Core)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class LoginRedirect:
    """Where the browser goes next, and the secret that binds the state to this browser."""

    auth_url: str
    state: str
    nonce: str
    browser_secret: str
    storage_target: str | None
    platform_origin: str
    cookie_max_age: int


def start_login(
    session: Session,
    settings: Settings,
    params: dict[str, str],
    *,
    client_ip: str | None = None,
) -> LoginRedirect:
    """Validate an OIDC third-party initiated login and prepare the authentication request.

    ``client_ip`` (the view passes the request's remote address) caps how many logins one address
    may start at one platform within ``settings.oidc_login_window``: anonymous logins cannot fill
    the state table (the purge deletes states after their maximum age)."""
    iss = (params.get("iss") or "").strip()
    login_hint = params.get("login_hint") or ""
    target = params.get("target_link_uri") or ""
    client_id = params.get("client_id") or None
    if not iss:
        raise LaunchError(
            "missing_iss",
            "The login request has no issuer (iss).",
            admin_hint="The platform must send iss in the OIDC login initiation.",
        )
    if not login_hint:
        raise LaunchError(
            "missing_login_hint",
            "The login request has no login_hint.",
            admin_hint="The platform must send login_hint.",
        )
    if not target:
        raise LaunchError(
            "missing_target",
            "The login request has no target_link_uri.",
            admin_hint="The platform must send target_link_uri.",
        )
    if not _is_our_url(settings, target):
        raise LaunchError(
            "bad_target",
            "The login asks to launch an address that is not this tool.",
            admin_hint=f"target_link_uri must be an address under {settings.tool_base_url}/.",
        )
    query = select(Platform).where(Platform.issuer == iss)
    if client_id:
        query = query.where(Platform.client_id == client_id)
    platforms = session.scalars(query).all()
    if not platforms:
        raise LaunchError(
            "unknown_platform",
            "This learning platform is not registered with Learning Commons.",
            admin_hint=f"Register issuer {iss!r}"
            + (f" with client id {client_id!r}" if client_id else "")
            + " (dynamic registration, or `commons platform add`).",
            status=403,
        )
    if len(platforms) > 1:  # no client_id: a registration pending approval does not count
        platforms = [p for p in platforms if p.status == PLATFORM_ACTIVE] or platforms
    if len(platforms) > 1:
        raise LaunchError(
            "ambiguous_client",
            "The login request does not say which registration it is for.",
            admin_hint="This issuer has several client ids; the platform must send client_id.",
        )
    platform = platforms[0]
    _require_active(platform)
    _check_login_cap(session, settings, platform, client_ip)
    state = "st-" + secrets.token_urlsafe(24)
    nonce = "nc-" + secrets.token_urlsafe(24)
    browser_secret = secrets.token_urlsafe(24)
    storage_target = params.get("lti_storage_target") or None
    session.add(
        OidcState(
            state=state,
            nonce=nonce,
            browser_secret_hash=hash_secret(browser_secret),
            platform_id=platform.id,
            login_params={k: v for k, v in params.items() if isinstance(v, str)},
            storage_target=storage_target,
            client_ip=client_ip[:45] if client_ip else None,
        )
    )
    auth_params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": settings.tool_base_url + "/lti/launch",
        "state": state,
        "nonce": nonce,
        "login_hint": login_hint,
    }
    if params.get("lti_message_hint"):
        auth_params["lti_message_hint"] = params["lti_message_hint"]
    sep = "&" if "?" in platform.auth_login_url else "?"
    parts = urlsplit(platform.auth_login_url)
    return LoginRedirect(
        auth_url=platform.auth_login_url + sep + urlencode(auth_params),
        state=state,
        nonce=nonce,
        browser_secret=browser_secret,
        storage_target=storage_target,
        platform_origin=f"{parts.scheme}://{parts.netloc}",
        cookie_max_age=settings.oidc_state_max_age,
    )


def _require_active(platform: Platform | None) -> None:
    """A pending registration (made by open registration, not yet approved) cannot launch."""
    if platform is not None and platform.status != PLATFORM_ACTIVE:
        raise LaunchError(
            "registration_pending",
            "This platform's registration of Learning Commons waits for the approval of the "
            "tool's administrator; launches are refused until then.",
            admin_hint="The registration was made without an invitation (open registration). "
            f"The administrator of Learning Commons approves it with "
            f"`commons platform approve {platform.id}`.",
            status=403,
        )


_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


def _origin_and_path(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, path) of an absolute http(s) URL without user info, or None."""
    if _UNSAFE_URL_CHARS.search(url):
        return None  # whitespace, controls and backslashes: browsers and parsers disagree on them
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme], parts.path


def _check_login_cap(
    session: Session, settings: Settings, platform: Platform, client_ip: str | None
) -> None:
    """Refuse (429, nothing written) a login when this address already started
    ``settings.oidc_login_limit`` logins at this platform within the window."""
    limit = settings.oidc_login_limit
    if not client_ip or not limit:
        return
    since = utcnow() - timedelta(seconds=settings.oidc_login_window)
    recent = session.scalar(
        select(func.count())
        .select_from(OidcState)
        .where(
            OidcState.platform_id == platform.id,
            OidcState.client_ip == client_ip[:45],
            OidcState.created_at >= since,
        )
    )
    if (recent or 0) >= limit:
        minutes = max(1, round(settings.oidc_login_window / 60))
        raise LaunchError(
            "too_many_logins",
            "Too many launches were started from your network in the last few minutes. "
            f"Please wait {minutes} minute{'s' if minutes != 1 else ''} and open the activity "
            "again from your course.",
            admin_hint=f"More than {limit} logins in {minutes} minutes came from one address "
            "for this platform (OIDC_LOGIN_LIMIT, OIDC_LOGIN_WINDOW). Behind a proxy, set "
            "TRUSTED_PROXIES so that the client's own address is counted.",
            status=429,
        )


def _is_our_url(settings: Settings, url: str) -> bool:
    """Whether ``url`` is an address of this tool: the same scheme, host and port as the tool's
    base URL, no user info, and a path at or under the base URL's path with no dot segments
    (plain or percent-encoded, which browsers resolve). Used for ``target_link_uri`` at login and
    at launch."""
    ours = _origin_and_path(settings.tool_base_url)
    theirs = _origin_and_path(url)
    if ours is None or theirs is None or ours[:3] != theirs[:3]:
        return False
    base_path, path = ours[3].rstrip("/"), theirs[3]
    if base_path and path != base_path and not path.startswith(base_path + "/"):
        return False
    segments = unquote(path).replace("\\", "/").split("/")
    return not any(s in (".", "..") for s in segments)


class _ParamsRequest(Request):
    def __init__(self, params: dict[str, str], secure: bool) -> None:
        self._params = params
        self._secure = secure

    @property
    def session(self) -> dict:
        return {}

    def is_secure(self) -> bool:
        return self._secure

    def get_param(self, key: str) -> str:
        return self._params.get(key)  # type: ignore[return-value]


class _NoCookies:
    def get_cookie(self, name: str) -> None:
        return None

    def set_cookie(self, *args: Any, **kwargs: Any) -> None:
        return None


class _StrictLaunch(MessageLaunch):
    """pylti1p3's validation with our state/nonce handling and stricter JWT checks."""

    def __init__(self, params: dict[str, str], conf: DbToolConf, oidc: OidcState, secure: bool):
        request = _ParamsRequest(params, secure)
        super().__init__(
            request, conf, session_service=SessionService(request), cookie_service=_NoCookies()
        )
        self._params = params
        self._oidc = oidc

    def _get_request_param(self, key: str) -> str:
        return self._params.get(key)  # type: ignore[return-value]

    def get_client_id(self) -> str:
        body = self._get_jwt_body()
        aud = body.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if len(auds) > 1 or "azp" in body:
            return body.get("azp")  # type: ignore[return-value]
        return auds[0]

    def validate_state(self) -> _StrictLaunch:
        return self  # checked (and bound to the browser) before pylti1p3 runs

    def validate_nonce(self) -> _StrictLaunch:
        nonce = self._get_jwt_body().get("nonce")
        if not nonce or not hmac.compare_digest(str(nonce), self._oidc.nonce):
            raise LaunchError(
                "bad_nonce",
                "The launch's nonce does not belong to this login.",
                admin_hint="The id_token must carry the nonce of the authentication request.",
                status=403,
            )
        return self

    def get_public_key(self) -> tuple[str, str]:
        try:
            return super().get_public_key()
        except LtiException:
            # Unknown kid: the platform may have rotated its keys; look once more.
            reg = self._registration
            assert reg is not None
            reg.set_key_set(fetch_platform_jwks(reg.get_key_set_url(), force=True))
            return super().get_public_key()

    def save_launch_data(self) -> _StrictLaunch:
        return self

    def claims(self) -> dict[str, Any]:
        return dict(self._get_jwt_body())


def _decode_segment(segment: str) -> Any:
    """A JWT segment's JSON; nesting too deep for the parser is a ``ValueError`` like bad JSON."""
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except RecursionError as exc:
        raise ValueError("The JSON is nested too deeply.") from exc


@dataclass
class LaunchResult:
    launch: LaunchSession
    claims: dict[str, Any]


def complete_launch(
    session: Session,
    settings: Settings,
    params: dict[str, str],
    *,
    browser_secret: str | None,
) -> LaunchResult:
    """Validate an id_token POSTed by the platform and record who launched what.

    Nothing is written unless every check passes; the caller commits the returned session state.
    """
    id_token = params.get("id_token") or ""
    state = params.get("state") or ""
    if not id_token:
        error = params.get("error")
        if error:
            raise LaunchError(
                "platform_error",
                f"The platform refused the login: {error}. {params.get('error_description', '')}",
                admin_hint="See the platform's logs for the authentication request.",
            )
        raise LaunchError(
            "missing_id_token",
            "The launch has no id_token.",
            admin_hint="The platform must POST id_token and state.",
        )
    if len(id_token.encode()) > settings.max_id_token_bytes:
        raise LaunchError(
            "token_too_large", "The launch message is too large to be genuine.", status=413
        )
    if not state:
        raise LaunchError(
            "missing_state",
            "The launch has no state.",
            admin_hint="The platform must return the state of the login request.",
        )
    parts = id_token.split(".")
    if len(parts) != 3:
        raise LaunchError("malformed_token", "The id_token is not a signed JWT.")
    try:
        header = _decode_segment(parts[0])
        body = _decode_segment(parts[1])
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise LaunchError("malformed_token", "The id_token cannot be decoded.") from exc
    if not isinstance(header, dict) or not isinstance(body, dict):
        raise LaunchError("malformed_token", "The id_token is not a JSON object.")
    if header.get("alg") not in ALLOWED_ALGS:
        raise LaunchError(
            "bad_alg",
            f"The id_token's algorithm {header.get('alg')!r} is refused.",
            admin_hint="Platforms must sign id_tokens with RS256.",
            status=403,
        )
    if not header.get("kid"):
        raise LaunchError("missing_kid", "The id_token names no signing key (kid).", status=403)

    oidc = session.get(OidcState, state)
    now = utcnow()
    if oidc is None:
        raise LaunchError(
            "unknown_state",
            "This launch does not match a login that started here.",
            admin_hint="The state is unknown: start the launch again from the course.",
            status=403,
        )
    if oidc.used_at is not None:
        raise LaunchError(
            "replayed",
            "This launch was already used.",
            status=403,
            admin_hint="An id_token and its state can be used only once.",
        )
    if now - oidc.created_at > timedelta(seconds=settings.oidc_state_max_age):
        raise LaunchError(
            "state_expired", "The login took too long; please launch again.", status=403
        )
    if not browser_secret or not hmac.compare_digest(
        hash_secret(browser_secret), oidc.browser_secret_hash
    ):
        raise LaunchError(
            "state_not_bound",
            "This launch did not start in this browser, or the browser blocked the tool's cookie.",
            admin_hint="Third-party cookies may be blocked: open the tool in a new window.",
            status=403,
            retry_url="/lti/login?" + urlencode({**oidc.login_params, "new_window": "1"}),
        )

    _require_active(session.get(Platform, oidc.platform_id))
    conf = DbToolConf(session)
    launch = _StrictLaunch(params, conf, oidc, secure=settings.is_https)
    launch.set_jwt_verify_options({"verify_aud": False, "require": ["exp", "iat", "sub", "iss"]})
    try:
        launch.validate()
    except LaunchError:
        raise
    except KeySetError as exc:
        raise LaunchError(
            "key_set_unavailable",
            "The platform's keys could not be read.",
            admin_hint=str(exc),
            status=400,
        ) from exc
    except (LtiException, AssertionError, KeyError, TypeError, ValueError) as exc:
        raise LaunchError(
            "invalid_launch",
            f"The launch was refused: {exc}",
            admin_hint="Check the platform's registration of the tool.",
            status=403,
        ) from exc
    if conf.platform is None or conf.platform.id != oidc.platform_id:
        raise LaunchError(
            "wrong_platform",
            "The launch comes from another registration than the login.",
            status=403,
        )
    body = launch.claims()
    _check_claims(settings, body, conf.platform.client_id, oidc)

    consumed = session.execute(
        update(OidcState)
        .where(OidcState.state == oidc.state, OidcState.used_at.is_(None))
        .values(used_at=now)
    )
    if consumed.rowcount != 1:
        raise LaunchError("replayed", "This launch was already used.", status=403)
    record = identity.record_launch(session, settings, conf.platform, body)
    return LaunchResult(launch=record, claims=body)


def _check_claims(
    settings: Settings, body: dict[str, Any], client_id: str, oidc: OidcState
) -> None:
    aud = body.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    if client_id not in auds:
        raise LaunchError("bad_aud", "The launch is addressed to another tool.", status=403)
    if (len(auds) > 1 or "azp" in body) and body.get("azp") != client_id:
        raise LaunchError(
            "bad_azp", "The launch's authorized party (azp) is not this tool.", status=403
        )
    message_type = body.get(C.MESSAGE_TYPE)
    if message_type not in C.SUPPORTED_MESSAGES:
        raise LaunchError(
            "unsupported_message",
            f"Learning Commons does not handle {message_type!r} messages at this address.",
            admin_hint="Supported: LtiResourceLinkRequest and LtiDeepLinkingRequest.",
        )
    target = body.get(C.TARGET_LINK_URI)
    if not isinstance(target, str) or not _is_our_url(settings, target):
        raise LaunchError(
            "bad_target", "The launch's target_link_uri is not this tool.", status=403
        )
    login_target = oidc.login_params.get("target_link_uri")
    if message_type == C.RESOURCE_LINK_REQUEST and login_target and login_target != target:
        raise LaunchError(
            "target_mismatch",
            "The launch's target differs from the login's target_link_uri.",
            status=403,
        )
    if message_type == C.RESOURCE_LINK_REQUEST:
        context = body.get(C.CONTEXT)
        if not isinstance(context, dict) or not context.get("id"):
            raise LaunchError(
                "missing_context",
                "Learning Commons opens inside a course; the launch names none.",
                admin_hint="Place the tool in a course (the context claim).",
            )
    if message_type == C.DEEP_LINKING_REQUEST:
        settings_claim = body.get(C.DL_SETTINGS)
        if not isinstance(settings_claim, dict) or not settings_claim.get("deep_link_return_url"):
            raise LaunchError(
                "missing_dl_settings", "The deep linking request has no return address."
            )
    roles = body.get(C.ROLES)
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise LaunchError("bad_roles", "The launch's roles claim is not a list of role URIs.")
    for what, value in (
        ("user id (sub)", body.get("sub")),
        ("context id", _id_in(body, C.CONTEXT)),
        ("resource link id", _id_in(body, C.RESOURCE_LINK)),
    ):
        if value is not None and len(str(value)) > MAX_ID_LENGTH:
            raise LaunchError(
                "id_too_long",
                f"The launch's {what} is longer than {MAX_ID_LENGTH} characters.",
                admin_hint=f"LTI 1.3 limits sub, context and resource link ids to {MAX_ID_LENGTH}.",
            )


def _id_in(body: dict[str, Any], claim: str) -> Any:
    value = body.get(claim)
    return value.get("id") if isinstance(value, dict) else None
