"""Yes, no, bare values and misunderstandings: the glue between questions and answers."""
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from billing_core.actor import Actor
from billing_core.arrangements.models import ArrangementKind
from billing_core.arrangements.service import create_arrangement
from billing_core.concessions.models import ConcessionKind
from billing_core.concessions.service import grant_concession, monthly_discount_on_bill
from billing_core.errors import BillingError
from billing_core.plans.service import apply_plan_change, get_plan
from billing_core.retention.models import OfferResponse, RetentionOutcome
from billing_core.retention.service import record_response
from bot.actions.arrangements import (monthly_amount, offer_arrangement, offer_for_monthly_amount,
                                      parse_arrangement_choice)
from bot.actions.billing import PAYMENT_CLAIM, offer_direct_debit, say_payment_method
from bot.actions.common import (ACCOUNT_ACTIONS, HANDED_BACK, Context, answer_aside,
                                answer_due_date_move, ask_offer_again, last_bot_response,
                                latest_text, offer_person, offered_earlier, open_offer,
                                refuse_other_account, run_in_session, say_again)
from bot.actions.concessions import answer_reason_to_leave, decline_offer
from bot.actions.handoff import hand_off
from bot.actions.plans import (offer_plan_change, say_plan_on_usage, say_unknown_plan,
                               say_when_plan_change_starts, tell_plan)
from bot.actions.verification import check_details_sent_unasked, second_factor_given
from bot.account_details import asks_to_change_details
from bot.asides import (asks_a_question, demands_a_fix, disagrees, is_closing, is_pause,
                        lacks_account_number, prefers_instead, reports_fault)
from bot.language import requested_language
from bot.payment_claims import is_payment_message
from bot.payment_methods import DIRECT_DEBIT, asked_payment_method
from bot.plan_names import asks_about_data, plan_described, unknown_plan_name

CLEARED = [SlotSet("awaiting", None), SlotSet("offer", None)]
ASKS_ANYTHING_ELSE = {"utter_anything_else", "utter_you_are_welcome", "utter_person_not_now",
                      "utter_ok_not_doing_it", HANDED_BACK}
# What the bot says about the account (balance, due date, why the bill changed), which a
# customer can dispute ("no, that's not right").
ACCOUNT_FACTS = ("utter_balance_", "utter_due_date", "utter_bill_", "utter_reason_",
                 "utter_arrangement_in_place", "utter_plan_saving_tip", "utter_late_fee_terms")
# A change is written only on a clear yes: a button, or a "yes" the model is sure about.
CONFIRM_CONFIDENCE = 0.8

INTENT_LABELS = {
    "ask_balance": ("My balance", "Mijn saldo"),
    "ask_due_date": ("When to pay", "Wanneer betalen"),
    "explain_bill": ("Why my bill changed", "Waarom mijn factuur veranderde"),
    "pay_bill": ("How to pay", "Hoe betalen"),
    "payment_arrangement": ("Payment arrangement", "Betalingsregeling"),
    "change_plan": ("Change my plan", "Abonnement wijzigen"),
    "ask_plans": ("Our plans", "Onze abonnementen"),
    "request_discount": ("A discount", "Korting"),
    "complain": ("A complaint", "Een klacht"),
    "cancel_service": ("Cancel", "Opzeggen"),
    "request_human": ("Talk to a person", "Medewerker spreken"),
}


