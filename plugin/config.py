"""Configuration from the environment (12-factor).

Every setting has a development default so that ``make run`` works on a fresh machine; production refuses
to start with the defaults that would be unsafe there (see :func:`check_production`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - the value production refuses


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict[str, str], name: str, default: int) -> int:
    value = (env.get(name) or "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r} is not a whole number.") from exc
    if number < 0:
        raise ConfigError(f"{name} must not be negative.")
    return number


def _default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'commons.db'}"


DEFAULT_PORT = 5000


def development_base_url(env: dict[str, str]) -> str:
    """The base URL when ``TOOL_BASE_URL`` is not set: this machine on ``PORT`` (default 5000), so
    that ``PORT=5050 make run`` hands out launch URLs on the port it really serves."""
    port = (env.get("PORT") or "").strip() or str(DEFAULT_PORT)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"PORT={port!r} is not a port number (1-65535).")
    return f"http://localhost:{int(port)}"


@dataclass
class Settings:
    """The settings the app reads; built from the environment by :meth:`from_env`."""

    env: str = "development"
    database_url: str = ""
    secret_key: str = DEFAULT_SECRET
    tool_base_url: str = f"http://localhost:{DEFAULT_PORT}"
    # COMMONS_SANDBOX: whether the development server (``python -m sandbox``) mounts the sandbox
    # LMS on the app; the app itself never does, and production refuses the setting on.
    sandbox_enabled: bool = True
    session_token_max_age: int = 8 * 3600
    url_token_max_age: int = 15 * 60
    frame_ancestors: list[str] = field(default_factory=list)
    oidc_state_max_age: int = 600
    # At most this many logins per platform and client address within the window (0: no cap).
    oidc_login_limit: int = 300
    oidc_login_window: int = 600
    max_id_token_bytes: int = 64 * 1024
    # A launch queues a roster sync when the course's roster is older than this (seconds).
    roster_max_age: int = 24 * 3600
    # Proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
    trusted_proxies: int = 0
    tool_name: str = "Learning Commons"
    # Dynamic registration without an invite: allowed only when on, and then the new registration
    # waits for the operator's approval (``commons platform approve``) before it can launch.
    open_registration: bool = False
    # Outbound fetches (CASE URL import, dynamic registration) to private, loopback or link-local
    # addresses. ``None``: allowed outside production, refused in production (see
    # :attr:`private_hosts_allowed`).
    allow_private_hosts: bool | None = None
    # Outbound e-mail (plugin/mail, docs/email.md). No SMTP_HOST: nothing is sent, mail stays
    # queued in the outbox (in development the sandbox's /sandbox/mail page shows it).
    smtp_host: str = ""
    smtp_port: int = 0  # 0: 465 with SMTP_SSL, 587 with SMTP_STARTTLS, else 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    mail_from: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, instance_path: Path, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        commons_env = env.get("COMMONS_ENV", "development").strip().lower()
        is_prod = commons_env == "production"
        return cls(
            env=commons_env,
            database_url=env.get("DATABASE_URL") or _default_database_url(instance_path),
            secret_key=env.get("SECRET_KEY") or DEFAULT_SECRET,
            tool_base_url=(env.get("TOOL_BASE_URL") or development_base_url(env)).rstrip("/"),
            sandbox_enabled=_bool(env.get("COMMONS_SANDBOX"), default=not is_prod),
            session_token_max_age=int(env.get("COMMONS_SESSION_MAX_AGE", 8 * 3600)),
            open_registration=_bool(env.get("OPEN_REGISTRATION"), default=False),
            allow_private_hosts=_bool(env.get("ALLOW_PRIVATE_HOSTS"), default=not is_prod),
            oidc_login_limit=_int(env, "OIDC_LOGIN_LIMIT", 300),
            oidc_login_window=_int(env, "OIDC_LOGIN_WINDOW", 600),
            roster_max_age=_int(env, "ROSTER_MAX_AGE", 24 * 3600),
            trusted_proxies=_int(env, "TRUSTED_PROXIES", 0),
            url_token_max_age=int(env.get("COMMONS_URL_TOKEN_MAX_AGE", 15 * 60)),
            frame_ancestors=parse_frame_ancestors(env.get("FRAME_ANCESTORS", "")),
            smtp_host=(env.get("SMTP_HOST") or "").strip(),
            smtp_port=_int(env, "SMTP_PORT", 0),
            smtp_username=env.get("SMTP_USERNAME") or "",
            smtp_password=env.get("SMTP_PASSWORD") or "",
            smtp_starttls=_bool(env.get("SMTP_STARTTLS"), default=False),
            smtp_ssl=_bool(env.get("SMTP_SSL"), default=False),
            mail_from=(env.get("MAIL_FROM") or "").strip(),
        )

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def private_hosts_allowed(self) -> bool:
        """Whether outbound fetches (:mod:`plugin.netguard`) may reach private, loopback or
        link-local addresses: ``ALLOW_PRIVATE_HOSTS``, by default on outside production only."""
        if self.allow_private_hosts is None:
            return not self.is_production
        return self.allow_private_hosts

    @property
    def smtp_effective_port(self) -> int:
        """``SMTP_PORT``, or the usual port of the chosen transport: 465 (SSL), 587 (STARTTLS),
        25 (plain)."""
        if self.smtp_port:
            return self.smtp_port
        return 465 if self.smtp_ssl else 587 if self.smtp_starttls else 25

    @property
    def is_https(self) -> bool:
        return self.tool_base_url.startswith("https://")

    @property
    def secure_cookies(self) -> bool:
        """Whether browsers keep ``Secure`` cookies from this tool (and so ``SameSite=None`` and
        ``Partitioned`` ones): over HTTPS, and on ``http://localhost``, which browsers treat as a
        secure context. Elsewhere over plain HTTP the launch cookie is not offered at all."""
        host = (urlsplit(self.tool_base_url).hostname or "").lower()
        return self.is_https or host == "localhost" or host.endswith(".localhost")


# A CSP source naming an origin: scheme, host (optionally "*." in front), optional port or ":*".
_FRAME_SOURCE = re.compile(r"https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:(\d{1,5}|\*))?")


def parse_frame_ancestors(value: str) -> list[str]:
    """``FRAME_ANCESTORS``: extra origins that may frame the tool, separated by spaces or commas
    (``https://school.instructure.com``, ``https://*.instructure.com``), or ``*`` for any site.
    Anything else is refused, so a typo cannot open the tool to every site or break the header."""
    sources = [part for part in re.split(r"[\s,]+", value.strip()) if part]
    for source in sources:
        if source != "*" and not _FRAME_SOURCE.fullmatch(source.rstrip("/")):
            raise ConfigError(
                f"FRAME_ANCESTORS: {source!r} is not an origin such as https://lms.example.edu "
                "or https://*.example.edu."
            )
    return [source.rstrip("/") for source in sources]


def check_production(settings: Settings) -> None:
    """Refuse unsafe production settings, and mail settings that cannot work anywhere
    (:func:`check_mail`), with a message that says what to fix."""
    if settings.env not in {"development", "production", "testing"}:
        raise ConfigError(
            f"COMMONS_ENV={settings.env!r} is not known: use development, testing or production."
        )
    check_mail(settings)
    if not settings.is_production:
        return
    problems = []
    if settings.secret_key == DEFAULT_SECRET or len(settings.secret_key) < 32:
        problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
    if not settings.is_https:
        problems.append("TOOL_BASE_URL must be an https:// URL (LMSs embed the tool over HTTPS)")
    if settings.sandbox_enabled:
        problems.append("the sandbox platform must be off (unset COMMONS_SANDBOX)")
    if settings.smtp_host and not settings.mail_from:
        problems.append("MAIL_FROM must be set when SMTP_HOST is (the sender of every e-mail)")
    if settings.smtp_password and not (settings.smtp_starttls or settings.smtp_ssl):
        problems.append("SMTP_PASSWORD is only sent over SMTP_STARTTLS or SMTP_SSL")
    if problems:
        raise ConfigError("Refusing to start in production: " + "; ".join(problems) + ".")


def check_mail(settings: Settings) -> None:
    """Refuse SMTP settings that cannot work anywhere: both ``SMTP_SSL`` and ``SMTP_STARTTLS``
    (one connection is either TLS from the start or upgraded), a port out of range, or a user
    name without a password (or the other way round)."""
    if settings.smtp_ssl and settings.smtp_starttls:
        raise ConfigError("Set SMTP_SSL or SMTP_STARTTLS, not both (SSL: port 465; STARTTLS: 587).")
    if settings.smtp_port > 65535:
        raise ConfigError(f"SMTP_PORT={settings.smtp_port} is not a port number (1-65535).")
    if bool(settings.smtp_username) != bool(settings.smtp_password):
        raise ConfigError("Set both SMTP_USERNAME and SMTP_PASSWORD, or neither.")
