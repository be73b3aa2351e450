"""Discounts, complaints and cancellation threats: check what is fair, offer what policy allows.

The bot offers the first concession that fits the policy and its own limit: a late-fee
waiver, then goodwill credit after bill shock, then (for a cancellation threat) a retention
discount. Anything larger, or a customer still unhappy, goes to a person.
"""
from abc import ABC
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from billing_core.actor import Actor
from billing_core.concessions.models import ConcessionKind
from billing_core.concessions.service import (DiscountInPlace, assess_concession, discount_in_place,
                                              get_policy, monthly_discount_on_bill)
from billing_core.customers.service import get_account
from billing_core.enums import Role
from billing_core.errors import NotFound
from billing_core.invoices.service import explain_latest_bill
from billing_core.plans.service import suggested_switch
from billing_core.retention.models import OfferResponse
from billing_core.retention.service import (record_offer, record_response,
                                          retention_in_conversation)
from bot.actions.common import (AccountAction, Context, answers, asked_text, end_form,
                                latest_text, new_idempotency_key, offer_person, open_offer,
                                run_in_session)
from bot.actions.handoff import hand_off
from bot.also_asked import also_asked
from bot.asides import asks_for_person
from bot.cancel_reasons import threatens_to_leave, unfixable_reason
from bot.payment_claims import asks_about_paying_late, disputes_late_fee

OFFER_ORDER = (ConcessionKind.late_fee_waiver, ConcessionKind.goodwill_credit,
               ConcessionKind.retention_discount)

REASON_PHRASES = {
    "en": {"promotion_ended": "your promotion ended", "late_fee": "a late payment fee was added",
           "usage_change": "of extra data use", "proration": "of a plan change",
           "tax_change": "VAT changed", "new_item": "something new was added",
           "price_change": "a price changed", "credit": "a credit changed",
           "promotion_started": "a discount changed", "discount_change": "a discount changed",
           "removed_item": "an item changed", "late_fee_removed": "a fee changed"},
    "nl": {"promotion_ended": "uw actiekorting is afgelopen",
           "late_fee": "er aanmaningskosten bij kwamen", "usage_change": "u extra data gebruikte",
           "proration": "uw abonnement wijzigde", "tax_change": "de btw veranderde",
           "new_item": "er iets nieuws bij kwam", "price_change": "een prijs veranderde",
           "credit": "een creditering veranderde", "promotion_started": "een korting veranderde",
           "discount_change": "een korting veranderde", "removed_item": "er iets veranderde",
           "late_fee_removed": "er kosten veranderden"},
}


def session_start(tracker: Tracker) -> datetime | None:
    """When this Rasa session started (an SMS sender keeps one conversation id for good)."""
    for event in reversed(tracker.events):
        if event.get("event") == "session_started" and event.get("timestamp"):
            return datetime.fromtimestamp(event["timestamp"], timezone.utc)
    return None


def decline_offer(session: Session, offer: dict) -> None:
    """A declined retention offer is recorded; other offers leave nothing to record."""
    if offer.get("retention_outcome_id"):
        record_response(session, outcome_id=offer["retention_outcome_id"],
                        response=OfferResponse.declined, actor=Actor.bot())


class ConcessionAction(AccountAction, ABC):
    """A complaint, a discount request or a cancellation threat. Said again while the bot's
    answer is still open, it means the customer is still unhappy: a person, not the same
    answer (and offer) again."""

    still_unhappy_response = "utter_not_enough"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        context = Context.of(tracker)
        offer = open_offer(tracker)
        if not (context.verified and offer and offer["type"] in ("concession", "handoff")):
            return await super().run(dispatcher, tracker, domain)
        if offer["type"] == "handoff":  # "shall I pass this on?" answered with more of the same
            return await hand_off(dispatcher, tracker, context, offer["reason"])

        def escalate(dispatcher, tracker, context, session):
            decline_offer(session, offer)
            dispatcher.utter_message(response=self.still_unhappy_response)
            return offer_person(dispatcher, "offer_declined")

        return await run_in_session(dispatcher, escalate, tracker, context)


