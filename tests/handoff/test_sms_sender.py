"""Outbound SMS: retries with backoff against the failing Twilio stand-in, order, splitting.

The service runs with 0.2 s base backoff and 4 attempts (see conftest), so these take seconds.
"""
import time

import pytest

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(120)]


def outbound(service, phone: str) -> list:
    return service.rows("select id, status, attempts, last_error, twilio_sid, body "
                        "from outbound_sms where \"to\" = :p order by id", p=phone)


def wait_for_status(service, phone: str, status: str, timeout: float = 15) -> list:
    deadline = time.monotonic() + timeout
    while True:
        rows = outbound(service, phone)
        if rows and all(r.status == status for r in rows):
            return rows
        assert time.monotonic() < deadline, f"SMS to {phone} not all {status}: {rows}"
        time.sleep(0.1)


def test_failed_sends_are_retried_until_delivered(handoff_service, twilio_fake):
    phone = "+31612000001"
    twilio_fake.fail(2, to=phone)
    handoff_service.sms(phone, "HELP")
    [delivered] = twilio_fake.wait_for(phone, 1, timeout=15)
    [row] = wait_for_status(handoff_service, phone, "sent")
    assert row.attempts == 3 and row.twilio_sid == delivered["sid"] and row.last_error is None


def test_a_permanently_failing_send_stays_visible_as_failed(handoff_service, twilio_fake):
    phone = "+31612000002"
    twilio_fake.fail(1000, status=503, to=phone)
    try:
        handoff_service.sms(phone, "HELP")
        [row] = wait_for_status(handoff_service, phone, "failed")
        assert row.attempts == 4  # HANDOFF_SMS_MAX_ATTEMPTS
        assert "503" in row.last_error and row.twilio_sid is None and "STOP" in row.body
        assert twilio_fake.messages(phone) == []
        time.sleep(1)  # given up: no more tries, and the row is still there
        assert outbound(handoff_service, phone) == [row]
    finally:
        twilio_fake.fail(0, to=phone)


def test_a_number_twilio_rejects_fails_without_retrying(handoff_service, twilio_fake):
    phone = "+31612000003"
    twilio_fake.fail(1, status=400, code=21211, to=phone)
    handoff_service.sms(phone, "HELP")
    [row] = wait_for_status(handoff_service, phone, "failed")
    assert row.attempts == 1 and "21211" in row.last_error


def test_later_messages_wait_for_an_earlier_one_being_retried(handoff_service, twilio_fake):
    phone = "+31612000004"
    twilio_fake.fail(2, to=phone)
    handoff_service.sms(phone, "HELP")
    handoff_service.sms(phone, "START")
    first, second = twilio_fake.wait_for(phone, 2, timeout=15)
    assert "Text STOP" in first["body"] and "subscribed again" in second["body"]
    assert [r.attempts for r in wait_for_status(handoff_service, phone, "sent")] == [3, 1]


def test_a_long_reply_is_split_into_several_sms(handoff_service, twilio_fake, staff_password):
    phone, conversation = "+31612000005", "sms-31612000005"
    handoff_service.sms(phone, "I want to talk to a person")
    assert "colleague" in twilio_fake.wait_for(phone, 1)[-1]["body"]
    text = " ".join(f"Step {n}: check line {n} of your bill against your contract." for n in range(1, 31))
    assert 1530 < len(text) <= 2000
    with handoff_service.staff("super1", staff_password) as agent:  # agent1 has the journey
        agent.post("/api/agents/me/presence", json={"status": "online"}).raise_for_status()
        handoff = handoff_service.handoff_of(agent, conversation)
        agent.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()
        before = len(twilio_fake.wait_for(phone, 2))  # "... has joined the conversation"
        agent.post(f"/api/handoffs/{handoff['id']}/messages", json={"text": text}).raise_for_status()
        parts = [m["body"] for m in twilio_fake.wait_for(phone, before + 2)[before:]]
        agent.post(f"/api/handoffs/{handoff['id']}/resolve").raise_for_status()
    assert len(parts) == 2 and all(len(part) <= 1530 for part in parts)
    assert " ".join(parts) == text
