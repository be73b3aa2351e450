"""Billing fixtures: every test runs against SQLite and PostgreSQL, in a rolled-back transaction."""
import os
import uuid
from datetime import date

import psycopg
import pytest
from sqlalchemy.orm import Session

from billing_core.db import make_engine, make_session_factory
from billing_core.migrate import upgrade
from billing_core.seed import seed_demo, seed_reference_data

PG_ADMIN_DSN = os.environ.get("TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_url(name: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def create_pg_database() -> tuple[str, str]:
    name = f"billing_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, _pg_url(name)


def drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path_factory):
    """A freshly migrated, empty database of each backend, for the whole test session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'billing.db'}"
        upgrade(url)
        yield url
        return
    name, url = create_pg_database()
    upgrade(url)
    yield url
    drop_pg_database(name)


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    """A session whose work is rolled back after the test, even what the code under test flushed."""
    connection = engine.connect()
    transaction = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield db
    db.close()
    transaction.rollback()
    connection.close()


@pytest.fixture
def today() -> date:
    return date.today()


@pytest.fixture
def demo(session, today):
    """The four demo customers, plans, policies and staff, inside the test's transaction."""
    seed_demo(session, today=today, staff_password="test-password")
    return session


@pytest.fixture
def reference(session):
    seed_reference_data(session)
    return session


@pytest.fixture
def committed_factory(database_url):
    """For tests that need several connections (concurrency): a separate, committed database."""
    if database_url.startswith("sqlite"):
        url = database_url.replace("billing.db", f"concurrent-{uuid.uuid4().hex[:6]}.db")
        upgrade(url)
        engine = make_engine(url)
        yield make_session_factory(engine)
        engine.dispose()
        return
    name, url = create_pg_database()
    upgrade(url)
    engine = make_engine(url, pool_size=10)
    yield make_session_factory(engine)
    engine.dispose()
    drop_pg_database(name)
