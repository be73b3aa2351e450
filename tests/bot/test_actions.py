"""Actions against a seeded database, called the way the action server calls them."""
import asyncio
import re
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, func, select, text

from billing_core.actor import Actor
from billing_core.config import get_settings
from billing_core.db import session_scope, utcnow
from billing_core.invoices.service import (BillExplanation, BillLine, InvoiceSummary,
                                           read_payment_link, record_payment)
from bot.actions.arrangements import ActionOfferArrangement, parse_arrangement_choice
from bot.actions.billing import (ActionCheckPayment, ActionExplainBill, ActionSendPaymentLink,
                                 ActionShowBalance, ActionShowDueDate, say_explanation)
from bot.actions.common import Context, open_offer
from bot.actions.concessions import (ActionCancelEmpathy, ActionHandleCancellation,
                                     ActionHandleComplaint, ActionOfferConcession)
from bot.actions.db import session_factory
from bot.actions.dialogue import (ActionClarify, ActionConfirm, ActionDecline, ActionGoodbye,
                                 ActionGreet, ActionHandleInform, ActionOutOfScope,
                                 ActionRephraseInForm, ActionThank)
from bot.actions.plans import ActionChangePlan, ActionListPlans
from bot.actions.handoff import ActionHandoff
from bot.actions.verification import (ActionDetectLanguage, ActionPauseOrLeaveForm,
                                      ActionRememberRequest, ActionResumeRequest,
                                      ActionStopVerification, ValidateVerifyForm)
from bot.language import detect_language
from tests.bot.conftest import seeded_database


def point_actions_at(url, monkeypatch):
    monkeypatch.setenv("BILLING_DATABASE_URL", url)
    get_settings.cache_clear()
    session_factory.cache_clear()


@pytest.fixture(autouse=True)
def action_database(bot_database_url, monkeypatch):
    point_actions_at(bot_database_url, monkeypatch)
    yield
    get_settings.cache_clear()
    session_factory.cache_clear()


def tracker(sender="t1", slots=None, text="", intent="inform", events=None, ranking=None,
            confidence=0.95):
    return Tracker.from_dict({
        "sender_id": sender, "slots": slots or {}, "events": events or [], "paused": False,
        "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen",
        "latest_message": {"text": text, "intent": {"name": intent, "confidence": confidence},
                           "entities": [], "intent_ranking": ranking or []},
    })


def run(action, dispatcher, track):
    return asyncio.run(action.run(dispatcher, track, {}))


def responses(dispatcher):
    return [m.get("response") for m in dispatcher.messages]


def test_no_account_data_before_verification():
    for action in (ActionShowBalance(), ActionExplainBill()):
        dispatcher = CollectingDispatcher()
        events = run(action, dispatcher, tracker(slots={"account_number": "10000001"}))
        assert responses(dispatcher) == ["utter_verify_first"]
        assert all("€" not in str(m) for m in dispatcher.messages)
        assert {"event": "followup", "timestamp": None, "name": "verify_form"} in events


def test_verified_jane_hears_her_balance_and_why():
    slots = {"verified": True, "verified_account": "10000001", "language": "en"}
    dispatcher = CollectingDispatcher()
    run(ActionShowBalance(), dispatcher, tracker(slots=slots))
    assert dispatcher.messages[0]["response"] == "utter_balance_due"
    assert dispatcher.messages[0]["balance"] == "€53.40"
    dispatcher = CollectingDispatcher()
    run(ActionExplainBill(), dispatcher, tracker(slots=slots))
    assert responses(dispatcher) == ["utter_bill_higher", "utter_reason_promotion_ended",
                                     "utter_reason_late_fee", "utter_reason_tax_change",
                                     "utter_plan_saving_tip"]
    assert dispatcher.messages[0]["percent"] == 30
    assert [m.get("amount") for m in dispatcher.messages[1:4]] == ["€6.00", "€5.00", "€1.26"]
    # and the way to a lower bill: 10-14 GB a month costs less on Basic with extra data
    assert (dispatcher.messages[4]["plan"], dispatcher.messages[4]["saving"]) == ("Basic", "€96.84")


@pytest.mark.parametrize("language, parts", [
    ("en", "the monthly fee of €55.00 and €11.55 VAT"),
    ("nl", "de maandprijs van € 55,00 en € 11,55 btw"),
])
def test_a_bill_like_the_previous_one_is_explained_by_what_it_is_made_of(language, parts):
    slots = {"verified": True, "verified_account": "10000004", "language": language}
    dispatcher = CollectingDispatcher()
    run(ActionExplainBill(), dispatcher, tracker(slots=slots, intent="explain_bill"))
    assert responses(dispatcher) == ["utter_bill_same"]
    assert (dispatcher.messages[0]["latest"], dispatcher.messages[0]["parts"]) == (
        "€66.55" if language == "en" else "€ 66,55", parts)


def test_a_first_bill_is_not_compared_with_one_before_it():
    lines = [BillLine("recurring", "Basic plan, monthly fee", 2000),
             BillLine("usage", "Extra data 2 GB", 400), BillLine("discount", "Promotion", -300),
             BillLine("tax", "VAT 21%", 441)]
    first = InvoiceSummary("1-1", date(2026, 11, 1), date(2026, 11, 1), date(2026, 11, 15), 2541,
                           2541, "EUR")
    dispatcher = CollectingDispatcher()
    say_explanation(dispatcher, Context("c", "en", "10000009", True, None, date(2026, 11, 2)),
                    BillExplanation("EUR", first, None, [], lines))
    assert responses(dispatcher) == ["utter_bill_first"]
    assert dispatcher.messages[0]["parts"] == (
        "the monthly fee of €20.00, €4.00 for extra data, €3.00 off and €4.41 VAT")


def test_a_verified_customer_only_ever_sees_the_verified_account():
    # Verified as Jane; another account number mentioned later changes nothing.
    dispatcher = CollectingDispatcher()
    run(ActionShowBalance(), dispatcher, tracker(slots={
        "verified": True, "verified_account": "10000001", "account_number": "10000002"}))
    assert dispatcher.messages[0]["balance"] == "€53.40"
    dispatcher = CollectingDispatcher()  # "verified" without a verified account is not verified
    run(ActionShowBalance(), dispatcher, tracker(slots={"verified": True,
                                                        "account_number": "10000002"}))
    assert responses(dispatcher) == ["utter_verify_first"]


@pytest.mark.parametrize("action, intent, text", [
    (ActionShowBalance(), "ask_balance", "what is the balance on my wife's account 10000001?"),
    (ActionHandleInform(), "inform", "1000 0001"),
])
def test_asked_about_another_account_the_bot_says_it_shows_only_the_verified_one(action, intent,
                                                                                 text):
    track = tracker(slots={"verified": True, "verified_account": "10000003", "language": "en"},
                    text=text, intent=intent)
    track.latest_message["entities"] = [entity("account_number", text.split()[-1].strip("?")
                                               if "account" in text else text)]
    dispatcher = CollectingDispatcher()
    run(action, dispatcher, track)
    assert responses(dispatcher) == ["utter_only_verified_account"]  # not Tom's balance
    assert dispatcher.messages[0]["ending"] == "0003"


def test_dutch_amounts_are_formatted_the_dutch_way():
    dispatcher = CollectingDispatcher()
    run(ActionShowBalance(), dispatcher, tracker(slots={"verified": True, "language": "nl",
                                                        "verified_account": "10000002"}))
    assert dispatcher.messages[0]["balance"] == "€ 66,55"


def validate_account(value, dispatcher, track):
    return asyncio.run(ValidateVerifyForm().validate_account_number(value, dispatcher, track, {}))


def validate_factor(value, slots):
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateVerifyForm().validate_second_factor(
        value, dispatcher, tracker(slots=slots, text=value), {}))
    return result, dispatcher


def test_verification_form_counts_failures_and_verifies(own_database):
    slots = {"account_number": "10000003"}
    result, dispatcher = validate_factor("01-01-1970", slots)
    assert result == {"second_factor": None, "account_number": None}
    assert dispatcher.messages[0]["attempts_left"] == 2
    result, dispatcher = validate_factor("hello there", slots)  # not a factor: no attempt used
    assert responses(dispatcher) == ["utter_invalid_second_factor"]
    result, dispatcher = validate_factor("02-02-1970", slots)  # the last try warns of the lock
    assert responses(dispatcher) == ["utter_verification_failed_last"]
    assert dispatcher.messages[0]["minutes"] == 15
    result, dispatcher = validate_factor("30-01-1978", slots)
    assert result["verified"] is True and result["customer_name"] == "Tom Baker"
    assert result["second_factor"] == "checked"  # the date of birth is not kept in a slot
    assert result["language"] == "en" and dispatcher.messages == []  # said after the form


def test_questions_asked_before_and_during_verification_are_all_kept_in_order():
    def remember(intent, slots, in_form):
        dispatcher = CollectingDispatcher()
        track = tracker(slots=slots, intent=intent)
        if in_form:
            track.active_loop = {"name": "verify_form"}
        return with_slots(slots, run(ActionRememberRequest(), dispatcher, track)), responses(dispatcher)

    slots, said = remember("ask_balance", {}, in_form=False)
    assert slots["pending_request"] == ["ask_balance"] and said == ["utter_verify_first"]
    slots, said = remember("request_discount", slots, in_form=True)
    assert said == ["utter_answer_after_verification"]  # not silently dropped
    slots, said = remember("ask_balance", slots, in_form=True)  # asked again: once, last
    assert slots["pending_request"] == ["request_discount", "ask_balance"]


def test_questions_asked_together_before_verification_are_all_kept():
    dispatcher = CollectingDispatcher()
    events = run(ActionRememberRequest(), dispatcher, tracker(
        text="hoi! wat is mijn saldo en wanneer moet ik betalen? en kan ik in delen betalen?",
        intent="ask_due_date"))
    assert with_slots({}, events)["pending_request"] == ["ask_due_date", "payment_arrangement"]


def test_questions_asked_together_by_a_verified_customer_are_all_answered():
    slots = {"verified": True, "verified_account": "10000001", "language": "en"}
    dispatcher = CollectingDispatcher()
    run(ActionShowBalance(), dispatcher, tracker(
        slots=slots, text="what's my balance, and can I pay by card?", intent="ask_balance"))
    said = responses(dispatcher)
    assert said[0] == "utter_balance_due" and said[-1] == "utter_payment_link", said
    assert any(r.startswith("utter_payment_method") for r in said), said  # the card answered


def test_after_verification_the_information_comes_first_then_one_offer():
    slots = {"verified": True, "verified_account": "10000001", "customer_name": "Jane Doe",
             "language": "en",
             "pending_request": ["payment_arrangement", "request_discount", "ask_due_date"]}
    dispatcher = CollectingDispatcher()
    events = run(ActionResumeRequest(), dispatcher, tracker(slots=slots))
    said = responses(dispatcher)
    assert said[0] == "utter_verified" and said[1] == "utter_due_date", said
    # the arrangement asks the customer to choose: the discount waits, so one "yes" is clear
    assert with_slots(slots, events)["awaiting"] == "arrangement_choice"
    assert not any("discount" in name or "credit" in name for name in said[2:]), said
    assert with_slots(slots, events)["pending_request"] is None


def test_a_date_of_birth_without_separators_does_not_replace_the_account_number(own_database):
    asked = {"event": "slot", "name": "account_number", "value": "10000001"}
    message = {"event": "user", "text": "12041985", "parse_data": {"intent": {"name": "inform"}}}
    extracted = {"event": "slot", "name": "account_number", "value": "12041985"}
    track = tracker(slots={"account_number": "12041985", "requested_slot": "second_factor"},
                    text="12041985", events=[asked, message, extracted])
    dispatcher = CollectingDispatcher()
    result = validate_account("12041985", dispatcher, track)
    assert result == {"account_number": "10000001"} and dispatcher.messages == []
    result, _ = validate_factor("12041985", {"account_number": "10000001"})
    assert result["verified"] is True and result["customer_name"] == "Jane Doe"
    # an account number given again at that step is still taken as a correction
    track.slots["account_number"] = "10000003"
    assert validate_account("10000003", dispatcher, track) == {"account_number": "10000003"}


def test_after_verification_the_welcome_comes_before_the_answer():
    verified = {"verified": True, "verified_account": "10000004", "customer_name": "Eva Jansen",
                "language": "nl"}
    dispatcher = CollectingDispatcher()
    run(ActionResumeRequest(), dispatcher, tracker(slots={**verified, "pending_request": ["ask_balance"]}))
    said = responses(dispatcher)
    assert said[0] == "utter_verified" and said[1].startswith("utter_balance"), said
    assert dispatcher.messages[0]["name"] == "Eva Jansen"
    dispatcher = CollectingDispatcher()
    run(ActionResumeRequest(), dispatcher, tracker(slots={**verified, "verified": False}))
    assert responses(dispatcher) == []  # locked: the lock message was said, a person is offered
    # the form started again while locked (the account number sent again): the lock is said,
    # not nothing (an empty reply queued the chat as if the bot were down)
    locked = {"verified": False, "locked_until": (datetime.now(timezone.utc)
                                                  + timedelta(minutes=9)).isoformat()}
    lock_said = {"event": "bot", "text": "...",
                 "metadata": {"utter_action": "utter_verification_locked"}}
    for events, said in (([lock_said, {"event": "user", "text": "10009990"}],
                          ["utter_verification_locked"]),
                         ([{"event": "user", "text": "3333CC"}, lock_said], [])):  # it locked now
        dispatcher = CollectingDispatcher()
        run(ActionResumeRequest(), dispatcher, tracker(slots=locked, events=events))
        assert responses(dispatcher) == said
    dispatcher = CollectingDispatcher()  # verified with nothing asked yet: no "Okay!"
    run(ActionResumeRequest(), dispatcher, tracker(slots=verified))
    assert responses(dispatcher) == ["utter_verified", "utter_how_can_i_help"]


@pytest.mark.parametrize("intent, text, said", [
    # "I can help with that. First I need to check..."
    ("ask_balance", "what do I owe?", "utter_verify_first"),
    # after the apology: no cheerful "I can help"
    ("complain", "this is ridiculous, I want to complain", "utter_verify_to_look_into_it"),
    ("cancel_service", "I want to cancel", "utter_verify_to_look_into_it"),
    # anger acknowledged first (before: "I can help with that" to "THIS IS RIDICULOUS")
    ("explain_bill", "WHY IS MY BILL SO HIGH??? THIS IS RIDICULOUS", "utter_verify_upset"),
    ("ask_balance", "wat een oplichting, hoeveel moet ik nu weer betalen", "utter_verify_upset"),
])
def test_why_verification_starts_fits_what_was_said(intent, text, said):
    dispatcher = CollectingDispatcher()
    run(ActionRememberRequest(), dispatcher, tracker(text=text, intent=intent))
    assert responses(dispatcher) == [said]


