"""What every action shares: the conversation's context, formatting, the verification gate."""
import asyncio
from abc import ABC, abstractmethod
import logging
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, NamedTuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from billing_core.db import session_scope
from billing_core.errors import BillingError
from billing_core.money import format_money
from bot.actions.db import session_factory
from bot.account_details import asks_to_move_due_date
from bot.also_asked import also_asked
from bot.next_bill import asks_next_bill, asks_when_it_starts
from bot.plan_names import asks_data_use
from bot.asides import (asks_to_repeat, asks_why_not_now, asks_why_verification, bargains,
                        does_not_follow, is_pause, sounds_upset)

log = logging.getLogger(__name__)

MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"],
}


@dataclass(frozen=True)
class Context:
    """The facts an action needs about the conversation, read once from the tracker."""

    conversation_id: str
    language: str
    account_number: str | None  # the verified account, never one merely mentioned
    verified: bool
    channel: str | None
    today: date

    @classmethod
    def of(cls, tracker: Tracker) -> "Context":
        verified = bool(tracker.get_slot("verified") and tracker.get_slot("verified_account"))
        return cls(
            conversation_id=tracker.sender_id,
            language=tracker.get_slot("language") or "en",
            account_number=tracker.get_slot("verified_account") if verified else None,
            verified=verified,
            channel=tracker.get_slot("channel"),
            today=date.today(),
        )

    def money(self, amount_minor: int, currency: str = "EUR") -> str:
        return format_money(amount_minor, currency, self.language)

    def date(self, day: date) -> str:
        return f"{day.day} {MONTHS[self.language][day.month - 1]} {day.year}"

    def month(self, day: date) -> str:
        """A billing month by its first day: "from 3 October"."""
        return {"en": "from {}", "nl": "vanaf {}"}[self.language].format(
            f"{day.day} {MONTHS[self.language][day.month - 1]}")


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def asked_message(tracker: Tracker, intent: str) -> dict[str, Any]:
    """The message (text and entities) in which the customer asked `intent`: after
    verification the latest message is a postcode or date of birth, and the question came
    before it."""
    for event in reversed(tracker.events):
        parsed = event.get("parse_data") or {}
        if event.get("event") != "user":
            continue
        read_as = parsed.get("intent", {}).get("name")
        if read_as == intent or intent in also_asked(event.get("text") or "", read_as or ""):
            return {"text": event.get("text") or "", "entities": parsed.get("entities") or []}
    return {"text": latest_text(tracker), "entities": tracker.latest_message.get("entities") or []}


def asked_text(tracker: Tracker, intent: str) -> str:
    return asked_message(tracker, intent)["text"]


# The request kept for after verification when plan advice was asked ("which plan fits
# me?"): no intent of its own, answered by `action_plan_advice`.
PLAN_ADVICE = "plan_advice"


# Said last when the handoff service handed the conversation back: its note in the tracker
# (handoff.services.rasa `resume`), after which the customer was asked "anything else?".
HANDED_BACK = "handed_back"


def last_bot_response(tracker: Tracker) -> str | None:
    """The name of the response the bot said last ("utter_anything_else"), if any."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            metadata = event.get("metadata") or {}
            return HANDED_BACK if metadata.get("agent_summary") else metadata.get("utter_action")
    return None


# The bot's replies that keep an offer's question open: it asked again, or answered a
# request for a moment. Any other answer moves the conversation on (see `open_offer`).
KEEPS_OFFER_OPEN = {"utter_confirm_again", "utter_take_your_time", "utter_why_we_verify",
                    "utter_offer_again", "utter_offer_person", "utter_offer_is_the_most",
                    "utter_sorry_unclear"}


class StoredOffer(NamedTuple):
    offer: dict
    message: dict | None  # the bot event that made it
    moved_on: bool  # the customer talked about something else since


def open_offer(tracker: Tracker) -> dict | None:
    """What the bot asked the customer to confirm, while that question is still open: the
    customer has not talked about anything else since. A later "fine, do it" must not carry
    out a preview the customer had moved away from (`offered_earlier` holds such an offer)."""
    stored = _stored_offer(tracker)
    return stored.offer if stored and not stored.moved_on else None


def offer_message(tracker: Tracker) -> dict | None:
    """The bot's message that made the stored offer (its text and buttons), if known."""
    stored = _stored_offer(tracker)
    return stored.message if stored else None


def offered_earlier(tracker: Tracker) -> StoredOffer | None:
    """An offer still stored but no longer open (see `open_offer`), with the bot's message
    that made it, to ask about it again before acting on it."""
    stored = _stored_offer(tracker)
    return stored if stored and stored.moved_on else None


