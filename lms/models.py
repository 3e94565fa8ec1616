"""Imports every model module so the metadata (and Alembic autogenerate) sees all tables."""

from lms.auth import models as auth_models

__all__ = ["auth_models"]
