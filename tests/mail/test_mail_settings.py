"""The SMTP settings from the environment (plugin/config.py) and what refuses to start."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugin.config import ConfigError, Settings, check_production


def _production(**changes) -> Settings:
    return Settings(
        env="production",
        secret_key="s" * 40,
        tool_base_url="https://commons.example.edu",
        sandbox_enabled=False,
        **changes,
    )


def test_smtp_settings_come_from_the_environment(tmp_path: Path) -> None:
    env = {
        "SMTP_HOST": "smtp.example.edu",
        "SMTP_PORT": "2525",
        "SMTP_USERNAME": "commons",
        "SMTP_PASSWORD": "pw",
        "SMTP_STARTTLS": "1",
        "MAIL_FROM": "Learning Commons <commons@example.edu>",
    }
    s = Settings.from_env(tmp_path, env)
    assert (s.smtp_host, s.smtp_port, s.smtp_username, s.smtp_password) == (
        "smtp.example.edu",
        2525,
        "commons",
        "pw",
    )
    assert s.smtp_starttls and not s.smtp_ssl and s.smtp_effective_port == 2525
    assert s.mail_from == "Learning Commons <commons@example.edu>"
    unset = Settings.from_env(tmp_path, {})
    assert unset.smtp_host == "" and unset.smtp_effective_port == 25
    assert Settings(smtp_ssl=True).smtp_effective_port == 465
    assert Settings(smtp_starttls=True).smtp_effective_port == 587


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"smtp_ssl": True, "smtp_starttls": True}, "not both"),
        ({"smtp_port": 70000}, "SMTP_PORT"),
        ({"smtp_username": "u"}, "SMTP_USERNAME and SMTP_PASSWORD"),
    ],
)
def test_mail_settings_that_cannot_work_refuse_to_start_anywhere(changes, words) -> None:
    with pytest.raises(ConfigError, match=words):
        check_production(Settings(env="development", **changes))


def test_production_needs_a_sender_and_tls_for_a_password() -> None:
    check_production(_production())  # no SMTP at all is fine: mail stays queued
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        check_production(_production(smtp_host="smtp.example.edu"))
    with pytest.raises(ConfigError, match="SMTP_STARTTLS or SMTP_SSL"):
        check_production(
            _production(
                smtp_host="smtp.example.edu",
                mail_from="c@example.edu",
                smtp_username="u",
                smtp_password="p",
            )
        )
    check_production(
        _production(
            smtp_host="smtp.example.edu",
            mail_from="c@example.edu",
            smtp_username="u",
            smtp_password="p",
            smtp_starttls=True,
        )
    )


def test_the_app_hands_the_worker_its_mail_settings(app, tool_server) -> None:
    assert app.config["SMTP_HOST"] == ""
    assert app.config["MAIL_FROM"] == '"Learning Commons" <noreply@127.0.0.1>'
    assert app.config["MAIL_BASE_URL"] == tool_server.url
