"""Session start (channel metadata), the verification form, and resuming the question."""
import asyncio
import math
import re
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, EventType, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from billing_core.customers.service import (
    LOCKOUT, VerificationStatus, find_account_number_by_phone, verify_identity,
)
from billing_core.db import session_scope
from billing_core.errors import InvalidRequest
from billing_core.security import NAMED_POSTCODE, parse_date_of_birth
from bot.actions.common import (ACCOUNT_ACTIONS, APOLOGISED, Context, answer_aside,
                                answer_due_date_move, answer_in_order, end_form, latest_text,
                                offer_person, repeat_last_turn)
from bot.actions.billing import say_payment_method
from bot.actions.db import session_factory
from bot.actions.handoff import hand_off
from bot.account_details import asks_to_move_due_date
from bot.also_asked import also_asked
from bot.asides import (asks_for_person, asks_to_repeat, corrects_account_number,
                        lacks_account_number, reports_fault, sounds_upset, withdraws)
from bot.language import language_slot_update
from bot.payment_methods import asked_payment_method

ACCOUNT_NUMBER = re.compile(r"^\d{8}$")
POSTCODE = re.compile(r"^\d{4}\s?[A-Za-z]{2}$")
DATE_LIKE = re.compile(r"^(\d{1,2}[-./]\d{1,2}[-./]\d{4}|\d{4}[-./]\d{1,2}[-./]\d{1,2})$")
# Digits with spaces, dots or dashes between them ("1000-0003", "10 00 00 02").
DIGIT_RUN = re.compile(r"\d(?:[\s.-]?\d)+")
# Slots that survive a new session; verification never does.
CARRIED_OVER = ("language", "channel", "phone")


class ActionSessionStart(Action):
    """Start a session with the channel's metadata: channel, language, and the SMS sender.

    Over SMS the sender's phone selects the account, so verification asks only for the
    second factor; it is never skipped.
    """

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        for slot in CARRIED_OVER:
            if tracker.get_slot(slot) is not None:
                events.append(SlotSet(slot, tracker.get_slot(slot)))
        metadata = tracker.get_slot("session_started_metadata") or {}
        if metadata.get("lang") in ("en", "nl"):
            events.append(SlotSet("language", metadata["lang"]))
        if metadata.get("channel"):
            events.append(SlotSet("channel", str(metadata["channel"])[:16]))
        phone = metadata.get("phone")
        if phone:
            events.append(SlotSet("phone", phone))
            number = await asyncio.to_thread(_account_for_phone, phone)
            if number:
                events.append(SlotSet("account_number", number))
        events.append(ActionExecuted("action_listen"))
        return events


def _account_for_phone(phone: str) -> str | None:
    with session_scope(session_factory()) as session:
        return find_account_number_by_phone(session, phone=phone)


