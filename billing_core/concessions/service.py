"""Concessions within policy: goodwill credit, late-fee waiver, retention discount.

Each role may grant up to its policy limit. Above it, an agent (or the bot) may ask for a
supervisor's approval, which creates a pending adjustment; nobody goes past the supervisor
limit. Grants lock the account row, so two concurrent grants cannot both pass a limit.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.actor import Actor
from billing_core.audit.service import record_event
from billing_core.concessions.models import (
    Adjustment, AdjustmentStatus, ConcessionKind, ConcessionPolicy,
)
from billing_core.customers.models import Account
from billing_core.customers.service import get_account
from billing_core.db import utcnow
from billing_core.enums import Role
from billing_core.errors import (
    ConcessionFrequencyExceeded, ConcessionLimitExceeded, InvalidRequest, NotEligible, NotFound,
    PermissionDenied,
)
from billing_core.idempotency import fingerprint, stored_result
from billing_core.calendar import add_months, cycle_start
from billing_core.invoices.billing import subscription_on
from billing_core.invoices.models import Invoice, LineKind
from billing_core.invoices.service import explain_latest_bill
from billing_core.money import percent_of
from billing_core.plans.service import current_subscription, with_vat

APPROVER_ROLES = (Role.supervisor, Role.admin)
GOODWILL_SHARE_PERCENT = 10  # suggested goodwill credit: this share of the latest bill


@dataclass(frozen=True)
class ConcessionAssessment:
    """Whether a concession fits the policy for this customer, and what to offer."""

    kind: ConcessionKind
    eligible: bool
    reasons: list[str] = field(default_factory=list)  # why not, when not eligible
    suggested_minor: int = 0
    max_minor: int = 0  # the most the policy allows for this customer (supervisor included)
    months: int | None = None
    role_limit_minor: int = 0
    currency: str = "EUR"

    @property
    def within_role_limit(self) -> bool:
        return self.eligible and self.suggested_minor <= self.role_limit_minor


def get_policy(session: Session, *, kind: ConcessionKind) -> ConcessionPolicy:
    policy = session.scalar(select(ConcessionPolicy).where(
        ConcessionPolicy.kind == kind, ConcessionPolicy.active))
    if policy is None:
        raise NotFound(f"no active policy for {kind.value}")
    return policy


def _grants_in_period(session: Session, *, account: Account, policy: ConcessionPolicy,
                      today: date) -> int:
    since = today - timedelta(days=policy.period_days)
    created = session.scalars(select(Adjustment.created_at).where(
        Adjustment.account_id == account.id, Adjustment.policy_id == policy.id,
        Adjustment.status != AdjustmentStatus.rejected))
    return sum(1 for at in created if at.date() > since)


def _late_fee_on_latest_invoice(session: Session, *, account: Account) -> int:
    latest = session.scalar(select(Invoice).where(Invoice.account_id == account.id)
                            .order_by(Invoice.period_start.desc()).limit(1))
    if latest is None:
        return 0
    return sum(line.amount_minor for line in latest.lines if line.kind is LineKind.late_fee)


def assess_concession(session: Session, *, account_number: str, kind: ConcessionKind,
                      role: Role, churn_risk: bool = False,
                      today: date | None = None) -> ConcessionAssessment:
    """Check the policy's criteria (tenure, bill shock, fee present, churn risk, frequency)."""
    today = today or date.today()
    account = get_account(session, account_number=account_number)
    policy = get_policy(session, kind=kind)
    reasons: list[str] = []
    tenure_from = account.customer.customer_since
    months = (today.year - tenure_from.year) * 12 + today.month - tenure_from.month
    if months < policy.min_tenure_months:
        reasons.append("tenure_too_short")
    if policy.requires_churn_risk and not churn_risk:
        reasons.append("no_churn_risk")
    if _grants_in_period(session, account=account, policy=policy, today=today) >= policy.max_per_customer:
        reasons.append("granted_recently")

    months_spread = None
    if kind is ConcessionKind.late_fee_waiver:
        policy_max = _late_fee_on_latest_invoice(session, account=account)
        if policy_max == 0:
            reasons.append("no_late_fee")
        suggested = policy_max
    elif kind is ConcessionKind.goodwill_credit:
        explanation = explain_latest_bill(session, account_number=account_number)
        if policy.requires_bill_shock_percent is not None and \
                (explanation.percent_change or 0) < policy.requires_bill_shock_percent:
            reasons.append("no_bill_shock")
        policy_max = policy.supervisor_limit_minor
        suggested = min(percent_of(explanation.latest.total_minor, GOODWILL_SHARE_PERCENT),
                        policy.limit_for(role) or policy.bot_limit_minor)
    else:
        subscription = subscription_on(session, account_id=account.id, day=today)
        if subscription is None:
            reasons.append("no_active_plan")
            suggested = 0
        else:
            months_spread = policy.discount_months or 1
            suggested = months_spread * percent_of(subscription.plan.monthly_price_minor,
                                                   policy.discount_percent or 0)
        policy_max = policy.supervisor_limit_minor
    return ConcessionAssessment(
        kind=kind, eligible=not reasons, reasons=reasons, suggested_minor=suggested,
        max_minor=min(policy_max, policy.supervisor_limit_minor), months=months_spread,
        role_limit_minor=policy.limit_for(role), currency=policy.currency,
    )


