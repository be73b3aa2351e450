"""A web chat customer and the SMS a phone received, for tests through the running service."""
import re
import time
import uuid
from dataclasses import dataclass
from datetime import date

import httpx
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from billing_core.db import session_scope
from billing_core.enums import Language
from billing_core.seed import DemoCustomer, add_customer_history


class WebCustomer:
    def __init__(self, service):
        self.service, self.conversation_id = service, f"web-{uuid.uuid4().hex[:16]}"

    def say(self, text: str, payload: str | None = None) -> dict:
        body = {"conversation_id": self.conversation_id, "text": text}
        if payload:
            body["payload"] = payload
        response = httpx.post(self.service.url + "/api/chat/messages", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def lines(self) -> list[str]:
        response = httpx.get(f"{self.service.url}/api/chat/{self.conversation_id}/messages",
                             timeout=10)
        response.raise_for_status()
        return [m["text"] for m in response.json()["messages"]]


def sms_since(fake, phone: str, seen: int, expect: str, timeout: float = 20) -> str:
    """The SMS sent to `phone` after the first `seen`, once one matches `expect`."""
    deadline = time.monotonic() + timeout
    while True:
        new = "\n".join(m["body"] for m in fake.messages(phone)[seen:])
        if re.search(expect, new):
            return new
        assert time.monotonic() < deadline, f"no SMS matching {expect!r}; got: {new!r}"
        time.sleep(0.1)


@dataclass(frozen=True)
class NewCustomer:
    account_number: str
    name: str
    date_of_birth: str  # as a customer types it: DD-MM-YYYY
    postcode: str


def add_customer(database_url: str, *, name: str, language: str = "en", years: int = 6,
                 plan: str = "plus", usage_gb: tuple[int, ...] = (20,) * 7,
                 promotion_percent: int | None = None, late_cycle: int | None = None) -> NewCustomer:
    """A customer of their own for a test, written into the bot's billing DB through the
    demo seed's own history builder: tests that grant them something (a retention discount
    once a year) do not take it from the demo customers other tests rely on.

    Account numbers start with 4: never a date, so the staff's masking leaves them readable."""
    number = "4" + str(uuid.uuid4().int)[:7]
    spec = DemoCustomer(name, number, date(1970, 3, 15), "7511JK",
                        "+3162" + str(uuid.uuid4().int)[:7], Language(language), plan, years,
                        usage_gb, promotion_percent=promotion_percent, late_cycle=late_cycle)
    engine = create_engine(database_url)
    try:
        with session_scope(sessionmaker(engine)) as session:
            add_customer_history(session, spec, today=date.today())
    finally:
        engine.dispose()
    return NewCustomer(number, name, "15-03-1970", "7511 JK")


def text_the_bot(service, fake, phone: str, body: str, expect: str) -> str:
    """Send an SMS from `phone` and wait for the reply that matches `expect`."""
    seen = len(fake.messages(phone))
    assert service.sms(phone, body).status_code == 200
    return sms_since(fake, phone, seen, expect)


# Tom Baker previews 6 instalments by SMS and says no, then asks for a person: option
# replies ("4", "2") the agent should read as what they picked.
TOM_SMS_OPTIONS = [("I'd like a payment arrangement", "account number"),
                   ("10000003", "date of birth"), ("30-01-1978", r"4\) 6 instalments"),
                   ("4", r"2\) No"), ("2", "Anything else"),
                   ("I want to talk to a person", "in the queue")]
