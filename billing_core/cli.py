"""Operator CLI: `python -m billing_core {migrate,seed,show,staff}`."""
import argparse
import getpass
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


def new_password(args) -> str:
    """From stdin (`--password-stdin`, for scripts), BILLING_STAFF_PASSWORD, or asked twice;
    never from the command line, where other users of the machine could read it."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if os.environ.get("BILLING_STAFF_PASSWORD"):
        return os.environ["BILLING_STAFF_PASSWORD"]
    if not sys.stdin.isatty():
        sys.exit("error: give the password with --password-stdin or BILLING_STAFF_PASSWORD")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        sys.exit("error: the passwords differ")
    return password


def cmd_staff(args) -> None:
    from billing_core.enums import Role
    from billing_core.staff import service

    factory = open_database(args.database_url)
    with factory() as session, session.begin():
        if args.action == "list":
            for user in service.list_staff_users(session):
                print(f"{user.username:<16} {user.role.value:<10} {user.languages:<6} "
                      f"max {user.max_concurrent:<2} {'active' if user.active else 'inactive':<8} "
                      f"{user.full_name}")
            return
        if args.action == "add":
            user = service.create_staff_user(
                session, username=args.username, full_name=args.name, role=Role(args.role),
                password=new_password(args), languages=args.languages,
                max_concurrent=args.max_concurrent)
            print(f"staff: added {user.username} ({user.role.value}, {user.languages})")
        elif args.action == "password":
            service.set_staff_password(session, username=args.username, password=new_password(args))
            print(f"staff: new password set for {args.username}")
        else:
            active = args.action == "activate"
            service.set_staff_active(session, username=args.username, active=active)
            print(f"staff: {args.username} {'activated' if active else 'deactivated'}")


def add_staff_commands(commands) -> None:
    staff = commands.add_parser("staff", help="add, list, (de)activate staff, set passwords")
    actions = staff.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every staff user")
    add = actions.add_parser("add", help="a new agent, supervisor or admin")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="full name (agents sign messages with it)")
    add.add_argument("--role", required=True, choices=["agent", "supervisor", "admin"])
    add.add_argument("--languages", default="en,nl", help="languages they answer in (en,nl)")
    add.add_argument("--max-concurrent", type=int, default=3,
                     help="conversations they handle at once")
    password = actions.add_parser("password", help="set a new password")
    password.add_argument("username")
    for parser in (add, password):
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of stdin")
    actions.add_parser("deactivate", help="no more sign-ins; signed-in sessions end at once"
                       ).add_argument("username")
    actions.add_parser("activate", help="let a deactivated user sign in again").add_argument("username")
    staff.set_defaults(func=cmd_staff)


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
    add_staff_commands(commands)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except BillingError as exc:
        sys.exit(f"error: {exc}")