def offer_best_concession(dispatcher: CollectingDispatcher, context: Context, session: Session, *,
                          churn_risk: bool, reason_code: str) -> list[EventType]:
    """Offer the first concession the policy allows the bot; otherwise a cheaper plan and a
    person (for a complaint, which asked for no discount, only the person)."""
    needs_person = False
    for kind in OFFER_ORDER:
        assessment = assess_concession(session, account_number=context.account_number, kind=kind,
                                       role=Role.bot, churn_risk=churn_risk, today=context.today)
        if not assessment.eligible:
            continue
        if not assessment.within_role_limit:
            needs_person = True
            continue
        offer = {"type": "concession", "kind": kind.value, "amount_minor": assessment.suggested_minor,
                 "months": assessment.months, "reason": reason_code, "churn_risk": churn_risk,
                 "key": new_idempotency_key(context, "concession")}
        if churn_risk:
            outcome = record_offer(session, account_number=context.account_number,
                                   reason_code=reason_code, actor=Actor.bot(),
                                   concession_kind=kind.value,
                                   amount_minor=assessment.suggested_minor,
                                   channel=context.channel, conversation_id=context.conversation_id)
            offer["retention_outcome_id"] = outcome.id
        say_offer(dispatcher, context, session, kind, assessment.suggested_minor, assessment.months)
        return [SlotSet("awaiting", "confirm"), SlotSet("offer", offer)]

    if churn_risk:  # the comparison group: a cancellation threat with nothing offered
        record_offer(session, account_number=context.account_number, reason_code=reason_code,
                     actor=Actor.bot(), channel=context.channel,
                     conversation_id=context.conversation_id)
    if reason_code == "complaint":  # "my bill is wrong" asked for no discount to refuse
        dispatcher.utter_message(response="utter_complaint_to_colleague")
        return offer_person(dispatcher, reason_code)
    dispatcher.utter_message(response="utter_no_concession")
    say_cheaper_plan(dispatcher, context, session, response="utter_offer_cheaper_plan")
    if churn_risk:
        dispatcher.utter_message(response="utter_cancel_how")
    return offer_person(dispatcher, "concession_above_bot_limit" if needs_person else reason_code)


def say_offer(dispatcher: CollectingDispatcher, context: Context, session: Session,
              kind: ConcessionKind, amount_minor: int, months: int | None) -> None:
    if kind is ConcessionKind.late_fee_waiver:
        dispatcher.utter_message(response="utter_offer_late_fee_waiver",
                                 amount=context.money(amount_minor))
    elif kind is ConcessionKind.goodwill_credit:
        dispatcher.utter_message(response="utter_offer_goodwill", amount=context.money(amount_minor))
    else:
        policy = get_policy(session, kind=kind)
        since = get_account(session, account_number=context.account_number).customer.customer_since
        dispatcher.utter_message(
            response="utter_offer_retention", years=(context.today - since).days // 365,
            percent=policy.discount_percent, months=months,
            monthly=context.money(monthly_discount_on_bill(
                session, account_number=context.account_number, amount_minor=amount_minor,
                months=months or 1, today=context.today)))


def say_cheaper_plan(dispatcher: CollectingDispatcher, context: Context, session: Session, *,
                     response: str) -> None:
    """A plan that fits the customer's data use better and costs less, if there is one and no
    plan change is scheduled already (`response` says it: a tip, or instead of a discount)."""
    recommendation = suggested_switch(session, account_number=context.account_number,
                                      today=context.today)
    if recommendation:
        dispatcher.utter_message(response=response, plan=recommendation.candidate.name,
                                 saving=context.money(recommendation.yearly_saving_minor))


def say_discount_in_place(dispatcher: CollectingDispatcher, context: Context,
                          discount: DiscountInPlace) -> None:
    dispatcher.utter_message(
        response="utter_discount_in_place", percent=discount.percent,
        monthly=context.money(discount.monthly_incl_vat_minor, discount.currency),
        bills=discount.bills_left, date=context.date(discount.last_bill_on))


@answers("request_discount", "action_offer_concession")
class ActionOfferConcession(ConcessionAction):
    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        asked = asked_text(tracker, self.intent)
        if asks_about_paying_late(asked) and not disputes_late_fee(asked):
            # "komen er aanmaningskosten bij?": what paying late costs, no discount refused
            from bot.actions.billing import say_due_date  # billing imports this module
            if "ask_due_date" not in also_asked(asked, self.intent):  # else said with it
                say_due_date(dispatcher, context, session, late_fee=True)
            return []
        in_place = discount_in_place(session, account_number=context.account_number,
                                     today=context.today)
        if in_place:  # "tot wanneer loopt die korting?": the discount they have, not a "no"
            say_discount_in_place(dispatcher, context, in_place)
            return []
        # "€100 credit or I leave" is a threat too: the retention policy and the agent's flag
        threat = threatens_to_leave(asked_text(tracker, self.intent))
        events = offer_best_concession(
            dispatcher, context, session, churn_risk=threat or bool(tracker.get_slot("churn_risk")),
            reason_code="discount_request")
        return ([SlotSet("churn_risk", True)] if threat else []) + events


