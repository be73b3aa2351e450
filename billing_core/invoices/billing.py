"""The monthly billing run: turns subscriptions, usage, plan changes and concessions into lines.

An invoice for the cycle [start, next start) carries the plan fee for that cycle in advance,
usage above the allowance of the previous cycle, proration of plan changes made during the
previous cycle, discounts, VAT on all of that, then late fees and credits outside VAT.
"""
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.calendar import add_months, cycle_start
from billing_core.concessions.models import Adjustment, AdjustmentStatus, ConcessionKind, ConcessionPolicy
from billing_core.customers.models import Account
from billing_core.invoices.models import Invoice, LineKind
from billing_core.money import percent_of
from billing_core.plans.models import PlanChange, Subscription, UsageRecord

VAT_PERCENT = 21
LATE_FEE_MINOR = 500
PAYMENT_TERM_DAYS = 14
_TAXED = {LineKind.recurring, LineKind.usage, LineKind.proration, LineKind.discount}


def subscription_on(session: Session, *, account_id: int, day: date) -> Subscription | None:
    return session.scalar(
        select(Subscription)
        .where(Subscription.account_id == account_id, Subscription.start_date <= day,
               (Subscription.end_date.is_(None)) | (Subscription.end_date > day))
        .order_by(Subscription.start_date.desc())
    )


def issue_invoice(
    session: Session, *, account: Account, period_start: date, late_fee: bool = False
) -> Invoice:
    """Create the invoice of the cycle starting `period_start` (on the account's billing day)."""
    invoice = build_invoice(session, account=account, period_start=period_start, late_fee=late_fee)
    session.add(invoice)
    session.flush()
    return invoice


def build_invoice(
    session: Session, *, account: Account, period_start: date, late_fee: bool = False
) -> Invoice:
    """The invoice of the cycle starting `period_start`, worked out but not stored (an
    estimate of the next bill is this, before the period's usage is complete)."""
    period_end = add_months(period_start, 1)
    previous_start = add_months(period_start, -1)
    invoice = Invoice(
        number=f"{account.account_number}-{period_start:%Y%m%d}", account_id=account.id,
        period_start=period_start, period_end=period_end, issue_date=period_start,
        due_date=period_start + timedelta(days=PAYMENT_TERM_DAYS), currency=account.currency,
    )
    subscription = subscription_on(session, account_id=account.id, day=period_start)
    if subscription is not None:
        plan = subscription.plan
        invoice.add_line(kind=LineKind.recurring, code=f"plan:{plan.code}",
                         description=f"{plan.name} plan, monthly fee",
                         amount_minor=plan.monthly_price_minor)
        if subscription.promotion_percent and subscription.promotion_end_date and \
                period_start < subscription.promotion_end_date:
            invoice.add_line(
                kind=LineKind.discount, code=f"promo:{subscription.promotion_code}",
                description=f"Promotion {subscription.promotion_code}: "
                            f"{subscription.promotion_percent}% off",
                amount_minor=-percent_of(plan.monthly_price_minor, subscription.promotion_percent),
            )
        _add_usage(session, invoice, account_id=account.id, previous_start=previous_start)
    _add_prorations(session, invoice, account_id=account.id, previous_start=previous_start,
                    period_start=period_start)
    _add_retention_discounts(session, invoice, account_id=account.id, period_start=period_start)
    taxable = sum(line.amount_minor for line in invoice.lines if line.kind in _TAXED)
    invoice.add_line(kind=LineKind.tax, code=f"tax:vat{VAT_PERCENT}",
                     description=f"VAT {VAT_PERCENT}%", amount_minor=percent_of(taxable, VAT_PERCENT))
    if late_fee:
        invoice.add_line(kind=LineKind.late_fee, code="fee:late",
                         description="Late payment fee", amount_minor=LATE_FEE_MINOR)
    return invoice


def _add_usage(session: Session, invoice: Invoice, *, account_id: int, previous_start: date) -> None:
    usage = session.scalar(select(UsageRecord).where(
        UsageRecord.account_id == account_id, UsageRecord.period_start == previous_start))
    plan_then = subscription_on(session, account_id=account_id, day=previous_start)
    if usage is None or plan_then is None or plan_then.plan.included_gb is None:
        return
    extra_gb = usage.data_gb - plan_then.plan.included_gb
    if extra_gb > 0:
        invoice.add_line(kind=LineKind.usage, code="usage:data",
                         description=f"Extra data {extra_gb} GB in the cycle from {previous_start:%d %b}",
                         amount_minor=extra_gb * plan_then.plan.overage_per_gb_minor)


def _add_prorations(session: Session, invoice: Invoice, *, account_id: int, previous_start: date,
                    period_start: date) -> None:
    changes = session.scalars(select(PlanChange).where(
        PlanChange.account_id == account_id, PlanChange.effective_date >= previous_start,
        PlanChange.effective_date < period_start, PlanChange.proration_minor != 0))
    for change in changes:
        invoice.add_line(kind=LineKind.proration, code=f"proration:{change.id}",
                         description=f"Plan change on {change.effective_date:%d %b %Y}, "
                                     "rest of that month",
                         amount_minor=change.proration_minor)


def _add_retention_discounts(session: Session, invoice: Invoice, *, account_id: int,
                             period_start: date) -> None:
    """A granted retention discount applies to the `months` invoices after it was granted."""
    discounts = session.scalars(
        select(Adjustment).join(ConcessionPolicy)
        .where(Adjustment.account_id == account_id,
               Adjustment.status == AdjustmentStatus.granted,
               ConcessionPolicy.kind == ConcessionKind.retention_discount)
    )
    for adjustment in discounts:
        first = cycle_start(adjustment.created_at.date(), period_start.day)
        first = add_months(first, 1)
        if first <= period_start < add_months(first, adjustment.months or 1):
            monthly = adjustment.amount_minor // (adjustment.months or 1)
            invoice.add_line(kind=LineKind.discount, code=f"retention:{adjustment.id}",
                             description="Loyalty discount", amount_minor=-monthly)