def _confirm(dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
             session: Session, offer: dict) -> list[EventType]:
    """Carry out the offer the customer said yes to; the offer's key makes a repeat harmless."""
    if offer["type"] == "plan_change":
        change = apply_plan_change(session, account_number=context.account_number,
                                   to_plan_code=offer["to_plan"], idempotency_key=offer["key"],
                                   actor=Actor.bot(), conversation_id=context.conversation_id,
                                   today=context.today)
        dispatcher.utter_message(response="utter_plan_changed",
                                 to_plan=get_plan(session, code=offer["to_plan"]).name,
                                 date=context.date(change.effective_date))
    elif offer["type"] == "arrangement":
        create_arrangement(session, account_number=context.account_number,
                           kind=ArrangementKind(offer["kind"]), instalments=offer["instalments"],
                           extension_days=offer["extension_days"], idempotency_key=offer["key"],
                           actor=Actor.bot(), conversation_id=context.conversation_id,
                           today=context.today)
        dispatcher.utter_message(response="utter_arrangement_created")
    elif offer["type"] == "concession":
        kind = ConcessionKind(offer["kind"])
        adjustment = grant_concession(
            session, account_number=context.account_number, kind=kind,
            amount_minor=offer["amount_minor"], actor=Actor.bot(), reason_code=offer["reason"],
            idempotency_key=offer["key"], conversation_id=context.conversation_id,
            channel=context.channel, churn_risk=offer["churn_risk"], today=context.today)
        if offer.get("retention_outcome_id"):
            session.get(RetentionOutcome, offer["retention_outcome_id"]).adjustment_id = adjustment.id
            record_response(session, outcome_id=offer["retention_outcome_id"],
                            response=OfferResponse.accepted, actor=Actor.bot())
        if kind is ConcessionKind.retention_discount:
            dispatcher.utter_message(
                response="utter_concession_granted_discount", months=offer["months"],
                monthly=context.money(monthly_discount_on_bill(
                    session, account_number=context.account_number,
                    amount_minor=offer["amount_minor"], months=offer["months"],
                    today=context.today)))
        else:
            dispatcher.utter_message(response="utter_concession_granted_credit",
                                     amount=context.money(offer["amount_minor"]))
    return CLEARED


class ActionConfirm(Action):
    def name(self) -> str:
        return "action_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if answer_aside(dispatcher, tracker):  # "hang on" read as yes must not confirm
            return []
        context = Context.of(tracker)
        offer = open_offer(tracker)
        if not offer:
            earlier = offered_earlier(tracker)
            if earlier:  # a "yes" after other topics: show the offer again, act on the next yes
                return offer_again(dispatcher, earlier.offer, earlier.message)
            asked = ask_open_choice_again(dispatcher, tracker)  # "yes" to "which plan?"
            if asked is not None:
                return asked
            dispatcher.utter_message(response="utter_what_can_i_do")
            return CLEARED
        if offer["type"] == "handoff":
            return await hand_off(dispatcher, tracker, context, offer.get("reason", "customer_asked"))
        if not context.verified:  # offers are only made to verified customers; never act otherwise
            dispatcher.utter_message(response="utter_verify_first")
            return CLEARED
        if tracker.latest_message.get("intent", {}).get("confidence", 0) < CONFIRM_CONFIDENCE:
            dispatcher.utter_message(response="utter_confirm_again")
            return []

        def handle(dispatcher, tracker, context, session):
            try:
                return _confirm(dispatcher, tracker, context, session, offer)
            except BillingError:
                # e.g. a limit or eligibility changed since the offer: a person takes over.
                session.rollback()
                return offer_person(dispatcher, "confirmation_failed")

        return await run_in_session(dispatcher, handle, tracker, context)


def offer_again(dispatcher: CollectingDispatcher, offer: dict,
                message: dict | None) -> list[EventType]:
    """Say the bot's offer again (its own words and buttons) and open it anew."""
    if message is None:
        dispatcher.utter_message(response="utter_confirm_again")
    else:
        dispatcher.utter_message(response="utter_offer_again")
        say_again(dispatcher, message)
    return [SlotSet("awaiting", "confirm"), SlotSet("offer", offer)]


CHOICE_UNCLEAR = {"plan_choice": "utter_plan_choice_unclear",
                  "arrangement_choice": "utter_arrangement_choice_unclear"}


def ask_open_choice_again(dispatcher: CollectingDispatcher,
                          tracker: Tracker) -> list[EventType] | None:
    """A question the bot asked (which plan, which arrangement) answered with something that
    is no choice: ask it again instead of dropping it; asked twice already, a colleague is
    offered instead of the same line a third time (before: "Kies 14 dagen uitstel..." to
    every message until the customer asked for a person)."""
    response = CHOICE_UNCLEAR.get(tracker.get_slot("awaiting"))
    if response is None:
        return None
    if last_bot_response(tracker) == response:
        dispatcher.utter_message(response="utter_choice_or_person")
        return offer_person(dispatcher, "choice_unclear")
    if response == "utter_plan_choice_unclear":  # "gold": none of ours, then the question
        say_unknown_plan(dispatcher, latest_text(tracker))
    dispatcher.utter_message(response=response)
    return []