@answers("complain", "action_handle_complaint")
class ActionHandleComplaint(ConcessionAction):
    """Look at the bill first: explain a rise in one line, then offer what is fair."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if asks_for_person(latest_text(tracker)):  # "…speak to a real person about my bill"
            return await hand_off(dispatcher, tracker, Context.of(tracker), "complaint")
        return await super().run(dispatcher, tracker, domain)

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        try:
            explanation = explain_latest_bill(session, account_number=context.account_number)
        except NotFound:
            explanation = None
        if explanation and explanation.difference_minor > 0 and explanation.changes:
            main = explanation.changes[0].reason
            dispatcher.utter_message(response="utter_complaint_bill_context",
                                     difference=context.money(explanation.difference_minor),
                                     main_reason=REASON_PHRASES[context.language].get(main, main))
        return offer_best_concession(dispatcher, context, session, churn_risk=False,
                                     reason_code="complaint")


REASON_RESPONSES = {"bereavement": "utter_condolences", "moving_abroad": "utter_moving_abroad"}


def reason_given_in_session(tracker: Tracker) -> str | None:
    """A reason to cancel that no offer changes, in any customer message of this session."""
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            return None
        if event.get("event") == "user":
            reason = unfixable_reason(event.get("text") or "")
            if reason:
                return reason
    return None


def leave_for_good(dispatcher: CollectingDispatcher, tracker: Tracker,
                   reason: str) -> list[EventType]:
    """Condolences or good wishes (once) and a colleague to close the account; a
    verification in progress ends, since the colleague checks who they are."""
    if not tracker.get_slot("cancel_for_good"):
        dispatcher.utter_message(response=REASON_RESPONSES[reason])
    dispatcher.utter_message(response="utter_cancel_with_colleague")
    return (end_form() if tracker.active_loop_name else []) + [
        SlotSet("pending_request", None), SlotSet("cancel_for_good", True),
    ] + offer_person(dispatcher, f"cancel_{reason}")


def answer_reason_to_leave(dispatcher: CollectingDispatcher,
                           tracker: Tracker) -> list[EventType] | None:
    """'My husband passed away' or 'we're moving abroad' on its own, read as out of scope or
    not understood ("Sorry, I can't help with that" to the bereaved): `leave_for_good`."""
    reason = unfixable_reason(latest_text(tracker))
    return leave_for_good(dispatcher, tracker, reason) if reason else None


class ActionCancelEmpathy(Action):
    """The first answer to a cancellation before verification. A reason no offer changes
    (bereavement, a move abroad) gets condolences or good wishes and a colleague at once, with
    no verification and no retention offer: only a person can cancel, and the account holder
    may have died. The rules go on to verification when `cancel_for_good` stays false."""

    def name(self) -> str:
        return "action_cancel_empathy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        reason = reason_given_in_session(tracker)
        if reason is None:
            dispatcher.utter_message(response="utter_cancel_empathy")
            return [SlotSet("cancel_for_good", False)]
        return leave_for_good(dispatcher, tracker, reason)


@answers("cancel_service", "action_handle_cancellation")
class ActionHandleCancellation(ConcessionAction):
    """A first threat: empathy and the best offer policy allows. A threat again in the same
    session, even after the offer was answered, goes to a person: never a second offer or
    retention record. A reason no offer changes goes to a person without an offer."""

    still_unhappy_response = "utter_cancel_how"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        reason = reason_given_in_session(tracker)
        if reason:
            return leave_for_good(dispatcher, tracker, reason)
        earlier = retention_in_conversation(session, conversation_id=context.conversation_id,
                                            since=session_start(tracker))
        if earlier is not None:
            dispatcher.utter_message(response=self.still_unhappy_response)
            return offer_person(dispatcher, "cancel_threat")
        if self.intent not in (tracker.get_slot("pending_request") or []):
            # not resumed after verification, where the empathy came before the questions
            dispatcher.utter_message(response="utter_cancel_empathy")
        events = offer_best_concession(dispatcher, context, session, churn_risk=True,
                                       reason_code="cancel_threat")
        return [SlotSet("churn_risk", True)] + events
