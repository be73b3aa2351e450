"""A reply being written stays with its conversation: opening another one starts with an
empty box, and coming back brings the draft back. Before, the half-written text stayed in the
box, ready to be sent to the next customer. Real service, real Chromium."""
import pytest
from playwright.sync_api import expect

from tests.handoff.browser import browser, online_agent  # noqa: F401 - the browser fixture
from tests.handoff.page_fixtures import Customer, Staff

pytestmark = [pytest.mark.browser, pytest.mark.rasa, pytest.mark.timeout(300)]


def test_a_draft_stays_with_its_conversation(handoff_service, staff_password, browser):
    customers = [Customer(handoff_service) for _ in range(2)]
    for customer in customers:
        assert customer.say("I want to talk to a person")["mode"] == "queued"
    api = Staff(handoff_service, "agent1", staff_password)
    first, second = (api.handoff_for(c.conversation_id)["id"] for c in customers)
    agent, console = online_agent(browser, handoff_service.url, "agent1", staff_password)
    try:
        console.claim(first)
        agent.get_by_label("Reply to the customer").fill("Your refund of €12.50 is on its way")
        console.claim(second)
        expect(agent.get_by_label("Reply to the customer")).to_have_value("")
        agent.locator(f"#mine .item[data-handoff-id='{first}'] .item-open").click()
        expect(agent.get_by_label("Reply to the customer")).to_have_value(
            "Your refund of €12.50 is on its way")
    finally:
        for handoff_id in (first, second):
            api.post(f"/api/handoffs/{handoff_id}/resolve", {"resolution": "test"})
        api.close()
