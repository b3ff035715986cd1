"""Alembic glue: the project's migrations in ``migrations/`` run against the app's database."""

from __future__ import annotations

import sysconfig
from pathlib import Path

from alembic import command
from alembic.config import Config

# A checkout (and an editable install) has migrations/ beside plugin/; an installed wheel carries
# them as data files under <prefix>/share/learning-commons/ (setup.cfg [options.data_files]).
_CHECKOUT = Path(__file__).resolve().parent.parent / "migrations"
_INSTALLED = Path(sysconfig.get_path("data")) / "share" / "learning-commons" / "migrations"


def migrations_dir() -> Path:
    for candidate in (_CHECKOUT, _INSTALLED):
        if (candidate / "env.py").is_file():
            return candidate
    raise RuntimeError(f"No migrations found (looked in {_CHECKOUT} and {_INSTALLED}).")


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
