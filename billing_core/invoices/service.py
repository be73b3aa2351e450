from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from billing_core.actor import Actor
from billing_core.arrangements.models import ArrangementStatus, PaymentArrangement
from billing_core.audit.service import record_event
from billing_core.concessions.models import Adjustment, AdjustmentStatus, ConcessionKind, ConcessionPolicy
from billing_core.config import get_settings
from billing_core.customers.service import get_account
from billing_core.db import utcnow
from billing_core.errors import InvalidRequest, InvalidToken, NotFound, PaymentLinkExpired
from billing_core.idempotency import fingerprint, stored_result
from billing_core.calendar import add_months, cycle_start
from billing_core.invoices.billing import build_invoice
from billing_core.invoices.models import Invoice, LineKind, Payment
from billing_core.security import read_token, sign_token

CREDIT_KINDS = (ConcessionKind.goodwill_credit, ConcessionKind.late_fee_waiver)


@dataclass(frozen=True)
class InvoiceSummary:
    number: str
    period_start: date
    issue_date: date
    due_date: date
    total_minor: int
    open_minor: int
    currency: str


@dataclass(frozen=True)
class BalanceSummary:
    account_number: str
    currency: str
    balance_minor: int
    overdue_minor: int
    next_due_date: date | None
    status: str  # paid | due | overdue
    latest_invoice: InvoiceSummary | None
    arrangement_id: int | None = None
    overdue_since: date | None = None  # the oldest due date passed with something still open
    upcoming_due_date: date | None = None  # the next due date not passed yet, if any is open


@dataclass(frozen=True)
class PaymentSummary:
    amount_minor: int
    currency: str
    paid_on: date
    method: str


@dataclass(frozen=True)
class ChargeCheck:
    """What the account was billed and paid lately, to answer "you charged me twice"."""

    latest_bill: InvoiceSummary | None
    # a payment of the same amount as the one just before it, a few days apart: (first, second)
    repeated_payment: tuple[PaymentSummary, PaymentSummary] | None
    credit_minor: int  # what the account holds beyond its bills (0 when it owes)
    currency: str


@dataclass(frozen=True)
class BillChange:
    """One reason the latest bill differs from the previous one."""

    reason: str  # promotion_ended, late_fee, usage_change, proration, tax_change, …
    code: str
    description: str
    previous_minor: int
    current_minor: int

    @property
    def impact_minor(self) -> int:
        return self.current_minor - self.previous_minor


@dataclass(frozen=True)
class BillLine:
    kind: str  # a LineKind value: recurring, usage, tax, …
    description: str
    amount_minor: int


@dataclass(frozen=True)
class BillExplanation:
    currency: str
    latest: InvoiceSummary
    previous: InvoiceSummary | None
    changes: list[BillChange] = field(default_factory=list)
    latest_lines: list[BillLine] = field(default_factory=list)  # what the latest bill is made of

    @property
    def difference_minor(self) -> int:
        return self.latest.total_minor - (self.previous.total_minor if self.previous else 0)

    @property
    def percent_change(self) -> int | None:
        if not self.previous or self.previous.total_minor == 0:
            return None
        return round(self.difference_minor * 100 / self.previous.total_minor)


@dataclass(frozen=True)
class PaymentLink:
    url: str
    token: str
    amount_minor: int
    currency: str
    expires_at: datetime


def _invoices(session: Session, account_id: int) -> list[Invoice]:
    return list(session.scalars(
        select(Invoice).where(Invoice.account_id == account_id)
        .order_by(Invoice.period_start).options(selectinload(Invoice.lines))
    ))


def _credits_total(session: Session, account_id: int) -> int:
    return sum(session.scalars(
        select(Adjustment.amount_minor).join(ConcessionPolicy)
        .where(Adjustment.account_id == account_id, Adjustment.status == AdjustmentStatus.granted,
               ConcessionPolicy.kind.in_(CREDIT_KINDS))
    ))


def _open_amounts(session: Session, account_id: int, invoices: list[Invoice]) -> list[int]:
    """What is still open on each invoice, paying the oldest first with payments and credits."""
    available = sum(session.scalars(
        select(Payment.amount_minor).where(Payment.account_id == account_id)))
    available += _credits_total(session, account_id)
    open_amounts = []
    for invoice in invoices:
        paid = min(max(available, 0), invoice.total_minor)
        available -= paid
        open_amounts.append(invoice.total_minor - paid)
    return open_amounts


def _summary(invoice: Invoice, open_minor: int) -> InvoiceSummary:
    return InvoiceSummary(invoice.number, invoice.period_start, invoice.issue_date,
                          invoice.due_date, invoice.total_minor, open_minor, invoice.currency)


