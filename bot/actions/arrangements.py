"""Payment arrangements: offer the options, read the choice, preview, then confirm."""
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from billing_core.arrangements.models import ArrangementKind
from billing_core.arrangements.service import (
    MAX_EXTENSION_DAYS, MAX_INSTALMENTS, MIN_INSTALMENTS, check_arrangement_eligibility,
    fewest_instalments, preview_arrangement,
)
from billing_core.errors import InvalidRequest
from billing_core.invoices.service import get_balance
from billing_core.money import parse_amount
from bot.actions.common import (ACCOUNT_ACTIONS, PLAN_ADVICE, AccountAction, Context, answers,
                                asked_message, new_idempotency_key, offer_person)
from bot.payment_claims import pays_a_part, wants_to_pay_in_full
from bot.plan_names import asks_plan_advice

EXTENSION_WORDS = re.compile(r"extension|extend|more time|later|delay|postpone|week|extra|"
                             r"\d+\s*(?:days?|dagen)|uitstel|langer|wachten", re.IGNORECASE)
# "ik wil geen uitstel", "no extension": not a choice of one
REFUSED_EXTENSION = re.compile(r"\b(no|not|don't|dont|geen|niet)\b\W+(\w+\W+)?(extension|extend|"
                               r"more time|delay|postpone|uitstel|langer)", re.IGNORECASE)
INSTALMENT_COUNT = re.compile(r"\b([1-9])\b|\b(two|three|four|five|six|twee|drie|vier|vijf|zes)\b",
                              re.IGNORECASE)
# "can the first payment be next month?", "kan ik pas na de 25e beginnen met betalen?"
LATER_START = re.compile(
    r"\b(first|1st)\s+(payment|instalment|installment|one|part)|\bstart(ing)?\s+(paying|to pay|"
    r"payments|the instalments|the installments)|\bbegin(ning)?\s+(paying|to pay)|"
    r"\beerste\s+(termijn|betaling|keer|deel)|\b(beginnen|starten)\s+met\s+(af)?betalen|"
    r"\bpas\b.*\b(af)?betalen\b", re.IGNORECASE)
NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6}


def parse_arrangement_choice(option: str | None, text: str) -> tuple[ArrangementKind, int | None] | None:
    """From a button's option ('instalments_3', 'extension') or free text ('in 3 termijnen')."""
    if option == "extension":
        return ArrangementKind.extension, None
    if option and option.startswith("instalments_") and option[12:].isdigit():
        return ArrangementKind.instalments, int(option[12:])
    if EXTENSION_WORDS.search(text or "") and not REFUSED_EXTENSION.search(text or ""):
        return ArrangementKind.extension, None  # "2 weeks" is an extension, not 2 instalments
    count = INSTALMENT_COUNT.search(text or "")
    if count:
        number = int(count.group(1)) if count.group(1) else NUMBER_WORDS[count.group(2).lower()]
        # "niet in 1 keer" names no number of instalments: the options, not "choose 2 to 6"
        return (ArrangementKind.instalments, number) if number >= MIN_INSTALMENTS else None
    return None


# "€20 now and the rest next week" names a part paid now, not an amount a month
PART_NOW = re.compile(r"\b(now|today|right away|straight away|nu|vandaag|meteen|direct)\b",
                      re.IGNORECASE)
MONTHLY = re.compile(r"\b(a|per|each|every) month\b|\bmonthly\b|\bp/?m\b|\bper maand\b|"
                     r"\belke maand\b|\bmaandelijks\b|\bin de maand\b", re.IGNORECASE)


def monthly_amount(message: dict[str, Any]) -> int | None:
    """What the customer says they can pay ("I can do €20 a month") in a message (its
    `entities`), in minor units; not an amount paid now ("€20 now and the rest next week",
    which the choice reads as more time)."""
    text = message.get("text") or ""
    if PART_NOW.search(text) and not MONTHLY.search(text):
        return None
    value = next((entity.get("value") for entity in reversed(message.get("entities") or [])
                  if entity.get("entity") == "amount"), None)
    try:
        return parse_amount(str(value)) if value else None
    except InvalidRequest:  # "twintig euro": no digits
        return None


def offer_for_monthly_amount(dispatcher: CollectingDispatcher, context: Context, session: Session,
                             monthly_minor: int) -> list[EventType]:
    """The fewest instalments within what the customer can pay a month, or a person when even
    the most are more than that (read before the choice: "€5 a month" is not 5 instalments)."""
    balance = get_balance(session, account_number=context.account_number, today=context.today)
    count = fewest_instalments(total_minor=balance.balance_minor, monthly_minor=monthly_minor)
    if count is not None:
        return offer_arrangement(dispatcher, context, session, (ArrangementKind.instalments, count))
    part, remainder = divmod(balance.balance_minor, MAX_INSTALMENTS)
    dispatcher.utter_message(response="utter_arrangement_amount_too_low",
                             amount=context.money(monthly_minor, balance.currency),
                             lowest=context.money(part + remainder, balance.currency),
                             count=MAX_INSTALMENTS)
    return offer_person(dispatcher, "arrangement_amount_too_low")


