"""Operator CLI: `python -m billing_core {migrate,seed,show}`."""
import argparse
import os
import sys
from datetime import date

from sqlalchemy import inspect

from billing_core.config import get_settings
from billing_core.db import make_engine, make_session_factory
from billing_core.errors import BillingError
from billing_core.migrate import upgrade
from billing_core.money import format_money

DEV_STAFF_PASSWORD = "billing-demo"


def open_database(url: str | None = None):
    """Session factory for `url` (default: BILLING_DATABASE_URL); the schema must be migrated."""
    url = url or get_settings().database_url
    engine = make_engine(url)
    if not inspect(engine).has_table("alembic_version"):
        sys.exit(f"error: database {engine.url!r} is not migrated; run "
                 "`python -m billing_core migrate` first")
    return make_session_factory(engine)


def staff_password() -> str:
    password = os.environ.get("BILLING_DEMO_STAFF_PASSWORD")
    if password:
        return password
    if get_settings().environment != "dev":
        sys.exit("error: set BILLING_DEMO_STAFF_PASSWORD outside the dev environment")
    return DEV_STAFF_PASSWORD


def cmd_migrate(args) -> None:
    url = args.database_url or get_settings().database_url
    upgrade(url)
    print(f"migrate: {make_engine(url).url!r} is at the latest schema")


def cmd_seed(args) -> None:
    from billing_core.seed import seed_demo

    factory = open_database(args.database_url)
    with factory() as session, session.begin():
        created = seed_demo(session, today=date.today(), staff_password=staff_password())
    if created:
        print(f"seed: created demo accounts {', '.join(created)}, plans, policies, staff")
    else:
        print("seed: demo data already present; nothing to do")
    # Synthetic retention and queue history for the reports page: by default only for the
    # default (demo) databases, so seeding a database given by URL (tests) stays small.
    if args.history if args.history is not None else args.database_url is None:
        from billing_core.retention.history import seed_demo_history

        handoff_url = args.handoff_database_url
        if handoff_url is None and args.database_url is None:
            from handoff.core.config import get_settings as handoff_settings
            handoff_url = handoff_settings().database_url
        seed_demo_history(factory, today=date.today(), handoff_database_url=handoff_url)


def cmd_show(args) -> None:
    from billing_core.customers.service import get_account
    from billing_core.invoices.service import explain_latest_bill, get_balance, list_invoices
    from billing_core.plans.service import current_subscription

    factory = open_database(args.database_url)
    with factory() as session:
        account = get_account(session, account_number=args.account_number)
        customer = account.customer
        plan = current_subscription(session, account_number=account.account_number,
                                    today=date.today()).plan
        balance = get_balance(session, account_number=account.account_number)
        print(f"{customer.name} ({customer.language.value}), account {account.account_number}, "
              f"customer since {customer.customer_since}, plan {plan.name}")
        print(f"balance {format_money(balance.balance_minor)} ({balance.status}), overdue "
              f"{format_money(balance.overdue_minor)}, next due {balance.next_due_date}")
        for invoice in list_invoices(session, account_number=account.account_number):
            print(f"  {invoice.number}  issued {invoice.issue_date}  due {invoice.due_date}  "
                  f"{format_money(invoice.total_minor):>10}  open {format_money(invoice.open_minor)}")
        explanation = explain_latest_bill(session, account_number=account.account_number)
        print(f"latest vs previous: {format_money(explanation.difference_minor)} "
              f"({explanation.percent_change}%)")
        for change in explanation.changes:
            print(f"  {change.reason:<18} {format_money(change.impact_minor):>9}  {change.description}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m billing_core", description=__doc__)
    parser.add_argument("--database-url", help="defaults to BILLING_DATABASE_URL")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create or upgrade the schema").set_defaults(func=cmd_migrate)
    seed = commands.add_parser("seed", help="seed plans, policies, demo staff and customers")
    seed.add_argument("--demo", action="store_true", required=True,
                      help="the fixed demo data (generated data: python -m billing_core.seed)")
    seed.add_argument("--history", action=argparse.BooleanOptionalAction, default=None,
                      help="also the synthetic retention and queue history for the reports "
                           "(default: on without --database-url, off with it)")
    seed.add_argument("--handoff-database-url",
                      help="handoff store for the queue history (default without --database-url: "
                           "HANDOFF_DATABASE_URL; with it: no queue history unless given)")
    seed.set_defaults(func=cmd_seed)
    show = commands.add_parser("show", help="print an account's summary")
    show.add_argument("account_number")
    show.set_defaults(func=cmd_show)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except BillingError as exc:
        sys.exit(f"error: {exc}")
