"""Helpers for the page and concession tests: staff API clients and customer conversations.

They talk to the real handoff service of `tests/handoff/conftest.py` (uvicorn, real Rasa and
action server on the seeded billing DB); nothing is mocked.
"""
import time
import uuid

import httpx
from sqlalchemy import create_engine, text


class Staff:
    """A signed-in staff member's API client."""

    def __init__(self, service, username: str, password: str):
        self.service, self.username = service, username
        self.token = service.token(username, password)
        self.client = httpx.Client(base_url=service.url, timeout=30,
                                   headers={"Authorization": f"Bearer {self.token}"})

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, json: dict | None = None, **kwargs) -> httpx.Response:
        return self.client.post(path, json=json, **kwargs)

    def handoff_for(self, conversation_id: str, status: str = "queued", timeout: float = 10) -> dict:
        """The handoff of a conversation (waits briefly: the queue is written after the turn)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.get("/api/handoffs", params={"status": status}).raise_for_status().json()
            found = [row for row in rows if row["conversation_id"] == conversation_id]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {status} handoff for {conversation_id}: {rows}")
            time.sleep(0.2)

    def close(self) -> None:
        self.client.close()


class Customer:
    """A web-chat customer talking through the REST contract (POST /api/chat/messages)."""

    def __init__(self, service, lang: str | None = None):
        self.service, self.lang = service, lang
        self.conversation_id = f"web-{uuid.uuid4().hex[:16]}"

    def say(self, message: str) -> dict:
        body = {"conversation_id": self.conversation_id, "text": message}
        if self.lang:
            body["lang"] = self.lang
        response = httpx.post(self.service.url + "/api/chat/messages", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def text(self, message: str) -> str:
        return "\n".join(reply["text"] for reply in self.say(message)["replies"])


# What a verified customer says to reach the queue (phrasings the bot tests rely on too).
VERIFY = {
    "10000001": ("en", "why is my bill so high?", "12-04-1985", "I want to talk to a person"),
    "10000002": ("nl", "wat is mijn saldo", "3511 CD", "ik wil een medewerker spreken"),
    "10000003": ("en", "what is my balance", "30-01-1978", "I want to talk to a person"),
    "10000004": ("nl", "wat is mijn saldo", "5611GH", "ik wil een medewerker spreken"),
}


def queued_customer(service, account_number: str) -> Customer:
    """A customer who verified with the bot and asked for a person: their handoff is queued."""
    lang, opening, factor, ask = VERIFY[account_number]
    customer = Customer(service, lang)
    customer.say(opening)
    customer.say(account_number)
    verified = customer.text(factor)
    assert any(word in verified for word in ("verified", "geverifieerd")), verified
    result = customer.say(ask)
    assert result["mode"] == "queued", result
    return customer


def billing_rows(database_url: str, sql: str, **params) -> list:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params))
    finally:
        engine.dispose()
