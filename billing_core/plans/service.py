from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.actor import Actor
from billing_core.audit.service import record_event
from billing_core.calendar import add_months, cycle_bounds, cycle_start
from billing_core.customers.service import get_account
from billing_core.errors import InvalidRequest, NotFound
from billing_core.idempotency import fingerprint, stored_result
from billing_core.invoices.billing import VAT_PERCENT, subscription_on
from billing_core.money import div_round_half_up, percent_of
from billing_core.plans.models import Plan, PlanChange, Subscription, UsageRecord


def with_vat(amount_minor: int) -> int:
    return amount_minor + percent_of(amount_minor, VAT_PERCENT)


@dataclass(frozen=True)
class PlanOption:
    code: str
    name: str
    monthly_price_minor: int  # excluding VAT
    monthly_price_incl_vat_minor: int
    included_gb: int | None
    currency: str
    overage_per_gb_incl_vat_minor: int = 0  # each GB over `included_gb`


@dataclass(frozen=True)
class PlanComparison:
    """The customer's plan against another one, priced on their own recent data use."""
    current: PlanOption
    candidate: PlanOption
    usage_gb: list[int]  # last months, oldest first
    current_monthly_cost_minor: int  # incl. VAT, for that usage
    candidate_monthly_cost_minor: int
    yearly_saving_minor: int  # negative when the candidate costs more

    @property
    def should_switch(self) -> bool:
        return self.candidate.code != self.current.code and self.yearly_saving_minor > 0


@dataclass(frozen=True)
class PlanChangePreview:
    account_number: str
    from_plan: PlanOption
    to_plan: PlanOption
    direction: str  # upgrade | downgrade
    effective_date: date
    proration_minor: int  # excl. VAT, on the next invoice; 0 for downgrades
    proration_incl_vat_minor: int
    days_remaining: int
    days_in_cycle: int
    currency: str


def _option(plan: Plan) -> PlanOption:
    return PlanOption(plan.code, plan.name, plan.monthly_price_minor,
                      with_vat(plan.monthly_price_minor), plan.included_gb, plan.currency,
                      with_vat(plan.overage_per_gb_minor))


def list_plans(session: Session) -> list[PlanOption]:
    plans = session.scalars(select(Plan).where(Plan.active).order_by(Plan.rank))
    return [_option(plan) for plan in plans]


def get_plan(session: Session, *, code: str) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.code == code.strip().lower(), Plan.active))
    if plan is None:
        raise NotFound(f"no plan {code!r}")
    return plan


def current_subscription(session: Session, *, account_number: str, today: date) -> Subscription:
    account = get_account(session, account_number=account_number)
    subscription = subscription_on(session, account_id=account.id, day=today)
    if subscription is None:
        raise NotFound("this account has no active plan")
    return subscription


def monthly_cost(plan: Plan, usage_gb: int) -> int:
    """What a month with this usage costs on this plan, including VAT, before promotions."""
    extra = 0 if plan.included_gb is None else max(0, usage_gb - plan.included_gb)
    return with_vat(plan.monthly_price_minor + extra * plan.overage_per_gb_minor)


def _compare(session: Session, *, account_number: str, today: date | None, months: int,
             plan_code: str | None) -> PlanComparison:
    """The current plan against `plan_code`, or against the cheapest plan when it is None."""
    today = today or date.today()
    account = get_account(session, account_number=account_number)
    current = current_subscription(session, account_number=account_number, today=today).plan
    named = get_plan(session, code=plan_code) if plan_code is not None else None
    this_cycle = cycle_start(today, account.billing_day)
    usage = list(session.scalars(
        select(UsageRecord.data_gb).where(UsageRecord.account_id == account.id,
                                          UsageRecord.period_start >= add_months(this_cycle, -months),
                                          UsageRecord.period_start < this_cycle)
        .order_by(UsageRecord.period_start)))
    if not usage:
        raise NotFound("no usage recorded in the last months")

    def average_cost(plan: Plan) -> int:
        return div_round_half_up(sum(monthly_cost(plan, gb) for gb in usage), len(usage))

    plans = session.scalars(select(Plan).where(Plan.active).order_by(Plan.rank)).all()
    candidate = named or min(plans, key=lambda plan: (average_cost(plan), plan.rank))
    return PlanComparison(
        current=_option(current), candidate=_option(candidate), usage_gb=usage,
        current_monthly_cost_minor=average_cost(current),
        candidate_monthly_cost_minor=average_cost(candidate),
        yearly_saving_minor=12 * (average_cost(current) - average_cost(candidate)),
    )


def recommend_plan(session: Session, *, account_number: str, today: date | None = None,
                   months: int = 3) -> PlanComparison:
    """The cheapest plan for the last `months` months of usage, and the yearly saving."""
    return _compare(session, account_number=account_number, today=today, months=months,
                    plan_code=None)


