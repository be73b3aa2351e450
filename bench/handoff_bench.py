"""Handoff service figures: console notification latency, claim contention, SMS webhook throughput.

All bounded in count and time, all against the private stack of `bench.stack`.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from collections import Counter

import httpx
import websockets
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from bench import load
from bench.conversations import billing_script
from bench.stack import SERVICE_NUMBER, STAFF_PASSWORD, TWILIO_SID, TWILIO_TOKEN, Stack, add_agents, say

ASK_FOR_PERSON = "I want to talk to a person"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _stats(values_ms: list[float]) -> dict:
    return {"n": len(values_ms), "p50_ms": _r(load.percentile(values_ms, 0.5)),
            "p95_ms": _r(load.percentile(values_ms, 0.95)), "max_ms": _r(max(values_ms) if values_ms else None)}


def _r(value):
    return None if value is None else round(value, 1)


async def _token(client: httpx.AsyncClient, base: str, username: str) -> str:
    response = await client.post(base + "/api/auth/token",
                                 data={"username": username, "password": STAFF_PASSWORD})
    response.raise_for_status()
    return response.json()["access_token"]


# -- escalation -> console ------------------------------------------------------------------
async def _notification_latency(stack: Stack, count: int, timeout: float) -> dict:
    base = stack.public_url
    ws_url = base.replace("http://", "ws://") + "/api/agents/ws?token="
    latencies, missed, errors = [], 0, Counter()
    async with httpx.AsyncClient(timeout=30) as client:
        token = await _token(client, base, "agent1")
        headers = {"Authorization": f"Bearer {token}"}
        (await client.post(base + "/api/agents/me/presence", json={"status": "online"},
                           headers=headers)).raise_for_status()
        try:
            async with websockets.connect(ws_url + token, open_timeout=10) as socket:
                for _ in range(count):
                    conversation_id = f"esc-{uuid.uuid4().hex[:12]}"
                    # a first turn, so the escalation is a normal mid-conversation request
                    await client.post(base + "/api/chat/messages",
                                      json={"conversation_id": conversation_id, "text": "hi"})
                    while True:  # drop anything that arrived before
                        try:
                            await asyncio.wait_for(socket.recv(), timeout=0.05)
                        except asyncio.TimeoutError:
                            break
                    started = time.perf_counter()
                    post = asyncio.create_task(client.post(
                        base + "/api/chat/messages",
                        json={"conversation_id": conversation_id, "text": ASK_FOR_PERSON}))
                    got = None
                    deadline = started + timeout
                    while got is None and time.perf_counter() < deadline:
                        try:
                            raw = await asyncio.wait_for(socket.recv(), deadline - time.perf_counter())
                        except asyncio.TimeoutError:
                            break
                        event = json.loads(raw)
                        if event.get("type") == "queue_changed":
                            got = time.perf_counter() - started
                    response = await post
                    if response.status_code != 200 or response.json().get("mode") != "queued":
                        errors[f"not queued ({response.status_code})"] += 1
                    if got is None:
                        missed += 1
                    else:
                        latencies.append(got * 1000)
        finally:
            await client.post(base + "/api/agents/me/presence", json={"status": "offline"},
                              headers=headers)
    return {**_stats(latencies), "missed": missed, "errors": dict(errors)}


def notification_latency(stack: Stack, *, count: int = 20, background: int = 0,
                         think: tuple[float, float] | None = None, timeout: float = 10.0) -> dict:
    """Customer asks for a person -> the agent's WebSocket hears `queue_changed` (optionally
    while `background` other conversations keep the stack busy: paced with `think` seconds
    between turns, or closed loop)."""
    async def main() -> dict:
        stop = time.monotonic() + 120
        background_task = None
        if background:
            customers = stack.customers

            async def keep_busy():
                return await load._conversations(
                    load.handoff_sender(stack.public_url),
                    lambda rng: billing_script(rng.choice(customers), rng),
                    concurrency=background, seconds=max(1.0, stop - time.monotonic()),
                    max_turns=20_000, timeout=30, seed=99, prefix="bg", progress=None, think=think)
            background_task = asyncio.create_task(keep_busy())
            await asyncio.sleep(2)
        try:
            return await asyncio.wait_for(_notification_latency(stack, count, timeout), timeout=110)
        finally:
            if background_task is not None:
                background_task.cancel()
                try:
                    await background_task
                except (asyncio.CancelledError, Exception):
                    pass
    return asyncio.run(main())


# -- claim contention -------------------------------------------------------------------------
def _queue(stack: Stack, count: int) -> list[str]:
    ids = []
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            conversation_id = f"claim-{uuid.uuid4().hex[:12]}"
            body = client.post(stack.public_url + "/api/chat/messages",
                               json={"conversation_id": conversation_id, "text": ASK_FOR_PERSON}).json()
            if body.get("mode") == "queued":
                ids.append(conversation_id)
    return ids


def claim_contention(stack: Stack, *, handoffs: int = 20, agents: int = 12,
                     max_concurrent: int = 3) -> dict:
    """`agents` agents race to claim `handoffs` queued conversations, every agent trying every one.

    Checks: each handoff claimed exactly once, nobody over their limit, no 5xx, one 'agent
    joined' line per conversation.
    """
    names = add_agents(stack.billing_url, agents, max_concurrent=max_concurrent)
    conversation_ids = _queue(stack, handoffs)
    base = stack.public_url

    async def main() -> dict:
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=agents * 2)) as client:
            tokens = await asyncio.gather(*(_token(client, base, name) for name in names))
            headers = [{"Authorization": f"Bearer {t}"} for t in tokens]
            for h in headers:
                (await client.post(base + "/api/agents/me/presence", json={"status": "online"},
                                   headers=h)).raise_for_status()
            listed = (await client.get(base + "/api/handoffs", headers=headers[0])).json()
            ids = [h["id"] for h in listed if h["conversation_id"] in conversation_ids]
            statuses, latencies = Counter(), []

            async def agent(h: dict, seed: int):
                order = ids[:]
                random.Random(seed).shuffle(order)
                for handoff_id in order:
                    t0 = time.perf_counter()
                    response = await client.post(f"{base}/api/handoffs/{handoff_id}/claim", headers=h)
                    latencies.append((time.perf_counter() - t0) * 1000)
                    statuses[response.status_code] += 1

            started = time.perf_counter()
            await asyncio.wait_for(asyncio.gather(*(agent(h, i) for i, h in enumerate(headers))), 120)
            elapsed = time.perf_counter() - started
            for h in headers:
                await client.post(base + "/api/agents/me/presence", json={"status": "offline"}, headers=h)
            return {"ids": ids, "statuses": statuses, "latencies": latencies, "seconds": elapsed}

    raw = asyncio.run(main())
    engine = create_engine(stack.handoff_url)
    try:
        with engine.connect() as connection:
            id_list = ",".join(str(i) for i in raw["ids"]) or "0"
            claimed = connection.execute(text(
                f"select agent, count(*) from handoffs where id in ({id_list}) and status='claimed' "
                "group by agent")).all()
            joined = connection.execute(text(
                "select conversation_id, count(*) from messages where author='system' and "
                "(text like '%has joined the conversation%' or text like '%bij het gesprek gekomen%') "
                "group by conversation_id")).all()
    finally:
        engine.dispose()
    per_agent = {agent: n for agent, n in claimed}
    joined_counts = {cid: n for cid, n in joined if cid in conversation_ids}
    claims_ok = raw["statuses"].get(200, 0)
    return {
        "handoffs": len(raw["ids"]), "agents": agents, "attempts": sum(raw["statuses"].values()),
        "status_counts": {str(k): v for k, v in sorted(raw["statuses"].items())},
        "claimed_once": claims_ok == sum(per_agent.values()) and claims_ok <= len(raw["ids"]),
        "claimed": sum(per_agent.values()),
        "max_per_agent": max(per_agent.values(), default=0), "limit_per_agent": max_concurrent,
        "duplicate_join_messages": sum(1 for n in joined_counts.values() if n > 1),
        "server_errors": sum(v for k, v in raw["statuses"].items() if k >= 500),
        "claims_per_s": round(len(raw["latencies"]) / raw["seconds"], 1) if raw["seconds"] else None,
        **{k: v for k, v in _stats(raw["latencies"]).items() if k != "n"},
    }


# -- SMS webhook ------------------------------------------------------------------------------
def _signed(params: dict, url: str) -> dict:
    return {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, params)}


def sms_throughput(stack: Stack, *, requests: int = 160, concurrency: int = 8,
                   kind: str = "bot", forged_share: float = 0.1, seconds: float = 60,
                   delivery_timeout: float = 60, run_tag: int = 0) -> dict:
    """Signed Twilio webhooks into POST /sms/twilio; then every reply must reach the stand-in.

    kind "bot": texts the bot answers (a full turn per webhook); kind "help": HELP, answered
    by the service itself (webhook, signature check, de-duplication, outbox only). A share of
    requests carries a forged signature and must get 403 with nothing stored.
    """
    signed_url = stack.public_url + "/sms/twilio"
    phones = [f"+3169{0 if kind == 'bot' else 1}{run_tag:02d}{i:04d}" for i in range(40)]
    texts = ["hi", "what is my balance?", "why is my bill higher?", "thanks"] if kind == "bot" else ["HELP"]

    async def main() -> dict:
        statuses, latencies, sent = Counter(), [], Counter()
        budget = {"left": requests}
        deadline = time.monotonic() + seconds
        rng = random.Random(5)
        async with httpx.AsyncClient(timeout=30) as client:
            async def worker(index: int) -> None:
                turn = 0
                while budget["left"] > 0 and time.monotonic() < deadline:
                    budget["left"] -= 1
                    phone = phones[(index + concurrency * turn) % len(phones)]
                    body = texts[turn % len(texts)]
                    turn += 1
                    params = {"MessageSid": "SM" + os.urandom(16).hex(), "AccountSid": TWILIO_SID,
                              "From": phone, "To": SERVICE_NUMBER, "Body": body, "NumMedia": "0"}
                    forged = rng.random() < forged_share
                    headers = _signed(params, signed_url)
                    if forged:
                        headers["X-Twilio-Signature"] = headers["X-Twilio-Signature"][::-1]
                    t0 = time.perf_counter()
                    try:
                        response = await client.post(stack.public_url + "/sms/twilio", data=params,
                                                     headers=headers)
                        status = response.status_code
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    latencies.append((time.perf_counter() - t0) * 1000)
                    statuses[("forged " if forged else "signed ") + str(status)] += 1
                    if not forged and status == 200:
                        sent[phone] += 1

            started = time.perf_counter()
            await asyncio.gather(*(worker(i) for i in range(concurrency)))
            elapsed = time.perf_counter() - started
        return {"statuses": statuses, "latencies": latencies, "seconds": elapsed, "sent": sent}

    raw = asyncio.run(main())
    # every accepted text gets at least one SMS back; wait for the outbox to drain
    started = time.monotonic()
    delivered, expected = 0, len(raw["sent"])
    with httpx.Client(timeout=10) as client:
        while time.monotonic() - started < delivery_timeout:
            got = {p: len(client.get(stack.twilio.url + "/messages", params={"to": p}).json())
                   for p in raw["sent"]}
            delivered = sum(1 for p, n in raw["sent"].items() if got[p] >= n)
            if delivered == expected:
                break
            time.sleep(0.5)
    drained = time.monotonic() - started
    good = [k for k in raw["statuses"] if k.startswith("signed ")]
    return {
        "kind": kind, "requests": sum(raw["statuses"].values()), "concurrency": concurrency,
        "webhooks_per_s": round(sum(raw["statuses"].values()) / raw["seconds"], 1),
        "status_counts": dict(raw["statuses"]),
        "forged_refused": all(k in ("forged 403",) for k in raw["statuses"] if k.startswith("forged")),
        "signed_ok": all(k == "signed 200" for k in good),
        **{k: v for k, v in _stats(raw["latencies"]).items() if k != "n"},
        "phones_all_replied": delivered == expected, "outbox_drained_s": round(drained, 1),
    }
