"""A plausible, synthetic retention history for the demo: thousands of unhappy customers.

    python -m billing_core.retention.history --customers 4000 --seed 2024

Each synthetic customer had one conversation about leaving or a complaint in the last
`months` months, with the bot or an agent, on web chat or SMS. About a third were offered
nothing (the comparison group); the others were offered a retention discount, goodwill
credit or a late-fee waiver, which they accepted or declined. Their bills and payments after
that conversation and, for some, a cancellation follow; the retention follow-ups
(`run_followups`) then fill in the outcomes exactly as they would for real customers.

The patterns are made up but plausible (the constants below): retention discounts keep more
customers than goodwill credit, agents a little more than the bot, service problems are
hardly helped by money, bigger discounts help a bit more. Same seed and day, same data.

Written with bulk inserts (no ORM objects per row), so 4000 customers take a few seconds.
Seeded once: `seed_history` does nothing when the history is already there.
"""
import argparse
import random
import sys
import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from billing_core.calendar import add_months, cycle_start
from billing_core.concessions.models import Adjustment, AdjustmentStatus, ConcessionPolicy
from billing_core.customers.models import Account, Customer
from billing_core.enums import Language, Role
from billing_core.invoices.billing import PAYMENT_TERM_DAYS, VAT_PERCENT
from billing_core.invoices.models import Invoice, InvoiceLine, LineKind, Payment
from billing_core.money import percent_of
from billing_core.plans.models import Plan, Subscription
from billing_core.retention.models import OfferResponse, RetentionOutcome
from billing_core.retention.reports import run_followups
from billing_core.security import hash_factor

FIRST_ACCOUNT = 30_000_000  # history accounts are 3xxxxxxx (demo 1xxxxxxx, generated 2xxxxxxx)
DEFAULT_CUSTOMERS = 4000
DEFAULT_SEED = 2024
DEFAULT_MONTHS = 15
CHUNK = 500

Progress = Callable[[str, int, int], None]

# --- the made-up world --------------------------------------------------------------------
# Reasons (complaint types) as the bot and the console record them, and how often each
# offerer sees them.
BOT_REASONS = {"cancel_threat": 50, "complaint": 30, "discount_request": 20}
AGENT_REASONS = {"price": 30, "bill_shock": 25, "service_issue": 20, "cancel_threat": 25}
# 90-day retention of customers offered nothing, per reason.
BASE_RETENTION = {"cancel_threat": 0.52, "price": 0.55, "discount_request": 0.70,
                  "complaint": 0.76, "bill_shock": 0.70, "service_issue": 0.50}
# Which concession is offered for which reason (weights), when one is offered.
KIND_WEIGHTS = {
    "cancel_threat": {"retention_discount": 70, "goodwill_credit": 20, "late_fee_waiver": 10},
    "price": {"retention_discount": 65, "goodwill_credit": 30, "late_fee_waiver": 5},
    "discount_request": {"retention_discount": 55, "goodwill_credit": 35, "late_fee_waiver": 10},
    "complaint": {"goodwill_credit": 60, "late_fee_waiver": 30, "retention_discount": 10},
    "bill_shock": {"goodwill_credit": 60, "late_fee_waiver": 30, "retention_discount": 10},
    "service_issue": {"goodwill_credit": 65, "retention_discount": 35},
}
# Extra 90-day retention when an offer is accepted (declined offers: a sliver of it).
UPLIFT = {"retention_discount": 0.20, "goodwill_credit": 0.08, "late_fee_waiver": 0.06}
AGENT_BONUS = 0.04          # a person on the line keeps a few more
ACCEPT = {"retention_discount": 0.74, "goodwill_credit": 0.70, "late_fee_waiver": 0.86}
NO_OFFER_SHARE = 0.33
SERVICE_ISSUE_FACTOR = 0.35  # money does little against a service problem
TREND_PER_YEAR = 0.04        # offers get a little better over time (agents learn)


@dataclass
class HistorySummary:
    customers: int = 0
    offers: int = 0
    comparison: int = 0
    accepted: int = 0
    cancelled: int = 0
    invoices: int = 0
    payments: int = 0
    seconds: float = 0.0
    followups: dict = field(default_factory=dict)


