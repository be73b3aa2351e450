"""One engine per action-server process; each action call gets its own unit of work."""
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from billing_core.config import get_settings
from billing_core.db import make_engine, make_session_factory


@lru_cache
def session_factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine(get_settings().database_url))