class ActionRememberRequest(Action):
    """Keep the account question for after verification, and say why we verify first."""

    def name(self) -> str:
        return "action_remember_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent = tracker.latest_message.get("intent", {}).get("name")
        in_form = tracker.active_loop_name == "verify_form"
        if in_form and answer_aside(dispatcher, tracker):
            return []  # "wait, let me grab my bill" while a detail is asked: no new question
        if not in_form and asks_to_repeat(latest_text(tracker)):  # read as a bill question
            repeat_last_turn(dispatcher, tracker)
            return [FollowupAction("action_listen")]
        if asks_to_move_due_date(latest_text(tracker)):  # no account data needed: a colleague
            if in_form:  # the form asks its question again
                dispatcher.utter_message(response="utter_due_date_by_person")
                return []
            return answer_due_date_move(dispatcher, tracker) + [FollowupAction("action_listen")]
        if intent == "complain" and not in_form and asks_for_person(latest_text(tracker)):
            # "I need to speak to a real person about my bill": after the apology, the person
            return await hand_off(dispatcher, tracker, Context.of(tracker), "complaint") + \
                [FollowupAction("action_listen")]
        if intent == "complain" and not in_form and reports_fault(latest_text(tracker)):
            # "my internet is down": no bill to look at, so no verification; a colleague
            dispatcher.utter_message(response="utter_fault_not_billing")
            return offer_person(dispatcher, "technical_fault") + [FollowupAction("action_listen")]
        # Before verification only a person can have been offered; a new question moves on.
        events: list[EventType] = [SlotSet("awaiting", None), SlotSet("offer", None)]
        events += second_factor_given(tracker)
        asked = [intent, *also_asked(latest_text(tracker), intent)] \
            if intent in ACCOUNT_ACTIONS else []
        if asked:  # "what's my balance and can I pay by card?": both, after verification
            earlier = tracker.get_slot("pending_request") or []
            events.append(SlotSet("pending_request",
                                  [kept for kept in earlier if kept not in asked] + asked))
            if intent == "cancel_service":
                events.append(SlotSet("churn_risk", True))
        minutes = minutes_locked(tracker.get_slot("locked_until"))
        if minutes:  # still locked: say so now instead of asking for the details again
            dispatcher.utter_message(response="utter_verification_locked", minutes=minutes)
            return events + [SlotSet("verification_locked", True)]
        events += [SlotSet("verification_locked", False), SlotSet("locked_until", None)]
        method = asked_payment_method(latest_text(tracker)) if "pay_bill" in asked else None
        if method:  # "can I pay with iDEAL?" needs no account: answered now, the link follows
            say_payment_method(dispatcher, Context.of(tracker).language, method)
        if not in_form:
            dispatcher.utter_message(response=verification_reason(
                intent, method, upset=sounds_upset(latest_text(tracker))))
        elif intent in ACCOUNT_ACTIONS:  # asked while the form waits for an answer
            dispatcher.utter_message(response="utter_answer_after_verification")
        return events


def verification_reason(intent: str | None, method: str | None, *, upset: bool) -> str:
    """Why verification starts: after a complaint or a threat to leave (already answered
    with an apology or empathy) "to look into it", not a cheerful "I can help with that";
    an angry question ("WHY IS MY BILL SO HIGH") is acknowledged first."""
    if method:
        return "utter_verify_then_link"
    if intent in APOLOGISED:
        return "utter_verify_to_look_into_it"
    return "utter_verify_upset" if upset else "utter_verify_first"


def second_factor_given(tracker: Tracker) -> list[EventType]:
    """A date of birth or postcode sent along with the account number ("10000001, born
    12-04-1985, what do I owe?"): the form checks it when it starts instead of asking."""
    value = second_factor_in_message(tracker)
    if not value or not tracker.get_slot("account_number"):
        return []
    return [SlotSet("second_factor", value)]


def check_details_sent_unasked(tracker: Tracker) -> list[EventType]:
    """Details sent before any question ("hi, I'm Eva, 10000004"; over SMS the phone gave
    the account and a date of birth follows): the events that check them now, else none."""
    if Context.of(tracker).verified or tracker.active_loop_name is not None:
        return []
    if minutes_locked(tracker.get_slot("locked_until")):  # the form says the lock again
        details = second_factor_in_message(tracker) or \
            next(tracker.get_latest_entity_values("account_number"), None)
        return [FollowupAction("verify_form")] if details else []
    second_factor = second_factor_given(tracker)
    if second_factor or next(tracker.get_latest_entity_values("account_number"), None):
        return second_factor + [FollowupAction("verify_form")]
    return []


def second_factor_in_message(tracker: Tracker) -> str | None:
    """The date of birth or postcode written in the latest message, if any."""
    for kind in ("date_of_birth", "postcode"):
        value = next(tracker.get_latest_entity_values(kind), None)
        if value:
            return str(value)
    return None


def value_before_latest_message(tracker: Tracker, slot: str) -> Any:
    """A slot's value before the latest message's slots were extracted (validators see those)."""
    message_seen = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            message_seen = True
        elif message_seen and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def minutes_locked(locked_until: str | None, now: datetime | None = None) -> int:
    """Whole minutes (at least 1) until a lockout this conversation met ends; 0 when over."""
    try:
        until = datetime.fromisoformat(str(locked_until))
    except ValueError:
        return 0
    left = (until - (now or datetime.now(timezone.utc))).total_seconds()
    return max(1, math.ceil(left / 60)) if left > 0 else 0


def account_number_in(text: str) -> str | None:
    """The 8-digit account number written in a sentence, however its digits are grouped
    ("my acct no. is 1000-0003", "rekeningnummer is 10 00 00 02"), but never a date."""
    for run in DIGIT_RUN.findall(text):
        digits = re.sub(r"[\s.-]", "", run)
        if ACCOUNT_NUMBER.match(digits) and not DATE_LIKE.match(run.strip()):
            return digits
    return None