def suggested_switch(session: Session, *, account_number: str,
                     today: date | None = None) -> PlanComparison | None:
    """A cheaper plan worth suggesting on the customer's recent usage; None when none saves
    money, there is no usage yet, or a plan change is scheduled already (the customer chose)."""
    today = today or date.today()
    if scheduled_plan_change(session, account_number=account_number, today=today):
        return None
    try:
        recommendation = recommend_plan(session, account_number=account_number, today=today)
    except NotFound:
        return None
    return recommendation if recommendation.should_switch else None


def compare_plan(session: Session, *, account_number: str, plan_code: str,
                 today: date | None = None, months: int = 3) -> PlanComparison:
    """What the named plan would have cost for the last `months` months of usage ("how much
    would I save with Basic?"); raises NotFound for a plan we do not sell."""
    return _compare(session, account_number=account_number, today=today, months=months,
                    plan_code=plan_code)


def preview_plan_change(session: Session, *, account_number: str, to_plan_code: str,
                        today: date | None = None) -> PlanChangePreview:
    """Upgrades start today and charge the price difference for the rest of the cycle, by day;
    downgrades start at the next cycle with nothing to prorate."""
    today = today or date.today()
    account = get_account(session, account_number=account_number)
    current = current_subscription(session, account_number=account_number, today=today).plan
    target = get_plan(session, code=to_plan_code)
    if target.id == current.id:
        raise InvalidRequest(f"the account is already on the {target.name} plan")
    start, end = cycle_bounds(today, account.billing_day)
    days_in_cycle = (end - start).days
    if target.rank > current.rank:
        days_remaining = (end - today).days
        proration = div_round_half_up(
            (target.monthly_price_minor - current.monthly_price_minor) * days_remaining,
            days_in_cycle)
        direction, effective = "upgrade", today
    else:
        days_remaining, proration, direction, effective = 0, 0, "downgrade", end
    return PlanChangePreview(
        account_number=account_number, from_plan=_option(current), to_plan=_option(target),
        direction=direction, effective_date=effective, proration_minor=proration,
        proration_incl_vat_minor=with_vat(proration), days_remaining=days_remaining,
        days_in_cycle=days_in_cycle, currency=current.currency,
    )


def scheduled_plan_change(session: Session, *, account_number: str, today: date) -> PlanChange | None:
    """A change that takes effect after today (a downgrade waiting for the next cycle)."""
    account = get_account(session, account_number=account_number)
    return session.scalar(select(PlanChange).where(
        PlanChange.account_id == account.id, PlanChange.effective_date > today))


def apply_plan_change(session: Session, *, account_number: str, to_plan_code: str,
                      idempotency_key: str, actor: Actor, conversation_id: str | None = None,
                      today: date | None = None) -> PlanChange:
    """Apply what `preview_plan_change` showed. A retry with the same key returns the same change."""
    today = today or date.today()
    account = get_account(session, account_number=account_number, for_update=True)
    request_hash = fingerprint(account=account.account_number, to_plan=to_plan_code.strip().lower())
    existing = stored_result(session, PlanChange, key=idempotency_key, request_hash=request_hash)
    if existing is not None:
        return existing
    if scheduled_plan_change(session, account_number=account_number, today=today) is not None:
        raise InvalidRequest("a plan change is already scheduled for this account")
    preview = preview_plan_change(session, account_number=account_number,
                                  to_plan_code=to_plan_code, today=today)
    current = current_subscription(session, account_number=account_number, today=today)
    target = get_plan(session, code=to_plan_code)
    current.end_date = preview.effective_date
    session.add(Subscription(account_id=account.id, plan_id=target.id,
                             start_date=preview.effective_date))
    change = PlanChange(
        account_id=account.id, from_plan_id=current.plan_id, to_plan_id=target.id,
        effective_date=preview.effective_date, proration_minor=preview.proration_minor,
        currency=preview.currency, status="applied" if preview.direction == "upgrade" else "scheduled",
        actor=actor.id, conversation_id=conversation_id, idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    session.add(change)
    session.flush()
    record_event(session, actor=actor, action="plan.changed", entity_type="plan_change",
                 entity_id=change.id, account_id=account.id, conversation_id=conversation_id,
                 before={"plan": preview.from_plan.code},
                 after={"plan": target.code, "effective_date": preview.effective_date.isoformat(),
                        "proration_minor": preview.proration_minor})
    return change


@dataclass(frozen=True)
class DataUse:
    months: list[tuple[date, int]]  # (billing month's first day, GB used), oldest first
    included_gb: int | None  # the current plan's allowance; None: unlimited


def data_use(session: Session, *, account_number: str, today: date, months: int = 3) -> DataUse:
    """The data used in the last complete billing months (a month is counted when it ends)."""
    account = get_account(session, account_number=account_number)
    this_cycle = cycle_start(today, account.billing_day)
    rows = session.execute(
        select(UsageRecord.period_start, UsageRecord.data_gb)
        .where(UsageRecord.account_id == account.id,
               UsageRecord.period_start >= add_months(this_cycle, -months),
               UsageRecord.period_start < this_cycle)
        .order_by(UsageRecord.period_start)).all()
    plan = current_subscription(session, account_number=account_number, today=today).plan
    return DataUse([(start, gb) for start, gb in rows], plan.included_gb)