def history_present(session: Session) -> bool:
    return session.scalar(select(Account.id).where(
        Account.account_number == str(FIRST_ACCOUNT))) is not None


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 20), rng.randint(0, 59)), tzinfo=timezone.utc)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def seed_history(session: Session, *, today: date, customers: int = DEFAULT_CUSTOMERS,
                 seed: int = DEFAULT_SEED, months: int = DEFAULT_MONTHS,
                 progress: Progress | None = None) -> HistorySummary | None:
    """Create the synthetic history and run the follow-ups; None when it is already there.

    Needs the reference data (plans, concession policies): `seed.seed_reference_data`.
    """
    if history_present(session):
        return None
    started = clock.perf_counter()
    rng = random.Random(seed)
    plans = {p.code: p for p in session.scalars(select(Plan))}
    policies = {p.kind.value: p for p in session.scalars(select(ConcessionPolicy))}
    if not plans or not policies:
        raise RuntimeError("seed the reference data (plans, policies) first")
    summary = HistorySummary(customers=customers)
    report = progress or (lambda step, done, total: None)

    people, accounts, subscriptions, episodes = [], [], [], []
    first_day = today - timedelta(days=months * 30)
    for index in range(customers):
        number = str(FIRST_ACCOUNT + index)
        plan = plans[rng.choices(["basic", "standard", "plus", "premium"], weights=[3, 4, 2, 1])[0]]
        offered_on = first_day + timedelta(days=rng.randrange((today - first_day).days))
        tenure_months = rng.randint(3, 180)
        since = add_months(offered_on, -tenure_months)
        born = date(rng.randint(1945, 2004), rng.randint(1, 12), rng.randint(1, 28))
        postcode = f"{rng.randint(1000, 9999)}{rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}{rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}"
        language = Language.nl if rng.random() < 0.55 else Language.en
        people.append(dict(
            name=f"History customer {number}", language=language, phone=None,
            date_of_birth_hash=hash_factor("dob", born.isoformat()),
            postcode_hash=hash_factor("postcode", postcode), customer_since=since,
            created_at=_at(since, rng), updated_at=_at(since, rng)))
        episode = _episode(rng, index=index, number=number, plan=plan, offered_on=offered_on,
                           tenure_months=tenure_months, today=today, first_day=first_day,
                           policies=policies)
        episodes.append(episode)
        accounts.append(dict(
            account_number=number, currency="EUR", billing_day=rng.randint(1, 28),
            status="cancelled" if episode["cancelled_at"] else "active",
            cancelled_at=episode["cancelled_at"], created_at=_at(since, rng),
            updated_at=episode["cancelled_at"] or _at(since, rng)))
        subscriptions.append(dict(plan_id=plan.id, start_date=since,
                                  end_date=episode["cancelled_at"].date() if episode["cancelled_at"] else None))
        if (index + 1) % 500 == 0 or index + 1 == customers:
            report("customers", index + 1, customers)

    customer_ids = _insert(session, Customer, people, key=Customer.name)
    for account, customer_id in zip(accounts, customer_ids):
        account["customer_id"] = customer_id
    account_ids = _insert(session, Account, accounts, key=Account.account_number)
    for subscription, account_id in zip(subscriptions, account_ids):
        subscription["account_id"] = account_id
    session.execute(insert(Subscription), subscriptions)

    # Concessions granted (accepted offers), then their retention outcomes.
    adjustments, adjustment_of = [], {}
    for episode, account_id in zip(episodes, account_ids):
        episode["account_id"] = account_id
        if episode["kind"] and episode["response"] is OfferResponse.accepted:
            adjustment_of[len(adjustments)] = episode
            adjustments.append(_adjustment(episode, policies))
    for adjustment_id, episode in zip(_insert(session, Adjustment, adjustments,
                                              key=Adjustment.idempotency_key),
                                      adjustment_of.values()):
        episode["adjustment_id"] = adjustment_id
    session.execute(insert(RetentionOutcome), [_outcome(e) for e in episodes])
    summary.offers = sum(1 for e in episodes if e["kind"])
    summary.comparison = customers - summary.offers
    summary.accepted = len(adjustments)
    summary.cancelled = sum(1 for e in episodes if e["cancelled_at"])
    report("offers", customers, customers)

    # Bills and payments around the conversation (for the paid-on-time follow-up).
    invoices, lines_of, payments = [], [], []
    for episode, account in zip(episodes, accounts):
        _bills(rng, episode, account, today, invoices, lines_of, payments)
    invoice_ids = _insert(session, Invoice, invoices, key=Invoice.number)
    lines = [dict(line, invoice_id=invoice_id)
             for invoice_id, invoice_lines in zip(invoice_ids, lines_of) for line in invoice_lines]
    session.execute(insert(InvoiceLine), lines)
    if payments:
        session.execute(insert(Payment), payments)
    summary.invoices, summary.payments = len(invoices), len(payments)
    report("bills", customers, customers)

    session.flush()
    summary.followups = run_followups(session, today=today)
    report("follow-ups", customers, customers)
    summary.seconds = clock.perf_counter() - started
    return summary


