"""Production mode: both stores' Alembic migrations on PostgreSQL.

From empty: each store migrates to its single head, the schema equals the models' metadata
(the `alembic check` comparison), and downgrading to base and upgrading again works.

From the previous release (`releases.toml`): that release's own code, extracted with
`git archive`, migrates two new databases, seeds the demo data and writes some handoff
traffic; then the current code migrates them to head. No row is lost, the key values read
by the old code are what the current code reads, and the schema equals the current models.

Nothing here names a revision: any number of new migrations keeps it correct.
"""
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, select, text, tuple_
from sqlalchemy.engine import Engine

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import billing_core.migrate
import handoff.migrate
from billing_core.db import make_engine, make_session_factory
from billing_core.models import Base as BillingBase
from handoff import models as handoff_models  # noqa: F401  (registers the handoff tables)
from handoff.db import HandoffBase
from tests.databases import PG_ADMIN_DSN, _pg_url

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
STAFF_PASSWORD = "previous-release-staff"
OLD_CODE_TIMEOUT = 120


@dataclass(frozen=True)
class Store:
    name: str
    migrations: Path
    metadata: MetaData
    upgrade: Callable[[str], None]


STORES = {
    "billing": Store("billing", billing_core.migrate.MIGRATIONS, BillingBase.metadata,
                     billing_core.migrate.upgrade),
    "handoff": Store("handoff", handoff.migrate.MIGRATIONS, HandoffBase.metadata,
                     handoff.migrate.upgrade),
}


# ------------------------------------------------------------------ helpers

@pytest.fixture
def new_database():
    """Factory of new, empty PostgreSQL databases, dropped after the test."""
    names = []

    def create() -> str:
        name = f"test_mig_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        return _pg_url(name)

    yield create
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def head_of(store: Store) -> str:
    heads = ScriptDirectory.from_config(billing_core.migrate.alembic_config("", store.migrations)).get_heads()
    assert len(heads) == 1, (f"{store.name} migrations have {len(heads)} heads {heads}: two "
                             "migrations share a parent; merge them (alembic merge) or re-parent one")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_differences(engine: Engine, metadata: MetaData) -> list:
    """What `alembic check` would report: the database schema against the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, metadata)


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def primary_keys(engine: Engine) -> dict[str, set[tuple]]:
    """Every table's primary-key values (plain SQL, whatever code wrote them)."""
    inspector = inspect(engine)
    reflected = MetaData()
    reflected.reflect(engine)
    keys = {}
    with engine.connect() as connection:
        for table in reflected.sorted_tables:
            if table.name == "alembic_version":
                continue
            columns = inspector.get_pk_constraint(table.name)["constrained_columns"]
            assert columns, f"table {table.name} has no primary key"
            keys[table.name] = set(connection.execute(
                select(tuple_(*(table.c[c] for c in columns)) if len(columns) > 1
                       else table.c[columns[0]])).all())
    return keys


# ------------------------------------------------------------------ from empty

@pytest.mark.parametrize("store", STORES.values(), ids=STORES.keys())
def test_from_empty_to_head_matches_the_models_and_downgrades(store, new_database):
    url = new_database()
    engine = make_engine(url)
    try:
        head = head_of(store)
        store.upgrade(url)
        assert current_revision(engine) == head
        assert schema_differences(engine, store.metadata) == []
        assert table_names(engine) - {"alembic_version"} == {t.name for t in store.metadata.sorted_tables}

        config = billing_core.migrate.alembic_config(url, store.migrations)
        command.downgrade(config, "base")
        assert current_revision(engine) is None
        assert table_names(engine) <= {"alembic_version"}, "downgrade to base left tables behind"

        store.upgrade(url)
        assert current_revision(engine) == head
        assert schema_differences(engine, store.metadata) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("store", STORES.values(), ids=STORES.keys())