@pytest.mark.parametrize("text, intent, said", [
    ("WHY IS MY BILL SO HIGH", "explain_bill", "utter_sorry_frustrating"),
    ("why is my bill so high", "explain_bill", "utter_bill_higher"),
    ("this is absurd, when do I have to pay", "ask_due_date", "utter_sorry_frustrating"),
])
def test_a_verified_customer_s_anger_is_acknowledged_before_the_answer(text, intent, said):
    slots = {"verified": True, "verified_account": "10000001", "language": "en"}
    dispatcher = CollectingDispatcher()
    action = ActionExplainBill() if intent == "explain_bill" else ActionShowDueDate()
    run(action, dispatcher, tracker(slots=slots, text=text, intent=intent))
    assert responses(dispatcher)[0] == said
    assert len(responses(dispatcher)) > 1  # and then the answer


@pytest.mark.parametrize("text, valid", [
    ("10000003", True), ("1000 0003", True), ("1000-0003", True),
    # in a sentence, however grouped (the entity misses these, the slot takes the text)
    ("my acct no. is 1000-0003", True), ("rekeningnummer is 10 00 00 03", True),
    ("12-04-1985", False), ("1985-04-12", False), ("3.11.1990", False), ("1000003", False),
    ("call me on 06 12345678", False),
])
def test_an_account_number_is_8_digits_and_not_a_date(text, valid):
    dispatcher = CollectingDispatcher()
    result = validate_account(text, dispatcher, tracker())
    assert result == {"account_number": "10000003" if valid else None}
    date_given = text in ("12-04-1985", "1985-04-12", "3.11.1990")  # number first, then date
    assert responses(dispatcher) == ([] if valid else ["utter_account_number_first"] if date_given
                                     else ["utter_invalid_account_number"])


@pytest.mark.parametrize("action, intent, text", [
    (ActionDecline(), "deny",
     "hoi ik wil mijn saldo weten maar ik heb mijn klantnummer niet bij de hand"),
    (ActionClarify(), "nlu_fallback", "waar vind ik mijn klantnummer?"),
    (ActionOutOfScope(), "out_of_scope", "I lost my account number"),
])
def test_without_the_account_number_at_hand_the_customer_hears_where_it_is(action, intent, text):
    dispatcher = CollectingDispatcher()
    returned = with_slots({}, run(action, dispatcher, tracker(slots={"language": "nl"},
                                                              text=text, intent=intent)))
    assert responses(dispatcher) == ["utter_where_account_number", "utter_offer_person"]
    assert returned["offer"] == {"type": "handoff", "reason": "not_verified"}


@pytest.mark.parametrize("text", ["mijn postcode is 3511 cd", "postcode: 3511cd"])
def test_a_postcode_named_in_a_sentence_is_checked(text):
    result, _ = validate_factor(text, {"account_number": "10000002",
                                       "requested_slot": "second_factor"})
    assert result["verified"] is True and result["verified_account"] == "10000002"


@pytest.mark.parametrize("action, intent, text", [
    (ActionClarify(), "nlu_fallback", "mijn internet doet het niet"),
    (ActionOutOfScope(), "out_of_scope", "no signal on my phone"),
])
def test_a_fault_read_as_out_of_scope_or_unclear_is_offered_a_colleague(action, intent, text):
    dispatcher = CollectingDispatcher()
    returned = with_slots({}, run(action, dispatcher, tracker(text=text, intent=intent)))
    assert responses(dispatcher) == ["utter_fault_not_billing", "utter_offer_person"]
    assert returned["offer"] == {"type": "handoff", "reason": "technical_fault"}


def test_an_account_number_given_where_the_date_of_birth_is_asked_is_no_failed_date():
    result, dispatcher = validate_factor("sorry, it's 1000 0003",
                                         {"account_number": "10000002",
                                          "requested_slot": "second_factor"})
    assert result == {"second_factor": None} and responses(dispatcher) == []


def entity(name, value):
    return {"entity": name, "value": value, "start": 0, "end": 0, "extractor": "RegexEntityExtractor"}


def test_both_details_given_where_the_account_number_was_asked_are_checked_at_once():
    def given(postcode):
        track = tracker(slots={"account_number": "10000002", "requested_slot": "account_number"},
                        text=f"10000002 {postcode}")
        track.latest_message["entities"] = [entity("account_number", "10000002"),
                                            entity("postcode", postcode)]
        return track

    dispatcher = CollectingDispatcher()  # a wrong one is an attempt (the right one resets it)
    assert validate_account("10000002", dispatcher, given("9999ZZ")) == {"second_factor": None,
                                                                        "account_number": None}
    assert responses(dispatcher) == ["utter_verification_failed"]
    result = validate_account("10000002", CollectingDispatcher(), given("3511CD"))
    assert result["verified"] is True and result["account_number"] == "10000002"


def test_details_sent_with_a_question_are_checked_when_verification_starts():
    question = tracker(slots={"account_number": "10000001"}, intent="ask_balance")
    question.latest_message["entities"] = [entity("account_number", "10000001"),
                                           entity("date_of_birth", "12-04-1985")]
    slots = with_slots({}, run(ActionRememberRequest(), CollectingDispatcher(), question))
    assert (slots["second_factor"], slots["pending_request"]) == ("12-04-1985", ["ask_balance"])
    # a postcode alone says nothing without the account it belongs to
    alone = tracker(intent="ask_balance")
    alone.latest_message["entities"] = [entity("postcode", "1012AB")]
    assert "second_factor" not in with_slots({}, run(ActionRememberRequest(), CollectingDispatcher(), alone))


def test_details_sent_before_any_question_start_verification():
    details = tracker(slots={"account_number": "10000004"}, intent="inform")
    details.latest_message["entities"] = [entity("account_number", "10000004"),
                                          entity("postcode", "5611GH")]
    dispatcher = CollectingDispatcher()
    events = run(ActionHandleInform(), dispatcher, details)
    assert dispatcher.messages == []
    assert events == [{"event": "slot", "timestamp": None, "name": "second_factor", "value": "5611GH"},
                      {"event": "followup", "timestamp": None, "name": "verify_form"}]
    # over SMS the phone chose the account: a date of birth alone starts the check
    sms = tracker(slots={"account_number": "10000002", "phone": "+31600000002"}, intent="inform")
    sms.latest_message["entities"] = [entity("date_of_birth", "03-11-1990")]
    assert run(ActionHandleInform(), CollectingDispatcher(), sms)[-1] == \
        {"event": "followup", "timestamp": None, "name": "verify_form"}


def test_a_greeting_with_the_account_number_starts_verification_instead_of_the_menu():
    hello = tracker(slots={"account_number": "10000004"}, text="hi im eva 10000004", intent="greet")
    hello.latest_message["entities"] = [entity("account_number", "10000004")]
    dispatcher = CollectingDispatcher()
    assert run(ActionGreet(), dispatcher, hello) == [
        {"event": "followup", "timestamp": None, "name": "verify_form"}]
    assert dispatcher.messages == []  # the form asks for the date of birth or postcode
    # a plain greeting, or one from a customer already verified, gets the menu
    for slots in ({}, {"verified": True, "verified_account": "10000004"}):
        dispatcher = CollectingDispatcher()
        plain = tracker(slots=slots, text="hi im eva 10000004", intent="greet")
        plain.latest_message["entities"] = [entity("account_number", "10000004")] if slots else []
        assert run(ActionGreet(), dispatcher, plain) == []
        assert responses(dispatcher) == ["utter_greet"]


@pytest.mark.parametrize("value, replies", [
    # before verification: what it would cost them needs their data use, so the way there
    ("basic", [{"response": "utter_plan_price", "plan": "Basic", "price": "€24.20",
                "data": "5 GB (then €2.42 per extra GB)"},  # before: "5 GB", no word on more
               {"response": "utter_plan_cost_for_you", "plan": "Basic",
                "buttons": [{"title": "What would Basic cost me?",
                             "payload": '/change_plan{"plan": "basic"}'}]}]),
    # unlimited data costs everyone the same
    ("premium", [{"response": "utter_plan_price", "plan": "Premium", "price": "€90.75",
                  "data": "unlimited data"}]),
    ("gold", [{"response": "utter_what_can_i_do"}]),  # no such plan
    (None, [{"response": "utter_what_can_i_do"}]),
])
def test_a_plan_named_with_no_question_open_gets_its_price(value, replies):
    named = tracker(intent="inform")
    named.latest_message["entities"] = [entity("plan", value)] if value else []
    dispatcher = CollectingDispatcher()
    assert run(ActionHandleInform(), dispatcher, named) == []
    assert [{k: m[k] for k in reply} for m, reply in zip(dispatcher.messages, replies)] == replies
    assert len(dispatcher.messages) == len(replies)


def test_confirmed_plan_change_is_written_once(own_database):
    slots = {"verified": True, "verified_account": "10000001", "language": "en",
             "awaiting": "confirm",
             "offer": {"type": "plan_change", "to_plan": "premium", "key": "t:plan:abc"}}
    for _ in range(2):  # a repeated "yes" must not change the plan twice
        dispatcher = CollectingDispatcher()
        run(ActionConfirm(), dispatcher, tracker(slots=slots, intent="affirm"))
        assert responses(dispatcher) == ["utter_plan_changed"]
    engine = create_engine(own_database)
    with engine.connect() as connection:
        assert connection.scalar(text(
            "select count(*) from plan_changes where idempotency_key = 't:plan:abc'")) == 1
    engine.dispose()


@pytest.mark.parametrize("slots, advice, plan", [
    ({"language": "en"}, "utter_plans_advice", None),
    ({"language": "en", "verified": True, "verified_account": "10000002"},
     "utter_plan_recommendation", "Basic"),
])
def test_plans_come_with_advice_for_the_verified_and_the_way_to_it_for_others(slots, advice, plan):
    dispatcher = CollectingDispatcher()
    run(ActionListPlans(), dispatcher, tracker(slots=slots, intent="ask_plans"))
    assert responses(dispatcher) == ["utter_plans", advice]
    assert "Basic" in dispatcher.messages[0]["plans"] and "€" in dispatcher.messages[0]["plans"]
    assert dispatcher.messages[1].get("plan") == plan


ADVICE_OFFERED = [{"event": "bot", "text": "Want to know which plan fits ...",
                   "metadata": {"utter_action": "utter_plans_advice"}}]


@pytest.mark.parametrize("text, events, in_form, said", [
    ("which plan is best for me?", [], False, ["utter_verify_first"]),
    ("welk abonnement past bij mij?", [], False, ["utter_verify_first"]),
    # the advice's button (or the same question typed) right after the bot offered it
    ("/ask_plans", ADVICE_OFFERED, False, ["utter_verify_first"]),
    ("which one is best for me", [], True, ["utter_answer_after_verification"]),
])
def test_plan_advice_asked_before_verification_is_kept_for_after_it(text, events, in_form, said):
    dispatcher = CollectingDispatcher()
    track = tracker(text=text, intent="ask_plans", events=events, slots={"language": "en"})
    if in_form:
        track.active_loop = {"name": "verify_form"}
    returned = run(ActionListPlans(), dispatcher, track)
    assert responses(dispatcher) == said  # not the price list again
    assert with_slots({}, returned)["pending_request"] == ["plan_advice"]
    follow = [e["name"] for e in returned if e["event"] == "followup"]
    assert follow == ([] if in_form else ["verify_form"])  # in the form, the form goes on


def test_plan_advice_is_answered_after_verification_and_straight_away_when_verified():
    slots = {"verified": True, "verified_account": "10000002", "language": "en",
             "customer_name": "Sanne de Vries", "pending_request": ["plan_advice"]}
    dispatcher = CollectingDispatcher()
    run(ActionResumeRequest(), dispatcher, tracker(slots=slots, text="3511CD"))
    assert responses(dispatcher) == ["utter_verified", "utter_plan_recommendation"]
    assert dispatcher.messages[1]["plan"] == "Basic"
    dispatcher = CollectingDispatcher()
    run(ActionListPlans(), dispatcher, tracker(slots=slots, text="what plan should I be on?",
                                               intent="ask_plans"))
    assert responses(dispatcher) == ["utter_plan_recommendation"]


def test_paying_the_rest_at_once_gets_the_link_not_a_second_arrangement(own_database):
    from billing_core.arrangements.models import ArrangementKind
    from billing_core.arrangements.service import create_arrangement
    with session_scope(session_factory()) as session:
        create_arrangement(session, account_number="10000003", kind=ArrangementKind.instalments,
                           instalments=3, idempotency_key="t:arr", actor=Actor.bot())
    slots = {"verified": True, "verified_account": "10000003", "language": "en"}
    dispatcher = CollectingDispatcher()
    run(ActionOfferArrangement(), dispatcher, tracker(
        slots=slots, text="and can I pay the rest all at once now?", intent="payment_arrangement"))
    assert responses(dispatcher) == ["utter_payment_link"]
    assert dispatcher.messages[0]["amount"] == "€98.62"

    # paying this month's part gets a link for that part (before: the whole €98.62, and
    # "I can't set up another arrangement" for the same question read as one)
    for action, intent, text in [
            (ActionOfferArrangement(), "payment_arrangement", "I want to pay my first instalment now"),
            (ActionSendPaymentLink(), "pay_bill", "send me a link to pay this month's instalment"),
            (ActionSendPaymentLink(), "pay_bill", "I want to pay")]:
        dispatcher = CollectingDispatcher()
        run(action, dispatcher, tracker(slots=slots, text=text, intent=intent))
        assert responses(dispatcher) == ["utter_payment_link_part"], text
        said = dispatcher.messages[0]
        assert (said["amount"], said["total"], said["part"]) == ("€32.88", "€98.62", "instalment")
        claims = read_payment_link(said["url"].rsplit("/", 1)[1])
        assert claims["amt"] == 3288


def test_no_discount_suggests_a_cheaper_plan_unless_a_switch_is_scheduled(own_database):
    from billing_core.plans.service import apply_plan_change
    slots = {"verified": True, "verified_account": "10000002", "language": "en"}

    def said():
        dispatcher = CollectingDispatcher()
        run(ActionOfferConcession(), dispatcher, tracker(slots=slots, text="any discount?",
                                                         intent="request_discount"))
        return responses(dispatcher)

    assert said() == ["utter_no_concession", "utter_offer_cheaper_plan", "utter_offer_person"]
    with session_scope(session_factory()) as session:  # Sanne chose Basic
        apply_plan_change(session, account_number="10000002", to_plan_code="basic",
                          idempotency_key="t:sanne-basic", actor=Actor.bot())
    assert said() == ["utter_no_concession", "utter_offer_person"]


