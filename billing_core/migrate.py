"""Alembic plumbing shared by the billing store and the handoff store.

Each store keeps its own migrations folder; its env.py calls `run_migrations`.
"""
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text

from billing_core.db import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str, migrations: Path = MIGRATIONS) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", migrations: Path = MIGRATIONS) -> None:
    command.upgrade(alembic_config(url, migrations), revision)


def run_migrations(context, *, metadata: MetaData, default_url: str) -> None:
    """Body of an env.py: offline SQL or online against the configured URL.

    render_as_batch lets ALTERs work on SQLite too.
    """
    url = context.config.get_main_option("sqlalchemy.url") or default_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Replicas starting together migrate one after the other (PostgreSQL runs the
                # whole upgrade in this transaction; the next one then finds it done).
                connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('alembic'))"))
            context.run_migrations()
    engine.dispose()
