import subprocess
import sys
from datetime import date

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from billing_core.customers.models import Account
from billing_core.invoices.models import Invoice
from billing_core.models import Base
from billing_core.seed import generate_customers


def test_migrations_match_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_generator_is_deterministic_and_reports_progress(reference, engine):
    ticks = []
    numbers = generate_customers(reference, count=5, seed=42, today=date(2025, 6, 1),
                                 progress=lambda done, total: ticks.append((done, total)))
    assert ticks[-1] == (5, 5) and len(numbers) == 5
    first = [(a.customer.name, sum(i.total_minor for i in reference.scalars(
        select(Invoice).where(Invoice.account_id == a.id)))) for a in reference.scalars(
        select(Account).where(Account.account_number.in_(numbers)).order_by(Account.id))]
    reference.rollback()
    from billing_core.seed import seed_reference_data

    seed_reference_data(reference)
    again = generate_customers(reference, count=5, seed=42, today=date(2025, 6, 1))
    second = [(a.customer.name, sum(i.total_minor for i in reference.scalars(
        select(Invoice).where(Invoice.account_id == a.id)))) for a in reference.scalars(
        select(Account).where(Account.account_number.in_(again)).order_by(Account.id))]
    assert first == second
    assert reference.scalar(select(func.count(Invoice.id))) == 5 * 7


def test_cli_migrates_seeds_and_shows_an_account(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    def run(*args):
        return subprocess.run([sys.executable, "-m", "billing_core", "--database-url", url, *args],
                              capture_output=True, text=True, timeout=120)

    show_first = run("show", "10000001")
    assert show_first.returncode != 0 and "not migrated" in show_first.stderr
    assert run("migrate").returncode == 0
    seeded = run("seed", "--demo")
    assert seeded.returncode == 0 and "10000001" in seeded.stdout
    assert "already present" in run("seed", "--demo").stdout
    shown = run("show", "10000001")
    assert shown.returncode == 0, shown.stderr
    assert "Jane Doe" in shown.stdout and "promotion_ended" in shown.stdout
    assert "late_fee" in shown.stdout and "(30%)" in shown.stdout
    missing = run("show", "12345678")
    assert missing.returncode == 1 and "no account" in missing.stderr
    assert "Traceback" not in missing.stderr
    generated = subprocess.run(
        [sys.executable, "-m", "billing_core.seed", "--database-url", url, "--customers", "3",
         "--seed", "1"], capture_output=True, text=True, timeout=120)
    assert generated.returncode == 0 and "created 3 customers" in generated.stdout
    assert "3/3" in generated.stderr
