"""Alembic environment of the billing store (URL from the caller or BILLING_DATABASE_URL)."""
from alembic import context

from billing_core.config import get_settings
from billing_core.migrate import run_migrations
from billing_core.models import Base

run_migrations(context, metadata=Base.metadata, default_url=get_settings().database_url)
