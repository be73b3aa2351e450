from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.actor import Actor
from billing_core.audit.service import record_event
from billing_core.customers.models import Account
from billing_core.customers.service import get_account
from billing_core.db import utcnow
from billing_core.errors import NotFound
from billing_core.retention.models import OfferResponse, RetentionOutcome


def record_offer(session: Session, *, account_number: str, reason_code: str, actor: Actor,
                 concession_kind: str | None = None, amount_minor: int = 0,
                 adjustment_id: int | None = None, channel: str | None = None,
                 conversation_id: str | None = None,
                 offered_at: datetime | None = None) -> RetentionOutcome:
    """Record a retention conversation; `concession_kind=None` records that nothing was offered."""
    account = get_account(session, account_number=account_number)
    outcome = RetentionOutcome(
        account_id=account.id, adjustment_id=adjustment_id, concession_kind=concession_kind,
        amount_minor=amount_minor, currency=account.currency, reason_code=reason_code,
        channel=channel, offered_by=actor.id, offered_by_role=actor.role.value,
        offered_at=offered_at or utcnow(), conversation_id=conversation_id,
    )
    session.add(outcome)
    session.flush()
    record_event(session, actor=actor, action="retention.offered", entity_type="retention_outcome",
                 entity_id=outcome.id, account_id=account.id, conversation_id=conversation_id,
                 after={"kind": concession_kind, "amount_minor": amount_minor})
    return outcome


def retention_in_conversation(session: Session, *, conversation_id: str,
                              since: datetime | None = None) -> RetentionOutcome | None:
    """The retention offer already made in this chat (since `since`), if any."""
    query = select(RetentionOutcome).where(RetentionOutcome.conversation_id == conversation_id)
    if since is not None:
        query = query.where(RetentionOutcome.offered_at >= since)
    return session.scalars(query.order_by(RetentionOutcome.id.desc()).limit(1)).first()


def record_response(session: Session, *, outcome_id: int, response: OfferResponse,
                    actor: Actor) -> RetentionOutcome:
    outcome = session.get(RetentionOutcome, outcome_id)
    if outcome is None:
        raise NotFound(f"no retention outcome {outcome_id}")
    before = {"response": outcome.response.value}
    outcome.response = response
    record_event(session, actor=actor, action="retention.response", entity_type="retention_outcome",
                 entity_id=outcome.id, account_id=outcome.account_id, before=before,
                 after={"response": response.value}, conversation_id=outcome.conversation_id)
    return outcome


def update_followups(session: Session, *, today: date | None = None) -> int:
    """Fill in whether customers were still active 30 and 90 days after an offer."""
    today = today or date.today()
    updated = 0
    pending = session.scalars(select(RetentionOutcome).where(
        RetentionOutcome.active_after_90d.is_(None)))
    for outcome in pending:
        account = session.get(Account, outcome.account_id)
        offered = outcome.offered_at.date()
        cancelled = account.cancelled_at.date() if account.cancelled_at else None
        outcome.cancelled_on = cancelled
        for days, attribute in ((30, "active_after_30d"), (90, "active_after_90d")):
            if getattr(outcome, attribute) is None and today >= offered + timedelta(days=days):
                setattr(outcome, attribute, cancelled is None or cancelled > offered + timedelta(days=days))
                updated += 1
    return updated
