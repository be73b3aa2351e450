"""`POST /sms/twilio` through the real handoff service, bot and Twilio stand-in."""
import socket
import time

import httpx
import pytest

from bot.serve import free_port
from tests.handoff.conftest import TWILIO_TOKEN, start_handoff_service

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(120)]

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def transcript(service, conversation_id: str) -> list[tuple[str, str]]:
    return [(r.author, r.text) for r in service.rows(
        "select author, text from messages where conversation_id = :c order by seq", c=conversation_id)]


def settle(fake, phone: str, seconds: float = 1.5) -> int:
    """How many SMS `phone` has after giving the sender time to send anything queued."""
    time.sleep(seconds)
    return len(fake.messages(phone))


def test_a_forged_signature_is_refused_and_nothing_is_stored(handoff_service, twilio_fake):
    phone, sid = "+31611000001", "SMforged000000000000000000000001"
    wrong_token = handoff_service.sms(phone, "what is my balance", sid=sid, signature="bm90IGEgc2lnbmF0dXJl")
    assert wrong_token.status_code == 403
    assert "X-Twilio-Signature" in wrong_token.json()["detail"]

    # Signed correctly, but for another URL / by someone with another token.
    from twilio.request_validator import RequestValidator
    params = {"MessageSid": sid, "From": phone, "To": "+3197010000000", "Body": "hi"}
    for url, token in ((handoff_service.public_url + "/sms/twilio", "another-token"),
                       ("https://attacker.example/sms/twilio", TWILIO_TOKEN)):
        signature = RequestValidator(token).compute_signature(url, params)
        response = httpx.post(handoff_service.url + "/sms/twilio", data=params,
                              headers={"X-Twilio-Signature": signature}, timeout=10)
        assert response.status_code == 403
    # Signed for different fields: a changed Body no longer matches.
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        handoff_service.public_url + "/sms/twilio", params)
    tampered = httpx.post(handoff_service.url + "/sms/twilio", data={**params, "Body": "STOP"},
                          headers={"X-Twilio-Signature": signature}, timeout=10)
    assert tampered.status_code == 403

    assert handoff_service.rows("select * from inbound_sms where message_sid = :s", s=sid) == []
    assert handoff_service.rows("select * from conversations where id = 'sms-31611000001'") == []
    assert handoff_service.rows("select * from messages where conversation_id = 'sms-31611000001'") == []
    assert handoff_service.rows("select * from sms_opt_outs where phone = :p", p=phone) == []
    assert settle(twilio_fake, phone, 0.5) == 0


def test_a_missing_signature_is_refused(handoff_service):
    sid = "SMunsigned0000000000000000000001"
    response = handoff_service.sms("+31611000002", "hello", sid=sid, signature="")
    assert response.status_code == 403
    assert "missing X-Twilio-Signature" in response.json()["detail"]
    assert handoff_service.rows("select * from inbound_sms where message_sid = :s", s=sid) == []
    assert handoff_service.rows("select * from conversations where id = 'sms-31611000002'") == []


def test_a_replayed_message_sid_is_processed_once(handoff_service, twilio_fake):
    phone, sid = "+31611000003", "SMreplay00000000000000000000001"
    first = handoff_service.sms(phone, "hello", sid=sid)
    assert first.status_code == 200 and first.text == EMPTY_TWIML
    assert first.headers["content-type"].startswith("text/xml")
    replies = twilio_fake.wait_for(phone, 1)
    again = handoff_service.sms(phone, "hello", sid=sid)
    assert again.status_code == 200 and again.text == EMPTY_TWIML
    assert settle(twilio_fake, phone) == len(replies)
    lines = transcript(handoff_service, "sms-31611000003")
    assert [text for author, text in lines if author == "customer"] == ["hello"]
    assert len(handoff_service.rows("select * from inbound_sms where message_sid = :s", s=sid)) == 1


def test_stop_silences_every_message_until_start(handoff_service, twilio_fake):
    phone, conversation = "+31611000004", "sms-31611000004"
    handoff_service.sms(phone, "hello")
    before = len(twilio_fake.wait_for(phone, 1))

    assert handoff_service.sms(phone, "Stop").text == EMPTY_TWIML
    assert handoff_service.rows("select phone from sms_opt_outs where phone = :p", p=phone) == [(phone,)]
    handoff_service.sms(phone, "what is my balance")  # the bot answers into the transcript only
    assert settle(twilio_fake, phone) == before
    lines = transcript(handoff_service, conversation)
    assert ("customer", "Stop") in lines and ("customer", "what is my balance") in lines
    assert any(author == "system" and "START" in text for author, text in lines)

    handoff_service.sms(phone, "START")
    confirmation = twilio_fake.wait_for(phone, before + 1)[-1]["body"]
    assert "subscribed again" in confirmation
    assert handoff_service.rows("select * from sms_opt_outs where phone = :p", p=phone) == []
    handoff_service.sms(phone, "hello")
    assert len(twilio_fake.wait_for(phone, before + 2)) >= before + 2


