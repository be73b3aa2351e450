"""Buttons the customer pressed reach the agent's packet as the customer saw them ("6
instalments", "No"), not as the payload syntax the bot read.

Real processes: Rasa and the action server on the demo data (Tom Baker, overdue, is offered
an arrangement), the handoff service, and the Twilio stand-in for the SMS side.
"""
import uuid

import httpx
import pytest

from tests.handoff.customers import TOM_SMS_OPTIONS, text_the_bot

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(180)]


def customer_lines(service, staff_password: str, conversation_id: str) -> list[str]:
    """What the agent reads as the customer's lines in the packet; the handoff is then closed."""
    with service.staff("agent1", staff_password) as agent:
        handoff = service.handoff_of(agent, conversation_id)
        packet = agent.get(f"/api/handoffs/{handoff['id']}").json()["packet"]
        agent.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()
        agent.post(f"/api/handoffs/{handoff['id']}/resolve").raise_for_status()
    return [line["text"] for line in packet["transcript"] if line["from"] == "customer"]


def button(turn: dict, title: str) -> dict:
    return next(b for reply in turn["replies"] for b in reply.get("buttons") or []
                if b["title"] == title)


def test_web_buttons_show_their_titles_in_the_packet(handoff_service, staff_password):
    conversation_id = f"web-{uuid.uuid4().hex[:16]}"

    def say(text: str, payload: str | None = None) -> dict:
        response = httpx.post(handoff_service.url + "/api/chat/messages", timeout=60, json={
            "conversation_id": conversation_id, "text": text, "payload": payload})
        response.raise_for_status()
        return response.json()

    say("I'd like a payment arrangement")
    say("10000003")
    options = say("30-01-1978")
    preview = say("6 instalments", button(options, "6 instalments")["payload"])
    say("No", button(preview, "No")["payload"])
    assert say("I want to talk to a person")["mode"] == "queued"

    lines = customer_lines(handoff_service, staff_password, conversation_id)
    assert lines[-3:] == ["6 instalments", "No", "I want to talk to a person"], lines
    assert not any(line.startswith("/") for line in lines), lines


def test_sms_options_show_their_titles_in_the_packet(handoff_service, twilio_fake, staff_password):
    phone = "+316" + str(uuid.uuid4().int)[:8]

    for body, expect in TOM_SMS_OPTIONS:
        text_the_bot(handoff_service, twilio_fake, phone, body, expect)

    lines = customer_lines(handoff_service, staff_password, "sms-" + phone.lstrip("+"))
    assert lines[-3:] == ["6 instalments", "No", "I want to talk to a person"], lines
