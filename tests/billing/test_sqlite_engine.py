"""The SQLite engine: transactions of one process queue on a Python lock per database file."""
import threading
import time

import pytest
from sqlalchemy import text

from billing_core.db import make_engine


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE log (what TEXT)"))
    yield engine
    engine.dispose()


def holds_lock(connection) -> bool:
    return connection.connection.dbapi_connection.holds_write_lock


def test_the_lock_is_held_for_a_transaction_and_released_however_it_ends(engine):
    with engine.connect() as connection:
        assert not holds_lock(connection)
        with connection.begin():
            assert holds_lock(connection)
        assert not holds_lock(connection)  # committed

        transaction = connection.begin()
        assert holds_lock(connection)
        transaction.rollback()
        assert not holds_lock(connection)

    with pytest.raises(RuntimeError):
        with engine.begin() as connection:
            raise RuntimeError("fails mid-transaction")
    with engine.begin() as connection:  # would wait 30 s if the failed one had kept the lock
        connection.execute(text("INSERT INTO log VALUES ('after the failure')"))
        assert holds_lock(connection)


def test_a_second_engine_on_the_same_file_shares_the_lock(engine, tmp_path):
    other = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    try:
        with engine.connect() as first, other.connect() as second:
            first.begin()
            assert first.connection.dbapi_connection.write_lock is second.connection.dbapi_connection.write_lock
            first.rollback()
    finally:
        other.dispose()


def test_a_second_writer_waits_for_the_first_to_commit(engine):
    first_has_lock, order = threading.Event(), []

    def first() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO log VALUES ('first')"))
            first_has_lock.set()
            time.sleep(0.2)
            order.append(("first commits", time.perf_counter()))

    def second() -> None:
        first_has_lock.wait()
        with engine.begin() as connection:
            order.append(("second begins", time.perf_counter()))
            connection.execute(text("INSERT INTO log VALUES ('second')"))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert [name for name, _ in order] == ["first commits", "second begins"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT what FROM log")).scalars().all() == ["first", "second"]
