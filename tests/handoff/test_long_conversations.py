"""An agent reads a long conversation from its newest line and pages back; SMS option replies
read as what the customer picked.

Real processes: Rasa and the action server on the demo data, the handoff service, the Twilio
stand-in for SMS, and the console in headless Chromium.
"""
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.handoff.browser import DESKTOP, ConsolePage, browser, new_page  # noqa: F401 - fixture
from tests.handoff.customers import TOM_SMS_OPTIONS, WebCustomer, text_the_bot

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(300)]

WRITTEN_WHILE_WAITING = 510


@pytest.fixture(scope="module")
def long_conversation(handoff_service) -> WebCustomer:
    """A customer who wrote 510 messages while waiting for a person (the detail shows 500)."""
    customer = WebCustomer(handoff_service)
    assert customer.say("I want to talk to a person")["mode"] == "queued"
    with httpx.Client(base_url=handoff_service.url, timeout=30) as client:
        for number in range(1, WRITTEN_WHILE_WAITING + 1):
            client.post("/api/chat/messages", json={
                "conversation_id": customer.conversation_id,
                "text": f"still waiting, message {number}"}).raise_for_status()
    return customer


def test_the_detail_shows_the_newest_lines_and_older_ones_page_back(
        handoff_service, staff_password, long_conversation):
    with handoff_service.staff("agent1", staff_password) as agent:
        handoff = handoff_service.handoff_of(agent, long_conversation.conversation_id)
        detail = agent.get(f"/api/handoffs/{handoff['id']}").raise_for_status().json()
        lines = detail["messages"]
        assert len(lines) == 500
        # before: the first 500 lines, so the newest (what the customer wrote last) was missing
        assert lines[-1]["text"] == f"still waiting, message {WRITTEN_WHILE_WAITING}"
        first = lines[0]["seq"]
        assert first > 1 and [m["seq"] for m in lines] == list(range(first, first + 500))

        earlier = agent.get(f"/api/handoffs/{handoff['id']}/messages",
                            params={"before": first}).raise_for_status().json()["messages"]
        assert [m["seq"] for m in earlier] == list(range(1, first))
        assert earlier[0]["text"] == "I want to talk to a person"
        page = agent.get(f"/api/handoffs/{handoff['id']}/messages",
                         params={"before": first, "limit": 3}).json()["messages"]
        assert [m["seq"] for m in page] == [first - 3, first - 2, first - 1]

        for params in ({}, {"before": 0}, {"before": "x"}, {"before": 5, "limit": 501}):
            response = agent.get(f"/api/handoffs/{handoff['id']}/messages", params=params)
            assert response.status_code == 422 and "detail" in response.json(), params
        assert agent.get("/api/handoffs/999999/messages", params={"before": 5}).status_code == 404


def test_an_agent_of_another_conversation_may_not_page_it(handoff_service, staff_password):
    customer = WebCustomer(handoff_service)
    assert customer.say("I want to talk to a person")["mode"] == "queued"
    with handoff_service.staff("agent1", staff_password) as first, \
            handoff_service.staff("agent2", staff_password) as second:
        handoff = handoff_service.handoff_of(first, customer.conversation_id)
        first.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()
        refused = second.get(f"/api/handoffs/{handoff['id']}/messages", params={"before": 3})
        assert refused.status_code == 403 and "another agent" in refused.json()["detail"]
        first.post(f"/api/handoffs/{handoff['id']}/resolve").raise_for_status()


@pytest.mark.browser
def test_the_console_pages_back_and_reads_sms_options_as_picked(
        handoff_service, twilio_fake, staff_password, browser, long_conversation):
    phone = "+316" + str(uuid.uuid4().int)[:8]

    for body, expect_ in TOM_SMS_OPTIONS:
        text_the_bot(handoff_service, twilio_fake, phone, body, expect_)

    agent = new_page(browser, handoff_service.url, **DESKTOP)
    console = ConsolePage(agent).sign_in("agent1", staff_password)
    with handoff_service.staff("agent1", staff_password) as api:
        sms_handoff = handoff_service.handoff_of(api, "sms-" + phone.lstrip("+"))
        long_handoff = handoff_service.handoff_of(api, long_conversation.conversation_id)
    console.claim(sms_handoff["id"])
    said = agent.locator("#messages .line-customer .line-text")
    # before: "4" and "2", which the agent had to match against the numbered options
    expect(said.nth(3)).to_have_text("4 (6 instalments)")
    expect(said.nth(4)).to_have_text("2 (No)")
    expect(said.nth(2)).to_have_text("••-••-••••")  # masked as before
    resolve(agent, console)

    console.claim(long_handoff["id"])
    expect(said.last).to_have_text(f"still waiting, message {WRITTEN_WHILE_WAITING}")
    expect(agent.locator("#messages .line")).to_have_count(500)
    earlier = agent.get_by_role("button", name="Show earlier messages")
    earlier.click()
    expect(said.first).to_have_text("I want to talk to a person")
    expect(earlier).to_have_count(0)
    seqs = [int(s) for s in agent.locator("#messages .line").evaluate_all(
        "els => els.map(e => e.dataset.seq)")]
    assert seqs == list(range(1, len(seqs) + 1))  # every line once, in order
    resolve(agent, console)


def resolve(agent, console: ConsolePage) -> None:
    agent.select_option("#close-reason", "question answered")
    agent.get_by_role("button", name="Resolve").click()
    expect(console.toast("Conversation resolved")).to_be_visible()