def _insert(session: Session, model, rows: list[dict], *, key) -> list[int]:
    """Bulk insert (one executemany), then the new ids in the order of `rows`.

    The ids are read back through `key`, a column unique among these rows; that is much
    faster than RETURNING in parameter order, which SQLite can only do row by row.
    """
    if not rows:
        return []
    session.execute(insert(model), rows)
    values = [row[key.key] for row in rows]
    ids: dict = {}
    for start in range(0, len(values), CHUNK):
        ids.update(session.execute(select(key, model.id).where(key.in_(values[start:start + CHUNK]))).all())
    return [ids[value] for value in values]


def _episode(rng: random.Random, *, index: int, number: str, plan: Plan, offered_on: date,
             tenure_months: int, today: date, first_day: date,
             policies: dict[str, ConcessionPolicy]) -> dict:
    """One conversation and what became of the customer."""
    by_bot = rng.random() < 0.58
    reason = _pick(rng, BOT_REASONS if by_bot else AGENT_REASONS)
    channel = "sms" if rng.random() < 0.3 else "web"
    kind = None if rng.random() < NO_OFFER_SHARE else _pick(rng, KIND_WEIGHTS[reason])
    if kind == "retention_discount" and tenure_months < policies[kind].min_tenure_months:
        kind = "goodwill_credit"  # the policy needs two years' tenure
    amount, months = 0, None
    price_with_vat = plan.monthly_price_minor + percent_of(plan.monthly_price_minor, VAT_PERCENT)
    if kind == "retention_discount":
        if by_bot:
            months = policies[kind].discount_months or 6
            amount = months * percent_of(plan.monthly_price_minor, policies[kind].discount_percent or 10)
            if amount > policies[kind].bot_limit_minor:  # too big for the bot: an agent offers it
                by_bot = False
        else:
            months = rng.choice([6, 6, 12])
            amount = min(months * percent_of(plan.monthly_price_minor, rng.choice([10, 15, 20])),
                         policies[kind].agent_limit_minor)
    elif kind == "goodwill_credit":
        amount = percent_of(price_with_vat, 10) if by_bot else rng.choice([500, 1000, 1500, 2000, 2500])
        amount = min(max(amount, 200), policies[kind].limit_for(Role.bot if by_bot else Role.agent))
    elif kind == "late_fee_waiver":
        amount = 500 if by_bot or rng.random() < 0.7 else 1000
    response = OfferResponse.offered
    if kind:
        roll = rng.random()
        accept = ACCEPT[kind] + (0.05 if not by_bot else 0.0)
        response = OfferResponse.accepted if roll < accept else (
            OfferResponse.declined if roll < 0.96 else OfferResponse.offered)

    offered_at = _at(offered_on, rng)
    keep = BASE_RETENTION[reason]
    if kind:
        uplift = UPLIFT[kind]
        if kind == "retention_discount":  # a bigger discount helps a little more
            uplift += min(0.06, max(0.0, (amount - 2400) / 100_000))
        if reason == "service_issue":
            uplift *= SERVICE_ISSUE_FACTOR
        if not by_bot:
            uplift += AGENT_BONUS
        years = (offered_on - first_day).days / 365
        uplift += TREND_PER_YEAR * years
        keep += uplift if response is OfferResponse.accepted else uplift * 0.1
    keep = min(0.97, max(0.05, keep))

    cancelled_on = None
    if rng.random() >= keep:  # leaves within 90 days, most of them early
        day = rng.randint(1, 30) if rng.random() < 0.55 else rng.randint(31, 90)
        cancelled_on = offered_on + timedelta(days=day)
    elif rng.random() < 0.12:  # kept for now, leaves later
        cancelled_on = offered_on + timedelta(days=rng.randint(91, 240))
    cancelled_at = _at(cancelled_on, rng) if cancelled_on and cancelled_on < today else None
    agent = None if by_bot else rng.choice(["agent1", "agent1", "agent2"])
    return dict(index=index, number=number, plan=plan, reason=reason, channel=channel,
                kind=kind, amount=amount, months=months, response=response,
                offered_at=offered_at, by_bot=by_bot, agent=agent, cancelled_at=cancelled_at,
                adjustment_id=None, account_id=None)


