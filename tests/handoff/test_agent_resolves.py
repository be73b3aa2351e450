"""After an agent resolves a conversation, the customer's next message is answered by the bot,
which starts afresh: the matter was closed, so it verifies again and carries no open question.

Real processes: Rasa and the action server on the demo data, the handoff service, and the
Twilio stand-in for the SMS side.
"""
import uuid

import pytest

from tests.handoff.customers import WebCustomer, sms_since

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(180)]


def resolve(service, staff_password: str, username: str, conversation_id: str) -> None:
    """`username` claims the waiting conversation, answers and resolves it."""
    with service.staff(username, staff_password) as agent:
        handoff = service.handoff_of(agent, conversation_id)
        agent.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()
        agent.post(f"/api/handoffs/{handoff['id']}/messages",
                   json={"text": "The late fee is explained on page 2."}).raise_for_status()
        agent.post(f"/api/handoffs/{handoff['id']}/resolve",
                   json={"resolution": "explained the late fee"}).raise_for_status()


def statuses(service, conversation_id: str) -> list[str]:
    return [row.status for row in service.rows(
        "select status from handoffs where conversation_id = :c order by id", c=conversation_id)]


def text_of(turn: dict) -> str:
    return "\n".join(reply["text"] for reply in turn["replies"])


def test_after_a_resolve_the_bot_answers_the_next_message_and_verifies_again(
        handoff_service, staff_password):
    jane = WebCustomer(handoff_service)
    jane.say("what's my balance?")
    jane.say("10000001")
    assert "balance is €" in text_of(jane.say("12-04-1985"))
    assert jane.say("I want to talk to a person")["mode"] == "queued"
    resolve(handoff_service, staff_password, "agent1", jane.conversation_id)
    assert "This conversation has been closed" in jane.lines()[-1]
    assert "checks it's you again first" in jane.lines()[-1]  # why the bot asks again

    after = jane.say("what's my balance?")
    said = text_of(after)
    assert after["mode"] == "bot", after  # before: "our assistant is having trouble", queued
    assert "having trouble" not in said and "back with the assistant" not in said
    # a closed conversation is over: the bot asks who she is again before any account data
    assert "account number" in said and "€" not in said, said
    assert statuses(handoff_service, jane.conversation_id) == ["resolved"]
    jane.say("10000001")
    assert "balance is €" in text_of(jane.say("12-04-1985"))


def test_a_dutch_customer_is_answered_in_dutch_after_a_resolve(handoff_service, staff_password):
    customer = WebCustomer(handoff_service)  # no "lang": the bot reads it from her words
    assert customer.say("ik wil graag een medewerker spreken")["mode"] == "queued"
    resolve(handoff_service, staff_password, "agent2", customer.conversation_id)
    assert "Dit gesprek is afgesloten" in customer.lines()[-1]

    after = customer.say("wat is mijn saldo?")
    said = text_of(after)
    assert after["mode"] == "bot" and "problemen" not in said, after
    assert "klantnummer" in said, said
    assert statuses(handoff_service, customer.conversation_id) == ["resolved"]




def test_an_sms_customer_is_answered_by_the_bot_after_a_resolve(handoff_service, twilio_fake,
                                                                  staff_password):
    phone = "+316" + str(uuid.uuid4().int)[:8]
    conversation = "sms-" + phone.lstrip("+")
    assert handoff_service.sms(phone, "ik wil een medewerker spreken").status_code == 200
    sms_since(twilio_fake, phone, 0, r"in de wachtrij")
    resolve(handoff_service, staff_password, "agent2", conversation)
    sms_since(twilio_fake, phone, 0, "Dit gesprek is afgesloten")

    seen = len(twilio_fake.messages(phone))
    assert handoff_service.sms(phone, "wat is mijn saldo?").status_code == 200
    answer = sms_since(twilio_fake, phone, seen, "klantnummer")
    assert "problemen" not in answer and "wachtrij" not in answer, answer
    assert statuses(handoff_service, conversation) == ["resolved"]
