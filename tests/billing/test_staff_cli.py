"""Staff accounts for a real deployment: `python -m billing_core staff ...` on a migrated
database, the password never on the command line."""
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from billing_core.audit.models import AuditEvent
from billing_core.staff.service import authenticate

PASSWORD = "a-long-enough-secret"


@pytest.fixture
def database(tmp_path):
    url = f"sqlite:///{tmp_path / 'billing.db'}"
    assert cli(url, "migrate").returncode == 0
    return url


def cli(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "billing_core", "--database-url", url, *args],
                          input=stdin, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "BILLING_ENVIRONMENT": "dev"})


def signs_in(url: str, username: str, password: str) -> bool:
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            return authenticate(session, username=username, password=password) is not None
    finally:
        engine.dispose()


def test_an_admin_adds_an_agent_who_signs_in_and_is_deactivated(database):
    added = cli(database, "staff", "add", "m.jansen", "--name", "Mila Jansen", "--role", "agent",
                "--languages", "nl, EN", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert "added m.jansen (agent, nl,en)" in added.stdout
    assert signs_in(database, "m.jansen", PASSWORD)
    listed = cli(database, "staff", "list").stdout
    assert "m.jansen" in listed and "Mila Jansen" in listed and "active" in listed

    assert cli(database, "staff", "password", "m.jansen", "--password-stdin",
               stdin="another-long-secret\n").returncode == 0
    assert signs_in(database, "m.jansen", "another-long-secret")
    assert not signs_in(database, "m.jansen", PASSWORD)

    assert cli(database, "staff", "deactivate", "m.jansen").returncode == 0
    assert not signs_in(database, "m.jansen", "another-long-secret")
    assert "inactive" in cli(database, "staff", "list").stdout
    assert cli(database, "staff", "activate", "m.jansen").returncode == 0
    assert signs_in(database, "m.jansen", "another-long-secret")

    engine = create_engine(database)
    with Session(engine) as session:
        actions = session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "staff_user").order_by(AuditEvent.id)).all()
    engine.dispose()
    assert actions == ["staff_created", "staff_password_set", "staff_deactivated",
                       "staff_activated"]


@pytest.mark.parametrize("args, stdin, message", [
    (["add", "kim", "--name", "Kim", "--role", "agent", "--password-stdin"], "short\n",
     "at least 12 characters"),
    (["add", "Kim Smit", "--name", "Kim", "--role", "agent", "--password-stdin"], PASSWORD,
     "a username is"),
    (["add", "kim", "--name", "  ", "--role", "agent", "--password-stdin"], PASSWORD,
     "needs a name"),
    (["add", "kim", "--name", "Kim", "--role", "agent", "--languages", "fr",
      "--password-stdin"], PASSWORD, "languages"),
    (["add", "kim", "--name", "Kim", "--role", "agent"], "", "--password-stdin"),  # no tty
    (["password", "nobody", "--password-stdin"], PASSWORD, "no staff user 'nobody'"),
    (["deactivate", "nobody"], "", "no staff user 'nobody'"),
])
def test_bad_input_is_refused_with_a_message_and_stores_nothing(database, args, stdin, message):
    refused = cli(database, "staff", *args, stdin=stdin)
    assert refused.returncode != 0 and message in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    assert "kim" not in cli(database, "staff", "list").stdout


def test_a_username_taken_is_refused(database):
    first = ["staff", "add", "kim", "--name", "Kim", "--role", "supervisor", "--password-stdin"]
    assert cli(database, *first, stdin=PASSWORD).returncode == 0
    again = cli(database, *first[:6], "agent", "--password-stdin", stdin="other-long-secret")
    assert again.returncode != 0 and "exists already" in again.stderr
    assert signs_in(database, "kim", PASSWORD)  # the first one is kept as it was