@pytest.mark.parametrize("kind, count, part", [("instalments", 3, "instalment"),
                                              ("extension", None, "payment")])
def test_with_an_arrangement_the_balance_and_due_date_name_its_next_part(own_database, kind,
                                                                       count, part):
    from billing_core.arrangements.models import ArrangementKind
    from billing_core.arrangements.service import create_arrangement
    with session_scope(session_factory()) as session:
        create_arrangement(session, account_number="10000003", kind=ArrangementKind(kind),
                           instalments=count, extension_days=14 if count is None else None,
                           idempotency_key=f"t:{kind}", actor=Actor.bot())
    slots = {"verified": True, "verified_account": "10000003", "language": "en"}
    for action, response in ((ActionShowBalance(), "utter_balance_in_arrangement"),
                             (ActionShowDueDate(), "utter_arrangement_in_place")):
        dispatcher = CollectingDispatcher()
        run(action, dispatcher, tracker(slots=slots, text="when do I pay?"))
        assert responses(dispatcher) == [response]
        assert dispatcher.messages[0]["part"] == part  # an extension has no "instalment"


def test_with_a_plan_change_scheduled_the_bot_says_it_instead_of_advising_it_again(
        own_database):
    from billing_core.plans.service import apply_plan_change
    with session_scope(session_factory()) as session:  # Jane chose Basic: next cycle
        change = apply_plan_change(session, account_number="10000001", to_plan_code="basic",
                                   idempotency_key="t:scheduled", actor=Actor.bot())
        starts = Context.of(tracker()).date(change.effective_date)
    slots = {"verified": True, "verified_account": "10000001", "language": "en"}

    def said(action, text, intent):
        dispatcher = CollectingDispatcher()
        returned = run(action, dispatcher, tracker(slots=slots, text=text, intent=intent))
        return dispatcher.messages, with_slots(slots, returned)

    messages, _ = said(ActionListPlans(), "what plan am I on now?", "ask_plans")
    assert [(m["response"], m.get("plan") or m.get("to_plan")) for m in messages] == [
        ("utter_current_plan", "Standard"), ("utter_plan_change_scheduled", "Basic")]
    assert messages[1]["date"] == starts
    messages, _ = said(ActionExplainBill(), "why is my bill higher?", "explain_bill")
    assert "utter_plan_saving_tip" not in [m["response"] for m in messages]  # no "switch to Basic"
    messages, slots_after = said(ActionChangePlan(), "switch me back to standard", "change_plan")
    assert [m["response"] for m in messages] == ["utter_plan_change_scheduled",
                                                 "utter_plan_change_pending"]
    assert slots_after["offer"] == {"type": "handoff", "reason": "change_scheduled_plan"}


@pytest.mark.parametrize("action, intent, amount, said, slots", [
    # Eva's €66.55: €20 a month takes 4 instalments (the first €16.66), "€5" is no count of 5
    (ActionOfferArrangement(), "payment_arrangement", "€20",
     ["utter_arrangement_preview_instalments"], {"awaiting": "confirm"}),
    (ActionHandleInform(), "inform", "20 euro", ["utter_arrangement_preview_instalments"],
     {"awaiting": "confirm"}),
    (ActionOfferArrangement(), "payment_arrangement", "€5",
     ["utter_arrangement_amount_too_low", "utter_offer_person"],
     {"awaiting": "confirm", "offer": {"type": "handoff", "reason": "arrangement_amount_too_low"}}),
])
def test_what_the_customer_can_pay_a_month_chooses_the_instalments(action, intent, amount, said,
                                                                   slots):
    asked = tracker(slots={"verified": True, "verified_account": "10000004", "language": "en",
                           "awaiting": "arrangement_choice"},
                    text=f"can I pay {amount} a month?", intent=intent)
    asked.latest_message["entities"] = [entity("amount", amount)]
    dispatcher = CollectingDispatcher()
    events = run(action, dispatcher, asked)
    assert responses(dispatcher) == said
    result = with_slots({}, events)
    assert {name: result[name] for name in slots} == slots
    if "offer" not in slots:
        assert (result["offer"]["kind"], result["offer"]["instalments"]) == ("instalments", 4)
    else:
        assert dispatcher.messages[0]["lowest"] == "€11.10"


@pytest.mark.parametrize("waiting", [
    {"awaiting": "arrangement_choice"},
    {"awaiting": "confirm", "offer": {"type": "arrangement", "kind": "extension"}},  # a preview
])
@pytest.mark.parametrize("text, said", [
    ("what are my options?", ["utter_arrangement_choice_unclear"]),
    ("what plans do you have?", ["utter_plans", "utter_plans_advice"]),
])
def test_asking_for_the_options_while_an_arrangement_is_chosen_gets_those(waiting, text, said):
    slots = {"language": "en", **waiting}
    dispatcher = CollectingDispatcher()
    run(ActionListPlans(), dispatcher, tracker(slots=slots, text=text, intent="ask_plans"))
    assert responses(dispatcher) == said


def test_a_plan_asked_about_by_name_gets_its_price_not_the_list():
    dispatcher = CollectingDispatcher()
    question = tracker(slots={"language": "nl"}, text="wat kost premium", intent="ask_plans")
    question.latest_message["entities"] = [entity("plan", "premium")]
    run(ActionListPlans(), dispatcher, question)
    assert responses(dispatcher) == ["utter_plan_price"]
    assert (dispatcher.messages[0]["plan"], dispatcher.messages[0]["price"]) == ("Premium", "€ 90,75")


@pytest.mark.parametrize("action, slots, text, intent, said, name", [
    # asked for before or after verification: none of ours, then which one (and advice)
    (ActionChangePlan(), {"verified": True, "verified_account": "10000002"},
     "I want the Gold plan", "change_plan",
     ["utter_plan_not_offered", "utter_plan_recommendation", "utter_ask_target_plan"], "Gold"),
    # asked about: none of ours, then our plans
    (ActionListPlans(), {}, "heeft u een gezinsabonnement?", "ask_plans",
     ["utter_plan_not_offered", "utter_plans", "utter_plans_advice"], "Gezin"),
    # the answer to "which plan?", however it was read: none of ours, then the question again
    (ActionOutOfScope(), {"verified": True, "verified_account": "10000002",
                          "awaiting": "plan_choice"}, "gold", "out_of_scope",
     ["utter_plan_not_offered", "utter_plan_choice_unclear"], "Gold"),
    (ActionClarify(), {"verified": True, "verified_account": "10000002",
                       "awaiting": "plan_choice"}, "the platinum one please", "nlu_fallback",
     ["utter_plan_not_offered", "utter_plan_choice_unclear"], "Platinum"),
    # with no plan question open, a word such as "gold" is just out of scope
    (ActionOutOfScope(), {}, "gold", "out_of_scope", ["utter_out_of_scope"], None),
])
def test_a_plan_we_do_not_sell_is_said_to_be_none_of_ours(action, slots, text, intent, said,
                                                           name):
    dispatcher = CollectingDispatcher()
    run(action, dispatcher, tracker(slots={"language": "en", **slots}, text=text, intent=intent))
    assert responses(dispatcher) == said
    assert dispatcher.messages[0].get("name") == name


@pytest.mark.parametrize("plan, said, amount", [
    ("basic", ["utter_plan_price", "utter_plan_recommendation"], ("saving", "€508.20")),
    ("premium", ["utter_plan_price", "utter_plan_costs_more"], ("extra", "€290.40")),
    ("plus", ["utter_plan_is_current"], ("price", "€66.55")),
])
def test_a_verified_customer_asking_about_a_plan_hears_what_it_would_cost_them(
        own_database, plan, said, amount):
    slots = {"verified": True, "verified_account": "10000002", "language": "en"}
    question = tracker(slots=slots, text=f"how much would I save with {plan}", intent="ask_plans")
    question.latest_message["entities"] = [entity("plan", plan)]
    dispatcher = CollectingDispatcher()
    run(ActionListPlans(), dispatcher, question)
    assert responses(dispatcher) == said
    key, value = amount
    assert dispatcher.messages[-1][key] == value


@pytest.mark.parametrize("runner_up, said", [
    ("ask_plans", ["utter_plan_price", "utter_plan_cost_for_you"]),
    ("complain", ["utter_clarify"]),  # a plan named in something else not understood: buttons
])
def test_a_plan_name_the_model_is_unsure_about_still_gets_its_price(runner_up, said):
    # "en plus?" after the plan list: ask_plans 0.50 against inform 0.42 falls back
    ranking = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": runner_up, "confidence": 0.5},
               {"name": "inform", "confidence": 0.42}]
    unsure = tracker(slots={"language": "nl"}, text="en plus?", intent="nlu_fallback",
                     ranking=ranking, confidence=0.5)
    unsure.latest_message["entities"] = [entity("plan", "plus")]
    dispatcher = CollectingDispatcher()
    run(ActionClarify(), dispatcher, unsure)
    assert responses(dispatcher) == said


@pytest.mark.parametrize("account, plan, said, figure", [
    # Eva uses ~30 GB: Basic's 5 GB plus extra data would cost her more than Plus
    ("10000004", "basic", ["utter_plan_costs_more", "utter_plan_preview_downgrade"],
     ("extra", "€246.84")),
    # Sanne uses 2-3 GB: Basic saves her money, and she hears how much
    ("10000002", "basic", ["utter_plan_recommendation", "utter_plan_preview_downgrade"],
     ("saving", "€508.20")),
    # a bigger plan costing more is in the preview's price already
    ("10000004", "premium", ["utter_plan_preview_upgrade"], ("new_price", "€90.75")),
])
def test_what_a_plan_change_would_save_or_cost_the_customer_is_said_before_the_yes(
        own_database, account, plan, said, figure):
    slots = {"verified": True, "verified_account": account, "language": "en",
             "target_plan": plan}
    dispatcher = CollectingDispatcher()
    events = run(ActionChangePlan(), dispatcher, tracker(slots=slots, intent="change_plan"))
    assert responses(dispatcher) == said
    key, value = figure
    assert dispatcher.messages[0][key] == value
    assert with_slots({}, events)["awaiting"] == "confirm"  # the customer still decides
    if plan == "basic":  # the preview's price comes with what extra data costs
        assert dispatcher.messages[-1]["data"] == "5 GB (then €2.42 per extra GB)"


def test_asking_for_the_plan_one_already_has_asks_which_plan_instead(own_database):
    slots = {"verified": True, "verified_account": "10000002", "language": "en"}
    dispatcher = CollectingDispatcher()
    events = run(ActionChangePlan(), dispatcher, tracker(slots={**slots, "target_plan": "plus"},
                                                         intent="change_plan"))
    assert responses(dispatcher) == ["utter_plan_already"]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["Basic", "Standard", "Premium"]
    slots = with_slots(slots, events)
    assert slots["awaiting"] == "plan_choice"
    # a yes, an answer with no plan in it, or one not understood: the question again
    for action, intent in ((ActionConfirm(), "affirm"), (ActionHandleInform(), "inform"),
                           (ActionClarify(), "nlu_fallback")):
        dispatcher = CollectingDispatcher()
        assert run(action, dispatcher, tracker(slots=slots, text="the best one", intent=intent)) == []
        assert responses(dispatcher) == ["utter_plan_choice_unclear"], action
    # the plan named next gets its preview
    dispatcher = CollectingDispatcher()
    events = run(ActionHandleInform(), dispatcher, tracker(slots={**slots, "target_plan": "premium"}))
    assert responses(dispatcher) == ["utter_plan_preview_upgrade"]
    assert with_slots(slots, events)["offer"]["to_plan"] == "premium"


def offer_made_then(*turns):
    """Tracker events: the bot previews a switch to Premium, then each (customer text, the
    bot's reply response) turn, then the customer's current message."""
    offer = {"type": "plan_change", "to_plan": "premium", "key": "t:plan:stale"}
    events = [{"event": "user", "text": "switch me to premium"},
              {"event": "bot", "text": "Switching to Premium ... Shall I make the change?",
               "data": {"buttons": [{"title": "Yes, switch", "payload": "/affirm"}]},
               "metadata": {"utter_action": "utter_plan_change_preview"}},
              {"event": "slot", "name": "awaiting", "value": "confirm"},
              {"event": "slot", "name": "offer", "value": offer}]
    for text_, reply in turns:
        said = {"text": "...", "metadata": {"utter_action": reply}} if reply else \
            {"text": events[1]["text"], "metadata": {}}  # repeated by repeat_last_turn
        events += [{"event": "user", "text": text_}, {"event": "bot", **said}]
    return offer, events + [{"event": "user", "text": "fine, do it"}]


@pytest.mark.parametrize("turns, writes", [
    ([], 1),
    ([("hang on", "utter_take_your_time")], 1),  # a moment asked for keeps the question open
    ([("say that again", None)], 1),  # the preview said again (its text, see offer_made_then)
    ([("what does that cost a year?", "utter_plans")], 0),  # the customer moved on
    ([("hmm, plus instead", "utter_clarify")], 0),
])
def test_a_yes_carries_out_an_offer_only_while_its_question_is_open(own_database, turns, writes):
    offer, events = offer_made_then(*turns)
    slots = {"verified": True, "verified_account": "10000003", "language": "en",
             "awaiting": "confirm", "offer": offer}
    dispatcher = CollectingDispatcher()
    returned = run(ActionConfirm(), dispatcher, tracker(slots=slots, intent="affirm",
                                                        text="fine, do it", events=events))
    engine = create_engine(own_database)
    with engine.connect() as connection:
        assert connection.scalar(text(
            "select count(*) from plan_changes where idempotency_key = 't:plan:stale'")) == writes
    engine.dispose()
    if writes:
        assert responses(dispatcher) == ["utter_plan_changed"]
        return
    # shown again, in the bot's own words and buttons, and open anew for the next yes
    assert responses(dispatcher) == ["utter_offer_again", None]
    assert dispatcher.messages[1]["text"].endswith("Shall I make the change?")
    assert dispatcher.messages[1]["buttons"] == [{"title": "Yes, switch", "payload": "/affirm"}]
    assert {"event": "slot", "name": "offer", "value": offer, "timestamp": None} in returned
    reopened = events + [{"event": "bot", "text": "...", "metadata": {}}] + [
        {"event": "slot", "name": "offer", "value": offer}, {"event": "user", "text": "yes"}]
    dispatcher = CollectingDispatcher()
    run(ActionConfirm(), dispatcher, tracker(slots=slots, intent="affirm", text="yes",
                                             events=reopened))
    assert responses(dispatcher) == ["utter_plan_changed"]


