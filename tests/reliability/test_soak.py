"""Soak: a few hundred concurrent conversations for a bounded time, no errors, bounded memory.

CONVERSATIONS customers (web chat and SMS) talk at once for SECONDS: each follows the bench's
scripted billing conversation (verify, balance, bill explanation, plan preview) with a
customer's think time between turns, starting at a random moment of the first STAGGER seconds;
one in ten ends by asking for a person, and two agents claim and resolve whoever is queued.
Bounded in time (no turn starts after SECONDS) and count (MAX_TURNS).

Passes when: no request failed or got an unexpected answer, every customer text is in the
transcript exactly once, every SMS reply went out, the stores are consistent, and the handoff
service's resident memory grew by at most RSS_GROWTH_MB between the warmed-up start and the
end (measured: see docs/performance.md).
"""
import asyncio
import os
import random
import re
import time
import uuid
from collections import Counter

import httpx
from twilio.request_validator import RequestValidator

from bench.conversations import billing_script
from bench.stack import SERVICE_NUMBER, TWILIO_SID, TWILIO_TOKEN, rss_mb
from tests.reliability.helpers import inconsistencies, rows, staff

CONVERSATIONS = 240
SMS_SHARE = 0.15
PERSON_SHARE = 0.1
SECONDS = 75
STAGGER = 20
THINK = (15.0, 30.0)
MAX_TURNS = 3000
RSS_GROWTH_MB = 60


async def soak(stack) -> dict:
    rng = random.Random(11)
    deadline = time.monotonic() + SECONDS
    results = {"turns": 0, "errors": Counter(), "examples": [], "sent": {}, "queued": 0}
    signed_url = stack.public_url + "/sms/twilio"
    validator = RequestValidator(TWILIO_TOKEN)
    # customers whose verification another test locked (brute force) cannot verify for 15 min
    locked = {n for (n,) in rows(stack.billing_url, "select account_number from accounts where "
                                                    "verification_locked_until is not null")}
    customers = [c for c in stack.customers if c.account_number not in locked]

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=400)) as client:
        async def say(kind: str, conversation_id: str, phone: str, text: str):
            if kind == "web":
                response = await client.post(stack.public_url + "/api/chat/messages",
                                             json={"conversation_id": conversation_id, "text": text})
                body = response.json() if response.status_code == 200 else {}
                return response.status_code, body.get("mode"), [r["text"] for r in body.get("replies", [])]
            params = {"MessageSid": "SM" + os.urandom(16).hex(), "AccountSid": TWILIO_SID, "From": phone,
                      "To": SERVICE_NUMBER, "Body": text, "NumMedia": "0"}
            response = await client.post(signed_url, data=params, headers={
                "X-Twilio-Signature": validator.compute_signature(signed_url, params)})
            return response.status_code, None, None  # the answer goes out by SMS

        def failed(kind: str, detail: str) -> None:
            results["errors"][kind] += 1
            if len(results["examples"]) < 8:
                results["examples"].append(detail)

        async def customer(index: int) -> None:
            kind = "sms" if index < CONVERSATIONS * SMS_SHARE else "web"
            phone = f"+316980{index:05d}"
            conversation_id = f"sms-{phone[1:]}" if kind == "sms" else f"soak-{uuid.uuid4().hex[:12]}"
            person = rng.random() < PERSON_SHARE
            script = billing_script(rng.choice(customers), random.Random(index))
            await asyncio.sleep(rng.uniform(0, STAGGER))
            sent = results["sent"].setdefault(conversation_id, [])
            for number, turn in enumerate(script):
                if time.monotonic() > deadline or results["turns"] >= MAX_TURNS:
                    return
                text = "I want to talk to a person" if person and number == 2 else turn.text
                results["turns"] += 1
                try:
                    status, mode, replies = await say(kind, conversation_id, phone, text)
                except httpx.HTTPError as exc:
                    failed(type(exc).__name__, f"{conversation_id}: {text!r}: {exc!r}")
                    return
                sent.append(text)
                if status != 200:
                    failed(f"http {status}", f"{conversation_id}: {text!r} -> {status}")
                    return
                if kind == "web":
                    expected_mode = "queued" if text.startswith("I want to talk") else "bot"
                    if mode != expected_mode:
                        failed(f"mode {mode}", f"{conversation_id}: {text!r} -> {mode}: {replies}")
                        return
                    if mode == "queued":
                        results["queued"] += 1
                        return
                    joined = " ".join(replies).lower()
                    if turn.expect and not any(w in joined for w in turn.expect.split("|")):
                        failed("unexpected reply", f"{conversation_id}: {text!r} -> {replies}")
                        return
                elif text.startswith("I want to talk"):
                    return
                await asyncio.sleep(rng.uniform(*THINK))

        async def agent(username: str) -> None:
            with staff(stack, username) as api:
                api.post("/api/agents/me/presence", json={"status": "online"}).raise_for_status()
                try:
                    while time.monotonic() < deadline + 5:
                        await asyncio.sleep(1)
                        queued = (await asyncio.to_thread(api.get, "/api/handoffs")).json()
                        for handoff in queued[:2]:
                            claim = await asyncio.to_thread(api.post, f"/api/handoffs/{handoff['id']}/claim")
                            if claim.status_code == 200:
                                await asyncio.to_thread(api.post, f"/api/handoffs/{handoff['id']}/resolve",
                                                        json={"resolution": "soak"})
                            elif claim.status_code >= 500:
                                failed(f"claim {claim.status_code}", claim.text[:200])
                finally:
                    api.post("/api/agents/me/presence", json={"status": "offline"})

        await asyncio.gather(*(customer(i) for i in range(CONVERSATIONS)),
                             agent("agent1"), agent("super1"))
    return results


