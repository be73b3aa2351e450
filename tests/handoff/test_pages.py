"""The web pages in a real headless Chromium against the real services.

THE JOURNEY: Jane verifies on the chat page (phone screen), asks for a person and sees her
place in the queue; agent1 signs in to the console in another browser context, goes online,
sees her appear in the live queue, claims, reads the packet, replies; Jane sees the reply
live; agent1 hands back to the bot, which answers Jane's next question without verifying
again. Screenshots go to $SCREENSHOT_DIR (default: <tmp>/handoff-screenshots).
"""
import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.handoff.browser import (  # noqa: F401 - the browser fixture
    DESKTOP, PHONE, ChatPage, ConsolePage, browser, new_page, shoot)
from tests.handoff.page_fixtures import Staff

pytestmark = [pytest.mark.browser, pytest.mark.rasa, pytest.mark.slow]

STATIC = ["base.css", "chat.css", "console.css", "ui.js", "chat.js", "console.js"]


@pytest.mark.timeout(300)
def test_pages_are_plain_files_with_a_strict_policy(handoff_service):
    with httpx.Client(base_url=handoff_service.url, timeout=10) as client:
        assert client.get("/").headers["location"] == "/chat"
        for path in ("/chat", "/console"):
            page = client.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            policy = page.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "connect-src 'self'" in policy
            assert "frame-ancestors 'none'" in policy
            assert page.headers["x-content-type-options"] == "nosniff"
            # no CDN, no inline script: everything comes from /static
            assert not re.search(r"""(src|href)=["']https?://""", page.text)
            assert "<script>" not in page.text and "onclick=" not in page.text
        for name in STATIC:
            response = client.get(f"/static/{name}")
            assert response.status_code == 200, name
            assert not re.search(r"""(import|fetch|src|href)\(?\s*["'`]https?://""", response.text)
        assert client.get("/static/../main.py").status_code == 404


