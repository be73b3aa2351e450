import pytest

from billing_core.db import make_engine, make_session_factory
from handoff.migrate import upgrade
from tests.databases import migrated_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sessions(request, tmp_path):
    """A committed, migrated handoff store of each backend (tests use several connections)."""
    with migrated_database(request.param, tmp_path, upgrade) as url:
        engine = make_engine(url, **({} if request.param == "sqlite" else {"pool_size": 60,
                                                                             "max_overflow": 10}))
        yield make_session_factory(engine)
        engine.dispose()