def get_balance(session: Session, *, account_number: str, today: date | None = None) -> BalanceSummary:
    today = today or date.today()
    account = get_account(session, account_number=account_number)
    invoices = _invoices(session, account.id)
    open_amounts = _open_amounts(session, account.id, invoices)
    payments = sum(session.scalars(
        select(Payment.amount_minor).where(Payment.account_id == account.id)))
    balance = sum(i.total_minor for i in invoices) - payments - _credits_total(session, account.id)
    overdue = sum(amount for invoice, amount in zip(invoices, open_amounts)
                  if invoice.due_date < today)
    due_dates = [i.due_date for i, amount in zip(invoices, open_amounts) if amount > 0]
    passed = [due for due in due_dates if due < today]
    upcoming = [due for due in due_dates if due >= today]
    arrangement_id = session.scalar(select(PaymentArrangement.id).where(
        PaymentArrangement.account_id == account.id,
        PaymentArrangement.status == ArrangementStatus.active))
    status = "paid" if balance <= 0 else ("overdue" if overdue > 0 else "due")
    return BalanceSummary(
        account_number=account.account_number, currency=account.currency, balance_minor=balance,
        overdue_minor=overdue, next_due_date=min(due_dates) if due_dates else None, status=status,
        latest_invoice=_summary(invoices[-1], open_amounts[-1]) if invoices else None,
        arrangement_id=arrangement_id, overdue_since=min(passed) if passed else None,
        upcoming_due_date=min(upcoming) if upcoming else None,
    )


def recent_payments(session: Session, *, account_number: str, limit: int = 5) -> list[PaymentSummary]:
    """The payments received on the account, newest first."""
    account = get_account(session, account_number=account_number)
    return [PaymentSummary(p.amount_minor, p.currency, p.paid_at.date(), p.method)
            for p in session.scalars(select(Payment).where(Payment.account_id == account.id)
                                     .order_by(Payment.paid_at.desc(), Payment.id.desc())
                                     .limit(limit))]


def latest_payment(session: Session, *, account_number: str) -> PaymentSummary | None:
    """The most recent payment received on the account, if any."""
    payments = recent_payments(session, account_number=account_number, limit=1)
    return payments[0] if payments else None


def check_double_charge(session: Session, *, account_number: str, today: date | None = None,
                        days: int = 60, repeat_within_days: int = 7) -> ChargeCheck:
    """The latest bill, and the last payment in `days` that repeats the one before it (same
    amount, at most `repeat_within_days` apart): what a double debit looks like here."""
    today = today or date.today()
    account = get_account(session, account_number=account_number)
    since = datetime.combine(today - timedelta(days=days), time.min, tzinfo=timezone.utc)
    payments = [PaymentSummary(p.amount_minor, p.currency, p.paid_at.date(), p.method)
                for p in session.scalars(select(Payment).where(
                    Payment.account_id == account.id, Payment.paid_at >= since)
                    .order_by(Payment.paid_at, Payment.id))]
    repeated = [(first, second) for first, second in zip(payments, payments[1:])
                if first.amount_minor == second.amount_minor
                and (second.paid_on - first.paid_on).days <= repeat_within_days]
    balance = get_balance(session, account_number=account_number, today=today)
    return ChargeCheck(latest_bill=balance.latest_invoice,
                       repeated_payment=repeated[-1] if repeated else None,
                       credit_minor=max(-balance.balance_minor, 0), currency=balance.currency)


def list_invoices(session: Session, *, account_number: str, limit: int = 6) -> list[InvoiceSummary]:
    """Newest first."""
    account = get_account(session, account_number=account_number)
    invoices = _invoices(session, account.id)
    open_amounts = _open_amounts(session, account.id, invoices)
    summaries = [_summary(i, a) for i, a in zip(invoices, open_amounts)]
    return summaries[::-1][:limit]


_REASON_BY_KIND = {
    LineKind.recurring: ("new_item", "removed_item", "price_change"),
    LineKind.usage: ("usage_change", "usage_change", "usage_change"),
    LineKind.proration: ("proration", "proration", "proration"),
    LineKind.discount: ("promotion_started", "promotion_ended", "discount_change"),
    LineKind.tax: ("tax_change", "tax_change", "tax_change"),
    LineKind.late_fee: ("late_fee", "late_fee_removed", "late_fee"),
    LineKind.credit: ("credit", "credit", "credit"),
}