@pytest.mark.timeout(420)
def test_journey_from_the_bot_to_an_agent_and_back(handoff_service, staff_password, browser):
    url = handoff_service.url
    customer = new_page(browser, url, **PHONE)
    chat = ChatPage(customer).open()
    expect(customer.locator("#mode")).to_have_attribute("data-mode", "bot")
    expect(customer.locator("html")).to_have_attribute("lang", "en")
    shoot(customer, "chat-phone-1-start")

    customer.evaluate("""() => {   // remember whether the typing indicator ever showed
        window.typingSeen = false;
        const typing = document.getElementById('typing');
        new MutationObserver(() => { if (!typing.hidden) window.typingSeen = true; })
            .observe(typing, {attributes: true});
    }""")
    reply = chat.say("why is my bill so high?")
    assert customer.evaluate("window.typingSeen"), "no typing indicator while the bot answered"
    assert "account number" in reply and "€" not in reply      # nothing before verification
    chat.say("10000001")
    reply = chat.say("12-04-1985")
    assert "Jane Doe" in reply and "30%" in reply and "€53.40" in reply
    shoot(customer, "chat-phone-2-verified")
    # fits the phone (no sideways scrolling), and is usable without a mouse or sight
    assert customer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(customer.get_by_role("log")).to_have_attribute("aria-live", "polite")
    assert customer.evaluate("""[...document.querySelectorAll('button')].every(
        b => (b.innerText || b.getAttribute('aria-label') || '').trim().length > 0)""")
    assert customer.evaluate("document.activeElement.id") == "text"   # focus stays in the box
    customer.keyboard.press("Tab")
    assert customer.evaluate("document.activeElement.id") == "send"
    customer.get_by_label("Your message").focus()

    agent = new_page(browser, url, **DESKTOP)
    console = ConsolePage(agent).sign_in("agent1", staff_password)
    expect(agent.locator("#me")).to_contain_text("Anna Agent")
    console.go_online()

    # the customer asks for a person: told her place in the queue and the wait
    status = chat.say("I want to talk to a person", wait_for="system")
    assert re.search(r"number \d+ in the queue", status) and "Expected wait" in status
    expect(customer.locator("#mode")).to_have_attribute("data-mode", "queued")
    expect(customer.locator("#mode-text")).to_have_text("Waiting for a colleague")
    expect(customer.locator("#queue-banner")).to_be_visible()
    expect(customer.locator("#queue-text")).to_contain_text("in the queue")
    shoot(customer, "chat-phone-3-queued")

    # the conversation appears in the console's live queue (no reload) and is claimed
    sign_in = Staff(handoff_service, "agent1", staff_password)
    handoff = sign_in.handoff_for(chat.conversation_id)
    item = agent.locator(f"#queue .item[data-handoff-id='{handoff['id']}']")
    expect(item).to_contain_text("Jane Doe")
    shoot(agent, "console-1-queue")
    console.claim(handoff["id"])
    expect(agent.locator(f"#mine .item[data-handoff-id='{handoff['id']}']")).to_be_visible()
    expect(item).to_have_count(0)

    packet = agent.locator("#packet")
    expect(packet).to_contain_text("Verified")
    for fact in ("Jane Doe", "10000001", "customer asked", "explain bill", "€53.40", "+30%",
                 "Promotion WELCOME15", "Late payment fee", "+€5.00"):
        expect(packet).to_contain_text(fact)
    expect(agent.locator("#conv-title")).to_have_text("Jane Doe")
    expect(agent.locator("#account .balance")).to_contain_text("€")
    expect(agent.locator("#account")).to_contain_text("Standard")
    expect(agent.locator("#account .invoices")).to_contain_text("€53.40")
    expect(agent.locator("#account .payments")).to_contain_text("iDEAL€41.14")  # what arrived
    expect(agent.locator("#messages")).to_contain_text("why is my bill so high?")
    expect(agent.locator("#concession-card")).to_be_visible()
    expect(agent.locator("#concession-limits")).to_contain_text("your limit €25.00")

    # the customer is told someone joined
    expect(customer.locator("#log .msg-system", has_text="Anna from our team has joined")).to_be_visible()
    expect(customer.locator("#mode")).to_have_attribute("data-mode", "agent")

    # a canned response goes into the reply box, in the customer's language, with her name
    agent.select_option("#canned", "greeting")
    expect(agent.locator("#reply")).to_have_value(re.compile(r"^Hi Jane, this is Anna\."))
    console.reply("Hi Jane, this is Anna. I can see the promotion ended and a late fee was added.")
    reply = chat.wait_for("agent", 1)
    assert "I can see the promotion ended" in reply
    expect(customer.locator("#mode-text")).to_have_text("Anna is helping you")

    # the customer's answer reaches the console live
    chat.say("ok, thanks for checking", wait_for=None)
    expect(agent.locator("#messages .line-customer").last).to_contain_text("ok, thanks for checking")
    shoot(customer, "chat-phone-4-agent")
    shoot(agent, "console-2-conversation")
    agent.set_viewport_size({"width": 1440, "height": 2000})   # the whole details column
    shoot(agent, "console-3-tall")
    agent.set_viewport_size(DESKTOP["viewport"])

    # hand back to the bot: it answers without asking to verify again
    agent.select_option("#close-reason", "question answered")
    agent.get_by_role("button", name="Release to bot").click()
    expect(console.toast("Handed back to the bot")).to_be_visible()
    expect(agent.locator("#conv-closed")).to_contain_text("released")
    expect(agent.locator("#reply-form")).to_be_hidden()
    expect(customer.locator("#log .msg-system", has_text="back with the assistant")).to_be_visible()
    expect(customer.locator("#mode")).to_have_attribute("data-mode", "bot")
    reply = chat.say("when is my bill due")
    assert "account number" not in reply and "date of birth" not in reply
    assert re.search(r"due on \d{1,2} \w+ \d{4}", reply), reply
    shoot(customer, "chat-phone-5-back-to-bot")

    # a reload continues the same conversation (id in localStorage), history included
    conversation_id = chat.conversation_id
    customer.reload()
    customer.wait_for_selector("body[data-live='true']")
    assert chat.conversation_id == conversation_id
    expect(customer.locator("#log")).to_contain_text("when is my bill due")
    assert customer.locator("#log .msg[data-seq]").count() == len(
        httpx.get(f"{url}/api/chat/{conversation_id}/messages").json()["messages"])
    sign_in.close()
    # signing out sets the agent offline and forgets the token
    agent.get_by_role("button", name="Sign out").click()
    expect(agent.locator("#login-view")).to_be_visible()
    assert agent.evaluate("sessionStorage.getItem('console.token')") is None
    assert customer.problems == [] and agent.problems == []


