"""Imports every model module so that ``Base.metadata`` knows all tables (Alembic, tests)."""

from plugin.lti import models as lti_models  # noqa: F401