def _stored_offer(tracker: Tracker) -> StoredOffer | None:
    offer = tracker.get_slot("offer") if tracker.get_slot("awaiting") == "confirm" else None
    if not offer:
        return None
    events = tracker.events
    made_at = next((i for i in range(len(events) - 1, -1, -1)
                    if events[i].get("event") == "slot" and events[i].get("name") == "offer"
                    and events[i].get("value")), None)
    if made_at is None:  # set without a trace (tests): nothing says it went stale
        return StoredOffer(offer, None, False)
    message = next((e for e in reversed(events[:made_at]) if e.get("event") == "bot"), None)

    def kept_open(replies: list[dict]) -> bool:
        """The bot asked again, the customer asked for a moment, or the offer was repeated."""
        said = {(e.get("metadata") or {}).get("utter_action") for e in replies}
        return bool(said & KEEPS_OFFER_OPEN) or bool(
            message and any(e.get("text") == message.get("text") for e in replies))

    user_turns = [i for i in range(made_at, len(events)) if events[i].get("event") == "user"]
    moved_on = any(not kept_open([e for e in events[start:end] if e.get("event") == "bot"])
                   for start, end in zip(user_turns, user_turns[1:]))  # turns before this one
    return StoredOffer(offer, message, moved_on)


def end_form() -> list[EventType]:
    """The events that stop the active form, as `action_deactivate_loop` would."""
    return [ActiveLoop(None), SlotSet("requested_slot", None)]


