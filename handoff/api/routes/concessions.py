"""Concessions from the console: grant within the agent's limit, or ask a supervisor.

An agent grants only for the verified customer of a conversation they have claimed. Above
their limit they may request approval (a pending adjustment); supervisors and admins list
pending requests and approve or reject them. The billing core enforces the limits, the
frequency rules and idempotency; its errors map to HTTP in `handoff.api.errors`.
Every change is announced on the staff WebSocket as `{"type": "concessions_changed"}`.

Churn risk (the retention policy's condition) comes from the handoff's packet unless the
agent says otherwise: see `packet_churn_risk`.
"""
from dataclasses import dataclass

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.actor import Actor
from billing_core.concessions.models import Adjustment, AdjustmentStatus, ConcessionKind
from billing_core.concessions.service import (
    assess_concession, decide_concession, grant_concession, pending_approvals,
)
from billing_core.customers.service import get_account
from billing_core.db import session_scope
from billing_core.enums import Role
from billing_core.errors import BillingError
from billing_core.retention.models import OfferResponse, RetentionOutcome
from billing_core.retention.service import record_offer, record_response
from handoff.api.deps import ContainerDep, StaffUserDep, SupervisorDep
from handoff.api.routes.accounts import SUPERVISING, concession_view, verified_account_number
from handoff.api.schemas import ConcessionIn, ConcessionOption, ConcessionOut, DecisionIn
from handoff.container import Container
from handoff.errors import Conflict, Forbidden
from handoff.services import queue, transcript
from handoff.services.pubsub import QUEUE_TOPIC
from handoff.services.queue import Agent, packet_churn_risk

router = APIRouter(prefix="/api", tags=["concessions"])


@dataclass(frozen=True)
class CustomerContext:
    handoff_id: int
    conversation_id: str
    channel: str
    account_number: str
    churn_risk: bool = False  # from the packet (`packet_churn_risk`)


def customer_context(container: Container, handoff_id: int, user: Agent, *,
                     write: bool) -> CustomerContext:
    """The verified customer of a handoff the user may act on (read: supervisors too)."""
    with session_scope(container.sessions) as session:
        if write or user.role not in SUPERVISING:
            handoff = queue.owned(session, handoff_id=handoff_id, agent=user)
        else:
            handoff = queue.get(session, handoff_id)
        account_number = verified_account_number(handoff)
        if account_number is None:
            raise Conflict("the customer in this conversation is not verified, so no account "
                           "actions are possible")
        conversation = transcript.get_conversation(session, handoff.conversation_id)
        return CustomerContext(handoff.id, conversation.id, conversation.channel, account_number,
                               packet_churn_risk(handoff.packet))


def actor_of(user: Agent) -> Actor:
    return Actor(id=user.username, role=Role(user.role))


def record_retention(session: Session, adjustment: Adjustment, *, churn_risk: bool = False) -> None:
    """A concession in a retention context is a retention offer (once per adjustment).

    Retention context: a retention discount, or any concession to a customer who threatens
    to leave (`churn_risk`). Recorded when granted or sent for approval (`offered`), accepted
    once granted; a rejected request stays `offered` (the customer never got it).
    The offer is the requesting agent's, also when a supervisor approved it later.
    """
    outcome = session.scalar(select(RetentionOutcome).where(
        RetentionOutcome.adjustment_id == adjustment.id))
    actor = Actor(id=adjustment.granted_by, role=Role(adjustment.granted_by_role))
    if outcome is None:
        if adjustment.status is AdjustmentStatus.rejected or not (
                churn_risk or adjustment.policy.kind is ConcessionKind.retention_discount):
            return
        account = get_account(session, account_number=concession_view(session, adjustment)["account_number"])
        outcome = record_offer(session, account_number=account.account_number,
                               reason_code=adjustment.reason_code, actor=actor,
                               concession_kind=adjustment.policy.kind.value,
                               amount_minor=adjustment.amount_minor, adjustment_id=adjustment.id,
                               channel=adjustment.channel, conversation_id=adjustment.conversation_id)
    if adjustment.status is AdjustmentStatus.granted and outcome.response is not OfferResponse.accepted:
        record_response(session, outcome_id=outcome.id, response=OfferResponse.accepted, actor=actor)


def announce(container: Container, view: dict) -> None:
    container.broker.publish(QUEUE_TOPIC, {
        "type": "concessions_changed", "adjustment_id": view["id"], "status": view["status"],
        "conversation_id": view["conversation_id"], "granted_by": view["granted_by"],
        "approved_by": view["approved_by"]})