def _adjustment(episode: dict, policies: dict[str, ConcessionPolicy]) -> dict:
    policy = policies[episode["kind"]]
    role = "bot" if episode["by_bot"] else "agent"
    approved_by = "super1" if role == "agent" and episode["amount"] > policy.agent_limit_minor else None
    return dict(
        account_id=episode["account_id"], policy_id=policy.id, status=AdjustmentStatus.granted,
        amount_minor=episode["amount"], currency="EUR", months=episode["months"],
        reason_code=episode["reason"], note="synthetic history", channel=episode["channel"],
        granted_by=episode["agent"] or "bot", granted_by_role=role, approved_by=approved_by,
        decided_at=episode["offered_at"] if approved_by else None,
        conversation_id=f"history-{episode['number']}",
        idempotency_key=f"history:{episode['number']}", request_hash="history",
        created_at=episode["offered_at"], updated_at=episode["offered_at"])


def _outcome(episode: dict) -> dict:
    return dict(
        account_id=episode["account_id"], adjustment_id=episode["adjustment_id"],
        concession_kind=episode["kind"], amount_minor=episode["amount"], currency="EUR",
        reason_code=episode["reason"], channel=episode["channel"],
        offered_by=episode["agent"] or "bot", offered_by_role="bot" if episode["by_bot"] else "agent",
        offered_at=episode["offered_at"], response=episode["response"],
        conversation_id=f"history-{episode['number']}", active_after_30d=None,
        active_after_90d=None, cancelled_on=None, paid_on_time=None,
        created_at=episode["offered_at"], updated_at=episode["offered_at"])