def answer_aside(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """A message that answers nothing but asks for a moment ("wait, let me find it"), to
    hear the last reply again ("say that again") or, during verification, why the details
    are needed: answered here, and the caller keeps its question or offer open. Read as a
    goodbye, a no, a greeting, a bill question, a bare value or not understood."""
    text = latest_text(tracker)
    if is_pause(text):
        dispatcher.utter_message(response="utter_take_your_time")
        return True
    if asks_to_repeat(text):
        repeat_last_turn(dispatcher, tracker)
        return True
    if tracker.active_loop_name == "verify_form" and asks_why_verification(text):
        dispatcher.utter_message(response="utter_why_we_verify")
        return True
    if does_not_follow(text):  # "ik snap het niet": not a no or a goodbye
        dispatcher.utter_message(response="utter_sorry_unclear")
        return True
    offer = open_offer(tracker)
    if offer and offer["type"] == "concession" and bargains(text):
        # "can you do 20%?": the most the bot may give, the offer still open, and a colleague
        dispatcher.utter_message(response="utter_offer_is_the_most")
        return True
    return False


def repeat_last_turn(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Say the bot's previous reply again, with its buttons; in a form without its question,
    which the form asks again itself."""
    said: list[dict] = []
    users_seen = 0  # the first is the message asking for the repeat
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                break
        elif event.get("event") == "bot" and users_seen == 1 and \
                (event.get("metadata") or {}).get("utter_action") != "utter_verified":
            said.insert(0, event)  # the answer again, not "you're verified" with it
    if tracker.active_loop_name and said:
        said = said[:-1]
    if not said and not tracker.active_loop_name:
        dispatcher.utter_message(response="utter_how_can_i_help")
    for event in said:
        say_again(dispatcher, event)


def say_again(dispatcher: CollectingDispatcher, said: dict) -> None:
    """A message the bot sent before (its `bot` event), word for word and with its buttons."""
    dispatcher.utter_message(text=said.get("text"),
                             buttons=(said.get("data") or {}).get("buttons") or [])


def new_idempotency_key(context: Context, purpose: str) -> str:
    """Made when an offer is shown and stored with it, so a repeated 'yes' writes once."""
    return f"{context.conversation_id}:{purpose}:{uuid.uuid4().hex[:12]}"


Handler = Callable[[CollectingDispatcher, Tracker, Context, Session], list[EventType]]


async def run_in_session(dispatcher: CollectingDispatcher, handler: Handler, tracker: Tracker,
                         context: Context) -> list[EventType]:
    """Run a synchronous handler in a worker thread within one committed unit of work.

    Billing errors and unexpected failures become a polite reply; nothing half-done is kept.
    """

    def call() -> list[EventType]:
        with session_scope(session_factory()) as session:
            return handler(dispatcher, tracker, context, session)

    try:
        return await asyncio.to_thread(call)
    except BillingError as exc:
        log.warning("billing refused %s: %s", handler.__qualname__, exc)
    except Exception:  # the customer gets an answer whatever broke underneath
        log.exception("action handler %s failed", handler.__qualname__)
    dispatcher.utter_message(response="utter_something_went_wrong")
    return []


class AccountAction(Action, ABC):
    """An answer that needs account data; only ever runs for a verified customer.

    The rules already send unverified customers through `verify_form`; this check is the
    second line of defence, so account data cannot leak even if a policy mispredicts.
    """

    action_name: str
    intent: str

    def name(self) -> str:
        return self.action_name

    @abstractmethod
    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
               session: Session) -> list[EventType]:
        """Answer for the verified customer in `context`."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        context = Context.of(tracker)
        if not context.verified or not context.account_number:
            dispatcher.utter_message(response="utter_verify_first")
            return [SlotSet("pending_request", [self.intent]), FollowupAction("verify_form")]
        if answer_aside(dispatcher, tracker) or refuse_other_account(dispatcher, tracker, context):
            return []  # "can you repeat that please" read as a discount request, ...
        moving = answer_due_date_move(dispatcher, tracker)
        if moving is not None:
            return moving
        asked_now = tracker.latest_message.get("intent", {}).get("name") == self.intent
        besides = also_asked(latest_text(tracker), self.intent) if asked_now else []
        if asked_now and self.intent not in APOLOGISED and sounds_upset(latest_text(tracker)):
            dispatcher.utter_message(response="utter_sorry_frustrating")
        waiting = open_offer(tracker) if self.intent in INFORMATION else None
        asked = [self.intent] + besides
        if waiting and waiting["type"] == "plan_change" and asks_why_not_now(latest_text(tracker)):
            asked = [SWITCH_TIMING]  # "why not straight away?" read as a bill question
        events = await answer_in_order(dispatcher, tracker, context, asked)
        if waiting and not any(event.get("name") == "awaiting" for event in events):
            # "until when do I have?" while an extension waits: the answer, then the offer
            # again, still open for a yes (before, it went stale and the yes was asked again)
            ask_offer_again(dispatcher, tracker)
        return events


def offer_person(dispatcher: CollectingDispatcher, reason: str,
                 response: str = "utter_offer_person") -> list[EventType]:
    dispatcher.utter_message(response=response)
    return [SlotSet("awaiting", "confirm"), SlotSet("offer", {"type": "handoff", "reason": reason})]


def answer_due_date_move(dispatcher: CollectingDispatcher,
                         tracker: Tracker) -> list[EventType] | None:
    """"Can I change the date my bill is due? payday is the 25th": the bot cannot move a
    billing day, a colleague can (before: "Noted: I'll come to that", then the balance)."""
    if not asks_to_move_due_date(latest_text(tracker)):
        return None
    dispatcher.utter_message(response="utter_due_date_by_person")
    return offer_person(dispatcher, "change_due_date")


def ask_offer_again(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The open offer's own message again (its text and buttons), which keeps it open."""
    message = offer_message(tracker)
    if message is None:
        dispatcher.utter_message(response="utter_confirm_again")
    else:
        say_again(dispatcher, message)


# Answered with an apology or empathy first, so anger needs no acknowledgement of its own.
APOLOGISED = ("complain", "cancel_service")

# The request answered by an estimate of the next bill ("how much will my next bill be?"),
# read as a balance, due-date or bill question: `action_next_bill`.
NEXT_BILL = "next_bill"
# "How many GB have I used?": the data used (`action_data_use`), read as a balance or plans
# question.
DATA_USE = "data_use"
# "Why not straight away?" while a plan switch waits: when it starts (`action_switch_timing`).
SWITCH_TIMING = "switch_timing"
# "Vanaf wanneer gaat dat in?": when what was agreed starts (`action_when_it_starts`).
WHEN_IT_STARTS = "when_it_starts"

# Questions that only inform: answered before one that asks the customer something back.
INFORMATION = ("ask_balance", "ask_due_date", "explain_bill", PLAN_ADVICE, NEXT_BILL, DATA_USE,
               WHEN_IT_STARTS, SWITCH_TIMING)


def answered_as(intent: str, text: str) -> str:
    """The request a message read as a balance, due-date or bill question really is: the
    next bill, when something starts or the data used, which have no intents of their own."""
    if intent not in ("ask_balance", "ask_due_date", "explain_bill"):
        return intent
    if asks_next_bill(text):
        return NEXT_BILL
    if asks_when_it_starts(text):
        return WHEN_IT_STARTS
    return DATA_USE if asks_data_use(text) else intent


async def answer_in_order(dispatcher: CollectingDispatcher, tracker: Tracker, context: Context,
                          asked: list[str]) -> list[EventType]:
    """Several questions answered together (asked in one message, or before and during
    verification): the plain information first, then the first one that asks the customer
    something back (an offer or a preview); a second open question in the same reply could
    not be answered with one "yes"."""
    events: list[EventType] = []
    asked = list(dict.fromkeys(answered_as(intent, asked_text(tracker, intent))
                               for intent in asked))
    for intent in sorted(asked, key=lambda intent: intent not in INFORMATION):
        answer = await run_in_session(dispatcher, ACCOUNT_ACTIONS[intent].handle, tracker,
                                      context)
        events += answer
        if any(event.get("name") == "awaiting" and event.get("value") for event in answer):
            break
    return events


def refuse_other_account(dispatcher: CollectingDispatcher, tracker: Tracker,
                         context: Context) -> bool:
    """A verified customer asking about another account number ("the balance on my wife's
    account 10000001"): only the verified account is shown, and that is said, so its figures
    are not taken for the other account's."""
    mentioned = next(tracker.get_latest_entity_values("account_number"), None)
    digits = "".join(ch for ch in str(mentioned or "") if ch.isdigit())
    if not digits or digits == context.account_number:
        return False
    dispatcher.utter_message(response="utter_only_verified_account",
                             ending=context.account_number[-4:])
    return True


ACCOUNT_ACTIONS: dict[str, AccountAction] = {}


def answers(intent: str, action_name: str):
    """Register an AccountAction as the answer to `intent` (used to resume after verification)."""

    def register(cls: type[AccountAction]) -> type[AccountAction]:
        cls.intent, cls.action_name = intent, action_name
        ACCOUNT_ACTIONS[intent] = cls()
        return cls

    return register