@router.get("/handoffs/{handoff_id}/concessions/options", response_model=list[ConcessionOption])
def concession_options(handoff_id: int, user: StaffUserDep, container: ContainerDep,
                       churn_risk: bool | None = Query(
                           None, description="the customer threatens to leave; "
                                             "default: as the handoff's packet says")) -> list[dict]:
    """For each kind: eligible or why not, the suggested amount, the policy maximum, your limit."""
    context = customer_context(container, handoff_id, user, write=False)
    if churn_risk is None:
        churn_risk = context.churn_risk
    options = []
    with session_scope(container.billing_sessions) as billing:
        for kind in ConcessionKind:
            try:
                a = assess_concession(billing, account_number=context.account_number, kind=kind,
                                      role=Role(user.role), churn_risk=churn_risk)
            except BillingError as exc:
                options.append({"kind": kind.value, "eligible": False, "reasons": [exc.code],
                                "suggested_minor": 0, "max_minor": 0, "role_limit_minor": 0,
                                "currency": "EUR"})
                continue
            options.append({"kind": kind.value, "eligible": a.eligible, "reasons": a.reasons,
                            "suggested_minor": a.suggested_minor, "max_minor": a.max_minor,
                            "role_limit_minor": a.role_limit_minor, "currency": a.currency,
                            "months": a.months})
    return options


@router.get("/handoffs/{handoff_id}/concessions", response_model=list[ConcessionOut])
def list_concessions(handoff_id: int, user: StaffUserDep, container: ContainerDep) -> list[dict]:
    """Concessions made in this conversation, newest first (granted, pending, rejected)."""
    context = customer_context(container, handoff_id, user, write=False)
    with session_scope(container.billing_sessions) as billing:
        account = get_account(billing, account_number=context.account_number)
        rows = billing.scalars(select(Adjustment).where(
            Adjustment.account_id == account.id,
            Adjustment.conversation_id == context.conversation_id)
            .order_by(Adjustment.created_at.desc(), Adjustment.id.desc()))
        return [concession_view(billing, row, account) for row in rows]


@router.post("/handoffs/{handoff_id}/concessions", response_model=ConcessionOut, status_code=201)
def grant(handoff_id: int, body: ConcessionIn, user: StaffUserDep, container: ContainerDep) -> dict:
    """Grant within your limit; above it, `request_approval: true` creates a pending request.

    403 `concession_limit_exceeded` (with `max_allowed_minor`) when the amount is above what
    you may grant; 409 when the policy does not allow it for this customer.
    """
    context = customer_context(container, handoff_id, user, write=True)
    churn_risk = context.churn_risk if body.churn_risk is None else body.churn_risk
    actor = actor_of(user)
    with session_scope(container.billing_sessions) as billing:
        adjustment = grant_concession(
            billing, account_number=context.account_number, kind=ConcessionKind(body.kind),
            amount_minor=body.amount_minor, actor=actor, reason_code=body.reason_code,
            idempotency_key=f"console:{user.username}:{body.idempotency_key}",
            conversation_id=context.conversation_id, channel=context.channel, note=body.note,
            churn_risk=churn_risk, request_approval=body.request_approval)
        record_retention(billing, adjustment, churn_risk=churn_risk)
        view = concession_view(billing, adjustment)
    announce(container, view)
    return view


@router.get("/approvals", response_model=list[ConcessionOut])
def approvals(user: SupervisorDep, container: ContainerDep) -> list[dict]:
    """Concessions waiting for a supervisor, oldest first."""
    with session_scope(container.billing_sessions) as billing:
        return [concession_view(billing, a) for a in pending_approvals(billing)]


def decide(container: Container, user: Agent, adjustment_id: int, approve: bool,
           body: DecisionIn | None) -> dict:
    actor = actor_of(user)
    with session_scope(container.billing_sessions) as billing:
        pending = billing.get(Adjustment, adjustment_id)
        if pending is not None and pending.granted_by == user.username:
            raise Forbidden("you cannot decide on your own request")
        adjustment = decide_concession(billing, adjustment_id=adjustment_id, approver=actor,
                                       approve=approve, reason=body.reason if body else None)
        record_retention(billing, adjustment)
        view = concession_view(billing, adjustment)
    announce(container, view)
    return view


@router.post("/approvals/{adjustment_id}/approve", response_model=ConcessionOut)
def approve(adjustment_id: int, user: SupervisorDep, container: ContainerDep,
            body: DecisionIn | None = None) -> dict:
    return decide(container, user, adjustment_id, True, body)


@router.post("/approvals/{adjustment_id}/reject", response_model=ConcessionOut)
def reject(adjustment_id: int, user: SupervisorDep, container: ContainerDep,
           body: DecisionIn | None = None) -> dict:
    return decide(container, user, adjustment_id, False, body)

