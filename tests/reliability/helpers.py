"""Clients for the reliability tests: a web customer, a phone, staff, and the end-state check."""
from __future__ import annotations

import os
import time
import uuid

import httpx
from twilio.request_validator import RequestValidator

from bench.stack import SERVICE_NUMBER, STAFF_PASSWORD, TWILIO_SID, TWILIO_TOKEN, Stack
from tests.handoff.page_fixtures import billing_rows

AMOUNT = "€"


rows = billing_rows  # plain SQL on any of the stack's databases


class Web:
    """A web-chat customer on the REST contract; retries while the service is down."""

    def __init__(self, stack: Stack, conversation_id: str | None = None, lang: str | None = None):
        self.stack, self.lang = stack, lang
        self.conversation_id = conversation_id or f"rel-{uuid.uuid4().hex[:16]}"

    def post(self, message: str, timeout: float = 30) -> httpx.Response:
        body = {"conversation_id": self.conversation_id, "text": message}
        if self.lang:
            body["lang"] = self.lang
        return httpx.post(self.stack.public_url + "/api/chat/messages", json=body, timeout=timeout)

    def say(self, message: str) -> dict:
        response = self.post(message)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    def text(self, message: str) -> str:
        return "\n".join(r["text"] for r in self.say(message)["replies"])

    def transcript(self) -> dict:
        response = httpx.get(f"{self.stack.public_url}/api/chat/{self.conversation_id}/messages",
                             timeout=10)
        response.raise_for_status()
        return response.json()

    def said(self) -> list[str]:
        return [m["text"] for m in self.transcript()["messages"] if m["author"] == "customer"]


def verify(web: Web, account_number: str, factor: str, opening: str = "what is my balance?") -> str:
    web.say(opening)
    web.say(account_number)
    reply = web.text(factor)
    assert "verified" in reply or "geverifieerd" in reply, reply
    return reply


def sms(stack: Stack, phone: str, body: str, *, sid: str | None = None, signature: str | None = None,
        url: str | None = None, token: str = TWILIO_TOKEN, extra: dict | None = None,
        timeout: float = 30) -> httpx.Response:
    """Twilio's webhook as Twilio sends it: form fields signed over the public URL."""
    params = {"MessageSid": sid if sid is not None else "SM" + os.urandom(16).hex(), "AccountSid": TWILIO_SID,
              "From": phone, "To": SERVICE_NUMBER, "Body": body, "NumMedia": "0", **(extra or {})}
    if signature is None:
        signature = RequestValidator(token).compute_signature(url or stack.public_url + "/sms/twilio",
                                                              params)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return httpx.post(stack.public_url + "/sms/twilio", data=params, headers=headers, timeout=timeout)


def sent_to(stack: Stack, phone: str) -> list[dict]:
    response = httpx.get(stack.twilio.url + "/messages", params={"to": phone}, timeout=10)
    response.raise_for_status()
    return response.json()


def wait_for_sms(stack: Stack, phone: str, count: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        got = sent_to(stack, phone)
        if len(got) >= count or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def token(stack: Stack, username: str, password: str = STAFF_PASSWORD) -> str:
    response = httpx.post(stack.public_url + "/api/auth/token",
                          data={"username": username, "password": password}, timeout=10)
    response.raise_for_status()
    return response.json()["access_token"]


def staff(stack: Stack, username: str) -> httpx.Client:
    return httpx.Client(base_url=stack.public_url, timeout=30,
                        headers={"Authorization": f"Bearer {token(stack, username)}"})


def wait_until_up(stack: Stack, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(stack.public_url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the handoff service did not come back")


# -- end state --------------------------------------------------------------------------------
def inconsistencies(stack: Stack) -> list[str]:
    """Everything about the stores that would make a conversation's state ambiguous.

    - transcript numbers run 1..last_seq without gaps or repeats;
    - who owns a conversation agrees with its handoffs: `queued` has exactly one queued
      handoff, `agent` exactly one claimed handoff by that agent, `bot` and `closed` none open;
    - no conversation has two open handoffs; no agent holds more than their limit;
    - every outbound SMS is pending, sent or failed, and a pending one still has tries left;
    - in billing, no idempotency key was written twice (also a unique index) and no plan
      change or concession was made twice for the same offer.
    """
    problems = []
    h = stack.handoff_url
    for cid, last_seq, count, low, high in rows(h, """
            select c.id, c.last_seq, count(m.id), min(m.seq), max(m.seq) from conversations c
            left join messages m on m.conversation_id = c.id group by c.id"""):
        if count and (low != 1 or high != last_seq or count != last_seq):
            problems.append(f"{cid}: transcript seq {low}..{high} ({count} lines), last_seq {last_seq}")
    for cid, owner, agent, queued, claimed, claimed_by in rows(h, """
            select c.id, c.owner, c.agent,
                   sum(case when h.status='queued' then 1 else 0 end),
                   sum(case when h.status='claimed' then 1 else 0 end),
                   max(case when h.status='claimed' then h.agent end)
            from conversations c left join handoffs h on h.conversation_id = c.id group by c.id"""):
        queued, claimed = queued or 0, claimed or 0
        ok = {"queued": queued == 1 and claimed == 0,
              "agent": claimed == 1 and queued == 0 and claimed_by == agent,
              "bot": queued == 0 and claimed == 0, "closed": queued == 0 and claimed == 0}.get(owner)
        if not ok:
            problems.append(f"{cid}: owner {owner} (agent {agent}) with {queued} queued and "
                            f"{claimed} claimed handoffs (claimed by {claimed_by})")
    for agent, n in rows(h, "select agent, count(*) from handoffs where status='claimed' group by agent"):
        limit = rows(stack.billing_url, "select max_concurrent from staff_users where username=:u", u=agent)
        if limit and n > limit[0][0]:
            problems.append(f"agent {agent} holds {n} conversations, limit {limit[0][0]}")
    for sid, status, attempts in rows(h, "select id, status, attempts from outbound_sms"):
        if status not in ("pending", "sent", "failed"):
            problems.append(f"outbound sms {sid}: status {status}")
    b = stack.billing_url
    for table in ("plan_changes", "adjustments", "payment_arrangements"):
        for key, n in rows(b, f"select idempotency_key, count(*) from {table} group by idempotency_key having count(*) > 1"):
            problems.append(f"{table}: idempotency key {key} written {n} times")
    return problems
