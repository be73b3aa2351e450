"""Billing fixtures: every test runs against SQLite and PostgreSQL, in a rolled-back transaction."""
from datetime import date

import pytest
from sqlalchemy.orm import Session

from billing_core.db import make_engine, make_session_factory
from billing_core.migrate import upgrade
from billing_core.seed import seed_demo, seed_reference_data
from tests.databases import migrated_database

@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path_factory):
    """A freshly migrated, empty database of each backend, for the whole test session."""
    with migrated_database(request.param, tmp_path_factory.mktemp("db"), upgrade) as url:
        yield url


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
def committed_factory(database_url, tmp_path):
    """For tests that need several connections (concurrency): a separate, committed database."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with migrated_database(backend, tmp_path, upgrade) as url:
        engine = make_engine(url, **({} if backend == "sqlite" else {"pool_size": 10}))
        yield make_session_factory(engine)
        engine.dispose()
