"""Reference data, the four demo customers of the design, demo staff, and a generator.

    python -m billing_core.seed --customers 1000 --seed 7   # N generated customers (load tests)

Everything is dated relative to `today`, so the demo stories hold on any day: each demo
account's latest invoice was issued five days ago and is not yet due.
"""
import argparse
import random
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing_core.actor import Actor
from billing_core.calendar import add_months, cycle_start
from billing_core.concessions.models import ConcessionKind, ConcessionPolicy
from billing_core.customers.models import Account, Customer
from billing_core.customers.service import create_customer
from billing_core.enums import Language, Role
from billing_core.invoices.billing import issue_invoice
from billing_core.invoices.service import record_payment
from billing_core.plans.models import Plan, Subscription, UsageRecord
from billing_core.staff.models import StaffUser
from billing_core.staff.service import create_staff_user

HISTORY_CYCLES = 6  # invoices before the latest one

PLANS = [
    # code, name, monthly price excl. VAT, included GB (None: unlimited), price per extra GB
    ("basic", "Basic", 2000, 5, 200),
    ("standard", "Standard", 4000, 20, 150),
    ("plus", "Plus", 5500, 50, 100),
    ("premium", "Premium", 7500, None, 0),
]

POLICIES = [
    dict(code="goodwill", kind=ConcessionKind.goodwill_credit,
         description="Goodwill credit after bill shock", bot_limit_minor=1000,
         agent_limit_minor=2500, supervisor_limit_minor=10000, max_per_customer=1,
         period_days=180, requires_bill_shock_percent=20),
    dict(code="late_fee_waiver", kind=ConcessionKind.late_fee_waiver,
         description="Waive a late payment fee", bot_limit_minor=500, agent_limit_minor=1500,
         supervisor_limit_minor=5000, max_per_customer=1, period_days=365,
         requires_late_fee=True),
    dict(code="retention", kind=ConcessionKind.retention_discount,
         description="Loyalty discount for long-standing customers who consider leaving",
         bot_limit_minor=4000, agent_limit_minor=12000, supervisor_limit_minor=30000,
         max_per_customer=1, period_days=365, min_tenure_months=24, requires_churn_risk=True,
         discount_percent=10, discount_months=6),
]

STAFF = [
    ("agent1", "Anna Agent", Role.agent, "en,nl"),
    ("agent2", "Bram Agent", Role.agent, "nl"),
    ("super1", "Sara Supervisor", Role.supervisor, "en,nl"),
    ("admin1", "Adam Admin", Role.admin, "en,nl"),
]


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    account_number: str
    date_of_birth: date
    postcode: str
    phone: str
    language: Language
    plan: str
    years_as_customer: int
    usage_gb: tuple[int, ...]  # per cycle, oldest first (HISTORY_CYCLES + 1 values)
    promotion_percent: int | None = None  # promotion over the first HISTORY_CYCLES cycles
    late_cycle: int | None = None  # index of the invoice paid late (a late fee follows)
    unpaid_from: int | None = None  # invoices from this index on are unpaid


DEMO_CUSTOMERS = [
    # Promotion ended and a late fee on the latest bill: about 30% higher than the previous.
    DemoCustomer("Jane Doe", "10000001", date(1985, 4, 12), "1012AB", "+31600000001",
                 Language.en, "standard", 0, (11, 9, 14, 12, 10, 13, 12),
                 promotion_percent=15, late_cycle=5),
    # Light usage on Plus: Basic would be much cheaper.
    DemoCustomer("Sanne de Vries", "10000002", date(1990, 11, 3), "3511CD", "+31600000002",
                 Language.nl, "plus", 3, (3, 2, 4, 3, 2, 3, 2)),
    # Two invoices unpaid, the older one overdue.
    DemoCustomer("Tom Baker", "10000003", date(1978, 1, 30), "2011EF", "+31600000003",
                 Language.en, "standard", 4, (18, 22, 19, 25, 21, 20, 23), unpaid_from=5),
    # Nine years a customer, pays on time: eligible for a retention offer.
    DemoCustomer("Eva Jansen", "10000004", date(2001, 7, 21), "5611GH", "+31600000004",
                 Language.nl, "plus", 9, (30, 28, 35, 31, 29, 33, 30)),
]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.utc)


def seed_reference_data(session: Session) -> None:
    """Plans and concession policies; safe to run again."""
    for rank, (code, name, price, included, overage) in enumerate(PLANS):
        if session.scalar(select(Plan).where(Plan.code == code)) is None:
            session.add(Plan(code=code, name=name, monthly_price_minor=price, included_gb=included,
                             overage_per_gb_minor=overage, rank=rank))
    for policy in POLICIES:
        if session.scalar(select(ConcessionPolicy).where(ConcessionPolicy.code == policy["code"])) is None:
            session.add(ConcessionPolicy(**policy))
    session.flush()


def seed_staff(session: Session, *, password: str) -> None:
    for username, full_name, role, languages in STAFF:
        if session.scalar(select(StaffUser).where(StaffUser.username == username)) is None:
            create_staff_user(session, username=username, full_name=full_name, role=role,
                              password=password, languages=languages)
    session.flush()


