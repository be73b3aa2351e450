"""An agent checks who an unverified customer is from what the customer typed since the
handoff: the factors stay masked for the agent, the billing core checks them (attempts
counted, locks respected) and the handoff packet records the verified customer.

Real processes: Rasa and the action server on the seeded billing DB, the handoff service, and
headless Chromium for the console's button.
"""
import pytest
from playwright.sync_api import expect

from tests.handoff.browser import browser, online_agent  # noqa: F401 - the browser fixture
from tests.handoff.customers import WebCustomer, add_customer
from tests.handoff.page_fixtures import Staff, billing_rows

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(240)]


def unverified_in_queue(service) -> WebCustomer:
    customer = WebCustomer(service)
    assert customer.say("I want to talk to a person")["mode"] == "queued"
    return customer


def test_an_agent_verifies_a_customer_from_their_messages(handoff_service, staff_password,
                                                          bot_database_url):
    noor = add_customer(bot_database_url, name="Noor Smit")
    customer = unverified_in_queue(handoff_service)
    anna = Staff(handoff_service, "agent1", staff_password)
    bram = Staff(handoff_service, "agent2", staff_password)
    try:
        hid = anna.handoff_for(customer.conversation_id)["id"]
        assert anna.post(f"/api/handoffs/{hid}/verify").status_code == 409  # not claimed
        anna.post(f"/api/handoffs/{hid}/claim").raise_for_status()
        nothing = anna.post(f"/api/handoffs/{hid}/verify")
        assert nothing.status_code == 409, nothing.text  # nothing to check yet: no attempt
        assert "account number" in nothing.json()["detail"]

        customer.say(f"my account number is {noor.account_number}")
        customer.say(f"and I was born on {noor.date_of_birth}")
        lines = [m["text"] for m in anna.get(f"/api/handoffs/{hid}").json()["messages"]]
        assert "and I was born on ••-••-••••" in lines  # the agent still never reads it
        assert bram.post(f"/api/handoffs/{hid}/verify").status_code == 403

        checked = anna.post(f"/api/handoffs/{hid}/verify")
        assert checked.status_code == 200, checked.text
        assert checked.json() == {"verified": True, "account_number": noor.account_number,
                                  "customer_name": "Noor Smit"}
        packet = anna.get(f"/api/handoffs/{hid}").json()["packet"]
        assert packet["verified"] is True
        assert packet["customer"] == {"name": "Noor Smit", "account_number": noor.account_number}
        assert anna.get(f"/api/accounts/{noor.account_number}").json()["customer_name"] == "Noor Smit"
        assert anna.get(f"/api/handoffs/{hid}/concessions/options").status_code == 200
        audit = billing_rows(bot_database_url,
                             "select actor, actor_role from audit_events "
                             "where action = 'verification.checked_by_agent' "
                             "and conversation_id = :c", c=customer.conversation_id)
        assert [tuple(r) for r in audit] == [("agent1", "agent")]
    finally:
        for person in (anna, bram):
            for row in person.get("/api/handoffs", params={"status": "claimed", "mine": "true"}).json():
                person.post(f"/api/handoffs/{row['id']}/resolve", {"resolution": "test cleanup"})
            person.close()


def test_wrong_details_are_counted_and_lock_like_the_bots_checks(handoff_service,
                                                                 staff_password,
                                                                 bot_database_url):
    thijs = add_customer(bot_database_url, name="Thijs Meijer")
    customer = unverified_in_queue(handoff_service)
    anna = Staff(handoff_service, "agent1", staff_password)
    try:
        hid = anna.handoff_for(customer.conversation_id)["id"]
        anna.post(f"/api/handoffs/{hid}/claim").raise_for_status()
        for day in (1, 2, 3):
            customer.say(f"{thijs.account_number}, born 0{day}-01-1990")
            failed = anna.post(f"/api/handoffs/{hid}/verify")
            assert failed.status_code == 200, failed.text
            assert failed.json() == {"verified": False, "account_number": None,
                                     "customer_name": None}
            # the same details are not checked twice (a double click costs no attempt)
            again = anna.post(f"/api/handoffs/{hid}/verify")
            assert again.status_code == 409 and "nothing new" in again.json()["detail"]
        customer.say(f"sorry, it's {thijs.date_of_birth}")  # right now, but locked
        assert anna.post(f"/api/handoffs/{hid}/verify").json()["verified"] is False
        assert anna.get(f"/api/handoffs/{hid}").json()["packet"]["verified"] is False
        actions = billing_rows(bot_database_url,
                               "select action from audit_events where conversation_id = :c "
                               "and action like 'verification.%' order by id",
                               c=customer.conversation_id)
        assert "verification.locked_out" in [r.action for r in actions]
    finally:
        anna.post(f"/api/handoffs/{hid}/resolve", {"resolution": "test cleanup"})
        anna.close()


@pytest.mark.browser
def test_the_console_checks_identity_from_the_packet_panel(handoff_service, staff_password,
                                                           browser, bot_database_url):
    sophie = add_customer(bot_database_url, name="Sophie Bakker")
    customer = unverified_in_queue(handoff_service)
    customer.say(f"account {sophie.account_number} postcode {sophie.postcode}")
    api = Staff(handoff_service, "agent1", staff_password)
    agent, console = online_agent(browser, handoff_service.url, "agent1", staff_password)
    try:
        console.claim(api.handoff_for(customer.conversation_id)["id"])
        expect(agent.locator("#packet")).to_contain_text("Not verified")
        agent.get_by_role("button", name="Check identity from the customer's messages").click()
        expect(console.toast("Verified: Sophie Bakker")).to_be_visible()
        expect(agent.locator("#packet")).to_contain_text("✓ Verified")
        expect(agent.locator("#conv-title")).to_have_text("Sophie Bakker")
        expect(agent.locator("#account")).to_contain_text("Plus")
        expect(agent.locator("#concession-card")).to_be_visible()
        expect(agent.get_by_role("button", name="Check identity from the customer's messages")) \
            .to_have_count(0)
        assert agent.problems == [], agent.problems
    finally:
        for row in api.get("/api/handoffs", params={"status": "claimed", "mine": "true"}).json():
            api.post(f"/api/handoffs/{row['id']}/resolve", {"resolution": "test cleanup"})
        api.close()
        agent.get_by_role("button", name="Sign out").click()
