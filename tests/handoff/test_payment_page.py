"""Payment links: GET /api/payment-links/{token} and the page /pay/{token} they land on.

A real handoff service (uvicorn) over a freshly seeded demo billing database; no bot needed
(Rasa and Twilio point at a closed port). Links are made by the billing core itself
(`create_payment_link`, as the bot's action does), the page runs in headless Chromium.
A second service runs the same data with BILLING_ENVIRONMENT=production and no bank account.
"""
import base64
import json
import re
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from billing_core.config import DEV_PAYMENT_BENEFICIARY, DEV_PAYMENT_IBAN, get_settings
from billing_core.db import make_engine, make_session_factory, session_scope, utcnow
from billing_core.invoices.service import PaymentLink, create_payment_link, get_balance
from bot.serve import free_port
from handoff.migrate import upgrade
from tests.bot.conftest import seeded_database
from tests.handoff.browser import PHONE, browser, new_page, shoot  # noqa: F401 - the browser fixture
from tests.handoff.conftest import HandoffService, start_handoff_service
from tests.handoff.report_fixtures import NOWHERE

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

PRODUCTION = {"BILLING_ENVIRONMENT": "production",
              "BILLING_SECRET_KEY": "payment-page-test-production-key"}


def serve(folder, billing_url: str) -> HandoffService:
    store_url = f"sqlite:///{folder / 'handoff.db'}"
    upgrade(store_url)
    return start_handoff_service(port=free_port(), database_url=store_url, rasa_url=NOWHERE,
                                 billing_url=billing_url, twilio_url=NOWHERE,
                                 log=folder / "handoff.log")


@pytest.fixture(scope="module")
def billing_url(tmp_path_factory) -> str:
    return seeded_database(tmp_path_factory.mktemp("payments-billing"))