def test_replicas_starting_together_migrate_once(store, new_database):
    """Three processes upgrade one empty database at the same moment (replicas starting)."""
    url = new_database()
    program = (f"import sys; from {store.upgrade.__module__} import upgrade; upgrade(sys.argv[1])")
    processes = [subprocess.Popen([sys.executable, "-c", program, url], cwd=REPO,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                 for _ in range(3)]
    outputs = [(p.wait(timeout=OLD_CODE_TIMEOUT), p.stdout.read().decode()) for p in processes]
    assert all(code == 0 for code, _ in outputs), [out[-1500:] for code, out in outputs if code]
    engine = make_engine(url)
    try:
        assert current_revision(engine) == head_of(store)
        assert schema_differences(engine, store.metadata) == []
    finally:
        engine.dispose()


# ------------------------------------------------------------------ from the previous release

# Run by the previous release's code (cwd and PYTHONPATH: its extracted tree): handoff
# traffic a customer and the queue would have left. Uses that release's models and services;
# if a future release changes them, adjust this script when bumping releases.toml.
SEED_HANDOFF = r"""
import json, sys
from datetime import datetime, timezone
from pathlib import Path

import billing_core, handoff
tree = Path(sys.argv[2]).resolve()
for module in (billing_core, handoff):
    assert Path(module.__file__).resolve().is_relative_to(tree), f"{module.__file__} not from {tree}"

from billing_core.db import make_engine, make_session_factory
from handoff.models import Author, InboundSms
from handoff.services import outbox, queue, transcript

factory = make_session_factory(make_engine(sys.argv[1]))
with factory() as session, session.begin():
    web = transcript.get_or_create(session, "web-previous-release", channel="web", language="en")
    transcript.append(session, web, author=Author.customer, text="why is my bill so high?")
    transcript.append(session, web, author=Author.bot, text="First, what is your account number?",
                      buttons=[{"title": "I don't know", "payload": "/no_account_number"}])
    transcript.append(session, web, author=Author.customer, text="I want to talk to a person")
    queue.enqueue(session, web, reason="complaint",
                  packet={"language": "en", "flags": ["complaint"], "account_number": "10000001"},
                  now=datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc))
    sms = transcript.get_or_create(session, "sms-31600000003", channel="sms",
                                   phone="+31600000003", language="en")
    session.add(InboundSms(message_sid="SM" + "0" * 32, conversation_id=sms.id))
    transcript.append(session, sms, author=Author.customer, text="can I pay later?")
    transcript.append(session, sms, author=Author.bot, text="Sure. Which date suits you?")
    outbox.enqueue_sms(session, sms, ["Sure. Which date suits you?"])
print("handoff traffic written")
"""

# Key values, read through the services: run by the previous release's code before the
# upgrade (subprocess) and by the current code after it (in-process); both must agree.
KEY_VALUES = r"""
import json, sys
from datetime import date

from sqlalchemy import select

from billing_core.customers.models import Account
from billing_core.customers.service import get_account, verify_identity
from billing_core.db import make_engine, make_session_factory
from billing_core.invoices.service import explain_latest_bill, get_balance, list_invoices
from billing_core.staff.models import StaffUser
from billing_core.staff.service import authenticate
from handoff.models import OutboundSms
from handoff.services import queue, transcript


def key_values(billing_url, handoff_url, today, staff_password):
    today = date.fromisoformat(today)
    values = {}
    billing_engine, handoff_engine = make_engine(billing_url), make_engine(handoff_url)
    with make_session_factory(billing_engine)() as session:
        jane = get_account(session, account_number="10000001")
        balance = get_balance(session, account_number="10000001", today=today)
        explanation = explain_latest_bill(session, account_number="10000001")
        values["jane"] = {
            "name": jane.customer.name, "language": jane.customer.language.value,
            "balance_minor": balance.balance_minor, "overdue_minor": balance.overdue_minor,
            "status": balance.status, "currency": balance.currency,
            "next_due_date": str(balance.next_due_date),
            "invoices": [[i.number, i.total_minor, i.open_minor, str(i.due_date)]
                         for i in list_invoices(session, account_number="10000001", limit=100)],
            "bill_change": [explanation.difference_minor,
                            sorted(c.reason for c in explanation.changes)],
        }
        values["accounts"] = sorted(session.scalars(select(Account.account_number)))
        values["staff"] = [[u.username, u.role.value, u.active, u.languages, u.max_concurrent]
                           for u in session.scalars(select(StaffUser).order_by(StaffUser.username))]
        values["staff_sign_in"] = [authenticate(session, username=u[0], password=staff_password)
                                   is not None for u in values["staff"]]
        # verification reads the stored keyed hash of the date of birth (writes an audit row:
        # rolled back)
        values["jane_verifies"] = verify_identity(
            session, account_number="10000001", date_of_birth="12-04-1985").status.value
        session.rollback()
    with make_session_factory(handoff_engine)() as session:
        values["transcripts"] = {
            cid: [[m.seq, m.author.value, m.text, m.buttons]
                  for m in transcript.messages_after(session, cid)]
            for cid in ("web-previous-release", "sms-31600000003")}
        values["owners"] = {cid: transcript.get_conversation(session, cid).owner.value
                            for cid in ("web-previous-release", "sms-31600000003")}
        values["queue"] = [[h.conversation_id, h.status.value, h.reason, h.priority, h.language,
                            h.packet] for h in queue.queued(session)]
        values["outbox"] = [[s.conversation_id, s.to, s.body, s.status]
                            for s in session.scalars(select(OutboundSms).order_by(OutboundSms.id))]
    billing_engine.dispose()
    handoff_engine.dispose()
    return values


if __name__ == "__main__":
    print(json.dumps(key_values(*sys.argv[1:5])))
"""


def previous_release() -> tuple[str, str]:
    with open(REPO / "releases.toml", "rb") as f:
        previous = tomllib.load(f)["previous"]
    return previous["tag"], previous["commit"]


def extract(commit: str, tag: str, into: Path) -> Path:
    found = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"],
                           capture_output=True, text=True)
    if found.returncode != 0:
        pytest.fail(f"the previous release {tag} ({commit}, releases.toml) is not in the "
                    f"repository at {REPO}: a shallow clone? fetch the full history "
                    f"(git fetch --unshallow) so its migrations can be tested")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit],
                             capture_output=True, check=True, timeout=60)
    tree = into / f"release-{commit[:12]}"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return tree