def add_customer_history(session: Session, spec: DemoCustomer, *, today: date) -> Account:
    """Create the customer with HISTORY_CYCLES + 1 invoices, the latest issued 5 days ago."""
    billing_day = min(28, (today - timedelta(days=5)).day)
    latest_start = cycle_start(today - timedelta(days=5), billing_day)
    first_start = add_months(latest_start, -HISTORY_CYCLES)
    customer = create_customer(
        session, name=spec.name, date_of_birth=spec.date_of_birth, postcode=spec.postcode,
        customer_since=min(first_start, add_months(today, -12 * spec.years_as_customer - 2)),
        language=spec.language, phone=spec.phone,
    )
    account = Account(account_number=spec.account_number, customer=customer,
                      billing_day=billing_day)
    session.add(account)
    session.flush()
    plan = session.scalar(select(Plan).where(Plan.code == spec.plan))
    session.add(Subscription(
        account_id=account.id, plan_id=plan.id,
        start_date=customer.customer_since,
        promotion_code="WELCOME15" if spec.promotion_percent else None,
        promotion_percent=spec.promotion_percent,
        promotion_end_date=latest_start if spec.promotion_percent else None,
    ))
    for index in range(HISTORY_CYCLES + 1):
        period_start = add_months(first_start, index)
        session.add(UsageRecord(account_id=account.id, period_start=period_start,
                                data_gb=spec.usage_gb[index]))
        session.flush()
        invoice = issue_invoice(session, account=account, period_start=period_start,
                                late_fee=spec.late_cycle is not None and index == spec.late_cycle + 1)
        is_latest = index == HISTORY_CYCLES
        if is_latest or (spec.unpaid_from is not None and index >= spec.unpaid_from):
            continue
        paid_on = invoice.due_date + timedelta(days=4) if index == spec.late_cycle \
            else invoice.issue_date + timedelta(days=3)
        record_payment(session, account_number=account.account_number,
                       amount_minor=invoice.total_minor, method="ideal",
                       idempotency_key=f"seed:{invoice.number}", actor=Actor.system(),
                       paid_at=_at(paid_on), reference=invoice.number)
    return account


def seed_demo(session: Session, *, today: date, staff_password: str) -> list[str]:
    """Reference data, demo staff and the four demo customers; skips what already exists."""
    seed_reference_data(session)
    seed_staff(session, password=staff_password)
    created = []
    for spec in DEMO_CUSTOMERS:
        if session.scalar(select(Account).where(Account.account_number == spec.account_number)):
            continue
        add_customer_history(session, spec, today=today)
        created.append(spec.account_number)
    return created


FIRST_NAMES = ["Anna", "Bram", "Chris", "Daan", "Emma", "Finn", "Lotte", "Milan", "Noor", "Ruben",
               "Sophie", "Thijs", "Julia", "Lucas", "Mia", "Sem", "Olivia", "Jack", "Grace", "Liam"]
LAST_NAMES = ["de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser", "Smit", "Meijer",
              "Mulder", "Bos", "Smith", "Brown", "Wilson", "Taylor", "Clark", "Walker"]


def generate_customers(session: Session, *, count: int, seed: int, today: date,
                       progress=None) -> list[str]:
    """Deterministic synthetic customers (same `seed`, same data) with varied histories."""
    seed_reference_data(session)
    rng = random.Random(seed)
    start = 20_000_000 + (session.scalar(select(func.count(Customer.id))) or 0)
    numbers = []
    for offset in range(count):
        plan = rng.choices(["basic", "standard", "plus", "premium"], weights=[3, 4, 2, 1])[0]
        typical = {"basic": 4, "standard": 14, "plus": 30, "premium": 60}[plan]
        number = str(start + offset)
        spec = DemoCustomer(
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", account_number=number,
            date_of_birth=date(rng.randint(1945, 2005), rng.randint(1, 12), rng.randint(1, 28)),
            postcode=f"{rng.randint(1000, 9999)}{rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}"
                     f"{rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}",
            phone=f"+3161{number[-7:]}", language=rng.choice([Language.en, Language.nl]),
            plan=plan, years_as_customer=rng.randint(0, 15),
            usage_gb=tuple(max(0, int(rng.gauss(typical, typical / 3))) for _ in range(HISTORY_CYCLES + 1)),
            promotion_percent=rng.choice([None, None, None, 10, 15, 20]),
            late_cycle=rng.choice([None] * 8 + [3, 4]),
            unpaid_from=rng.choice([None] * 12 + [5]),
        )
        add_customer_history(session, spec, today=today)
        numbers.append(number)
        if progress:
            progress(offset + 1, count)
    return numbers


def _print_progress(done: int, total: int) -> None:
    if done == total or done % max(1, total // 50) == 0:
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\rseed: [{'#' * filled}{'.' * (width - filled)}] {done}/{total} customers")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def main(argv: list[str] | None = None) -> None:
    from billing_core.cli import open_database

    parser = argparse.ArgumentParser(description="Generate synthetic billing customers.")
    parser.add_argument("--customers", type=int, required=True, help="how many to create")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    parser.add_argument("--database-url", help="defaults to BILLING_DATABASE_URL")
    args = parser.parse_args(argv)
    if args.customers < 1:
        parser.error("--customers must be at least 1")
    factory = open_database(args.database_url)
    with factory() as session, session.begin():
        numbers = generate_customers(session, count=args.customers, seed=args.seed,
                                     today=date.today(), progress=_print_progress)
    print(f"seed: created {len(numbers)} customers, accounts {numbers[0]}..{numbers[-1]}")


if __name__ == "__main__":
    main()
