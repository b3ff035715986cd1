"""Refused LTI messages: what went wrong, for the person and for the administrator."""

from __future__ import annotations

from plugin.access import Refusal


class LaunchError(Refusal):
    """A refused login or launch. ``status`` is a 4xx; ``admin_hint`` says what to check; ``code``
    names the rule for the administrator (the error page shows it)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        admin_hint: str = "",
        status: int = 400,
        retry_url: str | None = None,
    ) -> None:
        super().__init__(status, message, title="This launch was refused", hint=admin_hint)
        self.code = code
        self.admin_hint = admin_hint
        self.retry_url = retry_url


class RegistrationError(Refusal):
    """A refused registration (dynamic or manual). ``message`` says why in words for the person
    registering; ``status`` is the 4xx a page shows, ``title`` its heading, ``hint`` what to do."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        title: str = "Registration failed",
        hint: str = "Check the platform's registration settings and try again.",
    ) -> None:
        super().__init__(status, message, title=title, hint=hint)