@pytest.fixture(scope="module")
def billing(billing_url):
    engine = make_engine(billing_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def service(billing_url, tmp_path_factory) -> HandoffService:
    """The dev default: the documentation example bank account."""
    service = serve(tmp_path_factory.mktemp("payments"), billing_url)
    yield service
    service.server.stop()


@pytest.fixture(scope="module")
def production_service(billing_url, tmp_path_factory) -> HandoffService:
    """Outside dev with no BILLING_PAYMENT_IBAN: no bank account may be shown."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in PRODUCTION.items():
            env.setenv(name, value)
        for name in ("BILLING_PAYMENT_IBAN", "BILLING_PAYMENT_BENEFICIARY"):
            env.delenv(name, raising=False)
        service = serve(tmp_path_factory.mktemp("payments-production"), billing_url)
    yield service
    service.server.stop()


def link(billing, account_number: str, *, now: datetime | None = None,
         environment: dict[str, str] | None = None) -> PaymentLink:
    """A link as the bot makes it; `environment` signs it with those BILLING_* settings."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in (environment or {}).items():
            env.setenv(name, value)
        get_settings.cache_clear()
        try:
            with session_scope(billing) as session:
                return create_payment_link(session, account_number=account_number, now=now)
        finally:
            get_settings.cache_clear()


def balance_of(billing, account_number: str) -> int:
    with session_scope(billing) as session:
        return get_balance(session, account_number=account_number).balance_minor


def fetch(service: HandoffService, token: str) -> httpx.Response:
    return httpx.get(f"{service.url}/api/payment-links/{token}", timeout=10)


# -- the JSON endpoint ---------------------------------------------------------------------
@pytest.mark.parametrize("account_number", ["10000003", "10000001"])  # Tom (overdue), Jane
def test_a_link_shows_the_amount_due_the_masked_account_and_how_to_transfer(
        service, billing, account_number):
    made = link(billing, account_number)
    response = fetch(service, made.token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"amount_minor", "currency", "account", "valid_until", "bank_transfer"}
    assert body["amount_minor"] == balance_of(billing, account_number) > 0
    assert body["currency"] == "EUR"
    assert body["account"] == "••••" + account_number[-4:]
    assert datetime.fromisoformat(body["valid_until"]) == made.expires_at.replace(microsecond=0)
    assert body["bank_transfer"] == {"beneficiary": DEV_PAYMENT_BENEFICIARY,
                                     "iban": DEV_PAYMENT_IBAN, "reference": account_number}
    assert made.url == f"http://127.0.0.1:8000/pay/{made.token}"   # the default lands on the page


def test_an_expired_link_is_gone_with_a_way_forward(service, billing):
    made = link(billing, "10000003", now=utcnow() - timedelta(hours=49))
    response = fetch(service, made.token)
    assert response.status_code == 410, response.text
    assert response.json() == {"code": "payment_link_expired", "detail":
                               "this payment link has expired; ask the assistant for a new one"}


def forged(token: str, **changes) -> str:
    """The token's claims changed, its signature kept."""
    payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw = json.dumps({**claims, **changes}, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + signature


GARBAGE = ["x", "a.b", "...", "a.b.c", "a" * 8000, "é.ü", "😀", "%F0%9F%98%80.%C3%A9",
           "%ED%A0%80.x", "%00", "%20", "null", "{}", "eyJ9.eyJ9", "x" * 4000 + "." + "y"]


def test_tampered_and_garbage_tokens_are_404_never_a_server_error(service, billing):
    made = link(billing, "10000003")
    payload, signature = made.token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    tampered = [payload + "." + flipped, forged(made.token, amt=1),
                forged(made.token, acct="10000001"), made.token + "x", "x" + made.token]
    for token in tampered + GARBAGE:
        response = fetch(service, token)
        assert response.status_code == 404, (token[:40], response.status_code, response.text[:200])
        assert response.json()["detail"] == \
            "this payment link is not valid; ask the assistant for a new one", token[:40]
    # a path that is no token at all ("." and ".." are resolved away) is the router's plain 404
    for path in ("/api/payment-links/", "/api/payment-links/a%2Fb", "/api/payment-links/a/b",
                 "/api/payment-links/.", "/api/payment-links/..", "/api/payment-links/%2e%2e"):
        response = httpx.get(service.url + path, timeout=10)
        assert response.status_code == 404, path


def test_outside_dev_without_a_bank_account_no_transfer_details_are_given(production_service, billing):
    made = link(billing, "10000001", environment=PRODUCTION)
    body = fetch(production_service, made.token).json()
    assert body["bank_transfer"] is None
    assert body["amount_minor"] == balance_of(billing, "10000001")
    # a dev-signed link is not one of this deployment's
    assert fetch(production_service, link(billing, "10000001").token).status_code == 404


# -- the page ------------------------------------------------------------------------------
def test_the_page_is_a_plain_file_with_the_strict_policy(service):
    response = httpx.get(service.url + "/pay/whatever.token", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"   # the token stays on this page
    assert "<script>" not in response.text and "style=" not in response.text
    for name in ("pay.js", "pay.css"):
        asset = httpx.get(f"{service.url}/static/{name}", timeout=10)
        assert asset.status_code == 200
        assert not re.search(r"""(import|fetch|src|href)\(?\s*["'`]https?://""", asset.text)


@pytest.mark.browser
def test_the_page_shows_what_to_pay_and_how_on_a_phone(service, billing, browser):  # noqa: F811
    made = link(billing, "10000001")
    page = new_page(browser, service.url, **PHONE)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service.url)
    page.goto(f"/pay/{made.token}")
    expect(page.locator("body")).to_have_attribute("data-state", "ready")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay your bill")
    expect(page.locator("#amount")).to_have_text("€53.40")    # Jane's balance, 5340 cents
    content = page.locator("#content")
    expect(content).to_have_attribute("aria-live", "polite")
    expect(content).to_have_attribute("aria-busy", "false")
    expect(content).to_contain_text("••••0001")
    expect(content).to_contain_text(str(made.expires_at.year))
    transfer = page.locator("#transfer")
    for shown in ("Example Billing B.V. (demo)", "NL91 ABNA 0417 1643 00", "10000001", "€53.40"):
        expect(transfer).to_contain_text(shown)
    expect(page.get_by_role("heading", name="Pay by bank transfer")).to_be_visible()
    expect(page.get_by_role("link", name="Ask the assistant in the chat")).to_have_attribute("href", "/chat")
    page.get_by_role("button", name="Copy IBAN").click()
    assert page.evaluate("navigator.clipboard.readText()") == DEV_PAYMENT_IBAN
    expect(page.get_by_role("button", name="Copy IBAN")).to_have_text("Copied")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, "pay-phone-1-ready")
    assert page.problems == []


@pytest.mark.browser
def test_expired_and_invalid_links_say_to_ask_for_a_new_one(service, billing, browser):  # noqa: F811
    expired = link(billing, "10000003", now=utcnow() - timedelta(hours=49))
    page = new_page(browser, service.url, **PHONE)
    page.goto(f"/pay/{expired.token}")
    expect(page.locator("body")).to_have_attribute("data-state", "expired")
    expect(page.get_by_role("heading", name="This payment link has expired")).to_be_visible()
    expect(page.locator("#content")).to_contain_text("Ask the assistant in the chat for a new link")
    expect(page.locator("#content")).not_to_contain_text(re.compile("€|null|undefined"))
    expect(page.get_by_role("link", name="Ask the assistant in the chat")).to_have_attribute("href", "/chat")
    shoot(page, "pay-phone-2-expired")
    page.goto("/pay/" + forged(expired.token, exp=4102444800))   # valid until 2100, forged
    expect(page.locator("body")).to_have_attribute("data-state", "invalid")
    expect(page.get_by_role("heading", name="This payment link is not valid")).to_be_visible()
    # the browser logs a failed fetch (404/410) as a console error; nothing else may go wrong
    assert [p for p in page.problems if "status of 4" not in p] == []


@pytest.mark.browser
def test_the_page_speaks_dutch_like_the_chat(service, billing, browser):  # noqa: F811
    made = link(billing, "10000001")
    by_locale = new_page(browser, service.url, locale="nl-NL", **PHONE)
    by_locale.goto(f"/pay/{made.token}")
    expect(by_locale.locator("html")).to_have_attribute("lang", "nl")
    expect(by_locale.get_by_role("heading", level=1)).to_have_text("Uw rekening betalen")
    expect(by_locale.locator("#amount")).to_have_text(re.compile(r"^€\s53,40$"))
    expect(by_locale.locator("#content")).to_contain_text("Betalingskenmerk")
    expect(by_locale.locator("#content")).to_contain_text(" om ")   # "… 2025 om 14:05"
    shoot(by_locale, "pay-phone-3-dutch")
    # the language chosen in the chat wins over the browser's
    chosen = new_page(browser, service.url, locale="en-GB", **PHONE)
    chosen.add_init_script("localStorage.setItem('billing-chat.lang', 'nl')")
    expired = link(billing, "10000003", now=utcnow() - timedelta(hours=49))
    chosen.goto(f"/pay/{expired.token}")
    expect(chosen.get_by_role("heading", name="Deze betaallink is verlopen")).to_be_visible()
    expect(chosen.get_by_role("link", name="Vraag het de assistent in de chat")).to_be_visible()


@pytest.mark.browser
def test_without_a_bank_account_the_page_refers_to_the_bill_and_support(
        production_service, billing, browser):  # noqa: F811
    made = link(billing, "10000001", environment=PRODUCTION)
    page = new_page(browser, production_service.url, **PHONE)
    page.goto(f"/pay/{made.token}")
    expect(page.locator("#amount")).to_have_text("€53.40")
    expect(page.locator("#no-transfer")).to_have_text(
        "Pay with the payment method on your bill, or contact support in the chat.")
    expect(page.locator("#transfer")).to_have_count(0)
    expect(page.locator("#content")).not_to_contain_text("IBAN")
    assert page.problems == []
