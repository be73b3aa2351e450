"""The canned reply "Why the bill is higher" says what the customer's own bill shows.

Real processes (handoff service, Rasa, action server on the seeded billing DB) and the
console in headless Chromium. The customer is one of the test's own, whose latest bill is
higher only because of extra data: the canned reply used to give every customer Jane Doe's
reasons (a welcome discount ended, a late fee), in both languages.
"""
import pytest
from playwright.sync_api import expect

from tests.handoff.browser import browser, online_agent  # noqa: F401 - the browser fixture
from tests.handoff.customers import add_customer
from tests.handoff.page_fixtures import Customer, Staff

pytestmark = [pytest.mark.browser, pytest.mark.rasa, pytest.mark.slow, pytest.mark.timeout(300)]


def test_the_canned_bill_reply_states_no_reasons_of_its_own(handoff_service, staff_password):
    with handoff_service.staff("agent1", staff_password) as agent:
        canned = {c["key"]: c for c in agent.get("/api/canned").json()}
    texts = canned["bill_higher"]["text"]
    for language, words in (("en", ("discount", "late payment", "fee")),
                            ("nl", ("korting", "te late", "kosten"))):
        assert "{bill_changes}" in texts[language], texts
        assert not any(word in texts[language] for word in words), texts


def test_the_console_fills_in_the_reasons_from_the_packet(handoff_service, staff_password,
                                                          browser, bot_database_url):
    milan = add_customer(bot_database_url, name="Milan Bos", plan="standard",
                         usage_gb=(10, 10, 10, 10, 10, 24, 10))  # 4 GB extra, billed last
    customer = Customer(handoff_service, "en")
    customer.say("why is my bill so high?")
    customer.say(milan.account_number)
    explained = customer.text(milan.date_of_birth)
    assert "Milan Bos" in explained and "€55.66" in explained, explained
    assert customer.say("I want to talk to a person")["mode"] == "queued"
    stranger = Customer(handoff_service, "en")  # never verified: no bill in the packet
    assert stranger.say("I want to talk to a person")["mode"] == "queued"

    api = Staff(handoff_service, "agent1", staff_password)
    agent, console = online_agent(browser, handoff_service.url, "agent1", staff_password)
    try:
        console.claim(api.handoff_for(customer.conversation_id)["id"])
        expect(agent.locator("#conv-title")).to_have_text("Milan Bos")
        expect(agent.locator("#packet")).to_contain_text("Extra data 4 GB")
        agent.select_option("#canned", "bill_higher")
        expect(agent.locator("#reply")).to_have_value(
            "I can see why your latest bill is higher: you used more data than your plan "
            "includes. I'm sorry this came as a surprise.")
        agent.fill("#reply", "")
        agent.locator("[data-canned-lang='nl']").click()
        agent.select_option("#canned", "bill_higher")
        expect(agent.locator("#reply")).to_have_value(
            "Ik zie waarom uw laatste rekening hoger is: u heeft meer data gebruikt dan er in "
            "uw abonnement zit. Sorry dat dit u verraste.")

        # without the bill in the packet the reasons stay for the agent to fill in
        console.claim(api.handoff_for(stranger.conversation_id)["id"])
        expect(agent.locator("#conv-title")).to_have_text("Unverified customer")
        expect(agent.locator("[data-canned-lang='en']")).to_have_attribute("aria-pressed", "true")
        agent.fill("#reply", "")
        agent.select_option("#canned", "bill_higher")
        expect(agent.locator("#reply")).to_have_value(
            "I can see why your latest bill is higher: [reasons]. "
            "I'm sorry this came as a surprise.")
        assert agent.problems == [], agent.problems
    finally:
        for row in api.get("/api/handoffs", params={"status": "claimed", "mine": "true"}).json():
            api.post(f"/api/handoffs/{row['id']}/resolve", {"resolution": "test cleanup"})
        api.close()
        agent.get_by_role("button", name="Sign out").click()  # offline again