def run_old(tree: Path, *args: str) -> str:
    """`python args...` with the previous release's code (the current venv's interpreter)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "BILLING_DATABASE_URL", "HANDOFF_DATABASE_URL")}
    env.update(PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1",
               BILLING_DEMO_STAFF_PASSWORD=STAFF_PASSWORD)
    done = subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True,
                          text=True, timeout=OLD_CODE_TIMEOUT)
    assert done.returncode == 0, (f"previous release: python {' '.join(args)[:200]} failed "
                                  f"({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Upgraded:
    urls: dict[str, str]  # store name -> URL
    old_revisions: dict[str, str]
    keys_before: dict[str, dict[str, set[tuple]]]
    keys_after: dict[str, dict[str, set[tuple]]]
    values_before: dict
    today: str


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory) -> Upgraded:
    """The previous release's databases (its migrations, seed and traffic), then upgraded."""
    tag, commit = previous_release()
    tree = extract(commit, tag, tmp_path_factory.mktemp("previous"))
    names = {store: f"test_mig_{store}_{uuid.uuid4().hex[:10]}" for store in STORES}
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        for name in names.values():
            conn.execute(f'CREATE DATABASE "{name}"')
    urls = {store: _pg_url(name) for store, name in names.items()}
    engines = {store: make_engine(url) for store, url in urls.items()}
    today = date.today().isoformat()
    try:
        billing_url, handoff_url = urls["billing"], urls["handoff"]
        run_old(tree, "-m", "billing_core", "--database-url", billing_url, "migrate")
        seeded = run_old(tree, "-m", "billing_core", "--database-url", billing_url, "seed", "--demo")
        assert "10000001" in seeded, seeded
        run_old(tree, "-c", "import sys; from handoff.migrate import upgrade; upgrade(sys.argv[1])",
                handoff_url)
        run_old(tree, "-c", SEED_HANDOFF, handoff_url, str(tree))
        values_before = json.loads(run_old(tree, "-c", KEY_VALUES, billing_url, handoff_url,
                                           today, STAFF_PASSWORD))
        old_revisions = {store: current_revision(engines[store]) for store in STORES}
        keys_before = {store: primary_keys(engines[store]) for store in STORES}

        for store in STORES.values():
            store.upgrade(urls[store.name])  # the current code's migrations
        keys_after = {store: primary_keys(engines[store]) for store in STORES}
        yield Upgraded(urls, old_revisions, keys_before, keys_after, values_before, today)
    finally:
        for engine in engines.values():
            engine.dispose()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            for name in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("store", STORES.values(), ids=STORES.keys())
def test_previous_release_upgrades_to_head_and_matches_the_models(upgraded, store):
    old = upgraded.old_revisions[store.name]
    assert old is not None, f"the previous release left the {store.name} store unmigrated"
    script = ScriptDirectory.from_config(billing_core.migrate.alembic_config("", store.migrations))
    assert old in {rev.revision for rev in script.walk_revisions()}, (
        f"the previous release's {store.name} revision {old} is gone from the current migrations")
    engine = make_engine(upgraded.urls[store.name])
    try:
        assert current_revision(engine) == head_of(store)
        assert schema_differences(engine, store.metadata) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("store", STORES.values(), ids=STORES.keys())
def test_previous_release_loses_no_rows(upgraded, store):
    before, after = upgraded.keys_before[store.name], upgraded.keys_after[store.name]
    assert sum(map(len, before.values())) > 0, f"the previous release wrote no {store.name} data"
    for table, keys in before.items():
        assert table in after, f"{store.name} table {table} is gone after the upgrade"
        lost = keys - after[table]
        assert not lost, f"{store.name}.{table}: {len(lost)} of {len(keys)} rows lost: {sorted(lost)[:5]}"


def test_previous_release_data_reads_the_same_with_the_current_code(upgraded):
    namespace = {}
    exec(compile(KEY_VALUES, "KEY_VALUES", "exec"), namespace)
    # JSON round trip: the same types as the old code's printed values
    now = json.loads(json.dumps(namespace["key_values"](
        upgraded.urls["billing"], upgraded.urls["handoff"], upgraded.today, STAFF_PASSWORD)))
    before = upgraded.values_before
    assert before["jane"]["name"] == "Jane Doe" and before["jane"]["invoices"]
    assert before["jane_verifies"] == "verified" and all(before["staff_sign_in"])
    assert {"agent1", "agent2", "super1", "admin1"} <= {u[0] for u in before["staff"]}
    assert len(before["transcripts"]["web-previous-release"]) == 3 and before["queue"]
    for key in before:
        assert now[key] == before[key], f"{key}: previous release {before[key]!r}, now {now[key]!r}"
    assert now == before
