"""Real processes for the handoff service tests, started once per session.

The bot (Rasa server + action server on a seeded SQLite billing DB) comes from the fixtures of
`tests/bot/conftest.py`; on top of it: the Twilio stand-in (`handoff.twilio_fake`, the only
fake: Twilio's cloud cannot be reached) and the handoff service itself (uvicorn
`handoff.main:app` on a migrated temporary SQLite store), wired to both.
"""
import os
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from billing_core.cli import DEV_STAFF_PASSWORD
from bot.serve import APP_PYTHON, Server, free_port, start
from bot.training import rasa_env
from handoff.migrate import upgrade
from tests.bot.conftest import (  # noqa: F401 - fixtures shared with the bot tests
    action_server, bot_database_url, endpoints, model, rasa_server)

TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "test-twilio-auth-token"
SERVICE_NUMBER = "+3197010000000"


@dataclass
class TwilioFake:
    server: Server

    @property
    def url(self) -> str:
        return self.server.url

    def messages(self, to: str) -> list[dict]:
        response = httpx.get(f"{self.url}/messages", params={"to": to}, timeout=5)
        response.raise_for_status()
        return response.json()

    def wait_for(self, to: str, count: int, timeout: float = 20) -> list[dict]:
        """The first `count` messages sent to `to`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages(to)
            if len(messages) >= count:
                return messages
            if time.monotonic() > deadline:
                raise AssertionError(f"{to} got {len(messages)} SMS, expected {count}: "
                                     f"{[m['body'] for m in messages]}")
            time.sleep(0.1)

    def fail(self, count: int, *, status: int = 500, to: str | None = None,
             code: int | None = None) -> None:
        httpx.post(f"{self.url}/fail", json={"count": count, "status": status, "to": to,
                                              "code": code}, timeout=5).raise_for_status()


@dataclass
class HandoffService:
    server: Server
    database_url: str
    public_url: str
    auth_token: str

    @property
    def url(self) -> str:
        return self.server.url

    def rows(self, sql: str, **params) -> list:
        """Read the service's store directly (SQLite in WAL mode: readers never block it)."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql), params))
        finally:
            engine.dispose()

    def sms(self, phone: str, body: str, *, sid: str | None = None,
            signature: str | None = None, timeout: float = 30) -> httpx.Response:
        """Deliver an SMS as Twilio's webhook does: form fields, signed with the auth token."""
        params = {"MessageSid": sid or "SM" + os.urandom(16).hex(), "AccountSid": TWILIO_SID,
                  "From": phone, "To": SERVICE_NUMBER, "Body": body, "NumMedia": "0"}
        url = self.public_url + "/sms/twilio"
        if signature is None:
            signature = RequestValidator(self.auth_token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        return httpx.post(self.url + "/sms/twilio", data=params, headers=headers, timeout=timeout)

    def token(self, username: str, password: str) -> str:
        response = httpx.post(self.url + "/api/auth/token",
                              data={"username": username, "password": password}, timeout=10)
        response.raise_for_status()
        return response.json()["access_token"]

    def staff(self, username: str, password: str) -> httpx.Client:
        """An HTTP client signed in as a staff member (bearer token)."""
        return httpx.Client(base_url=self.url, timeout=30, headers={
            "Authorization": f"Bearer {self.token(username, password)}"})

    def handoff_of(self, staff: httpx.Client, conversation_id: str, status: str = "queued") -> dict:
        response = staff.get("/api/handoffs", params={"status": status})
        response.raise_for_status()
        found = [h for h in response.json() if h["conversation_id"] == conversation_id]
        assert found, f"no {status} handoff for {conversation_id}: {response.json()}"
        return found[0]


@pytest.fixture(scope="session")
def staff_password() -> str:
    """The demo staff password the bot DB was seeded with (see billing_core.cli)."""
    return os.environ.get("BILLING_DEMO_STAFF_PASSWORD") or DEV_STAFF_PASSWORD


@pytest.fixture(scope="session")
def handoff_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def twilio_fake(handoff_port, tmp_path_factory):
    port = free_port()
    server = start("twilio fake",
                   [str(APP_PYTHON), "-m", "handoff.twilio_fake", "--port", str(port),
                    "--account-sid", TWILIO_SID, "--auth-token", TWILIO_TOKEN,
                    "--handoff-url", f"http://127.0.0.1:{handoff_port}"],
                   health="/messages", port=port, env=rasa_env(), timeout=60,
                   log=tmp_path_factory.mktemp("twilio") / "twilio_fake.log")
    yield TwilioFake(server)
    server.stop()


def start_handoff_service(*, port: int, database_url: str, rasa_url: str, billing_url: str,
                          twilio_url: str, log: Path, **settings: str) -> HandoffService:
    """The service as a real uvicorn process; `settings` are extra HANDOFF_* variables."""
    public_url = f"http://127.0.0.1:{port}"
    env = rasa_env(
        HANDOFF_DATABASE_URL=database_url, BILLING_DATABASE_URL=billing_url,
        HANDOFF_RASA_URL=rasa_url, HANDOFF_PUBLIC_URL=public_url,
        HANDOFF_TWILIO_API_BASE_URL=twilio_url, HANDOFF_TWILIO_ACCOUNT_SID=TWILIO_SID,
        HANDOFF_TWILIO_AUTH_TOKEN=TWILIO_TOKEN, HANDOFF_TWILIO_FROM_NUMBER=SERVICE_NUMBER,
        # fast retries so the retry tests take about a second; 4 tries before `failed`
        HANDOFF_SMS_RETRY_BASE_SECONDS="0.2", HANDOFF_SMS_RETRY_MAX_SECONDS="2",
        HANDOFF_SMS_MAX_ATTEMPTS="4", HANDOFF_SMS_POLL_SECONDS="1",
        HANDOFF_TWILIO_TIMEOUT_SECONDS="5",
        **{f"HANDOFF_{name.upper()}": value for name, value in settings.items()})
    server = start("handoff service",
                   [str(APP_PYTHON), "-m", "uvicorn", "handoff.main:app", "--host", "127.0.0.1",
                    "--port", str(port), "--ws", "wsproto", "--log-level", "info"],
                   health="/healthz", port=port, env=env, timeout=60, log=log)
    return HandoffService(server, database_url, public_url, TWILIO_TOKEN)


@pytest.fixture(scope="session")
def handoff_service(handoff_port, twilio_fake, rasa_server, bot_database_url, tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("handoff")
    database_url = f"sqlite:///{folder / 'handoff.db'}"
    upgrade(database_url)
    service = start_handoff_service(port=handoff_port, database_url=database_url,
                                    rasa_url=rasa_server.url, billing_url=bot_database_url,
                                    twilio_url=twilio_fake.url, log=folder / "handoff.log")
    yield service
    service.server.stop()
