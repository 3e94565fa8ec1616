"""Imports every model module so the metadata (and Alembic autogenerate) sees all tables."""

from lms import jobs as job_models
from lms import sitesettings as settings_models
from lms.auth import models as auth_models
from lms.authoring import models as authoring_models
from lms.catalog import models as catalog_models
from lms.certificates import models as certificate_models
from lms.learning import models as learning_models
from lms.quizzes import models as quiz_models
from lms.reports import models as report_models

__all__ = [
    "auth_models",
    "authoring_models",
    "catalog_models",
    "certificate_models",
    "job_models",
    "learning_models",
    "quiz_models",
    "report_models",
    "settings_models",
]