def _bills(rng: random.Random, episode: dict, account: dict, today: date, invoices: list,
           lines_of: list, payments: list) -> None:
    """Monthly bills from the cycle before the conversation until cancellation (or today)."""
    plan: Plan = episode["plan"]
    offered_on = episode["offered_at"].date()
    end = episode["cancelled_at"].date() if episode["cancelled_at"] else today
    start = add_months(cycle_start(offered_on, account["billing_day"]), -1)
    accepted = episode["response"] is OfferResponse.accepted
    late_risk = {"bill_shock": 0.16, "complaint": 0.16, "price": 0.12}.get(episode["reason"], 0.08)
    if episode["cancelled_at"]:
        late_risk += 0.12
    if accepted:
        late_risk -= 0.04
    for cycle in range(5):
        period_start = add_months(start, cycle)
        if period_start > end or period_start > today or period_start > offered_on + timedelta(days=100):
            break
        lines = [dict(position=0, kind=LineKind.recurring, code=f"plan:{plan.code}",
                      description=f"{plan.name} plan, monthly fee",
                      amount_minor=plan.monthly_price_minor)]
        if accepted and episode["kind"] == "retention_discount" and period_start > offered_on \
                and cycle <= (episode["months"] or 6):
            lines.append(dict(position=1, kind=LineKind.discount, code="retention:history",
                              description="Loyalty discount",
                              amount_minor=-(episode["amount"] // (episode["months"] or 6))))
        taxable = sum(line["amount_minor"] for line in lines)
        lines.append(dict(position=len(lines), kind=LineKind.tax, code=f"tax:vat{VAT_PERCENT}",
                          description=f"VAT {VAT_PERCENT}%", amount_minor=percent_of(taxable, VAT_PERCENT)))
        total = sum(line["amount_minor"] for line in lines)
        due = period_start + timedelta(days=PAYMENT_TERM_DAYS)
        invoices.append(dict(
            number=f"{episode['number']}-{period_start:%Y%m%d}", account_id=episode["account_id"],
            period_start=period_start, period_end=add_months(period_start, 1),
            issue_date=period_start, due_date=due, currency="EUR", total_minor=total,
            created_at=_at(period_start, rng), updated_at=_at(period_start, rng)))
        lines_of.append(lines)
        roll = rng.random()
        if period_start < offered_on:
            paid_on = period_start + timedelta(days=rng.randint(1, PAYMENT_TERM_DAYS))
        elif roll < late_risk:  # late, or (leaving customers) not at all
            if episode["cancelled_at"] and rng.random() < 0.4:
                continue
            paid_on = due + timedelta(days=rng.randint(2, 30))
        else:
            paid_on = period_start + timedelta(days=rng.randint(1, PAYMENT_TERM_DAYS))
        if paid_on > today:
            continue
        at = _at(paid_on, rng)
        payments.append(dict(
            account_id=episode["account_id"], amount_minor=total, currency="EUR", paid_at=at,
            method=rng.choice(["ideal", "ideal", "direct_debit", "card"]),
            reference=invoices[-1]["number"], idempotency_key=f"history:{invoices[-1]['number']}",
            request_hash="history", created_at=at, updated_at=at))


def print_progress(step: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\rhistory: {step:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> None:
    from billing_core.cli import open_database
    from billing_core.db import session_scope
    from billing_core.seed import seed_reference_data

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--months", type=int, default=DEFAULT_MONTHS)
    parser.add_argument("--database-url", help="defaults to BILLING_DATABASE_URL")
    args = parser.parse_args(argv)
    factory = open_database(args.database_url)
    with session_scope(factory) as session:
        seed_reference_data(session)
        summary = seed_history(session, today=date.today(), customers=args.customers,
                               seed=args.seed, months=args.months, progress=print_progress)
    if summary is None:
        print("history: already present; nothing to do")
    else:
        print(describe(summary))


def seed_demo_history(factory, *, today: date, handoff_database_url: str | None,
                      out: Callable[[str], None] = print) -> None:
    """`python -m billing_core seed --demo`: the retention history, then the queue history.

    Each part is its own transaction and is skipped when already there, so running the demo
    seed again is quick. The queue history goes to the handoff store at
    `handoff_database_url` (None: no queue history).
    """
    from billing_core.db import session_scope

    with session_scope(factory) as session:
        summary = seed_history(session, today=today, progress=print_progress)
    out("history: retention history already present; nothing to do" if summary is None
        else describe(summary))
    if handoff_database_url is None:
        return
    # The handoff service owns its store; imported here so the billing core runs without it.
    from handoff.services.queue_health import seed_queue_history_at

    count, seconds = seed_queue_history_at(handoff_database_url, today=today, progress=print_progress)
    out("history: queue history already present; nothing to do" if count is None
        else f"history: {count} handoffs in the queue history in {seconds:.1f} s")


def describe(summary: HistorySummary) -> str:
    return (f"history: {summary.customers} customers, {summary.offers} offers "
            f"({summary.accepted} accepted), {summary.comparison} offered nothing, "
            f"{summary.cancelled} cancelled, {summary.invoices} bills, {summary.payments} payments "
            f"in {summary.seconds:.1f} s")


if __name__ == "__main__":
    main()
