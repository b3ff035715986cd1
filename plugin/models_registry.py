"""Imports every model module so that ``Base.metadata`` knows all tables (Alembic, tests)."""

from plugin import jobs  # noqa: F401 - the job queue
from plugin.lti import models as lti_models  # noqa: F401
from plugin.mail import models as mail_models  # noqa: F401
from plugin.performance import models as performance_models  # noqa: F401
from plugin.performance.plans import models as plan_models  # noqa: F401
from plugin.social import models as social_models  # noqa: F401
from plugin.social.mentoring import models as mentoring_models  # noqa: F401
from plugin.xapi import models as xapi_models  # noqa: F401
