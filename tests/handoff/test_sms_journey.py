"""Jane's whole SMS journey: bot, verification by phone, queue, agent, and back to the bot.

Real processes throughout: Rasa and the action server on the seeded demo data, the handoff
service, and the Twilio stand-in (the only fake) that receives every SMS the service sends.
"""
import re
import time

import pytest

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(180)]

JANE = "+31600000001"
CONVERSATION = "sms-31600000001"


class Phone:
    """Jane's phone: texts the service, reads the SMS that arrived since her last text."""

    def __init__(self, service, fake):
        self.service, self.fake, self.seen = service, fake, len(fake.messages(JANE))

    def text(self, body: str, expect: str, timeout: float = 20) -> str:
        response = self.service.sms(JANE, body)
        assert response.status_code == 200, response.text
        return self.wait(expect, timeout)

    def wait(self, expect: str, timeout: float = 20) -> str:
        """Everything new until a message matching `expect` (a regex) has arrived."""
        deadline = time.monotonic() + timeout
        while True:
            new = "\n".join(m["body"] for m in self.fake.messages(JANE)[self.seen:])
            if re.search(expect, new):
                self.seen = len(self.fake.messages(JANE))
                return new
            assert time.monotonic() < deadline, f"no SMS matching {expect!r}; got: {new!r}"
            time.sleep(0.1)


def test_jane_verifies_by_sms_talks_to_an_agent_and_the_bot_resumes(
        handoff_service, twilio_fake, staff_password):
    phone = Phone(handoff_service, twilio_fake)

    # The sender's number selects her account: only the second factor is asked.
    reply = phone.text("Hi, what's my balance?", expect="date of birth")
    assert "account number" not in reply and "€" not in reply
    reply = phone.text("12-04-1985", expect=r"balance is €\d+\.\d\d")  # other tests may credit her
    assert "Jane Doe" in reply

    # A supervisor who speaks English is online, so the queue message has a wait estimate.
    with handoff_service.staff("super1", staff_password) as colleague:
        colleague.post("/api/agents/me/presence", json={"status": "online"}).raise_for_status()
    reply = phone.text("I want to talk to a person please", expect=r"number \d+ in the queue")
    assert re.search(r"number \d+ in the queue for a colleague\. Expected wait: about \d+ min", reply)

    with handoff_service.staff("agent1", staff_password) as agent:
        agent.post("/api/agents/me/presence", json={"status": "online"}).raise_for_status()
        handoff = handoff_service.handoff_of(agent, CONVERSATION)
        detail = agent.get(f"/api/handoffs/{handoff['id']}").json()
        assert detail["channel"] == "sms" and detail["packet"]["verified"] is True
        assert detail["customer_name"] == "Jane Doe"
        agent.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()
        phone.wait("Anna from our team has joined")
        agent.post(f"/api/handoffs/{handoff['id']}/messages",
                   json={"text": "Hi Jane, Anna here. The late fee is explained on page 2 of your bill."}
                   ).raise_for_status()
        assert "Anna here" in phone.wait("late fee is explained")
        # Her answer goes to Anna, not to the bot.
        handoff_service.sms(JANE, "Thanks Anna, that's clear")
        agent.post(f"/api/handoffs/{handoff['id']}/release",
                   json={"resolution": "explained the late fee"}).raise_for_status()
        phone.wait("back with the assistant")

    # Back with the bot, still verified: the due date without any questions.
    reply = phone.text("when is my bill due", expect=r"due on")
    assert re.search(r"€\d+\.\d\d is due on \d+ \w+ \d{4}", reply)
    assert not re.search(r"date of birth|account number|postcode", reply)

    lines = handoff_service.rows("select author, text from messages where conversation_id = :c "
                                 "order by seq", c=CONVERSATION)
    assert ("customer", "Thanks Anna, that's clear") in [tuple(line) for line in lines]
    sent = handoff_service.rows("select status, twilio_sid from outbound_sms where \"to\" = :p", p=JANE)
    assert sent and all(row.status == "sent" and row.twilio_sid.startswith("SM") for row in sent)