def classify_second_factor(text: str) -> tuple[str, str] | None:
    """('postcode', '1012AB') or ('date_of_birth', '1985-04-12'); None if it is neither."""
    cleaned = text.strip()
    if POSTCODE.match(cleaned):
        return "postcode", cleaned
    try:
        return "date_of_birth", parse_date_of_birth(cleaned).isoformat()
    except InvalidRequest:
        pass
    named = NAMED_POSTCODE.search(cleaned)  # "postcode 3511 cd" (the entity wants capitals)
    return ("postcode", named.group("postcode")) if named else None


class ValidateVerifyForm(FormValidationAction):
    def name(self) -> str:
        return "validate_verify_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: dict[str, Any]) -> list[str]:
        # A lockout ends the form: nothing more is asked until the lock expires.
        return [] if tracker.get_slot("verification_locked") else domain_slots

    async def validate_account_number(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                      tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any]:
        text = str(slot_value or "").strip()
        if answer_aside(dispatcher, tracker):  # "one sec": no account number, and no complaint
            return {"account_number": None}
        if tracker.get_slot("requested_slot") == "second_factor" and classify_second_factor(text):
            # "12041985" answers the date of birth that was asked for: the account number stays
            return {"account_number": value_before_latest_message(tracker, "account_number")}
        number = account_number_in(text)
        if number is None:  # "12-04-1985" is 8 digits without its dashes, but no account
            # a date of birth where the account number is asked (after a failed try the
            # number is asked again): say what comes first, not just "no account number"
            factor = classify_second_factor(text) or second_factor_in_message(tracker)
            dispatcher.utter_message(response="utter_account_number_first" if factor
                                     else "utter_invalid_account_number")
            return {"account_number": None}
        factor = second_factor_in_message(tracker)
        if factor and tracker.get_slot("requested_slot") == "account_number":
            # "10000002 3511CD" where the account number was asked: check both at once (the
            # second factor's own mapping waits for its question)
            return {"account_number": number,
                    **await check_second_factor(factor, number, dispatcher, tracker)}
        return {"account_number": number}

    async def validate_second_factor(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                     tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any]:
        if answer_aside(dispatcher, tracker):
            return {"second_factor": None}
        if not classify_second_factor(str(slot_value or "")) and \
                account_number_in(str(slot_value or "")):
            # "it's 10000003": the account number corrected (validate_account_number takes
            # it), no unreadable date of birth; the form asks for the second factor again
            return {"second_factor": None}
        return await check_second_factor(str(slot_value or ""), tracker.get_slot("account_number"),
                                         dispatcher, tracker)