@pytest.mark.parametrize("offer, text, entities, said, preview", [
    # a counter-proposal to an arrangement preview gets its own preview
    ({"type": "arrangement", "kind": "extension"}, "what about 3 instalments then", [],
     ["utter_arrangement_preview_instalments"], ("instalments", 3)),
    ({"type": "arrangement", "kind": "instalments"}, "give me 2 weeks extra", [],
     ["utter_arrangement_preview_extension"], ("extension", None)),
    ({"type": "handoff", "reason": "arrangement_amount_too_low"}, "what about 3 instalments?",
     [], ["utter_arrangement_preview_instalments"], ("instalments", 3)),
    # another plan named while a plan preview waits: that plan's preview
    ({"type": "plan_change", "to_plan": "premium"}, "plus then", [entity("plan", "plus")],
     ["utter_plan_preview_upgrade"], None),
    # a question about data: the plan on their own use, then the offer's question again
    ({"type": "plan_change", "to_plan": "basic"}, "is 5 GB genoeg voor mij?", [],
     ["utter_plan_costs_more", "utter_confirm_again"], None),  # Tom uses more than 5 GB
    # anything else: the offer's question again, not "What can I do for you?"
    ({"type": "plan_change", "to_plan": "basic"}, "hmm 12", [], ["utter_confirm_again"], None),
])
def test_a_value_sent_while_an_offer_waits_answers_that_offer(own_database, offer, text,
                                                              entities, said, preview):
    slots = {"verified": True, "verified_account": "10000003", "language": "en",
             "awaiting": "confirm", "offer": {**offer, "key": "t:k"}}
    track = tracker(slots=slots, text=text, intent="inform")
    track.latest_message["entities"] = entities
    dispatcher = CollectingDispatcher()
    returned = with_slots(slots, run(ActionHandleInform(), dispatcher, track))
    assert [r for r in responses(dispatcher) if r != "utter_plan_saving"] == said
    if preview:
        kind, count = preview
        assert returned["offer"]["type"] == "arrangement" and returned["offer"]["kind"] == kind
        assert returned["offer"].get("instalments") == count
    else:
        assert returned["awaiting"] == "confirm"


@pytest.mark.parametrize("action, intent", [
    (ActionGoodbye(), "goodbye"), (ActionGreet(), "greet"), (ActionDecline(), "deny"),
    (ActionOfferConcession(), "request_discount"), (ActionClarify(), "nlu_fallback"),
])
def test_asked_to_say_it_again_the_bot_repeats_its_last_reply(action, intent):
    """However "say that again" is read, the previous reply comes again with its buttons,
    and an open offer stays open."""
    offer, events = offer_made_then()
    events[-1] = {"event": "user", "text": "can you repeat that please"}
    slots = {"verified": True, "verified_account": "10000003", "language": "en",
             "awaiting": "confirm", "offer": offer}
    dispatcher = CollectingDispatcher()
    returned = run(action, dispatcher, tracker(slots=slots, text="can you repeat that please",
                                               intent=intent, events=events))
    assert [(m["text"], m["buttons"]) for m in dispatcher.messages] == [
        (events[1]["text"], events[1]["data"]["buttons"])]
    assert returned == []


@pytest.mark.parametrize("text, count", [("4?", 4), ("what would 6 be?", 6)])
def test_an_instalment_count_not_understood_while_a_preview_waits_is_previewed(own_database, text,
                                                                               count):
    slots = {"verified": True, "verified_account": "10000003", "language": "en",
             "awaiting": "confirm", "offer": {"type": "arrangement", "kind": "instalments",
                                              "instalments": 5, "key": "t:k"}}
    dispatcher = CollectingDispatcher()
    returned = with_slots(slots, run(ActionClarify(), dispatcher, tracker(
        slots=slots, text=text, intent="nlu_fallback")))
    assert responses(dispatcher) == ["utter_arrangement_preview_instalments"]
    assert returned["offer"]["instalments"] == count


@pytest.mark.parametrize("churn_risk, said", [
    (True, ["utter_cancel_how", "utter_offer_person"]),  # "no" to the retention offer
    (False, ["utter_offer_person"]),  # "no" to a goodwill credit after a complaint
])
def test_a_declined_offer_after_a_threat_says_how_cancelling_works(own_database, churn_risk,
                                                                   said):
    offer = {**GOODWILL_OFFER, "churn_risk": churn_risk}
    slots = {"verified": True, "verified_account": "10000001", "language": "en",
             "awaiting": "confirm", "offer": offer}
    dispatcher = CollectingDispatcher()
    run(ActionDecline(), dispatcher, tracker(slots=slots, text="no thanks", intent="deny"))
    assert responses(dispatcher) == said


def test_a_no_after_the_customer_moved_on_declines_nothing_and_clears_the_offer():
    offer, events = offer_made_then(("what plans are there?", "utter_plans"))
    slots = {"verified": True, "verified_account": "10000003", "language": "en",
             "awaiting": "confirm", "offer": offer}
    dispatcher = CollectingDispatcher()
    returned = run(ActionDecline(), dispatcher, tracker(slots=slots, intent="deny", text="no",
                                                        events=events))
    assert responses(dispatcher) == ["utter_anything_else"]
    assert with_slots(slots, returned)["offer"] is None


def test_an_unsure_yes_is_asked_again_before_anything_is_written(bot_database_url):
    slots = {"verified": True, "verified_account": "10000003", "language": "en",
             "awaiting": "confirm",
             "offer": {"type": "plan_change", "to_plan": "premium", "key": "t:plan:unsure"}}
    dispatcher = CollectingDispatcher()
    events = run(ActionConfirm(), dispatcher, tracker(slots=slots, intent="affirm", text="huh",
                                                      confidence=0.6))
    assert responses(dispatcher) == ["utter_confirm_again"] and events == []
    engine = create_engine(bot_database_url)
    with engine.connect() as connection:
        assert connection.scalar(text(
            "select count(*) from plan_changes where idempotency_key = 't:plan:unsure'")) == 0
    engine.dispose()


@pytest.fixture
def own_database(tmp_path, monkeypatch):
    """The demo data as seeded, for a test whose outcome other tests' writes would change."""
    url = seeded_database(tmp_path)
    point_actions_at(url, monkeypatch)
    return url


def with_slots(slots, events):
    return {**slots, **{e["name"]: e["value"] for e in events if e["event"] == "slot"}}


@pytest.mark.parametrize("pending_request, first_replies", [
    (None, ["utter_cancel_empathy", "utter_offer_retention"]),
    # resumed after verification: the empathy was said before the questions
    (["cancel_service"], ["utter_offer_retention"]),
])
def test_a_repeated_cancel_threat_declines_the_offer_and_offers_a_person(
        own_database, pending_request, first_replies):
    def threat(slots, events=()):
        dispatcher = CollectingDispatcher()
        events = run(ActionHandleCancellation(), dispatcher,
                     tracker("eva-cancel", slots, intent="cancel_service", events=list(events)))
        return responses(dispatcher), with_slots(slots, events)

    slots = {"verified": True, "verified_account": "10000004", "language": "nl",
             "pending_request": pending_request}
    replies, slots = threat(slots)
    assert replies == first_replies
    replies, slots = threat({**slots, "pending_request": None})  # while the offer is open
    assert replies == ["utter_cancel_how", "utter_offer_person"]
    assert slots["offer"] == {"type": "handoff", "reason": "offer_declined"}
    # "no" to the person, then the threat once more: still no second offer
    replies, slots = threat({**slots, "awaiting": None, "offer": None})
    assert replies == ["utter_cancel_how", "utter_offer_person"]
    engine = create_engine(own_database)
    with engine.connect() as connection:
        outcomes = connection.execute(text(
            "select concession_kind, response from retention_outcomes "
            "where conversation_id = 'eva-cancel'")).all()
    engine.dispose()
    assert outcomes == [("retention_discount", "declined")]

    # After an idle hour Rasa starts a new session (an SMS sender keeps its id): a threat
    # then is a new one again.
    new_session = [{"event": "session_started", "timestamp": time.time()}]
    replies, _ = threat({**slots, "awaiting": None, "offer": None}, new_session)
    assert replies == ["utter_cancel_empathy", "utter_offer_retention"]


@pytest.mark.parametrize("message, said, reason", [
    ("my husband passed away, I need to cancel his contract", "utter_condolences", "bereavement"),
    ("we emigreren naar Canada, dus ik zeg op", "utter_moving_abroad", "moving_abroad"),
])
def test_a_reason_no_offer_changes_goes_to_a_person_without_verification_or_offer(
        own_database, message, said, reason):
    dispatcher = CollectingDispatcher()
    events = run(ActionCancelEmpathy(), dispatcher,
                 tracker("leaving", intent="cancel_service", text=message,
                         events=[{"event": "user", "text": message}]))
    assert responses(dispatcher) == [said, "utter_cancel_with_colleague", "utter_offer_person"]
    slots = with_slots({}, events)
    assert slots["cancel_for_good"] is True  # the rules skip verification on it
    assert slots["offer"] == {"type": "handoff", "reason": f"cancel_{reason}"}
    # told after verification: no retention offer, and nothing recorded as one
    dispatcher = CollectingDispatcher()
    run(ActionHandleCancellation(), dispatcher, tracker(
        "leaving", intent="cancel_service", text=message, events=[{"event": "user", "text": message}],
        slots={"verified": True, "verified_account": "10000004", "language": "nl"}))
    assert responses(dispatcher) == [said, "utter_cancel_with_colleague", "utter_offer_person"]
    engine = create_engine(own_database)
    with engine.connect() as connection:
        assert connection.scalar(text("select count(*) from retention_outcomes")) == 0
    engine.dispose()


def test_any_other_cancellation_gets_empathy_and_verification():
    message = "I'm moving to another provider, they're cheaper"
    dispatcher = CollectingDispatcher()
    events = run(ActionCancelEmpathy(), dispatcher, tracker(
        intent="cancel_service", text=message, events=[{"event": "user", "text": message}]))
    assert responses(dispatcher) == ["utter_cancel_empathy"]
    assert with_slots({}, events) == {"cancel_for_good": False}


def test_a_discount_asked_with_a_threat_to_leave_counts_as_a_threat(own_database):
    """"€100 credit or I leave": the retention policy applies (Eva, 9 years a customer, gets
    the retention discount) and an agent later sees the cancel_threat flag."""
    slots = {"verified": True, "verified_account": "10000004", "language": "nl"}
    dispatcher = CollectingDispatcher()
    events = run(ActionOfferConcession(), dispatcher, tracker(
        slots=slots, text="ik wil €100 korting, anders zeg ik op", intent="request_discount"))
    assert responses(dispatcher) == ["utter_offer_retention"]
    assert with_slots(slots, events)["churn_risk"] is True
    dispatcher = CollectingDispatcher()
    events = run(ActionOfferConcession(), dispatcher, tracker(
        slots=slots, text="kan ik korting krijgen?", intent="request_discount"))
    assert "churn_risk" not in with_slots(slots, events)  # no threat: no retention offer
    assert responses(dispatcher) != ["utter_offer_retention"]


def test_a_complaint_nothing_can_be_offered_for_goes_to_a_colleague_without_a_refusal():
    """"My bill is wrong" asked for no discount: no "I can't offer a discount", and no
    cheaper plan sold into a complaint; a colleague looks into it."""
    dispatcher = CollectingDispatcher()
    events = run(ActionHandleComplaint(), dispatcher, tracker(
        slots={"verified": True, "verified_account": "10000002", "language": "nl"},
        text="mijn rekening klopt niet", intent="complain"))
    assert responses(dispatcher) == ["utter_complaint_to_colleague", "utter_offer_person"]
    assert with_slots({}, events)["offer"] == {"type": "handoff", "reason": "complaint"}


GOODWILL_OFFER = {"type": "concession", "kind": "goodwill_credit", "amount_minor": 500,
                  "months": None, "reason": "complaint", "churn_risk": False, "key": "t:goodwill"}


@pytest.mark.parametrize("action, intent", [(ActionHandleComplaint(), "complain"),
                                            (ActionOfferConcession(), "request_discount")])
def test_still_unhappy_while_an_offer_is_open_goes_to_a_person(action, intent):
    slots = {"verified": True, "verified_account": "10000001", "language": "en",
             "awaiting": "confirm"}
    dispatcher = CollectingDispatcher()
    events = run(action, dispatcher, tracker(slots={**slots, "offer": GOODWILL_OFFER},
                                             intent=intent))
    assert responses(dispatcher) == ["utter_not_enough", "utter_offer_person"]
    assert with_slots({}, events)["offer"] == {"type": "handoff", "reason": "offer_declined"}
    # asked "shall I pass this on?" and answered with more of the same: passed on
    dispatcher = CollectingDispatcher()
    events = run(action, dispatcher, tracker(
        slots={**slots, "offer": {"type": "handoff", "reason": "offer_declined"}}, intent=intent))
    assert responses(dispatcher)[0] == "utter_handoff"
    assert dispatcher.messages[1]["custom"]["handoff"]["reason"] == "offer_declined"
    assert with_slots({}, events)["offer"] is None


TRACE_OFFERED = {"awaiting": "confirm",
                 "offer": {"type": "handoff", "reason": "payment_not_found"}}


@pytest.mark.parametrize("slots, text, replies", [
    ({}, "what's the weather", ["utter_out_of_scope"]),
    ({"awaiting": "confirm", "offer": {"type": "plan_change", "to_plan": "basic", "key": "k"}},
     "what's the weather", ["utter_out_of_scope", "utter_confirm_again"]),
    # a person offered: asked again in so many words, and a payment detail is no "can't help"
    (TRACE_OFFERED, "what's the weather", ["utter_out_of_scope", "utter_offer_person"]),
    (TRACE_OFFERED, "I paid by bank transfer on the 20th",
     ["utter_noted_for_colleague", "utter_offer_person"]),
])
def test_out_of_scope_asks_an_open_question_again(slots, text, replies):
    dispatcher = CollectingDispatcher()
    assert run(ActionOutOfScope(), dispatcher, tracker(slots=slots, text=text,
                                                       intent="out_of_scope")) == []
    assert responses(dispatcher) == replies


@pytest.mark.parametrize("action, intent", [(ActionOutOfScope(), "out_of_scope"),
                                            (ActionClarify(), "nlu_fallback"),
                                            (ActionRephraseInForm(), "nlu_fallback")])
def test_a_language_asked_for_is_confirmed_not_misunderstood(action, intent):
    dispatcher = CollectingDispatcher()
    assert run(action, dispatcher, tracker(slots={"language": "nl"}, text="in Dutch please",
                                           intent=intent)) == []
    assert responses(dispatcher) == ["utter_language_switched"]


