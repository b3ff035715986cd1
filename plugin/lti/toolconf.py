"""pylti1p3's tool configuration backed by our registration tables (not a JSON file)."""

from __future__ import annotations

import threading
import time
from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin import netguard
from plugin.lti import keys
from plugin.lti.models import Deployment, Platform

JWKS_TTL_SECONDS = 300
_jwks_cache: dict[str, tuple[float, dict]] = {}
_jwks_lock = threading.Lock()


class KeySetError(RuntimeError):
    pass


# A key set URL is the operator's (a registration made by invite, by hand, or approved), so private
# hosts are allowed (an LMS on the intranet); the fetch still has a total deadline and a size cap,
# and a malformed answer is a refused launch, never a 500.
JWKS_LIMITS = netguard.Limits(deadline=10.0, max_bytes=1024 * 1024, allow_private_hosts=True)


def fetch_platform_jwks(url: str, *, force: bool = False) -> dict:
    """A platform's public key set, cached for a few minutes; ``force`` refetches (key rotation)."""
    now = time.monotonic()
    with _jwks_lock:
        hit = _jwks_cache.get(url)
        if hit and not force and now - hit[0] < JWKS_TTL_SECONDS:
            return hit[1]
    try:
        data, _final = netguard.get_json(url, limits=JWKS_LIMITS)
    except netguard.FetchError as exc:
        raise KeySetError(f"Could not read the platform's key set: {exc.message}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise KeySetError(f"The platform's key set at {url} has no 'keys' list.")
    with _jwks_lock:
        _jwks_cache[url] = (now, data)
    return data


def clear_jwks_cache() -> None:
    with _jwks_lock:
        _jwks_cache.clear()


class DbToolConf(ToolConfAbstract):
    """Registrations, deployments and the tool's key from the database. Every issuer is treated as
    possibly having many client ids, so lookups always go by (issuer, client_id)."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.platform: Platform | None = None

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def platform_for(self, iss: str, client_id: str | None) -> Platform | None:
        if not iss or not client_id:
            return None
        return self.session.scalars(
            select(Platform).where(Platform.issuer == iss, Platform.client_id == client_id)
        ).first()

    def registration_for(self, platform: Platform, *, with_key_set: bool = True) -> Registration:
        """pylti1p3's registration of ``platform``. ``with_key_set=False`` skips reading the
        platform's public keys (needed to verify launches, not to call its services)."""
        key = keys.active_key(self.session)
        reg = Registration()
        reg.set_issuer(platform.issuer)
        reg.set_client_id(platform.client_id)
        reg.set_auth_login_url(platform.auth_login_url)
        reg.set_auth_token_url(platform.auth_token_url)
        if platform.auth_audience:
            reg.set_auth_audience(platform.auth_audience)
        reg.set_key_set_url(platform.key_set_url)
        if with_key_set:
            reg.set_key_set(fetch_platform_jwks(platform.key_set_url))
        reg.set_tool_private_key(key.private_key_pem)
        reg.set_tool_public_key(key.public_key_pem)
        return reg

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        raise NotImplementedError("Every lookup goes by issuer and client id.")

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Registration | None:
        platform = self.platform_for(iss, client_id)
        if platform is None:
            return None
        self.platform = platform
        return self.registration_for(platform)

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        raise NotImplementedError("Every lookup goes by issuer and client id.")

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        platform = self.platform_for(iss, client_id)
        if platform is None or not deployment_id:
            return None
        found = self.session.scalars(
            select(Deployment).where(
                Deployment.platform_id == platform.id,
                Deployment.deployment_id == str(deployment_id),
            )
        ).first()
        return LtiDeployment().set_deployment_id(found.deployment_id) if found else None

    def get_jwks(self, iss: str | None = None, client_id: str | None = None, **kwargs: Any) -> dict:
        return keys.jwks(self.session)
