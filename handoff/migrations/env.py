"""Alembic environment of the handoff store (URL from the caller or HANDOFF_DATABASE_URL)."""
from alembic import context

from billing_core.migrate import run_migrations
from handoff import models  # noqa: F401  (registers the tables)
from handoff.core.config import get_settings
from handoff.db import HandoffBase

run_migrations(context, metadata=HandoffBase.metadata, default_url=get_settings().database_url)