async def check_second_factor(text: str, number: str | None, dispatcher: CollectingDispatcher,
                              tracker: Tracker) -> dict[str, Any]:
    """One verification attempt with `text` as the date of birth or postcode of `number` (or
    of the sender's phone): the slots it sets, verified or not."""
    factor = classify_second_factor(text)
    if factor is None:  # not a date or postcode: ask again, it is no attempt
        dispatcher.utter_message(response="utter_invalid_second_factor")
        return {"second_factor": None}
    phone = tracker.get_slot("phone")
    kind, value = factor

    def attempt():
        with session_scope(session_factory()) as session:
            result = verify_identity(session, account_number=number,
                                     conversation_id=tracker.sender_id, **{kind: value})
            phone_account = find_account_number_by_phone(session, phone=phone) if phone else None
            return result, phone_account

    result, phone_account = await asyncio.to_thread(attempt)
    if result.status is VerificationStatus.verified:
        # said by action_resume_request: a response is rendered before the events of the
        # action that sends it apply, and the profile's language is set here
        slots = {"second_factor": "checked", "verified": True,
                 "customer_name": result.customer_name, "account_number": result.account_number,
                 "verified_account": result.account_number}
        if not tracker.get_slot("language"):
            slots["language"] = result.language
        return slots
    # Keep an account number that the sender's phone chose; forget a typed one.
    keep_number = number if number == phone_account else None
    if result.status is VerificationStatus.locked:
        until = result.locked_until or datetime.now(timezone.utc) + LOCKOUT
        dispatcher.utter_message(response="utter_verification_locked",
                                 minutes=minutes_locked(until.isoformat()))
        return {"second_factor": None, "account_number": keep_number,
                "verification_locked": True, "locked_until": until.isoformat()}
    if result.attempts_left == 1:  # say what the next failure does
        dispatcher.utter_message(response="utter_verification_failed_last",
                                 minutes=int(LOCKOUT.total_seconds() // 60))
    else:
        dispatcher.utter_message(response="utter_verification_failed",
                                 attempts_left=result.attempts_left)
    return {"second_factor": None, "account_number": keep_number}


class ActionPauseOrLeaveForm(Action):
    """A goodbye or a no while verification asks for a detail. "Wait", "hang on", "momentje"
    (and "why do you need that?") are read as those intents too: they are answered and keep
    the form, which asks again; so is "sorry, wrong number", after which the form asks for
    the account number again. Anything else ends it, and the rules go on with the goodbye or
    the stop."""

    def name(self) -> str:
        return "action_pause_or_leave_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if answer_aside(dispatcher, tracker):
            return []
        if tracker.get_slot("account_number") and corrects_account_number(latest_text(tracker)):
            dispatcher.utter_message(response="utter_no_problem")
            if next(tracker.get_latest_entity_values("account_number"), None):
                return []  # "wrong number, it's 10000002": the new one is already taken
            return [SlotSet("account_number", None), SlotSet("requested_slot", "account_number")]
        return end_form()


class ActionStopVerification(Action):
    """The customer won't or can't answer: stop asking, say where the account number is if it
    was still missing, and offer a colleague, who can check who they are in another way.
    Without the number at hand ("I forgot my account number"), where it is printed is the whole
    answer: "without checking it's you I can only tell you about plans" read as a second reply
    that did not fit the first."""

    def name(self) -> str:
        return "action_stop_verification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if withdraws(latest_text(tracker)):  # "never mind": dropped, not a missing number
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("pending_request", None)]
        missing = not tracker.get_slot("account_number")
        if missing:
            dispatcher.utter_message(response="utter_where_account_number")
        if not (missing and lacks_account_number(latest_text(tracker))):
            dispatcher.utter_message(response="utter_verification_cancelled")
        # the customer is told to ask again once they have their details
        return [SlotSet("pending_request", None)] + offer_person(dispatcher, "not_verified")


def locked_this_turn(tracker: Tracker) -> bool:
    """Whether the lock was said since the customer's latest message (when it locked)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if (event.get("metadata") or {}).get("utter_action") == "utter_verification_locked":
            return True
    return False


class ActionResumeRequest(Action):
    """After the form: answer what was asked, or offer a person when verification is locked.

    Several questions asked before or during verification are answered together: the plain
    information first, then the first one that asks the customer something back (an offer or
    a preview); a second open question in the same reply could not be answered with one "yes".
    """

    def name(self) -> str:
        return "action_resume_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        context = Context.of(tracker)
        asked = [intent for intent in tracker.get_slot("pending_request") or []
                 if intent in ACCOUNT_ACTIONS]
        events: list[EventType] = [SlotSet("pending_request", None)]
        if not context.verified:
            minutes = minutes_locked(tracker.get_slot("locked_until"))
            if minutes and not locked_this_turn(tracker):
                # the form was started again while locked (details sent, a question read
                # another way): say the lock, not nothing
                dispatcher.utter_message(response="utter_verification_locked", minutes=minutes)
            return events + [SlotSet("awaiting", "confirm"),
                             SlotSet("offer", {"type": "handoff", "reason": "verification_locked"})]
        dispatcher.utter_message(response="utter_verified", name=tracker.get_slot("customer_name"))
        if not asked:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return events
        return events + await answer_in_order(dispatcher, tracker, context, asked)


class ActionDetectLanguage(Action):
    """Custom mapping of the `language` slot: follow the language the customer writes in."""

    def name(self) -> str:
        return "action_detect_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        said = (event.get("text") or "" for event in reversed(tracker.events)
                if event.get("event") == "user")
        next(said, None)  # the newest is the message being read
        language = language_slot_update(latest_text(tracker),
                                        tracker.get_slot("language"), said)
        return [SlotSet("language", language)] if language else []