def confirm_language_request(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """A request for English or Dutch ("in Dutch please") is no intent of its own and reads
    as out of scope or unclear; the language slot has already followed it
    (`bot.language.requested_language`), so say so instead of not understanding."""
    if not requested_language(latest_text(tracker)):
        return False
    dispatcher.utter_message(response="utter_language_switched")
    return True


def answer_without_intent(dispatcher: CollectingDispatcher,
                          tracker: Tracker) -> list[EventType] | None:
    """A pause, a question about verification, a reason to leave that no offer changes or,
    outside verification, no account number at hand, a fault ("no signal"), a change of
    personal details ("I need to change my address") or a question about how to pay, read
    as out of scope or not understood: its answer's events, or None for none of these."""
    if answer_aside(dispatcher, tracker):
        return []
    leaving = answer_reason_to_leave(dispatcher, tracker)
    if leaving is not None:
        return leaving
    if tracker.active_loop_name:
        return None
    lacking = answer_without_account_number(dispatcher, tracker)
    if lacking is not None:
        return lacking
    if reports_fault(latest_text(tracker)):  # "no signal on my phone": not a bill question
        dispatcher.utter_message(response="utter_fault_not_billing")
        return offer_person(dispatcher, "technical_fault")
    changing = answer_change_of_details(dispatcher, tracker) or \
        answer_due_date_move(dispatcher, tracker)
    if changing is not None:
        return changing
    demanded = answer_demand_for_a_fix(dispatcher, tracker)
    if demanded is not None:
        return demanded
    return answer_payment_method_then_link(dispatcher, tracker)  # "kan ik automatisch betalen?"


def answer_payment_method_then_link(dispatcher: CollectingDispatcher,
                                    tracker: Tracker) -> list[EventType] | None:
    """A payment method question not read as `pay_bill`: answered, then on to the payment
    link as if it had been (verification first, with any details sent along); direct debit
    is offered a colleague instead."""
    method = asked_payment_method(latest_text(tracker))
    if method is None:
        return None
    context = Context.of(tracker)
    say_payment_method(dispatcher, context.language, method)
    if method == DIRECT_DEBIT:
        return offer_direct_debit(dispatcher)
    if context.verified:
        return [FollowupAction("action_send_payment_link")]
    dispatcher.utter_message(response="utter_verify_then_link")
    return [SlotSet("pending_request", ["pay_bill"]), *second_factor_given(tracker),
            FollowupAction("verify_form")]


def answer_without_account_number(dispatcher: CollectingDispatcher,
                                  tracker: Tracker) -> list[EventType] | None:
    """"I don't have my account number at hand", "waar vind ik mijn klantnummer?" before
    verification: where it is printed, and a colleague, who can check identity another way
    (in the form `action_stop_verification` says the same)."""
    if Context.of(tracker).verified or not lacks_account_number(latest_text(tracker)):
        return None
    dispatcher.utter_message(response="utter_where_account_number")
    return offer_person(dispatcher, "not_verified")


def answer_demand_for_a_fix(dispatcher: CollectingDispatcher,
                            tracker: Tracker) -> list[EventType] | None:
    """"So what are you going to do about it?": what the bot could not put right, a colleague
    can look into (before: read as a greeting, it got the menu)."""
    if not demands_a_fix(latest_text(tracker)):
        return None
    dispatcher.utter_message(response="utter_complaint_to_colleague")
    return offer_person(dispatcher, "complaint")


def answer_change_of_details(dispatcher: CollectingDispatcher,
                             tracker: Tracker) -> list[EventType] | None:
    """"I need to change my bank account number": the bot cannot, a colleague can."""
    if not asks_to_change_details(latest_text(tracker)):
        return None
    dispatcher.utter_message(response="utter_details_by_person")
    return offer_person(dispatcher, "change_details")


class ActionOutOfScope(Action):
    """Say what the bot can do, and ask again a yes/no question that is still open."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        answered = answer_without_intent(dispatcher, tracker)
        if answered is not None:
            return answered
        if tracker.get_slot("awaiting") == "plan_choice" and \
                unknown_plan_name(latest_text(tracker)):  # "platinum" for "which plan?"
            return ask_open_choice_again(dispatcher, tracker) or []
        offer = open_offer(tracker)
        if offer and offer["type"] == "handoff" and is_payment_message(latest_text(tracker)):
            # "I paid by bank transfer on the 20th" while a colleague is offered to trace it
            dispatcher.utter_message(response="utter_noted_for_colleague")
        elif not confirm_language_request(dispatcher, tracker):
            dispatcher.utter_message(response="utter_out_of_scope")
        if offer:  # the question again, and for a person in so many words, not "go ahead?"
            dispatcher.utter_message(response="utter_offer_person" if offer["type"] == "handoff"
                                     else "utter_confirm_again")
        return []


class ActionDecline(Action):
    def name(self) -> str:
        return "action_decline"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if answer_aside(dispatcher, tracker):  # "wacht even": the offer stays open
            return []
        context = Context.of(tracker)
        offer = open_offer(tracker)
        if offer and asks_a_question(latest_text(tracker)):  # "why not straight away?"
            return await answer_question_about_offer(dispatcher, tracker, context, offer)
        if offer and prefers_instead(latest_text(tracker)):  # "nee wacht, toch liever 3"
            counter = await preview_counter_offer(dispatcher, tracker, context, offer)
            if counter is not None:
                return counter
        if not offer:
            # read as a "no" too: "I don't have my account number", "I need to change my address"
            answered = answer_without_account_number(dispatcher, tracker) or \
                answer_change_of_details(dispatcher, tracker)
            if answered is not None:
                return answered
            said = last_bot_response(tracker) or ""
            if said.startswith(ACCOUNT_FACTS) and disagrees(latest_text(tracker)):
                # "no, that's wrong" after the balance or the bill explained: a person looks
                dispatcher.utter_message(response="utter_sorry_not_right")
                return offer_person(dispatcher, "disputes_account_facts")
            # "no" to "anything else?" ends the conversation instead of asking again
            asked = said in ASKS_ANYTHING_ELSE
            dispatcher.utter_message(response="utter_goodbye" if asked else "utter_anything_else")
            return CLEARED
        if offer["type"] == "handoff":  # the way to a person stays open
            dispatcher.utter_message(response="utter_person_not_now")
            return CLEARED
        if offer["type"] != "concession":
            dispatcher.utter_message(response="utter_ok_not_doing_it")
            return CLEARED

        # A declined concession: the customer is still unhappy, so offer a person; after a
        # threat to leave, also how cancelling works (the retention offer was their answer).
        def handle(dispatcher, tracker, context, session):
            decline_offer(session, offer)
            if offer.get("churn_risk"):
                dispatcher.utter_message(response="utter_cancel_how")
            return offer_person(dispatcher, "offer_declined")

        return await run_in_session(dispatcher, handle, tracker, context)


class ActionGoodbye(Action):
    """Goodbye, unless it was "wait" or "momentje", or a question ("ok what now?", "why not
    right now?"), which read as goodbye too."""

    def name(self) -> str:
        return "action_goodbye"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if answer_aside(dispatcher, tracker):
            return []
        if asks_a_question(latest_text(tracker)):
            offer = open_offer(tracker)
            if offer:
                return await answer_question_about_offer(dispatcher, tracker,
                                                         Context.of(tracker), offer)
            dispatcher.utter_message(response="utter_what_next")
            return []
        dispatcher.utter_message(response="utter_goodbye")
        return []


async def answer_question_about_offer(dispatcher: CollectingDispatcher, tracker: Tracker,
                                      context: Context, offer: dict) -> list[EventType]:
    """A question while an offer waits, read as a no or a goodbye ("why not straight away?",
    "what do I do now?"): when a switch starts is answered, and the offer is asked again,
    still open. Before, the offer was dropped or the conversation ended."""
    if offer["type"] == "plan_change":
        await run_in_session(dispatcher, lambda d, t, c, s: say_when_plan_change_starts(
            d, c, s, offer["to_plan"]), tracker, context)
        dispatcher.utter_message(response="utter_confirm_again")
        return []
    if offer["type"] == "handoff":
        dispatcher.utter_message(response="utter_offer_person")
        return []
    ask_offer_again(dispatcher, tracker)
    return []


class ActionGreet(Action):
    """A greeting; one that already carries the account number ("hi, I'm Eva, 10000004")
    goes straight to the check instead of asking what the customer needs."""

    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if answer_aside(dispatcher, tracker):  # "come again?" is read as a greeting
            return []
        demanded = answer_demand_for_a_fix(dispatcher, tracker)
        if demanded is not None:
            return demanded
        check = check_details_sent_unasked(tracker)
        if not check:
            dispatcher.utter_message(response="utter_greet")
        return check


class ActionThank(Action):
    """Thanks; with a closing in it ("thanks, that's all") a goodbye, not "anything else?"."""

    def name(self) -> str:
        return "action_thank"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        closing = is_closing(latest_text(tracker))
        dispatcher.utter_message(response="utter_welcome_goodbye" if closing
                                 else "utter_you_are_welcome")
        return []


class ActionHandleInform(Action):
    """A bare value: the plan or arrangement option the bot asked for, or a detail for later."""

    def name(self) -> str:
        return "action_handle_inform"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if answer_aside(dispatcher, tracker):  # "one sec": the question stays
            return []
        check = check_details_sent_unasked(tracker)  # then ask what the customer needs
        if check:
            return check
        context = Context.of(tracker)
        if context.verified and refuse_other_account(dispatcher, tracker, context):
            return []
        offer = open_offer(tracker)
        if context.verified and offer:
            return await answer_while_offer_waits(dispatcher, tracker, context, offer)
        awaiting = tracker.get_slot("awaiting")
        if not context.verified or awaiting not in ("plan_choice", "arrangement_choice"):
            plan = next(tracker.get_latest_entity_values("plan"), None)
            if plan:
                return await tell_plan(dispatcher, tracker, context, str(plan))
            dispatcher.utter_message(response="utter_what_can_i_do")
            return []
        if awaiting == "plan_choice":
            plan = tracker.get_slot("target_plan") or plan_described(latest_text(tracker))
            if not plan:
                return ask_open_choice_again(dispatcher, tracker) or []
            return await run_in_session(
                dispatcher, lambda d, t, c, s: offer_plan_change(d, c, s, plan), tracker, context)
        previewed = await preview_arrangement_named(dispatcher, tracker, context)
        if previewed is None:
            return ask_open_choice_again(dispatcher, tracker) or []
        return previewed


async def preview_arrangement_named(dispatcher: CollectingDispatcher, tracker: Tracker,
                                    context: Context) -> list[EventType] | None:
    """The preview of the arrangement the latest message names: an amount a month ("€30 a
    month"), or a choice ("3 instalments", "2 weeks extra", a button); None when it names none."""
    monthly = monthly_amount(tracker.latest_message)
    if monthly:
        return await run_in_session(
            dispatcher, lambda d, t, c, s: offer_for_monthly_amount(d, c, s, monthly),
            tracker, context)
    choice = parse_arrangement_choice(tracker.get_slot("arrangement_option"),
                                      latest_text(tracker))
    if choice is None:
        return None
    return await run_in_session(
        dispatcher, lambda d, t, c, s: offer_arrangement(d, c, s, choice), tracker, context)


async def preview_counter_proposal(dispatcher: CollectingDispatcher, tracker: Tracker,
                                   context: Context, offer: dict) -> list[EventType] | None:
    """While an arrangement's preview waits, or a person offered because even 6 instalments
    were more than the customer can pay: the preview of the arrangement the latest message
    names instead ("what about 3?"), or None."""
    if offer.get("type") != "arrangement" and offer.get("reason") != "arrangement_amount_too_low":
        return None
    return await preview_arrangement_named(dispatcher, tracker, context)


async def preview_counter_offer(dispatcher: CollectingDispatcher, tracker: Tracker,
                                context: Context, offer: dict) -> list[EventType] | None:
    """Another arrangement or another plan than the one offered, named in the latest message:
    its preview, or None."""
    previewed = await preview_counter_proposal(dispatcher, tracker, context, offer)
    if previewed is not None:
        return previewed
    plan = next(tracker.get_latest_entity_values("plan"), None)
    if offer["type"] == "plan_change" and plan and plan != offer["to_plan"]:
        return await run_in_session(
            dispatcher, lambda d, t, c, s: offer_plan_change(d, c, s, str(plan)), tracker, context)
    return None


async def answer_while_offer_waits(dispatcher: CollectingDispatcher, tracker: Tracker,
                                   context: Context, offer: dict) -> list[EventType]:
    """A value sent while an offer waits for a yes: another arrangement ("what about 3
    instalments then?", "give me 2 weeks extra", "€30 a month?") or another plan ("Plus
    then") is previewed instead; anything else asks the offer's question again."""
    counter = await preview_counter_offer(dispatcher, tracker, context, offer)
    if counter is not None:
        return counter
    if offer["type"] == "plan_change" and asks_about_data(latest_text(tracker)):
        # "is 5 GB enough for me?": the plan on their own data use, then the question again
        await run_in_session(dispatcher, lambda d, t, c, s: say_plan_on_usage(
            d, c, s, offer["to_plan"]), tracker, context)
    dispatcher.utter_message(response="utter_confirm_again")
    return []


def consecutive_fallbacks(tracker: Tracker) -> int:
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user" or is_pause(event.get("text") or ""):
            continue
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


class ActionRephraseInForm(Action):
    """An unclear answer while a form asks: rephrase, and from the second one in a row also
    the way to a person (the form goes on; "talk to a person" works at any moment)."""

    def name(self) -> str:
        return "action_rephrase_in_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        answered = answer_without_intent(dispatcher, tracker)
        if answered is not None:
            return answered
        if confirm_language_request(dispatcher, tracker):
            return []
        if consecutive_fallbacks(tracker) >= 2:
            dispatcher.utter_message(response="utter_rephrase_or_person")
        else:
            dispatcher.utter_message(response="utter_rephrase")
        return []


class ActionClarify(Action):
    """Two-stage fallback: first suggest what the customer may have meant, then offer a person."""

    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        answered = answer_without_intent(dispatcher, tracker)
        if answered is not None:
            return answered
        if confirm_language_request(dispatcher, tracker):
            return []
        context = Context.of(tracker)
        if context.verified:  # "4?", "what would 6 be?" while a preview waits
            previewed = await preview_counter_proposal(dispatcher, tracker, context,
                                                       open_offer(tracker) or {})
            if previewed is not None:
                return previewed
        second_in_a_row = consecutive_fallbacks(tracker) >= 2
        asked = None if second_in_a_row else ask_open_choice_again(dispatcher, tracker)
        if asked is not None:
            return asked
        if is_payment_message(latest_text(tracker)):  # "ik heb al betaald": check it (verified)
            return await ACCOUNT_ACTIONS[PAYMENT_CLAIM].run(dispatcher, tracker, domain)
        ranking = tracker.latest_message.get("intent_ranking") or []
        plan = next(tracker.get_latest_entity_values("plan"), None)
        likeliest = next((r["name"] for r in ranking if r.get("name") != "nlu_fallback"), None)
        if plan and likeliest in ("ask_plans", "inform"):
            # "en plus?" torn between asking about a plan and naming one: either way, its price
            return await tell_plan(dispatcher, tracker, context, str(plan))
        if second_in_a_row:
            dispatcher.utter_message(response="utter_fallback_offer_person")
            return [SlotSet("awaiting", "confirm"),
                    SlotSet("offer", {"type": "handoff", "reason": "not_understood"})]
        index = 1 if context.language == "nl" else 0
        guesses = [r["name"] for r in ranking if r.get("name") in INTENT_LABELS][:2]
        buttons = [{"title": INTENT_LABELS[name][index], "payload": f"/{name}"} for name in guesses]
        if "request_human" not in guesses:
            buttons.append({"title": INTENT_LABELS["request_human"][index],
                            "payload": "/request_human"})
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return []
