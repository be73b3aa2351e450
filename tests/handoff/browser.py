"""Playwright helpers: Debian's headless Chromium, pages of the chat and the console.

Never `playwright install`: the browser is /usr/bin/chromium (`scripts/setup.sh browser`).
Every wait has a timeout, so a broken page fails a test instead of hanging it.
"""
import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15_000       # default for every Playwright action and expectation
BOT_TIMEOUT_MS = 30_000   # waiting for a bot answer (Rasa + action server)
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
REPO = Path(__file__).resolve().parents[2]


def ensure_chromium() -> Path:
    """/usr/bin/chromium, installed through the project's setup script when missing."""
    if not CHROMIUM.exists():
        subprocess.run(["bash", str(REPO / "scripts" / "setup.sh"), "browser"], check=False,
                       timeout=600, capture_output=True)
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing and `scripts/setup.sh browser` could not install it")
    return CHROMIUM


@contextmanager
def chromium():
    """A headless Chromium (Playwright's sync API), closed afterwards."""
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS,
                                             timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, base_url: str, **options):
    """A page in a fresh context (own localStorage and sessionStorage) with short timeouts.

    Console errors and failed requests to other hosts are collected on `page.problems`.
    """
    context = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on("console", lambda message: page.problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" else None)
    page.on("request", lambda request: page.problems.append(f"outside request: {request.url}")
            if not request.url.startswith((base_url, "data:", "ws://127.0.0.1")) else None)
    return page


def screenshot_dir() -> Path:
    """Where screenshots go: $SCREENSHOT_DIR, or a temporary folder kept after the run."""
    folder = Path(os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "handoff-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(page, name: str) -> Path:
    path = screenshot_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (contexts keep the users apart)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    with chromium() as instance:
        yield instance


# -- the customer chat page ------------------------------------------------------------
class ChatPage:
    def __init__(self, page):
        self.page = page

    def open(self, lang: str | None = None) -> "ChatPage":
        self.page.goto("/chat")
        self.page.wait_for_selector("body[data-live='true']")  # the WebSocket is connected
        if lang:
            self.page.get_by_role("button", name=lang.upper(), exact=True).click()
        return self

    @property
    def conversation_id(self) -> str:
        return self.page.evaluate("localStorage.getItem('billing-chat.conversation_id')")

    def count(self, author: str) -> int:
        return self.page.locator(f"#log .msg[data-author='{author}'][data-seq]").count()

    def say(self, text: str, *, wait_for: str | None = "bot", timeout: int = BOT_TIMEOUT_MS) -> str:
        """Type and send; then wait for a new message of `wait_for` and return its text."""
        before = self.count(wait_for) if wait_for else 0
        box = self.page.get_by_label(re.compile("^(Your message|Uw bericht)$"))
        box.fill(text)
        box.press("Enter")
        if wait_for is None:
            return ""
        return self.wait_for(wait_for, before + 1, timeout=timeout)

    def click_button(self, title: str, *, wait_for: str = "bot") -> str:
        before = self.count(wait_for)
        self.page.locator("#log .buttons:not(.used) button", has_text=title).first.click()
        return self.wait_for(wait_for, before + 1)

    def wait_for(self, author: str, count: int, timeout: int = BOT_TIMEOUT_MS) -> str:
        selector = f"#log .msg[data-author='{author}'][data-seq]"
        self.page.wait_for_function(
            "([selector, count]) => document.querySelectorAll(selector).length >= count",
            arg=[selector, count], timeout=timeout)
        # answers come as several lines: wait until the turn is over (typing indicator gone)
        self.page.wait_for_selector("#typing", state="hidden", timeout=timeout)
        texts = self.page.locator(selector + " .bubble").all_inner_texts()
        return "\n".join(texts[count - 1:])

    def texts(self, author: str) -> list[str]:
        return self.page.locator(f"#log .msg[data-author='{author}'] .bubble").all_inner_texts()

    def mode(self) -> str:
        return self.page.get_attribute("#mode", "data-mode")


# -- the agent console -----------------------------------------------------------------
class ConsolePage:
    def __init__(self, page):
        self.page = page

    def sign_in(self, username: str, password: str) -> "ConsolePage":
        self.page.goto("/console")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_selector("#app:not([hidden])")
        self.page.wait_for_selector("body[data-live='true']")  # the staff WebSocket is connected
        return self

    def go_online(self) -> None:
        self.page.get_by_role("button", name="Online").click()
        self.page.wait_for_selector(".presence-button[data-presence='online'][aria-pressed='true']")

    def queue_item(self, customer: str):
        return self.page.locator("#queue .item", has_text=customer)

    def claim(self, handoff_id: int) -> None:
        """Claim from the live queue: the item must show up there without a reload."""
        item = self.page.locator(f"#queue .item[data-handoff-id='{handoff_id}']")
        item.wait_for()
        item.get_by_role("button", name=re.compile("^Claim")).click()
        self.page.wait_for_selector("#conversation:not([hidden])")
        self.page.wait_for_selector("#reply-form:not([hidden])")

    def reply(self, text: str) -> None:
        before = self.page.locator("#messages .line-agent").count()
        self.page.get_by_label("Reply to the customer").fill(text)
        self.page.get_by_role("button", name="Send", exact=True).click()
        self.page.wait_for_function(
            "n => document.querySelectorAll('#messages .line-agent').length > n", arg=before)

    def toast(self, text: str):
        return self.page.locator("#toasts .toast", has_text=text)


def online_agent(browser, base_url: str, username: str, password: str) -> tuple:
    """A staff member signed in to the console on a desktop page and online: (page, console)."""
    page = new_page(browser, base_url, **DESKTOP)
    console = ConsolePage(page).sign_in(username, password)
    console.go_online()
    return page, console
