"""Small builders for billing test data beyond the fixed demo customers."""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.customers.models import Account
from billing_core.customers.service import create_customer
from billing_core.plans.models import Plan, Subscription

_counter = iter(range(30_000_000, 40_000_000))


def make_account(session: Session, *, plan: str = "standard", billing_day: int = 1,
                 since: date = date(2020, 1, 1), date_of_birth: date = date(1980, 1, 1),
                 postcode: str = "1234AB", phone: str | None = None) -> Account:
    customer = create_customer(session, name="Test Customer", date_of_birth=date_of_birth,
                               postcode=postcode, customer_since=since, phone=phone)
    account = Account(account_number=str(next(_counter)), customer=customer,
                      billing_day=billing_day)
    session.add(account)
    session.flush()
    plan_row = session.scalar(select(Plan).where(Plan.code == plan))
    session.add(Subscription(account_id=account.id, plan_id=plan_row.id, start_date=since))
    session.flush()
    return account
