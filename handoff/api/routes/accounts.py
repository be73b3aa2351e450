"""Live account data for staff: an agent sees an account only while handling its conversation.

Supervisors and admins may look up any account (they approve concessions and review).
The account number comes from the handoff packet, and only when the bot verified the customer.
"""
import re
from datetime import date

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.concessions.models import Adjustment
from billing_core.customers.models import Account
from billing_core.customers.service import get_account
from billing_core.errors import NotFound as BillingNotFound
from billing_core.invoices.service import (explain_latest_bill, get_balance, list_invoices,
                                           recent_payments)
from billing_core.plans.service import current_subscription, with_vat
from billing_core.security import mask_all_but_last4
from handoff.api.deps import BillingSessionDep, SessionDep, StaffUserDep
from handoff.api.schemas import AccountOut
from handoff.errors import Forbidden, NotFound
from handoff.models import Handoff, HandoffStatus
from handoff.services.queue import Agent

router = APIRouter(prefix="/api", tags=["accounts"])

SUPERVISING = ("supervisor", "admin")
ACCOUNT_NUMBER = re.compile(r"^\d{4,16}$")


def verified_account_number(handoff: Handoff) -> str | None:
    """The verified customer's account number in the handoff packet, if the bot verified them."""
    packet = handoff.packet or {}
    customer = packet.get("customer") or {}
    if not packet.get("verified") or not isinstance(customer, dict):
        return None
    number = customer.get("account_number")
    return str(number) if number and ACCOUNT_NUMBER.match(str(number)) else None


def handles_account(session: Session, user: Agent, account_number: str) -> bool:
    """True while the user has a claimed conversation with this verified customer."""
    mine = session.scalars(select(Handoff).where(Handoff.agent == user.username,
                                                 Handoff.status == HandoffStatus.claimed))
    return any(verified_account_number(handoff) == account_number for handoff in mine)


def concession_view(session: Session, adjustment: Adjustment, account: Account | None = None) -> dict:
    account = account or session.get(Account, adjustment.account_id)
    return {
        "id": adjustment.id, "status": adjustment.status.value, "kind": adjustment.policy.kind.value,
        "amount_minor": adjustment.amount_minor, "currency": adjustment.currency,
        "months": adjustment.months, "reason_code": adjustment.reason_code, "note": adjustment.note,
        "channel": adjustment.channel, "granted_by": adjustment.granted_by,
        "granted_by_role": adjustment.granted_by_role, "approved_by": adjustment.approved_by,
        "decided_at": adjustment.decided_at.isoformat() if adjustment.decided_at else None,
        "conversation_id": adjustment.conversation_id, "account_number": account.account_number,
        "customer_name": account.customer.name, "created_at": adjustment.created_at.isoformat(),
    }


@router.get("/accounts/{account_number}", response_model=AccountOut)
def account_summary(account_number: str, user: StaffUserDep, session: SessionDep,
                    billing: BillingSessionDep) -> dict:
    """Balance, latest invoices, plan, why the bill changed, and concessions: live from billing."""
    if not ACCOUNT_NUMBER.match(account_number):
        raise NotFound("no such account")
    if user.role not in SUPERVISING and not handles_account(session, user, account_number):
        raise Forbidden("you can see an account only while you handle its customer's conversation")
    today = date.today()
    account = get_account(billing, account_number=account_number)
    balance = get_balance(billing, account_number=account_number, today=today)
    plan = None
    try:
        subscription = current_subscription(billing, account_number=account_number, today=today)
        promotion_active = bool(subscription.promotion_percent and subscription.promotion_end_date
                                and subscription.promotion_end_date > today)
        plan = {"code": subscription.plan.code, "name": subscription.plan.name,
                "monthly_price_incl_vat_minor": with_vat(subscription.plan.monthly_price_minor),
                "included_gb": subscription.plan.included_gb,
                "since": subscription.start_date.isoformat(),
                "promotion_percent": subscription.promotion_percent if promotion_active else None,
                "promotion_ended": subscription.promotion_end_date.isoformat()
                if subscription.promotion_end_date and not promotion_active else None}
    except BillingNotFound:
        pass
    changes, percent_change = [], None
    try:
        explanation = explain_latest_bill(billing, account_number=account_number)
        percent_change = explanation.percent_change
        changes = [{"reason": c.reason, "description": c.description,
                    "impact_minor": c.impact_minor} for c in explanation.changes]
    except BillingNotFound:
        pass
    adjustments = billing.scalars(select(Adjustment).where(Adjustment.account_id == account.id)
                                  .order_by(Adjustment.created_at.desc()).limit(10))
    customer = account.customer
    return {
        "account_number": account.account_number, "status": account.status,
        "currency": account.currency, "customer_name": customer.name,
        "customer_language": customer.language.value,
        "customer_since": customer.customer_since.isoformat(),
        "phone": mask_all_but_last4(customer.phone) if customer.phone else None,
        "balance_minor": balance.balance_minor, "overdue_minor": balance.overdue_minor,
        "balance_status": balance.status,
        "next_due_date": balance.next_due_date.isoformat() if balance.next_due_date else None,
        "plan": plan,
        "payments": [{"amount_minor": p.amount_minor, "currency": p.currency,
                      "paid_on": p.paid_on.isoformat(), "method": p.method}
                     for p in recent_payments(billing, account_number=account_number)],
        "invoices": [{"number": i.number, "issue_date": i.issue_date.isoformat(),
                      "due_date": i.due_date.isoformat(), "total_minor": i.total_minor,
                      "open_minor": i.open_minor, "currency": i.currency}
                     for i in list_invoices(billing, account_number=account_number, limit=4)],
        "bill_changes": changes, "percent_change": percent_change,
        "concessions": [concession_view(billing, a, account) for a in adjustments],
    }
