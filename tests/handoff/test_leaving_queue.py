"""A waiting customer who no longer needs a person leaves the queue and is back with the bot.

Real processes: Rasa and the action server on the demo data, the handoff service, and the
Twilio stand-in for the SMS side.
"""
import re
import uuid

import pytest

from tests.handoff.customers import WebCustomer, sms_since

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(180)]


def test_a_web_customer_leaves_the_queue_with_its_button_and_the_bot_answers_again(
        handoff_service, staff_password):
    customer = WebCustomer(handoff_service)
    queued = customer.say("I want to talk to a person")
    assert queued["mode"] == "queued"
    leave = {"title": "Stop waiting", "payload": "/leave_queue"}
    assert leave in queued["replies"][-1]["buttons"], queued  # on the queue message

    first = customer.say("are you there?")  # acknowledged once, with the way out
    assert first["mode"] == "queued" and "your message is saved" in first["replies"][0]["text"]
    assert 'say "never mind"' in first["replies"][0]["text"]
    assert customer.say("it's about my bill")["replies"] == []  # then quietly for the agent

    left = customer.say("Stop waiting", payload="/leave_queue")
    assert left["mode"] == "bot" and "You've left the queue" in left["replies"][0]["text"]
    with handoff_service.staff("super1", staff_password) as supervisor:
        handoff = handoff_service.handoff_of(supervisor, customer.conversation_id, "abandoned")
        assert handoff["status"] == "abandoned"
        waiting = supervisor.get("/api/handoffs", params={"status": "queued"}).json()
        assert customer.conversation_id not in [h["conversation_id"] for h in waiting]
    # the bot was resumed: it answers the next message itself, and a "no" to "anything
    # else I can help with?" ends the conversation instead of asking again
    after = customer.say("no")
    assert after["mode"] == "bot" and "Goodbye" in after["replies"][0]["text"], after


def test_a_dutch_customer_waits_and_leaves_in_dutch_without_having_chosen_it(handoff_service):
    customer = WebCustomer(handoff_service)  # no "lang": the bot reads it from her words
    queued = customer.say("ik wil graag een medewerker spreken")
    assert queued["mode"] == "queued" and "in de wachtrij" in queued["replies"][-1]["text"], queued
    assert queued["replies"][-1]["buttons"][0]["title"] == "Stoppen met wachten"
    left = customer.say("laat maar")
    assert left["mode"] == "bot" and "U heeft de wachtrij verlaten" in left["replies"][0]["text"]


def test_a_longer_message_starting_with_never_mind_stays_for_the_agent(handoff_service):
    customer = WebCustomer(handoff_service)
    assert customer.say("can I speak to someone please")["mode"] == "queued"
    reply = customer.say("never mind the bill, my question is about the roaming charges abroad")
    assert reply["mode"] == "queued"




def test_a_question_about_the_wait_gets_the_place_in_the_queue(handoff_service):
    """Asked while waiting, in English or Dutch: the place and the expected wait, each time;
    before, the first such question got "your message is saved" and later ones nothing."""
    place = r"^You're number \d+ in the queue"
    customer = WebCustomer(handoff_service)
    assert customer.say("I want to talk to a person")["mode"] == "queued"
    for question in ("how long is the wait?", "is anyone coming?"):
        reply = customer.say(question)
        assert reply["mode"] == "queued" and len(reply["replies"]) == 1, reply
        assert re.search(place, reply["replies"][0]["text"]), reply
        assert reply["replies"][0]["buttons"] == [{"title": "Stop waiting", "payload": "/leave_queue"}]
    # the first message that is not about the wait is still acknowledged, the next not
    assert "your message is saved" in customer.say("it's about my bill")["replies"][0]["text"]
    assert customer.say("the one from March")["replies"] == []
    assert re.search(place, customer.say("how much longer?")["replies"][0]["text"])

    dutch = WebCustomer(handoff_service)
    assert dutch.say("ik wil graag een medewerker spreken")["mode"] == "queued"
    for question in ("hoe lang moet ik nog wachten?", "komt er nog iemand?"):
        reply = dutch.say(question)
        assert re.search(r"^U bent nummer \d+ in de wachtrij", reply["replies"][0]["text"]), reply


def test_an_sms_customer_leaves_the_queue_by_text(handoff_service, twilio_fake):
    phone = "+316" + str(uuid.uuid4().int)[:8]
    assert handoff_service.sms(phone, "talk to a human").status_code == 200
    queue_sms = sms_since(twilio_fake, phone, 0, r"number \d+ in the queue")
    assert "1) Stop waiting" in queue_sms, queue_sms  # the button as a numbered option
    seen = len(twilio_fake.messages(phone))
    assert handoff_service.sms(phone, "never mind, thanks anyway").status_code == 200
    assert "You're back with the assistant" in sms_since(twilio_fake, phone, seen, "left the queue")
    rows = handoff_service.rows("select status from handoffs where conversation_id = :c",
                                c="sms-" + phone.lstrip("+"))
    assert [row.status for row in rows] == ["abandoned"]
