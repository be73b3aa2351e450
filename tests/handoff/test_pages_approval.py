"""A supervisor approves, in the console, a concession an agent asked for above their limit.

Eva Jansen (Dutch, nine years a customer) threatens to cancel on the chat page, turns down
the bot's retention offer with its buttons and asks for a person. agent1 claims her, offers
a bigger retention discount than an agent may grant (EUR 150 > EUR 120), the console offers
"request approval"; super1 sees the request arrive live and approves; agent1 sees the
result; the billing DB has the granted, approved adjustment and the accepted retention offer.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.handoff.browser import (  # noqa: F401 - the browser fixture
    DESKTOP, PHONE, ChatPage, ConsolePage, browser, new_page, shoot)
from tests.handoff.page_fixtures import Staff, billing_rows

pytestmark = [pytest.mark.browser, pytest.mark.rasa, pytest.mark.slow]


@pytest.mark.timeout(420)
def test_supervisor_approves_a_retention_discount_above_the_agents_limit(
        handoff_service, staff_password, bot_database_url, browser):
    url = handoff_service.url
    customer = new_page(browser, url, **PHONE)
    chat = ChatPage(customer).open(lang="nl")
    expect(customer.locator("html")).to_have_attribute("lang", "nl")
    expect(customer.get_by_label("Uw bericht")).to_have_attribute("placeholder", "Typ uw bericht…")
    assert "klantnummer" in chat.say("ik wil mijn abonnement opzeggen")
    chat.say("10000004")
    offer = chat.say("21-07-2001")
    assert "Eva Jansen" in offer and "10% korting" in offer
    declined = chat.click_button("Nee, bedankt")  # how cancelling works, then a colleague
    assert declined.startswith("Wilt u toch opzeggen") and "Zal ik dit doorzetten" in declined
    expect(customer.locator("#log .msg-customer .bubble").last).to_have_text("Nee, bedankt")
    status = chat.click_button("Ja, een medewerker graag", wait_for="system")
    assert "wachtrij" in status
    expect(customer.locator("#mode-text")).to_have_text("Wacht op een medewerker")
    shoot(customer, "chat-phone-nl-queued")

    agent = new_page(browser, url, **DESKTOP)
    console = ConsolePage(agent).sign_in("agent1", staff_password)
    console.go_online()
    api = Staff(handoff_service, "agent1", staff_password)
    handoff = api.handoff_for(chat.conversation_id)
    assert "cancel_threat" in handoff["flags"]
    console.claim(handoff["id"])
    expect(agent.locator("#packet")).to_contain_text("cancel threat")
    expect(agent.locator("#packet")).to_contain_text("retention")   # what the bot offered
    # canned responses start in the customer's language
    expect(agent.locator("[data-canned-lang='nl']")).to_have_attribute("aria-pressed", "true")

    # the retention discount: "customer threatens to leave" is ticked from the packet's flags
    expect(agent.locator("#concession-churn")).to_be_checked()
    agent.select_option("#concession-kind", "retention_discount")
    expect(agent.locator("#concession-limits")).to_contain_text("your limit €120.00")
    agent.fill("#concession-amount", "150")
    agent.select_option("#concession-reason", "retention_offer")
    agent.fill("#concession-note", "9 years, price complaint; wants more than the standard offer")
    request = agent.get_by_role("button", name=re.compile(r"^Request approval for €150\.00"))
    expect(request).to_be_visible()
    expect(agent.locator("#concession-submit")).to_be_hidden()
    request.click()
    expect(console.toast("Sent to a supervisor")).to_be_visible()
    pending = agent.locator("#concessions li[data-status='pending_approval']")
    expect(pending).to_contain_text("€150.00 Retention discount")
    expect(pending).to_contain_text("waiting for approval")

    # the supervisor's console lists it, live
    supervisor_page = new_page(browser, url, **DESKTOP)
    supervisor = ConsolePage(supervisor_page).sign_in("super1", staff_password)
    expect(supervisor_page.locator("#approvals-panel")).to_be_visible()
    item = supervisor_page.locator("#approvals .approval", has_text="Eva Jansen")
    expect(item).to_contain_text("€150.00")
    expect(item).to_contain_text("asked by agent1")
    shoot(supervisor_page, "console-supervisor-approvals")
    adjustment_id = int(item.get_attribute("data-adjustment-id"))
    item.get_by_role("button", name=re.compile("^Approve")).click()
    expect(supervisor.toast("Approved")).to_be_visible()
    expect(supervisor_page.locator("#approvals .approval", has_text="Eva Jansen")).to_have_count(0)

    # the agent sees the decision without doing anything
    expect(console.toast("Approved by super1")).to_be_visible()
    granted = agent.locator(f"#concessions li[data-adjustment-id='{adjustment_id}']")
    expect(granted).to_have_attribute("data-status", "granted")
    expect(granted).to_contain_text("approved by super1")
    # one retention discount a year: nothing more to grant now, and the form says so
    expect(agent.locator("#concession-limits")).to_contain_text("No concession fits the policy")
    expect(agent.locator("#concession-kind option[value='retention_discount']")).to_contain_text(
        "granted recently")
    shoot(agent, "console-agent-approved")

    # an agent console has no approvals panel
    expect(agent.locator("#approvals-panel")).to_be_hidden()

    # tell the customer and close the conversation with an outcome
    agent.select_option("#canned", "anything_else")
    expect(agent.locator("#reply")).to_have_value("Kan ik u vandaag nog ergens anders mee helpen?")
    console.reply("Uw korting van € 150,00 is goedgekeurd. Kan ik u nog ergens mee helpen?")
    assert "goedgekeurd" in chat.wait_for("agent", 1)
    agent.select_option("#close-reason", "concession granted")
    agent.get_by_role("button", name="Resolve").click()
    expect(console.toast("Conversation resolved")).to_be_visible()
    expect(customer.locator("#log .msg-system", has_text="afgesloten")).to_be_visible()
    expect(customer.locator("#mode")).to_have_attribute("data-mode", "closed")

    row = billing_rows(bot_database_url,
                       "select ad.status, ad.amount_minor, ad.granted_by, ad.approved_by, "
                       "ad.conversation_id, ad.channel, r.response from adjustments ad "
                       "join retention_outcomes r on r.adjustment_id = ad.id where ad.id = :id",
                       id=adjustment_id)
    assert [tuple(r) for r in row] == [("granted", 15000, "agent1", "super1",
                                        chat.conversation_id, "web", "accepted")]
    api.close()
    for page in (agent, supervisor_page):
        page.get_by_role("button", name="Sign out").click()       # offline again
        expect(page.locator("#login-view")).to_be_visible()
    for page in (customer, agent, supervisor_page):
        assert page.problems == [], page.problems
