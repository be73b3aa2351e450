"""Hand the conversation to a person: build the handoff packet and pass it to the channel.

The handoff service owns the customer channels and reads the packet from the bot's reply
(a custom message `{"handoff": packet}`), queues the conversation and pauses the bot. The
packet is the agent's whole briefing, so the customer never has to repeat themselves.
"""
import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from billing_core.errors import NotFound
from billing_core.invoices.service import explain_latest_bill, get_balance
from billing_core.security import mask_sensitive
from billing_core.db import session_scope
from bot.actions.common import Context, open_offer
from bot.actions.db import session_factory

log = logging.getLogger(__name__)

PACKET_VERSION = 1
CONTEXT_INTENTS = {"ask_balance", "ask_due_date", "explain_bill", "pay_bill", "payment_arrangement",
                   "change_plan", "ask_plans", "request_discount", "complain", "cancel_service"}
SHOWN_SLOTS = ("language", "channel", "target_plan", "churn_risk", "pending_request")
# Flags raise the queue priority: the service weighs them with the waiting time.
FLAG_INTENTS = {"cancel_service": "cancel_threat", "complain": "complaint"}
# Reasons the agent must see at a glance.
REASON_FLAGS = {"cancel_bereavement": "bereavement", "cancel_moving_abroad": "moving_abroad",
                "payment_not_found": "payment_missing", "late_fee_dispute": "complaint",
                "disputes_account_facts": "complaint", "double_payment": "complaint",
                "double_charge_not_found": "complaint"}
# A bereavement or a move abroad is a cancellation to close with care, not a cancel threat
# to talk round: no "cancel_threat" flag (the console would tick it for a retention offer).
CANCELLED_FOR_GOOD = {"cancel_bereavement", "cancel_moving_abroad"}


def transcript(tracker: Tracker) -> list[dict[str, Any]]:
    """The conversation for the agent; the customer's words with dates of birth and card
    numbers hidden (the bot's own dates, such as a link's expiry, stay readable)."""
    lines = []
    for event in tracker.events:
        if event.get("event") in ("user", "bot") and event.get("text"):
            said_by_customer = event["event"] == "user"
            lines.append({"from": "customer" if said_by_customer else "bot",
                          "text": mask_sensitive(event["text"]) if said_by_customer else event["text"],
                          "at": event.get("timestamp")})
    return lines


def conversation_facts(tracker: Tracker) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """Intents asked (oldest first), actions the bot took, and offers it made."""
    intents, actions, offers = [], [], []
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            name = (event.get("parse_data") or {}).get("intent", {}).get("name")
            if name in CONTEXT_INTENTS and name not in intents:
                intents.append(name)
        elif kind == "action" and event.get("name", "").startswith("action_") and \
                event["name"] not in ("action_listen", "action_session_start", "action_handoff"):
            actions.append(event["name"])
        elif kind == "slot" and event.get("name") == "offer" and event.get("value"):
            offer = {k: v for k, v in event["value"].items() if k != "key"}
            if offer.get("type") != "handoff" and offer not in offers:
                offers.append(offer)
    return intents, actions, offers


def shown_slots(tracker: Tracker) -> dict[str, Any]:
    """The slots an agent reads, with what the bot still waits for (`awaiting`): a choice, or
    the confirmation of an offer that is still open ("confirm_plan_change"); not a question
    the conversation has moved on from, nor the offer of a person being taken now."""
    awaiting = tracker.get_slot("awaiting")
    if awaiting == "confirm":
        offer = open_offer(tracker)
        awaiting = f"confirm_{offer['type']}" if offer and offer["type"] != "handoff" else None
    return {**{name: tracker.get_slot(name) for name in SHOWN_SLOTS}, "awaiting": awaiting}


def build_packet(tracker: Tracker, context: Context, session: Session | None, reason: str) -> dict:
    intents, actions, offers = conversation_facts(tracker)
    flags = {FLAG_INTENTS[i] for i in intents if i in FLAG_INTENTS}
    if tracker.get_slot("churn_risk"):  # a threat inside a discount request ("or I leave")
        flags.add("cancel_threat")
    if reason in CANCELLED_FOR_GOOD:
        flags.discard("cancel_threat")
    if reason in REASON_FLAGS:
        flags.add(REASON_FLAGS[reason])
    if tracker.get_slot("verification_locked"):
        flags.add("verification_failed")
    packet: dict[str, Any] = {
        "version": PACKET_VERSION, "conversation_id": context.conversation_id, "reason": reason,
        "language": context.language, "channel": context.channel, "flags": sorted(flags),
        "verified": context.verified, "intents": intents,
        "intent": intents[-1] if intents else None,
        "slots": {name: value for name, value in shown_slots(tracker).items()
                  if value not in (None, False)},
        "bot_tried": actions, "offers": offers, "transcript": transcript(tracker),
        "customer": None, "bill": None,
    }
    if context.verified and context.account_number and session is not None:
        packet["customer"] = {"name": tracker.get_slot("customer_name"),
                              "account_number": context.account_number}
        balance = get_balance(session, account_number=context.account_number, today=context.today)
        bill: dict[str, Any] = {
            "currency": balance.currency, "balance_minor": balance.balance_minor,
            "overdue_minor": balance.overdue_minor, "status": balance.status,
            "next_due_date": balance.next_due_date.isoformat() if balance.next_due_date else None,
        }
        try:
            explanation = explain_latest_bill(session, account_number=context.account_number)
            bill["latest_total_minor"] = explanation.latest.total_minor
            bill["previous_total_minor"] = explanation.previous.total_minor if explanation.previous else None
            bill["changes"] = [{"reason": c.reason, "description": c.description,
                                "impact_minor": c.impact_minor} for c in explanation.changes]
        except NotFound:
            pass
        packet["bill"] = bill
    return packet


async def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
                   reason: str) -> list[EventType]:
    """Always hands off; the bill context is left out if the billing database cannot be read."""

    def build() -> dict:
        try:
            with session_scope(session_factory()) as session:
                return build_packet(tracker, context, session, reason)
        except Exception:
            log.exception("handoff packet without bill context")
            return build_packet(tracker, context, None, reason)

    packet = await asyncio.to_thread(build)
    dispatcher.utter_message(response="utter_handoff")
    dispatcher.utter_message(json_message={"handoff": packet})
    return [SlotSet("awaiting", None), SlotSet("offer", None)]


class ActionHandoff(Action):
    """The customer asks for a person. Asked while the bot offers one, the hand-over keeps
    the offer's reason (a bereavement, a missing payment) for the agent and the queue."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        offer = open_offer(tracker) or {}
        reason = offer.get("reason") if offer.get("type") == "handoff" else None
        return await hand_off(dispatcher, tracker, Context.of(tracker), reason or "customer_asked")