def grant_concession(
    session: Session,
    *,
    account_number: str,
    kind: ConcessionKind,
    amount_minor: int,
    actor: Actor,
    reason_code: str,
    idempotency_key: str,
    conversation_id: str | None = None,
    channel: str | None = None,
    note: str | None = None,
    churn_risk: bool = False,
    request_approval: bool = False,
    today: date | None = None,
) -> Adjustment:
    """Grant a concession, or (with `request_approval`) queue one above the actor's limit.

    Raises NotEligible, ConcessionFrequencyExceeded, ConcessionLimitExceeded (with the
    actor's maximum), IdempotencyConflict. A retry with the same key returns the same row.
    """
    today = today or date.today()
    if amount_minor <= 0:
        raise InvalidRequest("a concession must be a positive amount")
    account = get_account(session, account_number=account_number, for_update=True)
    request_hash = fingerprint(account=account.account_number, kind=kind.value,
                               amount=amount_minor, reason=reason_code)
    existing = stored_result(session, Adjustment, key=idempotency_key, request_hash=request_hash)
    if existing is not None:
        return existing

    assessment = assess_concession(session, account_number=account_number, kind=kind,
                                   role=actor.role, churn_risk=churn_risk, today=today)
    if "granted_recently" in assessment.reasons:
        raise ConcessionFrequencyExceeded(f"a {kind.value} was granted to this customer recently")
    if not assessment.eligible:
        raise NotEligible(", ".join(assessment.reasons))
    if amount_minor > assessment.max_minor:
        raise ConcessionLimitExceeded(max_allowed_minor=min(assessment.max_minor,
                                                            assessment.role_limit_minor),
                                      currency=assessment.currency, role=actor.role.value)
    status = AdjustmentStatus.granted
    if amount_minor > assessment.role_limit_minor:
        if not request_approval or actor.role not in (Role.bot, Role.agent):
            raise ConcessionLimitExceeded(max_allowed_minor=assessment.role_limit_minor,
                                          currency=assessment.currency, role=actor.role.value)
        status = AdjustmentStatus.pending_approval

    policy = get_policy(session, kind=kind)
    adjustment = Adjustment(
        account_id=account.id, policy_id=policy.id, status=status, amount_minor=amount_minor,
        currency=policy.currency, months=assessment.months, reason_code=reason_code, note=note,
        channel=channel, granted_by=actor.id, granted_by_role=actor.role.value,
        conversation_id=conversation_id, idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    session.add(adjustment)
    session.flush()
    record_event(session, actor=actor, action=f"concession.{status.value}",
                 entity_type="adjustment", entity_id=adjustment.id, account_id=account.id,
                 after={"kind": kind.value, "amount_minor": amount_minor, "status": status.value},
                 reason=reason_code, conversation_id=conversation_id)
    return adjustment


def decide_concession(session: Session, *, adjustment_id: int, approver: Actor, approve: bool,
                      reason: str | None = None) -> Adjustment:
    """A supervisor approves or rejects a pending concession."""
    if approver.role not in APPROVER_ROLES:
        raise PermissionDenied("only a supervisor may approve concessions")
    adjustment = session.scalar(select(Adjustment).where(Adjustment.id == adjustment_id)
                                .with_for_update(of=Adjustment))
    if adjustment is None:
        raise NotFound(f"no adjustment {adjustment_id}")
    if adjustment.status is not AdjustmentStatus.pending_approval:
        raise InvalidRequest(f"adjustment {adjustment_id} is {adjustment.status.value}, not pending")
    before = {"status": adjustment.status.value}
    adjustment.status = AdjustmentStatus.granted if approve else AdjustmentStatus.rejected
    adjustment.approved_by = approver.id
    adjustment.decided_at = utcnow()
    record_event(session, actor=approver, action=f"concession.{adjustment.status.value}",
                 entity_type="adjustment", entity_id=adjustment.id,
                 account_id=adjustment.account_id, before=before,
                 after={"status": adjustment.status.value}, reason=reason,
                 conversation_id=adjustment.conversation_id)
    return adjustment


def pending_approvals(session: Session) -> list[Adjustment]:
    return list(session.scalars(select(Adjustment).where(
        Adjustment.status == AdjustmentStatus.pending_approval).order_by(Adjustment.created_at)))


def monthly_discount_on_bill(session: Session, *, account_number: str, amount_minor: int,
                             months: int, today: date) -> int:
    """What a retention discount of `amount_minor` (excl. VAT, over `months` bills) takes off
    each bill, VAT included, worked out as the invoice does: its monthly part off the plan's
    fee, then VAT on what is left (Plus €55.00 less €5.50: €66.55 becomes €59.90, so €6.65
    less; VAT on the part alone would say €6.66)."""
    fee = current_subscription(session, account_number=account_number,
                               today=today).plan.monthly_price_minor
    part = amount_minor // (months or 1)
    return with_vat(fee) - with_vat(fee - part)


@dataclass(frozen=True)
class DiscountInPlace:
    """A granted retention discount with bills still to come."""

    percent: int | None
    monthly_incl_vat_minor: int
    bills_left: int
    last_bill_on: date  # the start of the last billing period it applies to
    currency: str


def discount_in_place(session: Session, *, account_number: str,
                      today: date) -> DiscountInPlace | None:
    """The retention discount the next bills carry (the invoices take it off the `months`
    periods after the one it was granted in: `invoices.billing._add_retention_discounts`)."""
    account = get_account(session, account_number=account_number)
    granted = session.scalars(
        select(Adjustment).join(ConcessionPolicy)
        .where(Adjustment.account_id == account.id, Adjustment.status == AdjustmentStatus.granted,
               ConcessionPolicy.kind == ConcessionKind.retention_discount)
        .order_by(Adjustment.created_at.desc())).all()
    next_bill = add_months(cycle_start(today, account.billing_day), 1)
    for adjustment in granted:
        months = adjustment.months or 1
        first = add_months(cycle_start(adjustment.created_at.date(), account.billing_day), 1)
        periods = [add_months(first, i) for i in range(months)]
        left = [start for start in periods if start >= next_bill]
        if left:
            return DiscountInPlace(
                percent=adjustment.policy.discount_percent,
                monthly_incl_vat_minor=monthly_discount_on_bill(
                    session, account_number=account_number, amount_minor=adjustment.amount_minor,
                    months=months, today=today),
                bills_left=len(left), last_bill_on=left[-1], currency=adjustment.currency)
    return None