@pytest.mark.timeout(300)
def test_a_waiting_customer_leaves_the_queue_from_the_banner(handoff_service, browser):
    customer = new_page(browser, handoff_service.url, **PHONE)
    chat = ChatPage(customer).open(lang="nl")
    assert "wachtrij" in chat.say("ik wil een medewerker spreken", wait_for="system")
    leave = customer.locator("#queue-leave")
    expect(leave).to_have_text("Stoppen met wachten")
    assert "laat maar" in chat.say("hallo?", wait_for="system")  # acknowledged, way out named
    expect(customer.locator("#queue-text")).to_contain_text("in de wachtrij")  # still the place
    shoot(customer, "chat-phone-queue-leave")
    before = chat.count("system")
    leave.click()
    assert "U heeft de wachtrij verlaten" in chat.wait_for("system", before + 1)
    expect(customer.locator("#mode")).to_have_attribute("data-mode", "bot")
    expect(customer.locator("#queue-banner")).to_be_hidden()
    expect(customer.locator("#log .msg-customer .bubble").last).to_have_text("Stoppen met wachten")
    assert chat.say("wat is mijn saldo?")  # the bot answers again
    assert customer.problems == []


@pytest.mark.timeout(300)
def test_chat_page_falls_back_to_rest_and_buttons_send_their_payload(handoff_service, browser,
                                                                      staff_password):
    """No WebSocket (a proxy that drops it): the page sends over REST and polls for news."""
    customer = new_page(browser, handoff_service.url, **PHONE)
    customer.route_web_socket(re.compile(r".*/ws$"), lambda ws: ws.close(code=1011))
    posts = []
    customer.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    customer.goto("/chat")
    chat = ChatPage(customer)
    expect(customer.locator("body")).to_have_attribute("data-live", "false")
    expect(customer.locator("#connection")).to_contain_text("Connection lost")
    assert "account number" in chat.say("I want to cancel my subscription")
    assert any(u.endswith("/api/chat/messages") for u in posts)
    chat.say("10000004")
    offer = chat.say("21-07-2001")
    assert "9 years" in offer and "10% off" in offer
    # a button sends its payload; the customer sees its title as her message
    titles = customer.locator("#log .buttons:not(.used) button").all_inner_texts()
    assert titles == ["Yes, please", "No, thanks"]
    assert "colleague" in chat.click_button("No, thanks")
    expect(customer.locator("#log .msg-customer .bubble").last).to_have_text("No, thanks")
    expect(customer.locator("#log .buttons.used button[aria-pressed='true']").first).to_have_text(
        "No, thanks")
    chat.click_button("Yes, a person please", wait_for="system")
    expect(customer.locator("#mode")).to_have_attribute("data-mode", "queued")
    expect(customer.locator("#queue-banner")).to_be_visible()
    history = httpx.get(f"{handoff_service.url}/api/chat/{chat.conversation_id}/messages").json()
    said = [m["text"] for m in history["messages"] if m["author"] == "customer"]
    # The transcript keeps what the customer saw; the payloads went to the bot (it queued).
    assert said[-2:] == ["No, thanks", "Yes, a person please"]
    # the page shows every transcript line once, in order
    seqs = [int(s) for s in customer.locator("#log .msg[data-seq]").evaluate_all(
        "els => els.map(e => e.dataset.seq)")]
    assert seqs == [m["seq"] for m in history["messages"]]
    assert [p for p in customer.problems if "WebSocket" not in p] == []
    # tidy up: nobody should find this conversation waiting later
    supervisor = Staff(handoff_service, "super1", staff_password)
    handoff = supervisor.handoff_for(chat.conversation_id)
    supervisor.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()
    supervisor.post(f"/api/handoffs/{handoff['id']}/resolve", {"resolution": "test"}).raise_for_status()
    supervisor.close()