def test_help_answers_in_the_conversation_language(handoff_service, twilio_fake):
    english, dutch = "+31611000005", "+31600000002"  # an unknown number; Sanne (nl) in the demo
    handoff_service.sms(english, "HELP")
    assert "Text STOP to stop" in twilio_fake.wait_for(english, 1)[0]["body"]
    handoff_service.sms(dutch, "help")
    assert "Stuur STOP" in twilio_fake.wait_for(dutch, 1)[0]["body"]
    assert ("customer", "help") in transcript(handoff_service, "sms-31600000002")


def test_a_numbered_reply_is_the_payload_of_that_option(handoff_service, twilio_fake,
                                                        rasa_server, staff_password):
    """Eva (nl) fails verification three times; the lock message offers "1) Medewerker spreken"."""
    phone, conversation = "+31600000004", "sms-31600000004"
    handoff_service.sms(phone, "wat is mijn saldo")
    assert "geboortedatum" in twilio_fake.wait_for(phone, 1)[-1]["body"]
    for _ in range(3):
        handoff_service.sms(phone, "01-01-1990")
    locked = twilio_fake.wait_for(phone, 4)[-1]["body"]
    assert "geblokkeerd" in locked and "1) Medewerker spreken" in locked

    handoff_service.sms(phone, "1")
    tracker = httpx.get(f"{rasa_server.url}/conversations/{conversation}/tracker", timeout=10).json()
    user_texts = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert user_texts[-1] == "/request_human"  # what the bot read
    typed = [text for author, text in transcript(handoff_service, conversation) if author == "customer"]
    assert typed[-1] == "1"  # what she typed stays in the transcript
    assert "medewerker" in twilio_fake.wait_for(phone, 5)[-1]["body"]
    with handoff_service.staff("agent2", staff_password) as agent:  # speaks Dutch
        handoff = handoff_service.handoff_of(agent, conversation)
        assert handoff["language"] == "nl"
        agent.post("/api/agents/me/presence", json={"status": "online"}).raise_for_status()
        agent.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()
        agent.post(f"/api/handoffs/{handoff['id']}/resolve").raise_for_status()


def test_a_number_without_options_reaches_the_bot_as_typed(handoff_service, rasa_server):
    conversation = "sms-31611000006"
    handoff_service.sms("+31611000006", "2")
    tracker = httpx.get(f"{rasa_server.url}/conversations/{conversation}/tracker", timeout=10).json()
    assert [e.get("text") for e in tracker["events"] if e["event"] == "user"] == ["2"]


@pytest.fixture
def unresponsive_bot():
    """A peer that accepts connections and never answers, like a Rasa stuck in a long turn."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_slow_bot_does_not_hold_twilio(handoff_service, twilio_fake, unresponsive_bot,
                                         bot_database_url, tmp_path, staff_password):
    """Past the budget Twilio gets its 200; the text is stored and the turn still finishes.

    A second service process on the same store, whose bot never answers (3 s timeout) and whose
    webhook budget is 0.5 s; two senders on one store must not send anything twice.
    """
    slow = start_handoff_service(
        port=free_port(), database_url=handoff_service.database_url, rasa_url=unresponsive_bot,
        billing_url=bot_database_url, twilio_url=twilio_fake.url, log=tmp_path / "slow.log",
        rasa_timeout_seconds="3", sms_webhook_budget_seconds="0.5")
    phone, conversation = "+31611000007", "sms-31611000007"
    try:
        started = time.monotonic()
        response = slow.sms(phone, "why is my bill so high")
        assert response.status_code == 200 and response.text == EMPTY_TWIML
        assert time.monotonic() - started < 2.5
        assert ("customer", "why is my bill so high") in transcript(handoff_service, conversation)
        apology = twilio_fake.wait_for(phone, 1, timeout=15)[0]["body"]
        assert "having trouble" in apology and "queue" in apology
        assert settle(twilio_fake, phone) == 1  # sent once, though two senders share the store
    finally:
        slow.server.stop()
    with handoff_service.staff("super1", staff_password) as supervisor:
        handoff = handoff_service.handoff_of(supervisor, conversation)
        assert handoff["reason"] == "bot_unavailable"
        supervisor.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()
        supervisor.post(f"/api/handoffs/{handoff['id']}/resolve").raise_for_status()


def test_the_demo_phone_page_texts_the_service_with_a_valid_signature(handoff_service, twilio_fake):
    phone = "+31600000003"  # Tom Baker
    assert "Demo phone" in httpx.get(twilio_fake.url + "/phone", timeout=5).text
    sent = httpx.post(twilio_fake.url + "/phone/send", json={"phone": phone, "text": "hello"},
                      timeout=30).json()
    assert sent["delivered"] is True, sent
    twilio_fake.wait_for(phone, 1)
    thread = httpx.get(twilio_fake.url + "/messages", params={"phone": phone}, timeout=5).json()
    assert thread[0]["direction"] == "inbound" and thread[0]["body"] == "hello"
    assert thread[1]["direction"] == "outbound-api" and thread[1]["from"] == "+3197010000000"