def test_a_few_hundred_conversations_for_a_while(stack):
    # warm up (first turns load what Rasa and the services load lazily), then measure
    asyncio.run(_warm_up(stack))
    before = rss_mb(stack.handoff.pid)
    started = time.monotonic()
    results = asyncio.run(soak(stack))
    elapsed = time.monotonic() - started
    time.sleep(3)  # the last SMS replies leave the outbox
    after = rss_mb(stack.handoff.pid)
    print(f"\nsoak: {CONVERSATIONS} conversations, {results['turns']} turns in {elapsed:.0f} s, "
          f"{results['queued']} queued for a person, errors {dict(results['errors'])}, "
          f"handoff RSS {before:.0f} -> {after:.0f} MB")
    assert sum(results["errors"].values()) == 0, results["examples"]
    assert results["turns"] >= CONVERSATIONS * 2, results["turns"]
    assert elapsed < SECONDS + 60
    for conversation_id, texts in results["sent"].items():
        stored = [t for (t,) in rows(stack.handoff_url, "select text from messages where conversation_id=:c "
                                                        "and author='customer' order by seq", c=conversation_id)]
        assert stored == texts, (conversation_id, stored, texts)
    deadline = time.monotonic() + 60
    while rows(stack.handoff_url, "select count(*) from outbound_sms where status != 'sent'")[0][0]:
        assert time.monotonic() < deadline, "SMS replies still waiting in the outbox"
        time.sleep(0.5)
    assert inconsistencies(stack) == []
    assert after - before <= RSS_GROWTH_MB, f"handoff RSS grew {after - before:.0f} MB"
    # and over the whole suite (bad input, faults, fuzzing, security, this soak): not one 5xx
    answered = stack.handoff.logs()
    assert re.findall(r'"[A-Z]+ [^"]*" 5\d\d', answered) == []


async def _warm_up(stack) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        for i in range(4):
            customer = stack.customers[i]
            for turn in billing_script(customer, random.Random(i)):
                await client.post(stack.public_url + "/api/chat/messages",
                                  json={"conversation_id": f"warm-{i}-{uuid.uuid4().hex[:6]}", "text": turn.text})