def offer_arrangement(dispatcher: CollectingDispatcher, context: Context, session: Session,
                      choice: tuple[ArrangementKind, int | None]) -> list[EventType]:
    kind, count = choice
    try:
        preview = preview_arrangement(session, account_number=context.account_number, kind=kind,
                                      instalments=count, today=context.today,
                                      extension_days=MAX_EXTENSION_DAYS
                                      if kind is ArrangementKind.extension else None)
    except InvalidRequest:
        dispatcher.utter_message(response="utter_arrangement_choice_unclear")
        return [SlotSet("awaiting", "arrangement_choice"), SlotSet("arrangement_option", None)]
    amount = context.money(preview.amount_minor, preview.currency)
    if kind is ArrangementKind.extension:
        dispatcher.utter_message(response="utter_arrangement_preview_extension", amount=amount,
                                 date=context.date(preview.schedule[0][0]))
    else:
        schedule = ", ".join(f"{context.money(part, preview.currency)} ({context.date(due)})"
                             for due, part in preview.schedule)
        dispatcher.utter_message(response="utter_arrangement_preview_instalments", amount=amount,
                                 count=len(preview.schedule), schedule=schedule)
    offer = {"type": "arrangement", "kind": kind.value, "instalments": count,
             "extension_days": MAX_EXTENSION_DAYS if kind is ArrangementKind.extension else None,
             "key": new_idempotency_key(context, "arrangement")}
    return [SlotSet("awaiting", "confirm"), SlotSet("offer", offer),
            SlotSet("arrangement_option", None)]


@answers("payment_arrangement", "action_offer_arrangement")
class ActionOfferArrangement(AccountAction):
    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        asked_for = asked_message(tracker, self.intent)["text"]
        if asks_plan_advice(asked_for):  # "betaal ik niet te veel?": the plan for their use
            return ACCOUNT_ACTIONS[PLAN_ADVICE].handle(dispatcher, tracker, context, session)
        if wants_to_pay_in_full(asked_for) or pays_a_part(asked_for):
            # "can I pay the rest all at once?", "I want to pay this month's instalment": the
            # payment link (for the arrangement's next part), not a (second) arrangement
            return ACCOUNT_ACTIONS["pay_bill"].handle(dispatcher, tracker, context, session)
        reasons = check_arrangement_eligibility(session, account_number=context.account_number,
                                                today=context.today)
        if "no_balance_due" in reasons:
            dispatcher.utter_message(response="utter_arrangement_not_needed")
            return []
        if reasons:
            dispatcher.utter_message(response="utter_arrangement_not_eligible")
            return [SlotSet("awaiting", "confirm"),
                    SlotSet("offer", {"type": "handoff", "reason": "arrangement_not_eligible"})]
        # "Can I pay €20 a month?" or "in 3 instalments?" already says what they want, also
        # when it was asked before verification.
        asked = asked_message(tracker, self.intent)
        if LATER_START.search(asked["text"]):
            return say_when_instalments_start(dispatcher, context, session)
        monthly = monthly_amount(asked)
        if monthly:
            return offer_for_monthly_amount(dispatcher, context, session, monthly)
        choice = parse_arrangement_choice(tracker.get_slot("arrangement_option"), asked["text"])
        if choice:
            return offer_arrangement(dispatcher, context, session, choice)
        balance = get_balance(session, account_number=context.account_number, today=context.today)
        dispatcher.utter_message(response="utter_arrangement_options",
                                 amount=context.money(balance.balance_minor, balance.currency))
        return [SlotSet("awaiting", "arrangement_choice")]


def say_when_instalments_start(dispatcher: CollectingDispatcher, context: Context,
                               session: Session) -> list[EventType]:
    """A later start than the policy's (a week from today, or the bill's due date) is not the
    bot's to give: the date instalments would start, and the extension as the way to more time."""
    instalments = preview_arrangement(session, account_number=context.account_number,
                                      kind=ArrangementKind.instalments, today=context.today)
    extension = preview_arrangement(session, account_number=context.account_number,
                                    kind=ArrangementKind.extension,
                                    extension_days=MAX_EXTENSION_DAYS, today=context.today)
    dispatcher.utter_message(response="utter_arrangement_start",
                             date=context.date(instalments.schedule[0][0]),
                             amount=context.money(extension.amount_minor, extension.currency),
                             extension_date=context.date(extension.schedule[0][0]))
    return [SlotSet("awaiting", "arrangement_choice"), SlotSet("offer", None)]