def test_unclear_twice_offers_a_person():
    fallback = {"event": "user", "text": "blorp", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    dispatcher = CollectingDispatcher()
    run(ActionClarify(), dispatcher, tracker(events=[fallback], intent="nlu_fallback",
                                             ranking=[{"name": "ask_balance"}, {"name": "greet"},
                                                      {"name": "pay_bill"}]))
    assert responses(dispatcher) == ["utter_clarify"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == \
        ["/ask_balance", "/pay_bill", "/request_human"]
    dispatcher = CollectingDispatcher()
    events = run(ActionClarify(), dispatcher, tracker(events=[fallback, fallback],
                                                      intent="nlu_fallback"))
    assert responses(dispatcher) == ["utter_fallback_offer_person"]
    assert {"event": "slot", "timestamp": None, "name": "awaiting", "value": "confirm"} in events


def test_a_question_during_a_lockout_is_answered_with_the_lock_not_with_the_form():
    later = (datetime.now(timezone.utc) + timedelta(minutes=9, seconds=30)).isoformat()
    dispatcher = CollectingDispatcher()
    events = run(ActionRememberRequest(), dispatcher,
                 tracker(slots={"locked_until": later}, intent="ask_balance"))
    assert responses(dispatcher) == ["utter_verification_locked"]
    assert dispatcher.messages[0]["minutes"] == 10
    assert {"event": "slot", "timestamp": None, "name": "verification_locked", "value": True} in events
    over = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()
    dispatcher = CollectingDispatcher()
    events = run(ActionRememberRequest(), dispatcher,
                 tracker(slots={"locked_until": over}, intent="ask_balance"))
    assert responses(dispatcher) == ["utter_verify_first"]
    assert {"event": "slot", "timestamp": None, "name": "locked_until", "value": None} in events


@pytest.mark.parametrize("slots, text, replies", [
    # no account number at hand: where it is printed, then the way on (before, also "without
    # checking it's you I can only tell you about plans", which did not fit)
    ({}, "I forgot my account number", ["utter_where_account_number", "utter_offer_person"]),
    ({}, "ik heb mijn klantnummer niet bij de hand",
     ["utter_where_account_number", "utter_offer_person"]),
    # refused before giving it: where it is, and that nothing is looked at without it
    ({}, "no, I won't give you that",
     ["utter_where_account_number", "utter_verification_cancelled", "utter_offer_person"]),
    # the SMS sender's phone chose the account; the second factor was refused
    ({"account_number": "10000001"}, "no", ["utter_verification_cancelled", "utter_offer_person"]),
])
def test_stopping_verification_offers_a_person(slots, text, replies):
    dispatcher = CollectingDispatcher()
    events = run(ActionStopVerification(), dispatcher, tracker(slots=slots, text=text,
                                                               intent="deny"))
    assert responses(dispatcher) == replies
    assert with_slots({}, events) == {"awaiting": "confirm", "pending_request": None,
                                      "offer": {"type": "handoff", "reason": "not_verified"}}


def test_a_new_question_before_verification_leaves_an_open_offer_of_a_person():
    offered = {"awaiting": "confirm", "offer": {"type": "handoff", "reason": "not_verified"}}
    events = run(ActionRememberRequest(), CollectingDispatcher(),
                 tracker(slots=offered, intent="ask_due_date"))
    slots = with_slots(offered, events)
    assert (slots["awaiting"], slots["offer"], slots["pending_request"]) == (None, None, ["ask_due_date"])


def test_unclear_answers_during_a_form_offer_a_person_from_the_second_one():
    fallback = {"event": "user", "text": "hmm no idea", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    answer = {"event": "user", "text": "10000001", "parse_data": {"intent": {"name": "inform"}}}
    for events, expected in (([fallback], "utter_rephrase"),
                             ([fallback, answer, fallback], "utter_rephrase"),
                             ([answer, fallback, fallback], "utter_rephrase_or_person")):
        dispatcher = CollectingDispatcher()
        assert run(ActionRephraseInForm(), dispatcher, tracker(events=events, intent="nlu_fallback")) == []
        assert responses(dispatcher) == [expected]


def test_handoff_packet_briefs_the_agent_and_masks_the_date_of_birth():
    events = [
        {"event": "user", "text": "my bill is way too high, this is a rip off",
         "parse_data": {"intent": {"name": "complain"}}, "timestamp": 1},
        {"event": "user", "text": "12-04-1985", "parse_data": {"intent": {"name": "inform"}},
         "timestamp": 2},
        {"event": "bot", "text": "You can pay €53.40 here (the link works until 26 November 2026).",
         "timestamp": 3},
        {"event": "action", "name": "action_handle_complaint", "timestamp": 3},
        {"event": "slot", "name": "offer", "value": {"type": "concession", "kind": "goodwill_credit",
                                                     "amount_minor": 534, "key": "k"}},
    ]
    dispatcher = CollectingDispatcher()
    run(ActionHandoff(), dispatcher, tracker(
        slots={"verified": True, "verified_account": "10000001", "customer_name": "Jane Doe",
               "language": "en", "channel": "sms"}, intent="request_human", events=events))
    packet = dispatcher.messages[1]["custom"]["handoff"]
    assert packet["customer"] == {"name": "Jane Doe", "account_number": "10000001"}
    assert packet["flags"] == ["complaint"] and packet["intent"] == "complain"
    assert packet["bill"]["balance_minor"] == 5340
    assert [c["reason"] for c in packet["bill"]["changes"]][:2] == ["promotion_ended", "late_fee"]
    assert packet["offers"] == [{"type": "concession", "kind": "goodwill_credit", "amount_minor": 534}]
    assert packet["bot_tried"] == ["action_handle_complaint"]
    texts = [line["text"] for line in packet["transcript"]]
    assert "12-04-1985" not in " ".join(texts) and "••-••-••••" in texts
    assert "until 26 November 2026" in texts[-1]  # the bot's own dates are no secret


@pytest.mark.parametrize("offer, reason, flags", [
    (None, "customer_asked", ["cancel_threat"]),
    ({"type": "handoff", "reason": "cancel_bereavement"}, "cancel_bereavement", ["bereavement"]),
    ({"type": "handoff", "reason": "cancel_moving_abroad"}, "cancel_moving_abroad",
     ["moving_abroad"]),
    # a threat to leave over a payment not found stays a threat
    ({"type": "handoff", "reason": "payment_not_found"}, "payment_not_found",
     ["cancel_threat", "payment_missing"]),
])
def test_asking_for_a_person_while_one_is_offered_keeps_the_offer_reason(offer, reason, flags):
    """A widow asking for a person is flagged as a bereavement, not as a cancel threat that
    the agent should talk round (the console ticks "customer threatens to leave" from it)."""
    said = {"event": "user", "text": "please cancel the contract",
            "parse_data": {"intent": {"name": "cancel_service"}}, "timestamp": 1}
    slots = {"language": "en", "awaiting": "confirm" if offer else None, "offer": offer}
    dispatcher = CollectingDispatcher()
    run(ActionHandoff(), dispatcher, tracker(slots=slots, intent="request_human", events=[said]))
    packet = dispatcher.messages[1]["custom"]["handoff"]
    assert (packet["reason"], packet["flags"]) == (reason, flags)


@pytest.mark.parametrize("offer, awaiting", [
    ({"type": "plan_change", "to_plan": "basic", "key": "k"}, "confirm_plan_change"),
    ({"type": "handoff", "reason": "complaint"}, None),  # the offer being taken now
])
def test_the_packet_says_what_the_bot_still_waits_for(offer, awaiting):
    dispatcher = CollectingDispatcher()
    run(ActionHandoff(), dispatcher, tracker(
        slots={"language": "en", "awaiting": "confirm", "offer": offer}, intent="request_human"))
    assert dispatcher.messages[1]["custom"]["handoff"]["slots"].get("awaiting") == awaiting


def test_a_threat_inside_a_discount_request_is_flagged_for_the_agent():
    said = {"event": "user", "text": "I want €100 credit or I leave",
            "parse_data": {"intent": {"name": "request_discount"}}, "timestamp": 1}
    dispatcher = CollectingDispatcher()
    run(ActionHandoff(), dispatcher, tracker(slots={"language": "en", "churn_risk": True},
                                             intent="request_human", events=[said]))
    assert dispatcher.messages[1]["custom"]["handoff"]["flags"] == ["cancel_threat"]


@pytest.mark.parametrize("reason, flag", [
    ("payment_not_found", "payment_missing"), ("late_fee_dispute", "complaint"),
    ("disputes_account_facts", "complaint"), ("double_payment", "complaint"),
    ("double_charge_not_found", "complaint"),
])
def test_a_missing_payment_or_a_disputed_fee_is_flagged_for_the_agent(reason, flag):
    offered = {"language": "en", "awaiting": "confirm", "offer": {"type": "handoff", "reason": reason}}
    dispatcher = CollectingDispatcher()
    run(ActionConfirm(), dispatcher, tracker(slots=offered, intent="affirm", text="yes please"))
    packet = dispatcher.messages[1]["custom"]["handoff"]
    assert (packet["reason"], packet["flags"]) == (reason, [flag])


@pytest.mark.parametrize("option, text, expected", [
    ("instalments_3", "", ("instalments", 3)),
    ("extension", "", ("extension", None)),
    (None, "can I pay in 4 parts", ("instalments", 4)),
    (None, "in drie termijnen graag", ("instalments", 3)),
    (None, "2 weeks more please", ("extension", None)),
    (None, "uitstel aub", ("extension", None)),
    (None, "can I have 2 months extra?", ("extension", None)),  # not 2 instalments
    (None, "no idea", None),
])
def test_arrangement_choices_from_buttons_and_free_text(option, text, expected):
    choice = parse_arrangement_choice(option, text)
    assert (None if choice is None else (choice[0].value, choice[1])) == expected


def test_the_language_action_reads_what_the_customer_wrote_before():
    said = [{"event": "user", "text": text} for text in ("wat is mijn saldo", "thanks")]
    for events, expected in ((said, []), (said[1:], [{"event": "slot", "timestamp": None,
                                                      "name": "language", "value": "en"}])):
        track = tracker(slots={"language": "nl"}, text="thanks", events=events)
        assert run(ActionDetectLanguage(), CollectingDispatcher(), track) == expected


@pytest.mark.parametrize("text, language", [
    ("wat moet ik deze maand betalen", "nl"), ("why is my bill so high", "en"),
    ("ik wil een medewerker spreken", "nl"), ("10000001", None), ("ok", None),
])
def test_language_detection(text, language):
    assert detect_language(text) == language


def test_a_pause_keeps_the_form_and_anything_else_ends_it():
    for text, intent in (("wait", "goodbye"), ("wacht even, ik zoek mijn klantnummer", "deny")):
        dispatcher = CollectingDispatcher()
        assert run(ActionPauseOrLeaveForm(), dispatcher, tracker(text=text, intent=intent)) == []
        assert responses(dispatcher) == ["utter_take_your_time"]
    for text, intent in (("bye for now", "goodbye"), ("no, I'm not giving you that", "deny")):
        dispatcher = CollectingDispatcher()
        events = run(ActionPauseOrLeaveForm(), dispatcher, tracker(text=text, intent=intent))
        assert {"event": "active_loop", "timestamp": None, "name": None} in events
        assert with_slots({}, events)["requested_slot"] is None and dispatcher.messages == []


def test_a_pause_is_no_wrong_detail_and_no_new_question():
    dispatcher = CollectingDispatcher()
    track = tracker(text="one sec", slots={"requested_slot": "account_number"})
    assert validate_account("one sec", dispatcher, track) == {"account_number": None}
    assert responses(dispatcher) == ["utter_take_your_time"]  # not "that's no account number"
    result, dispatcher = validate_factor("momentje", {"account_number": "10000004"})
    assert result == {"second_factor": None} and responses(dispatcher) == ["utter_take_your_time"]
    dispatcher = CollectingDispatcher()
    track = tracker(text="wait, let me grab my bill", intent="ask_balance",
                    slots={"pending_request": ["explain_bill"]})
    track.active_loop = {"name": "verify_form"}
    assert run(ActionRememberRequest(), dispatcher, track) == []
    assert responses(dispatcher) == ["utter_take_your_time"]


def test_a_pause_leaves_an_offer_open_and_says_no_goodbye():
    offered = {"awaiting": "confirm", "offer": {"type": "arrangement", "instalments": 3}}
    dispatcher = CollectingDispatcher()
    assert run(ActionDecline(), dispatcher, tracker(text="wacht even", intent="deny",
                                                    slots=offered)) == []
    assert responses(dispatcher) == ["utter_take_your_time"]
    for text, expected in (("momentje", "utter_take_your_time"), ("doei", "utter_goodbye")):
        dispatcher = CollectingDispatcher()
        run(ActionGoodbye(), dispatcher, tracker(text=text, intent="goodbye"))
        assert responses(dispatcher) == [expected]
    for action, intent in ((ActionRephraseInForm(), "nlu_fallback"),
                           (ActionOutOfScope(), "out_of_scope"), (ActionHandleInform(), "inform")):
        dispatcher = CollectingDispatcher()
        assert run(action, dispatcher, tracker(text="een ogenblikje", intent=intent,
                                               slots=offered)) == []
        assert responses(dispatcher) == ["utter_take_your_time"]


def test_hmm_during_verification_is_thinking_not_out_of_scope():
    track = tracker(text="hmm", intent="out_of_scope")
    track.active_loop = {"name": "verify_form"}
    dispatcher = CollectingDispatcher()
    run(ActionOutOfScope(), dispatcher, track)
    assert responses(dispatcher) == ["utter_take_your_time"]  # was "Sorry, I can't help"


def test_asking_why_the_details_are_needed_is_answered_during_verification_only():
    question = "why do you need my date of birth"  # read as ask_due_date (0.71)
    dispatcher = CollectingDispatcher()
    track = tracker(text=question, intent="ask_due_date", slots={"pending_request": ["ask_balance"]})
    track.active_loop = {"name": "verify_form"}
    assert run(ActionRememberRequest(), dispatcher, track) == []  # the question is not kept
    assert responses(dispatcher) == ["utter_why_we_verify"]
    dispatcher = CollectingDispatcher()
    track = tracker(text="why do you need that?", intent="deny")
    track.active_loop = {"name": "verify_form"}
    assert run(ActionPauseOrLeaveForm(), dispatcher, track) == []  # the form goes on
    assert responses(dispatcher) == ["utter_why_we_verify"]
    dispatcher = CollectingDispatcher()
    run(ActionOutOfScope(), dispatcher, tracker(text="why do you need that?", intent="out_of_scope"))
    assert responses(dispatcher) == ["utter_out_of_scope"]


@pytest.mark.parametrize("said_last, reply", [
    ("utter_person_not_now", "utter_goodbye"),  # "... Anything else?" "no": done
    ("utter_you_are_welcome", "utter_goodbye"),
    ("utter_balance_due", "utter_anything_else"),  # a no to nothing asked: ask
    (None, "utter_anything_else"),
    # handed back by an agent or after leaving the queue: "... anything else I can help with?"
    ("agent_summary", "utter_goodbye"),
])
def test_no_to_anything_else_ends_the_conversation_instead_of_asking_again(said_last, reply):
    metadata = {"agent_summary": True} if said_last == "agent_summary" else \
        {"utter_action": said_last} if said_last else {}
    events = [{"event": "bot", "text": "...", "metadata": metadata},
              {"event": "user", "text": "nee", "parse_data": {"intent": {"name": "deny"}}}]
    dispatcher = CollectingDispatcher()
    run(ActionDecline(), dispatcher, tracker(text="nee", intent="deny", events=events))
    assert responses(dispatcher) == [reply]


@pytest.mark.parametrize("action, intent, text, active_loop, said", [
    (ActionOutOfScope(), "out_of_scope", "can I change my email address", None,
     ["utter_details_by_person", "utter_offer_person"]),
    (ActionClarify(), "nlu_fallback", "ik ben verhuisd", None,
     ["utter_details_by_person", "utter_offer_person"]),
    (ActionDecline(), "deny", "I need to change my bank account number", None,
     ["utter_details_by_person", "utter_offer_person"]),
    # while verification asks for a detail, the form goes on as before
    (ActionRephraseInForm(), "nlu_fallback", "ik ben verhuisd", "verify_form", ["utter_rephrase"]),
])
def test_a_change_of_personal_details_is_offered_a_colleague(action, intent, text, active_loop,
                                                             said):
    asked = tracker(slots={"language": "en"}, text=text, intent=intent,
                    ranking=[{"name": intent, "confidence": 0.5}], confidence=0.5)
    asked.active_loop = {"name": active_loop} if active_loop else {}
    dispatcher = CollectingDispatcher()
    result = run(action, dispatcher, asked)
    assert responses(dispatcher) == said
    offer = with_slots({}, result).get("offer")
    assert offer == ({"type": "handoff", "reason": "change_details"} if len(said) == 2 else None)


@pytest.mark.parametrize("said_last, text, replies", [
    ("utter_reason_tax_change", "no that's wrong", ["utter_sorry_not_right", "utter_offer_person"]),
    ("utter_balance_due", "nee, dat klopt niet", ["utter_sorry_not_right", "utter_offer_person"]),
    ("utter_balance_due", "no thanks", ["utter_anything_else"]),  # no dispute: ask
    ("utter_anything_else", "no that's wrong", ["utter_goodbye"]),  # nothing said to dispute
])
def test_disputing_what_the_bot_said_about_the_account_offers_a_person(said_last, text, replies):
    events = [{"event": "bot", "text": "...", "metadata": {"utter_action": said_last}},
              {"event": "user", "text": text, "parse_data": {"intent": {"name": "deny"}}}]
    dispatcher = CollectingDispatcher()
    result = run(ActionDecline(), dispatcher, tracker(text=text, intent="deny", events=events))
    assert responses(dispatcher) == replies
    offer = with_slots({}, result).get("offer")
    assert offer == ({"type": "handoff", "reason": "disputes_account_facts"}
                     if len(replies) == 2 else None)


@pytest.mark.parametrize("text, entities, events", [
    ("sorry, wrong number", [], [{"event": "slot", "timestamp": None, "name": "account_number",
                                  "value": None},
                                 {"event": "slot", "timestamp": None, "name": "requested_slot",
                                  "value": "account_number"}]),
    ("wrong number, it's 10000002", [entity("account_number", "10000002")], []),  # taken already
])
def test_a_wrong_account_number_is_asked_again_instead_of_ending_verification(text, entities,
                                                                              events):
    track = tracker(slots={"account_number": "10000003"}, text=text, intent="deny")
    track.latest_message["entities"] = entities
    track.active_loop = {"name": "verify_form"}
    dispatcher = CollectingDispatcher()
    assert run(ActionPauseOrLeaveForm(), dispatcher, track) == events  # the form goes on
    assert responses(dispatcher) == ["utter_no_problem"]


def test_hang_on_read_as_yes_does_not_confirm_an_offer():
    offered = {"awaiting": "confirm", "offer": {"type": "handoff", "reason": "not_understood"}}
    dispatcher = CollectingDispatcher()
    assert run(ActionConfirm(), dispatcher, tracker(text="hang on", intent="affirm",
                                                    slots=offered)) == []
    assert responses(dispatcher) == ["utter_take_your_time"]


def answered_after_verification(action, question, intent, account, factor, entities=()):
    """Run `action` as resumed after verification: the question came before the factor."""
    slots = {"verified": True, "verified_account": account, "language": "en"}
    events = [{"event": "user", "text": question,
               "parse_data": {"intent": {"name": intent}, "entities": list(entities)}},
              {"event": "user", "text": factor, "parse_data": {"intent": {"name": "inform"}}}]
    dispatcher = CollectingDispatcher()
    result = run(action, dispatcher, tracker("resumed", slots, text=factor, events=events))
    return dispatcher, with_slots({}, result)


@pytest.mark.parametrize("question, fee", [
    ("how much is the late fee if I pay late?", "€5.00"), ("when do I have to pay?", None),
])
def test_asked_what_paying_late_costs_the_due_date_comes_with_the_fee(question, fee):
    dispatcher, _ = answered_after_verification(ActionShowDueDate(), question, "ask_due_date",
                                                "10000004", "5611GH")
    assert responses(dispatcher) == ["utter_due_date"] + (["utter_late_fee_terms"] if fee else [])
    assert [m.get("fee") for m in dispatcher.messages] == [None] + ([fee] if fee else [])


def test_asked_when_to_pay_an_overdue_balance_the_dates_of_both_parts_are_said(own_database):
    dispatcher, _ = answered_after_verification(ActionShowDueDate(), "when is it due?",
                                                "ask_due_date", "10000003", "2011EF")
    assert responses(dispatcher) == ["utter_due_date_overdue", "utter_due_date_rest",
                                     "utter_due_date_options"]
    due = {m["response"]: m for m in dispatcher.messages}
    overdue, rest = due["utter_due_date_overdue"], due["utter_due_date_rest"]
    assert overdue["overdue"] == "€50.22" and rest["amount"] == "€48.40"
    with session_scope(session_factory()) as session:  # Tom's two open bills' due dates
        due_dates = session.scalars(text(
            "select due_date from invoices join accounts on accounts.id = invoices.account_id "
            "where account_number = '10000003' order by due_date desc limit 2")).all()
    say = Context.of(tracker()).date
    upcoming, passed = (date.fromisoformat(str(d)[:10]) for d in due_dates)
    assert passed < date.today() <= upcoming
    assert (overdue["overdue_since"], rest["due_date"]) == (say(passed), say(upcoming))


@pytest.mark.parametrize("question, entities, count", [
    ("I'd like to pay in 3 instalments", [], 3),
    ("can I pay €40 a month?", [entity("amount", "€40")], 3),  # €98.62 in 3 of at most €40
])
def test_an_arrangement_asked_for_before_verification_is_previewed_after_it(
        own_database, question, entities, count):
    # the date of birth given last ("30-1-1978") must not be read as 1 instalment
    dispatcher, slots = answered_after_verification(
        ActionOfferArrangement(), question, "payment_arrangement", "10000003", "30-1-1978",
        entities)
    assert responses(dispatcher) == ["utter_arrangement_preview_instalments"]
    assert dispatcher.messages[0]["count"] == count
    assert slots["offer"]["instalments"] == count and slots["awaiting"] == "confirm"


@pytest.mark.parametrize("action, intent", [
    (ActionShowBalance(), "ask_balance"), (ActionShowDueDate(), "ask_due_date"),
    (ActionExplainBill(), "explain_bill"), (ActionSendPaymentLink(), "pay_bill"),
])
def test_i_already_paid_gets_what_payment_arrived_whatever_it_was_read_as(own_database, action,
                                                                          intent):
    dispatcher, slots = answered_after_verification(
        action, "I paid last week but it still says I owe", intent, "10000002", "3511CD")
    assert responses(dispatcher) == ["utter_payment_not_seen", "utter_transfer_takes_time",
                                     "utter_balance_due", "utter_payment_trace", "utter_offer_person"]
    assert dispatcher.messages[0]["amount"].startswith("€") and "/pay/" not in str(dispatcher.messages)
    assert slots["offer"] == {"type": "handoff", "reason": "payment_not_found"}


@pytest.mark.parametrize("action, intent", [
    (ActionExplainBill(), "explain_bill"), (ActionShowDueDate(), "ask_due_date"),
])
def test_a_disputed_late_fee_gets_the_waiver_not_the_payment_check(own_database, action, intent):
    dispatcher, slots = answered_after_verification(
        action, "I was charged a late fee but I paid before the due date", intent, "10000001",
        "12-04-1985")
    assert responses(dispatcher) == ["utter_apologise", "utter_offer_late_fee_waiver"]
    assert dispatcher.messages[1]["amount"] == "€5.00"  # Jane's late fee
    offer = slots["offer"]
    assert (offer["kind"], offer["reason"]) == ("late_fee_waiver", "late_fee_dispute")


def test_a_disputed_late_fee_not_on_the_latest_bill_goes_to_a_person(own_database):
    slots = {"verified": True, "verified_account": "10000002", "language": "en"}
    dispatcher = CollectingDispatcher()
    result = run(ActionExplainBill(), dispatcher, tracker(
        "fee", slots, text="the late fee is wrong, I paid on time", intent="explain_bill"))
    assert responses(dispatcher) == ["utter_no_late_fee", "utter_offer_person"]
    assert with_slots({}, result)["offer"] == {"type": "handoff", "reason": "late_fee_dispute"}


@pytest.mark.parametrize("action, claim", [
    (ActionShowBalance(), "I paid with iDEAL this morning, why do I still owe"),
    (ActionCheckPayment(), "ik heb met mijn creditcard betaald"),
])
def test_a_missing_ideal_or_card_payment_is_not_told_to_wait_two_days(own_database, action, claim):
    intent = "ask_balance" if isinstance(action, ActionShowBalance) else "nlu_fallback"
    dispatcher, slots = answered_after_verification(action, claim, intent, "10000002", "3511CD")
    assert responses(dispatcher) == ["utter_payment_not_seen", "utter_instant_payment_missing",
                                     "utter_balance_due", "utter_payment_trace_now",
                                     "utter_offer_person"]
    assert slots["offer"] == {"type": "handoff", "reason": "payment_not_found"}


@pytest.mark.parametrize("action, intent, claim", [
    (ActionExplainBill(), "explain_bill", "this is ridiculous, you charged me twice this month"),
    (ActionShowBalance(), "ask_balance", "ik ben twee keer afgeschreven, wat sta ik nog open"),
    (ActionCheckPayment(), "nlu_fallback", "jullie hebben dubbel geincasseerd"),
])
def test_a_double_charge_with_none_taken_twice_gets_the_latest_bill_and_a_trace(
        own_database, action, intent, claim):
    dispatcher, slots = answered_after_verification(action, claim, intent, "10000002", "3511CD")
    assert responses(dispatcher) == ["utter_not_charged_twice", "utter_bank_debits_traced",
                                     "utter_offer_person"]
    assert dispatcher.messages[0]["amount"] == "€66.55"  # Sanne's latest bill
    assert slots["offer"] == {"type": "handoff", "reason": "double_charge_not_found"}


def test_a_payment_taken_twice_is_said_with_the_credit_it_left(own_database):
    with session_scope(session_factory()) as session:
        for key, days_ago in (("debit-a", 2), ("debit-b", 1)):
            record_payment(session, account_number="10000002", amount_minor=6655,
                           method="direct_debit", idempotency_key=key, actor=Actor.system(),
                           paid_at=utcnow() - timedelta(days=days_ago))
    dispatcher = CollectingDispatcher()
    slots = {"verified": True, "verified_account": "10000002", "language": "en"}
    result = run(ActionExplainBill(), dispatcher, tracker(
        "twice", slots, text="you took the money twice!", intent="explain_bill"))
    assert responses(dispatcher) == ["utter_paid_twice", "utter_credit_on_account",
                                     "utter_refund_by_person", "utter_offer_person"]
    assert dispatcher.messages[0]["amount"] == "€66.55"
    assert dispatcher.messages[1]["credit"] == "€66.55"  # the bill was paid by the first one
    assert with_slots({}, result)["offer"] == {"type": "handoff", "reason": "double_payment"}


def test_a_payment_that_arrived_is_confirmed_with_the_balance_after_it(own_database):
    with session_scope(session_factory()) as session:
        record_payment(session, account_number="10000002", amount_minor=6655,
                       method="bank_transfer", idempotency_key="claim-test", actor=Actor.system())
    dispatcher = CollectingDispatcher()
    slots = {"verified": True, "verified_account": "10000002", "language": "nl"}
    run(ActionShowBalance(), dispatcher, tracker("claim", slots, intent="ask_balance",
                                                 text="ik heb al betaald, klopt mijn saldo nu?"))
    assert responses(dispatcher) == ["utter_payment_received", "utter_balance_paid"]
    assert dispatcher.messages[0]["amount"] == "€ 66,55"


def test_i_already_paid_read_as_not_understood_is_checked_after_verification():
    dispatcher = CollectingDispatcher()
    events = run(ActionClarify(), dispatcher, tracker(text="ik heb al betaald", intent="nlu_fallback"))
    assert responses(dispatcher) == ["utter_verify_first"]
    assert with_slots({}, events)["pending_request"] == ["payment_claim"]
    assert {"event": "followup", "timestamp": None, "name": "verify_form"} in events


@pytest.mark.parametrize("message, expected", [
    ("ok thanks that's all", "utter_welcome_goodbye"), ("bedankt, dat was het", "utter_welcome_goodbye"),
    ("thanks!", "utter_you_are_welcome"),
])
def test_thanks_that_close_the_conversation_get_a_goodbye_not_anything_else(message, expected):
    dispatcher = CollectingDispatcher()
    run(ActionThank(), dispatcher, tracker(text=message, intent="thank"))
    assert responses(dispatcher) == [expected]


@pytest.mark.parametrize("action, intent, in_form", [
    (ActionOutOfScope(), "out_of_scope", False), (ActionClarify(), "nlu_fallback", False),
    (ActionOutOfScope(), "out_of_scope", True), (ActionRephraseInForm(), "nlu_fallback", True),
])
def test_a_bereavement_read_as_out_of_scope_or_unclear_gets_condolences_and_a_person(
        action, intent, in_form):
    dispatcher = CollectingDispatcher()
    track = tracker(text="my husband passed away", intent=intent)
    if in_form:
        track.active_loop = {"name": "verify_form"}
    events = run(action, dispatcher, track)
    assert responses(dispatcher) == ["utter_condolences", "utter_cancel_with_colleague",
                                     "utter_offer_person"]  # not "Sorry, I can't help with that"
    assert with_slots({}, events)["offer"] == {"type": "handoff", "reason": "cancel_bereavement"}
    ended = {"event": "active_loop", "timestamp": None, "name": None} in events
    assert ended is in_form  # the rules then end verification instead of asking again


def asking_before_verification(text, language="en"):
    asked = tracker(slots={"language": language}, text=text, intent="pay_bill")
    dispatcher = CollectingDispatcher()
    run(ActionRememberRequest(), dispatcher, asked)
    return dispatcher


def test_a_payment_method_is_answered_before_verification_from_what_the_page_takes():
    dispatcher = asking_before_verification("can I pay with iDEAL?")
    assert responses(dispatcher) == ["utter_payment_method_refused", "utter_verify_then_link"]
    assert (dispatcher.messages[0]["refused"], dispatcher.messages[0]["methods"]) == \
        ("paying with iDEAL", "bank transfer")  # the built-in page: a bank transfer only
    dispatcher = asking_before_verification("welke betaalmethodes hebben jullie", "nl")
    assert responses(dispatcher) == ["utter_payment_methods", "utter_verify_then_link"]
    assert dispatcher.messages[0]["methods"] == "bankoverschrijving"
    assert responses(asking_before_verification("I want to pay my bill")) == ["utter_verify_first"]
    # a bank transfer needs no link: where to, and the reference
    dispatcher = asking_before_verification("wat is jullie rekeningnummer? ik wil het overmaken", "nl")
    assert responses(dispatcher) == ["utter_bank_transfer_details", "utter_verify_then_link"]
    assert (dispatcher.messages[0]["beneficiary"], dispatcher.messages[0]["iban"]) == \
        ("Example Billing B.V. (demo)", "NL91 ABNA 0417 1643 00")


def test_a_provider_page_takes_the_methods_it_is_set_to(monkeypatch):
    monkeypatch.setenv("BILLING_PAYMENT_METHODS", '["ideal", "card", "bank_transfer"]')
    get_settings.cache_clear()
    dispatcher = asking_before_verification("do you take credit cards")
    assert responses(dispatcher)[0] == "utter_payment_method_accepted"
    assert dispatcher.messages[0]["methods"] == "iDEAL, card and bank transfer"
    dispatcher = asking_before_verification("kan ik contant betalen", "nl")
    assert responses(dispatcher)[0] == "utter_payment_method_refused"
    assert (dispatcher.messages[0]["refused"], dispatcher.messages[0]["methods"]) == \
        ("contant betalen", "iDEAL, creditcard of betaalpas en bankoverschrijving")


def test_asked_after_verification_the_method_comes_with_the_link(own_database):
    asked = tracker("verified", {"verified": True, "verified_account": "10000002", "language": "en"},
                    text="do you take credit cards", intent="pay_bill")
    dispatcher = CollectingDispatcher()
    assert run(ActionSendPaymentLink(), dispatcher, asked) == []
    assert responses(dispatcher) == ["utter_payment_method_refused", "utter_payment_link"]
    assert dispatcher.messages[1]["amount"] == "€66.55"


def test_direct_debit_gets_the_link_and_a_colleague_after_verification(own_database):
    dispatcher, slots = answered_after_verification(
        ActionSendPaymentLink(), "can I pay by direct debit", "pay_bill", "10000002", "3511CD")
    # the mandate was explained when it was asked, before verification
    assert responses(dispatcher) == ["utter_payment_link", "utter_offer_direct_debit"]
    assert slots["offer"] == {"type": "handoff", "reason": "direct_debit"}


def test_direct_debit_not_understood_is_still_answered():
    asked = tracker(slots={"language": "nl"}, text="kan ik automatisch laten afschrijven",
                    intent="nlu_fallback", ranking=[{"name": "nlu_fallback", "confidence": 0.5}],
                    confidence=0.5)
    dispatcher = CollectingDispatcher()
    result = run(ActionClarify(), dispatcher, asked)
    assert responses(dispatcher) == ["utter_direct_debit_by_person", "utter_offer_direct_debit"]
    assert with_slots({}, result)["offer"] == {"type": "handoff", "reason": "direct_debit"}


def test_a_payment_method_question_not_understood_goes_on_to_the_link():
    asked = tracker(slots={"language": "en", "account_number": "10000003"},
                    text="my account number is 10000003 and I was born 30-01-1978, can I pay by card?",
                    intent="nlu_fallback", ranking=[{"name": "nlu_fallback", "confidence": 0.5}],
                    confidence=0.5)
    asked.latest_message["entities"] = [entity("account_number", "10000003"),
                                        entity("date_of_birth", "30-01-1978")]
    dispatcher = CollectingDispatcher()
    events = run(ActionClarify(), dispatcher, asked)
    assert responses(dispatcher) == ["utter_payment_method_refused", "utter_verify_then_link"]
    # the details sent along are checked when the form starts; the link follows it
    assert with_slots({}, events) == {"pending_request": ["pay_bill"], "second_factor": "30-01-1978"}
    assert events[-1] == {"event": "followup", "name": "verify_form", "timestamp": None}
    verified = tracker(slots={"language": "en", "verified": True, "verified_account": "10000003"},
                       text="kan ik met ideal betalen", intent="out_of_scope")
    dispatcher = CollectingDispatcher()
    events = run(ActionOutOfScope(), dispatcher, verified)
    assert responses(dispatcher) == ["utter_payment_method_refused"]
    assert events == [{"event": "followup", "name": "action_send_payment_link", "timestamp": None}]


@pytest.mark.parametrize("text, language", [
    ("can the first payment be next month?", "en"),
    ("I get paid on the 25th, can the first one be after that", "en"),
    ("can I start paying in January", "en"),
    ("kan de eerste termijn volgende maand?", "nl"),
    ("kan ik pas na de 25e beginnen met betalen", "nl"),
])
@pytest.mark.parametrize("waiting", [
    {},
    {"awaiting": "confirm", "offer": {"type": "arrangement", "kind": "instalments",
                                      "instalments": 3, "key": "k"}},  # a preview waits
])
def test_asking_for_a_later_first_instalment_gets_when_they_start_and_the_extension(
        text, language, waiting):
    """Before: the options again (or the preview's question), the start date unanswered."""
    slots = {"verified": True, "verified_account": "10000004", "language": language, **waiting}
    dispatcher = CollectingDispatcher()
    events = run(ActionOfferArrangement(), dispatcher,
                 tracker(slots=slots, text=text, intent="payment_arrangement"))
    assert responses(dispatcher) == ["utter_arrangement_start"]
    said = dispatcher.messages[0]
    balance = "€66.55" if language == "en" else "€ 66,55"
    assert said["amount"] == balance and said["date"] and said["extension_date"]
    assert with_slots({}, events) == {"awaiting": "arrangement_choice", "offer": None}


@pytest.mark.parametrize("text", ["can I pay in 3 instalments", "kan ik in termijnen betalen",
                                  "I can't pay it all now"])
def test_an_arrangement_asked_for_without_a_start_date_is_not_told_the_start(text):
    slots = {"verified": True, "verified_account": "10000004", "language": "en"}
    dispatcher = CollectingDispatcher()
    run(ActionOfferArrangement(), dispatcher, tracker(slots=slots, text=text,
                                                      intent="payment_arrangement"))
    assert "utter_arrangement_start" not in responses(dispatcher)



@pytest.mark.parametrize("text", ["kan ik afbetalen?", "can I pay it bit by bit?"])
def test_paying_in_parts_read_as_paying_gets_the_arrangement_options_not_the_link(text):
    """Before: the payment link for the whole balance."""
    slots = {"verified": True, "verified_account": "10000004", "language": "nl"}
    dispatcher = CollectingDispatcher()
    events = run(ActionSendPaymentLink(), dispatcher, tracker(slots=slots, text=text,
                                                              intent="pay_bill"))
    assert responses(dispatcher) == ["utter_arrangement_options"]
    assert with_slots({}, events) == {"awaiting": "arrangement_choice"}


@pytest.mark.parametrize("action, intent, text", [
    (ActionGreet(), "greet", "so what are you going to do about it"),  # was: the menu
    (ActionClarify(), "nlu_fallback", "wat gaan jullie eraan doen?"),
    (ActionOutOfScope(), "out_of_scope", "how are you going to fix this?"),
])
def test_asked_what_will_be_done_about_it_a_colleague_is_offered(action, intent, text):
    dispatcher = CollectingDispatcher()
    events = run(action, dispatcher, tracker(slots={"language": "en"}, text=text, intent=intent))
    assert responses(dispatcher) == ["utter_complaint_to_colleague", "utter_offer_person"]
    assert with_slots({}, events) == {"awaiting": "confirm",
                                      "offer": {"type": "handoff", "reason": "complaint"}}


def test_the_retention_offer_says_what_the_bill_will_take_off_and_the_grant_the_same(own_database):
    """Eva on Plus: 10% for 6 months takes €6.65 off each bill (before: "€6.66")."""
    slots = {"verified": True, "verified_account": "10000004", "language": "en"}
    dispatcher = CollectingDispatcher()
    events = run(ActionHandleCancellation(), dispatcher,
                 tracker("eva-quote", slots, intent="cancel_service"))
    offered = next(m for m in dispatcher.messages if m.get("response") == "utter_offer_retention")
    assert offered["monthly"] == "€6.65"
    dispatcher = CollectingDispatcher()
    run(ActionConfirm(), dispatcher, tracker("eva-quote", with_slots(slots, events),
                                             text="yes", intent="affirm"))
    granted = next(m for m in dispatcher.messages
                   if m.get("response") == "utter_concession_granted_discount")
    assert granted["monthly"] == "€6.65"


@pytest.mark.parametrize("action, intent, text, to_plan, said", [
    # before: "Okay, I won't do that" / "Goodbye", and the switch was dropped
    (ActionDecline(), "deny", "why not straight away? I need the data now", "premium",
     ["utter_plan_change_starts_now", "utter_confirm_again"]),
    # read as a bill question: the bill explained (found on the running demo)
    (ActionExplainBill(), "explain_bill", "why not straight away?", "premium",
     ["utter_plan_change_starts_now", "utter_confirm_again"]),
    (ActionGoodbye(), "goodbye", "why not right now?", "premium",
     ["utter_plan_change_starts_now", "utter_confirm_again"]),
    (ActionDecline(), "deny", "waarom niet meteen?", "basic",
     ["utter_plan_change_starts_later", "utter_confirm_again"]),
])
def test_a_question_about_a_previewed_switch_is_answered_and_the_offer_stays(
        action, intent, text, to_plan, said):
    slots = {"verified": True, "verified_account": "10000004", "language": "en",
             "awaiting": "confirm", "offer": {"type": "plan_change", "to_plan": to_plan, "key": "k"}}
    dispatcher = CollectingDispatcher()
    events = run(action, dispatcher, tracker(slots=slots, text=text, intent=intent))
    assert responses(dispatcher) == said
    assert events == []  # the offer is still the open question


@pytest.mark.parametrize("slots, said", [
    ({}, ["utter_what_next"]),  # before: "Goodbye, and thanks for getting in touch!"
    ({"awaiting": "confirm", "offer": {"type": "handoff", "reason": "payment_missing"}},
     ["utter_offer_person"]),
])
def test_what_now_is_no_goodbye(slots, said):
    for text in ("what do I do now", "ok what now"):
        dispatcher = CollectingDispatcher()
        run(ActionGoodbye(), dispatcher, tracker(slots={"language": "en", **slots}, text=text,
                                                 intent="goodbye"))
        assert responses(dispatcher) == said, text


def test_a_clear_no_or_bye_is_still_one():
    offered = {"awaiting": "confirm", "language": "en",
               "offer": {"type": "plan_change", "to_plan": "premium", "key": "k"}}
    dispatcher = CollectingDispatcher()
    run(ActionDecline(), dispatcher, tracker(slots=offered, text="no thanks", intent="deny"))
    assert responses(dispatcher) == ["utter_ok_not_doing_it"]
    dispatcher = CollectingDispatcher()
    run(ActionGoodbye(), dispatcher, tracker(slots={"language": "en"}, text="bye!", intent="goodbye"))
    assert responses(dispatcher) == ["utter_goodbye"]


def test_a_question_while_an_offer_waits_is_answered_and_the_offer_asked_again():
    """Before: the answer alone ("due on 9 December" right after "by 23 December instead"),
    and the customer's "ok yes" then got the offer shown again instead of acting on it."""
    offer = {"type": "arrangement", "kind": "extension", "instalments": None,
             "extension_days": 14, "key": "k"}
    preview = {"event": "bot", "text": "You'd pay €66.55 by 17 December 2026 instead. Shall I?",
               "data": {"buttons": [{"title": "Yes", "payload": "/affirm"}]},
               "metadata": {"utter_action": "utter_arrangement_preview_extension"}}
    events = [{"event": "user", "text": "14 more days"}, preview,
              {"event": "slot", "name": "awaiting", "value": "confirm"},
              {"event": "slot", "name": "offer", "value": offer},
              {"event": "user", "text": "so until when do I have?"}]
    slots = {"verified": True, "verified_account": "10000004", "language": "en",
             "awaiting": "confirm", "offer": offer}
    dispatcher = CollectingDispatcher()
    run(ActionShowDueDate(), dispatcher, tracker(slots=slots, text="so until when do I have?",
                                                 intent="ask_due_date", events=events))
    assert dispatcher.messages[-1]["text"] == preview["text"]  # the offer again, its buttons too
    assert dispatcher.messages[-1]["buttons"] == preview["data"]["buttons"]
    answered = [*events, *({"event": "bot", "text": m.get("text"), "metadata": {
        "utter_action": m.get("response")}} for m in dispatcher.messages),
        {"event": "user", "text": "ok yes"}]
    assert open_offer(tracker(slots=slots, text="ok yes", intent="affirm", events=answered)) == offer


def test_an_arrangement_choice_not_made_twice_offers_a_person_not_the_same_line_again():
    """Before: "Kies 14 dagen uitstel, of ..." to every message until the customer typed
    "medewerker"."""
    waiting = {"verified": True, "verified_account": "10000004", "language": "nl",
               "awaiting": "arrangement_choice"}
    dispatcher = CollectingDispatcher()
    assert run(ActionConfirm(), dispatcher, tracker(slots=waiting, text="ok doe maar",
                                                    intent="affirm")) == []
    assert responses(dispatcher) == ["utter_arrangement_choice_unclear"]
    asked = [{"event": "bot", "text": "Kies 14 dagen uitstel",
              "metadata": {"utter_action": "utter_arrangement_choice_unclear"}},
             {"event": "user", "text": "ja"}]
    dispatcher = CollectingDispatcher()
    events = run(ActionConfirm(), dispatcher, tracker(slots=waiting, text="ja", intent="affirm",
                                                      events=asked))
    assert responses(dispatcher) == ["utter_choice_or_person", "utter_offer_person"]
    assert with_slots({}, events)["offer"] == {"type": "handoff", "reason": "choice_unclear"}


@pytest.mark.parametrize("text", ["betaal ik niet te veel? ik gebruik maar een paar GB per maand",
                                  "am I paying too much for my plan?"])
def test_paying_too_much_read_as_an_arrangement_gets_the_plan_for_their_use(text):
    """Before: the arrangement options to a customer who owed nothing overdue."""
    slots = {"verified": True, "verified_account": "10000002", "language": "nl"}
    dispatcher = CollectingDispatcher()
    run(ActionOfferArrangement(), dispatcher, tracker(slots=slots, text=text,
                                                      intent="payment_arrangement"))
    assert "utter_arrangement_options" not in responses(dispatcher)
    assert any(r and r.startswith("utter_plan") for r in responses(dispatcher)), \
        responses(dispatcher)


def test_asked_about_the_discount_they_have_the_bot_says_it_not_no_discount(own_database):
    """Before: "I can't offer a discount or credit myself this time" (and, after a threat,
    how cancelling works) to "tot wanneer loopt die korting?" right after granting it."""
    from billing_core.concessions.models import ConcessionKind
    from billing_core.concessions.service import grant_concession
    with session_scope(session_factory()) as session:
        grant_concession(session, account_number="10000004", kind=ConcessionKind.retention_discount,
                         amount_minor=3300, actor=Actor.bot(), reason_code="cancel_threat",
                         idempotency_key="t:eva-discount", churn_risk=True)
    slots = {"verified": True, "verified_account": "10000004", "language": "nl",
             "churn_risk": True}
    dispatcher = CollectingDispatcher()
    run(ActionOfferConcession(), dispatcher, tracker(
        slots=slots, text="tot wanneer loopt die korting?", intent="request_discount"))
    assert responses(dispatcher) == ["utter_discount_in_place"]
    said = dispatcher.messages[0]
    assert (said["percent"], said["monthly"], said["bills"]) == (10, "€ 6,65", 6)


@pytest.mark.parametrize("action, intent, text", [
    (ActionShowBalance(), "ask_balance", "that's not much. can you do 20%?"),  # was: the balance
    (ActionHandleInform(), "inform", "what about 12 months instead of 6?"),  # was: "Okay!"
    (ActionClarify(), "nlu_fallback", "is that the best you can do?"),  # was: clarify buttons
    (ActionClarify(), "nlu_fallback", "kan het niet wat meer?"),
])
def test_bargaining_over_a_retention_offer_gets_the_most_the_bot_can_do(action, intent, text):
    offer = {"type": "concession", "kind": "retention_discount", "amount_minor": 3300,
             "months": 6, "reason": "cancel_threat", "churn_risk": True, "key": "k"}
    slots = {"verified": True, "verified_account": "10000004", "language": "en",
             "awaiting": "confirm", "offer": offer}
    dispatcher = CollectingDispatcher()
    events = run(action, dispatcher, tracker(slots=slots, text=text, intent=intent))
    assert responses(dispatcher) == ["utter_offer_is_the_most"]
    assert with_slots(slots, events)["offer"] == offer  # still open for a yes


@pytest.mark.parametrize("language, credit", [("en", "€5.00"), ("nl", "€ 5,00")])
def test_a_credit_is_said_as_a_credit_not_a_negative_balance(own_database, language, credit):
    """Before: "your balance is -€5.00", which customers read as a debt."""
    with session_scope(session_factory()) as session:
        record_payment(session, account_number="10000002", amount_minor=6655 + 500,
                       method="bank_transfer", idempotency_key="overpaid", actor=Actor.system())
    dispatcher = CollectingDispatcher()
    slots = {"verified": True, "verified_account": "10000002", "language": language}
    run(ActionShowBalance(), dispatcher, tracker(slots=slots, intent="ask_balance",
                                                 text="what's my balance?"))
    assert responses(dispatcher) == ["utter_balance_credit"]
    assert dispatcher.messages[0]["credit"] == credit


@pytest.mark.parametrize("text", ["komen er aanmaningskosten bij?",
                                  "will I get a late fee if I pay after the due date?"])
def test_a_late_fee_question_read_as_a_discount_request_gets_the_fee_terms(text):
    """Before: "I'm not able to offer a discount or credit myself this time"."""
    slots = {"verified": True, "verified_account": "10000004", "language": "nl"}
    dispatcher = CollectingDispatcher()
    run(ActionOfferConcession(), dispatcher, tracker(slots=slots, text=text,
                                                     intent="request_discount"))
    assert responses(dispatcher) == ["utter_due_date", "utter_late_fee_terms"]


def test_late_fee_answers_fit_an_arrangement_and_an_overdue_bill(own_database):
    """Before: "paid after the due date, a fee is added" to a customer whose bill was already
    15 days late, and the same to one keeping to an arrangement."""
    def asked(account):
        dispatcher = CollectingDispatcher()
        slots = {"verified": True, "verified_account": account, "language": "en"}
        run(ActionShowDueDate(), dispatcher, tracker(slots=slots, intent="ask_due_date",
                                                     text="will I get a late fee?"))
        return responses(dispatcher)

    assert asked("10000003")[-1] == "utter_late_fee_overdue"  # Tom, overdue
    from billing_core.arrangements.models import ArrangementKind
    from billing_core.arrangements.service import create_arrangement
    with session_scope(session_factory()) as session:
        create_arrangement(session, account_number="10000003", kind=ArrangementKind.instalments,
                           instalments=3, idempotency_key="t:late", actor=Actor.bot())
    assert asked("10000003") == ["utter_arrangement_in_place", "utter_late_fee_arrangement"]


@pytest.mark.parametrize("action, slots, text, intent", [
    # verified, read as a due-date question: before, the balance
    (ActionShowDueDate(), {"verified": True, "verified_account": "10000004"},
     "so can I change the due date?", "ask_due_date"),
    # before verification: no check needed for what only a colleague can do
    (ActionRememberRequest(), {}, "can i change the date my bill is due? payday is the 25th",
     "pay_bill"),
    (ActionOutOfScope(), {}, "kan ik de vervaldatum verzetten", "out_of_scope"),
])
def test_moving_the_due_date_is_offered_a_colleague(action, slots, text, intent):
    dispatcher = CollectingDispatcher()
    events = run(action, dispatcher, tracker(slots={"language": "en", **slots}, text=text,
                                             intent=intent))
    assert responses(dispatcher) == ["utter_due_date_by_person", "utter_offer_person"]
    assert with_slots({}, events)["offer"] == {"type": "handoff", "reason": "change_due_date"}


def test_never_mind_at_the_account_number_drops_the_question_in_one_reply():
    """Before: where the account number is, "without checking it's you…" and a colleague."""
    dispatcher = CollectingDispatcher()
    events = run(ActionStopVerification(), dispatcher, tracker(text="nevermind", intent="deny"))
    assert responses(dispatcher) == ["utter_anything_else"]
    assert with_slots({}, events) == {"pending_request": None}


@pytest.mark.parametrize("text, count", [("nee wacht, toch liever 3", 3), ("no, make it 6 instead", 6)])
def test_a_no_that_names_another_choice_previews_that_choice(text, count):
    """Before: "Oké, dan doe ik dat niet" and a dead end."""
    offer = {"type": "arrangement", "kind": "instalments", "instalments": 2, "key": "k"}
    slots = {"verified": True, "verified_account": "10000004", "language": "nl",
             "awaiting": "confirm", "offer": offer}
    dispatcher = CollectingDispatcher()
    events = run(ActionDecline(), dispatcher, tracker(slots=slots, text=text, intent="deny"))
    assert responses(dispatcher) == ["utter_arrangement_preview_instalments"]
    assert dispatcher.messages[0]["count"] == count
    assert with_slots({}, events)["offer"]["instalments"] == count


@pytest.mark.parametrize("text", ["ik kan mijn factuur niet in 1 keer betalen",
                                  "I can't pay it in 1 go"])
def test_not_in_one_go_gets_the_options_with_the_amount(text):
    """Before: "Kies 14 dagen uitstel, of …" without the amount or buttons."""
    slots = {"verified": True, "verified_account": "10000004", "language": "nl"}
    dispatcher = CollectingDispatcher()
    run(ActionOfferArrangement(), dispatcher, tracker(slots=slots, text=text,
                                                      intent="payment_arrangement"))
    assert responses(dispatcher) == ["utter_arrangement_options"]


def test_a_verified_complaint_that_asks_for_a_person_is_handed_off():
    slots = {"verified": True, "verified_account": "10000004", "language": "en"}
    dispatcher = CollectingDispatcher()
    run(ActionHandleComplaint(), dispatcher, tracker(
        slots=slots, intent="complain", text="I want to talk to a real person, my bill is wrong"))
    assert responses(dispatcher)[0] == "utter_handoff"
    assert dispatcher.messages[1]["custom"]["handoff"]["reason"] == "complaint"


@pytest.mark.parametrize("action, slots, text, intent", [
    (ActionChangePlan(), {}, "I keep running out of data, I want the unlimited plan", "change_plan"),
    (ActionHandleInform(), {"awaiting": "plan_choice"}, "unlimited", "inform"),
    (ActionHandleInform(), {"awaiting": "plan_choice"}, "onbeperkt", "inform"),
])
def test_the_unlimited_plan_is_premium(action, slots, text, intent):
    """Before: "Which plan would you like? Please write its name"."""
    base = {"verified": True, "verified_account": "10000004", "language": "en"}
    dispatcher = CollectingDispatcher()
    events = run(action, dispatcher, tracker(slots={**base, **slots}, text=text, intent=intent))
    assert with_slots({}, events)["offer"]["to_plan"] == "premium", responses(dispatcher)


def test_nothing_to_pay_is_said_once_when_the_balance_was_asked_too(own_database):
    """Before: "You have nothing to pay right now…" and "There's nothing to pay…" together."""
    with session_scope(session_factory()) as session:
        record_payment(session, account_number="10000002", amount_minor=6655,
                       method="bank_transfer", idempotency_key="paid-all", actor=Actor.system())
    slots = {"verified": True, "verified_account": "10000002", "language": "en"}
    dispatcher = CollectingDispatcher()
    run(ActionShowBalance(), dispatcher, tracker(slots=slots, intent="ask_balance",
                                                 text="what's my balance and how do I pay it?"))
    assert responses(dispatcher) == ["utter_balance_paid"]


@pytest.mark.parametrize("text, intent", [
    ("how much will my next bill be?", "ask_balance"),  # before: the open balance
    ("wat ga ik volgende maand betalen?", "ask_balance"),
    ("wanneer komt mijn volgende factuur?", "ask_due_date"),  # before: the due date
])
def test_the_next_bill_is_estimated_not_the_balance_repeated(text, intent):
    slots = {"verified": True, "verified_account": "10000004", "language": "en"}
    dispatcher = CollectingDispatcher()
    action = ActionShowBalance() if intent == "ask_balance" else ActionShowDueDate()
    run(action, dispatcher, tracker(slots=slots, text=text, intent=intent))
    assert responses(dispatcher)[0] in ("utter_next_bill", "utter_next_bill_with_extra_data")
    assert dispatcher.messages[0]["amount"].startswith("€") and dispatcher.messages[0]["date"]


@pytest.mark.parametrize("action, intent, text", [
    (ActionShowBalance(), "ask_balance", "how many GB have I used this month?"),  # was: balance
    (ActionListPlans(), "ask_plans", "how much data have i used"),  # was: the price list
    (ActionShowBalance(), "ask_balance", "hoeveel data heb ik deze maand verbruikt?"),
])
def test_the_data_used_is_said_when_asked(action, intent, text):
    slots = {"verified": True, "verified_account": "10000004", "language": "en"}
    dispatcher = CollectingDispatcher()
    run(action, dispatcher, tracker(slots=slots, text=text, intent=intent))
    assert responses(dispatcher) == ["utter_data_use"]
    said = dispatcher.messages[0]
    assert said["allowance"] == "50 GB" and re.search(r"\d+ GB \(from \d+ \w+\)", said["months"])


def test_the_data_used_asked_before_verification_is_said_after_it():
    dispatcher = CollectingDispatcher()
    events = run(ActionListPlans(), dispatcher, tracker(text="my data usage please",
                                                        intent="ask_plans"))
    assert responses(dispatcher) == ["utter_verify_first"]
    assert with_slots({}, events)["pending_request"] == ["data_use"]


def test_part_now_and_the_rest_next_week_is_more_time_not_instalments():
    """Before: "€48.40 in 3 monthly instalments" for "€20 now and the rest next week"."""
    asked = tracker(slots={"verified": True, "verified_account": "10000004", "language": "en"},
                    text="can I pay 20 euro now and the rest next week?",
                    intent="payment_arrangement")
    asked.latest_message["entities"] = [entity("amount", "20 euro")]
    dispatcher = CollectingDispatcher()
    run(ActionOfferArrangement(), dispatcher, asked)
    assert responses(dispatcher) == ["utter_arrangement_preview_extension"]


@pytest.mark.parametrize("action, intent, text", [
    (ActionDecline(), "deny", "ik snap het niet"),  # before: "Kan ik u nog ergens anders mee helpen?"
    (ActionGoodbye(), "goodbye", "I don't understand"),
    (ActionClarify(), "nlu_fallback", "what do you mean?"),
])
def test_not_following_the_last_answer_gets_help_not_a_closing(action, intent, text):
    dispatcher = CollectingDispatcher()
    run(action, dispatcher, tracker(slots={"language": "nl"}, text=text, intent=intent))
    assert responses(dispatcher) == ["utter_sorry_unclear"]


def test_when_a_switch_starts_is_answered_not_the_balance(own_database):
    """Before: "U hoeft op dit moment niets te betalen" to "vanaf wanneer gaat dat in?"."""
    from billing_core.plans.service import apply_plan_change
    with session_scope(session_factory()) as session:
        apply_plan_change(session, account_number="10000002", to_plan_code="basic",
                          idempotency_key="t:when", actor=Actor.bot())
    slots = {"verified": True, "verified_account": "10000002", "language": "nl"}
    dispatcher = CollectingDispatcher()
    run(ActionShowBalance(), dispatcher, tracker(slots=slots, text="vanaf wanneer gaat dat in?",
                                                 intent="ask_balance"))
    assert responses(dispatcher) == ["utter_plan_change_scheduled"]