def explain_latest_bill(session: Session, *, account_number: str) -> BillExplanation:
    """Latest invoice against the previous one, line by line, biggest impact first.

    The changes' impacts always add up to the difference between the two totals.
    """
    account = get_account(session, account_number=account_number)
    invoices = _invoices(session, account.id)
    if not invoices:
        raise NotFound("this account has no invoices yet")
    open_amounts = _open_amounts(session, account.id, invoices)
    latest = invoices[-1]
    previous = invoices[-2] if len(invoices) > 1 else None
    before = {(l.kind, l.code): l for l in (previous.lines if previous else [])}
    after = {(l.kind, l.code): l for l in latest.lines}
    changes = []
    for key in list(after) + [k for k in before if k not in after]:
        old, new = before.get(key), after.get(key)
        old_amount = old.amount_minor if old else 0
        new_amount = new.amount_minor if new else 0
        if old_amount == new_amount:
            continue
        added, removed, changed = _REASON_BY_KIND[key[0]]
        reason = added if old is None else removed if new is None else changed
        changes.append(BillChange(reason=reason, code=key[1],
                                  description=(new or old).description,
                                  previous_minor=old_amount, current_minor=new_amount))
    changes.sort(key=lambda c: -abs(c.impact_minor))
    return BillExplanation(
        currency=latest.currency, latest=_summary(latest, open_amounts[-1]),
        previous=_summary(previous, open_amounts[-2]) if previous else None, changes=changes,
        latest_lines=[BillLine(line.kind.value, line.description, line.amount_minor)
                      for line in latest.lines],
    )


def create_payment_link(session: Session, *, account_number: str, amount_minor: int | None = None,
                        now: datetime | None = None) -> PaymentLink:
    """A signed, expiring link to pay the open balance, or part of it (`amount_minor`: the
    next instalment of an arrangement); payment processing is out of scope."""
    now = now or utcnow()
    balance = get_balance(session, account_number=account_number, today=now.date())
    if balance.balance_minor <= 0:
        raise InvalidRequest("there is nothing to pay on this account")
    amount = balance.balance_minor if amount_minor is None else amount_minor
    if not 0 < amount <= balance.balance_minor:
        raise InvalidRequest("a payment link is for at most the open balance")
    settings = get_settings()
    expires_at = now + timedelta(hours=settings.payment_link_ttl_hours)
    token = sign_token({"acct": balance.account_number, "amt": amount,
                        "cur": balance.currency, "exp": int(expires_at.timestamp())})
    return PaymentLink(url=f"{settings.payment_link_base_url}/{token}", token=token,
                       amount_minor=amount, currency=balance.currency, expires_at=expires_at)


def read_payment_link(token: str, *, now: datetime | None = None) -> dict:
    """The claims of a valid, unexpired payment link token.

    InvalidToken when it is not one of ours, PaymentLinkExpired (a kind of InvalidToken) when
    it is past its valid-until; the messages are meant for the customer.
    """
    try:
        claims = read_token(token)
    except InvalidToken as exc:
        raise InvalidToken("this payment link is not valid; ask the assistant for a new one") from exc
    if claims.get("exp", 0) < (now or utcnow()).timestamp():
        raise PaymentLinkExpired("this payment link has expired; ask the assistant for a new one")
    return claims


def record_payment(
    session: Session,
    *,
    account_number: str,
    amount_minor: int,
    method: str,
    idempotency_key: str,
    actor: Actor,
    paid_at: datetime | None = None,
    reference: str | None = None,
    conversation_id: str | None = None,
) -> Payment:
    if amount_minor <= 0:
        raise InvalidRequest("a payment must be a positive amount")
    account = get_account(session, account_number=account_number, for_update=True)
    request_hash = fingerprint(account=account.account_number, amount=amount_minor, method=method,
                               reference=reference)
    existing = stored_result(session, Payment, key=idempotency_key, request_hash=request_hash)
    if existing is not None:
        return existing
    payment = Payment(account_id=account.id, amount_minor=amount_minor, currency=account.currency,
                      paid_at=paid_at or utcnow(), method=method, reference=reference,
                      idempotency_key=idempotency_key, request_hash=request_hash)
    session.add(payment)
    session.flush()
    record_event(session, actor=actor, action="payment.recorded", entity_type="payment",
                 entity_id=payment.id, account_id=account.id,
                 after={"amount_minor": amount_minor, "method": method},
                 conversation_id=conversation_id)
    return payment


@dataclass(frozen=True)
class NextBillEstimate:
    issue_date: date
    total_minor: int
    currency: str
    extra_data_minor: int  # data over the allowance so far this month (excl. VAT), in the total


def estimate_next_bill(session: Session, *, account_number: str, today: date) -> NextBillEstimate:
    """The next bill as the invoice run would make it today: the plan of the next period
    (a scheduled switch included), its promotion and retention discounts, a proration, and
    the data used over the allowance so far this month (more use can still add to it)."""
    account = get_account(session, account_number=account_number)
    start = add_months(cycle_start(today, account.billing_day), 1)
    invoice = build_invoice(session, account=account, period_start=start)
    extra = sum(line.amount_minor for line in invoice.lines if line.kind is LineKind.usage)
    return NextBillEstimate(start, invoice.total_minor, invoice.currency, extra)
