from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.actor import Actor
from billing_core.arrangements.models import (
    ArrangementInstalment, ArrangementKind, ArrangementStatus, PaymentArrangement,
)
from billing_core.audit.service import record_event
from billing_core.calendar import add_months
from billing_core.customers.service import get_account
from billing_core.errors import InvalidRequest, NotEligible
from billing_core.idempotency import fingerprint, stored_result
from billing_core.invoices.service import get_balance

MAX_EXTENSION_DAYS = 14
MIN_INSTALMENTS, MAX_INSTALMENTS = 2, 6
ONE_PER_DAYS = 182  # at most one arrangement per six months
FIRST_INSTALMENT_AFTER_DAYS = 7


@dataclass(frozen=True)
class ArrangementPreview:
    account_number: str
    kind: ArrangementKind
    amount_minor: int
    currency: str
    schedule: list[tuple[date, int]]  # (due date, amount)


def check_arrangement_eligibility(session: Session, *, account_number: str,
                                  today: date | None = None) -> list[str]:
    """Reasons the account cannot get an arrangement now; empty when it can."""
    today = today or date.today()
    account = get_account(session, account_number=account_number)
    reasons = []
    if get_balance(session, account_number=account_number, today=today).balance_minor <= 0:
        reasons.append("no_balance_due")
    recent = session.scalars(select(PaymentArrangement).where(
        PaymentArrangement.account_id == account.id,
        PaymentArrangement.status != ArrangementStatus.cancelled)).all()
    if any(a.status == ArrangementStatus.active for a in recent):
        reasons.append("arrangement_active")
    elif any(a.created_at.date() > today - timedelta(days=ONE_PER_DAYS) for a in recent):
        reasons.append("arrangement_in_last_6_months")
    return reasons


def fewest_instalments(*, total_minor: int, monthly_minor: int) -> int | None:
    """The fewest monthly instalments (2 to 6) none of which is more than `monthly_minor`
    ("I can pay €20 a month"); None when even the most instalments are more than that."""
    for count in range(MIN_INSTALMENTS, MAX_INSTALMENTS + 1):
        part, remainder = divmod(total_minor, count)
        if part + remainder <= monthly_minor:  # the first part carries the remainder
            return count
    return None


def preview_arrangement(session: Session, *, account_number: str, kind: ArrangementKind,
                        instalments: int | None = None, extension_days: int | None = None,
                        today: date | None = None) -> ArrangementPreview:
    """Schedule for paying the whole open balance: one later date (`extension_days` after the
    due date, or after today when that has passed), or 2 to 6 monthly parts, the first a week
    from today or on the due date, whichever is later."""
    today = today or date.today()
    reasons = check_arrangement_eligibility(session, account_number=account_number, today=today)
    if reasons:
        raise NotEligible(", ".join(reasons))
    balance = get_balance(session, account_number=account_number, today=today)
    amount = balance.balance_minor
    if kind is ArrangementKind.extension:
        days = extension_days or MAX_EXTENSION_DAYS
        if not 1 <= days <= MAX_EXTENSION_DAYS:
            raise InvalidRequest(f"an extension is 1 to {MAX_EXTENSION_DAYS} days")
        # "14 extra days" for a bill not due yet counts from its due date, not from today
        start = max(today, balance.next_due_date or today)
        schedule = [(start + timedelta(days=days), amount)]
    else:
        count = instalments or 3
        if not MIN_INSTALMENTS <= count <= MAX_INSTALMENTS:
            raise InvalidRequest(f"instalments: {MIN_INSTALMENTS} to {MAX_INSTALMENTS}")
        part, remainder = divmod(amount, count)
        # never before the bill itself was due: asking to spread it must not make it sooner
        first_due = max(today + timedelta(days=FIRST_INSTALMENT_AFTER_DAYS),
                        balance.next_due_date or today)
        # The first instalment absorbs the remainder cents so the parts add up exactly.
        schedule = [(add_months(first_due, i), part + (remainder if i == 0 else 0))
                    for i in range(count)]
    return ArrangementPreview(account_number, kind, amount, balance.currency, schedule)


def create_arrangement(session: Session, *, account_number: str, kind: ArrangementKind,
                       idempotency_key: str, actor: Actor, instalments: int | None = None,
                       extension_days: int | None = None, conversation_id: str | None = None,
                       today: date | None = None) -> PaymentArrangement:
    account = get_account(session, account_number=account_number, for_update=True)
    request_hash = fingerprint(account=account.account_number, kind=kind.value,
                               instalments=instalments, extension_days=extension_days)
    existing = stored_result(session, PaymentArrangement, key=idempotency_key,
                             request_hash=request_hash)
    if existing is not None:
        return existing
    preview = preview_arrangement(session, account_number=account_number, kind=kind,
                                  instalments=instalments, extension_days=extension_days,
                                  today=today)
    arrangement = PaymentArrangement(
        account_id=account.id, kind=kind, amount_minor=preview.amount_minor,
        currency=preview.currency, actor=actor.id, conversation_id=conversation_id,
        idempotency_key=idempotency_key, request_hash=request_hash,
        instalments=[ArrangementInstalment(due_date=d, amount_minor=a) for d, a in preview.schedule],
    )
    session.add(arrangement)
    session.flush()
    record_event(session, actor=actor, action="arrangement.created", entity_type="arrangement",
                 entity_id=arrangement.id, account_id=account.id, conversation_id=conversation_id,
                 after={"kind": kind.value, "amount_minor": preview.amount_minor,
                        "schedule": [[d.isoformat(), a] for d, a in preview.schedule]})
    return arrangement
