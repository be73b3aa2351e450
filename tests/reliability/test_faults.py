"""Faults mid-conversation: the handoff service crashes (between turns and during one), Rasa and
the action server crash, Rasa loses the end of a turn, the Twilio API fails across a restart.

Always: no customer message lost or doubled, no plan change or concession written twice, and
every conversation ends in a consistent state (`helpers.inconsistencies`).
(tests/handoff/test_bot_faults.py covers a stopped bot answering with the queue, and
test_sms_sender.py retries while Twilio fails; not repeated here.)
"""
import asyncio
import os
import signal
import threading
import time

import httpx
import pytest

from tests.reliability.helpers import (
    AMOUNT, Web, inconsistencies, rows, sent_to, sms, staff, token, verify, wait_for_sms, wait_until_up)


def paused(*processes):
    """SIGSTOP processes (a bot that hangs mid-turn) until the block ends."""
    class Pause:
        def __enter__(self):
            for process in processes:
                os.kill(process.pid, signal.SIGSTOP)
            return self

        def __exit__(self, *_):
            for process in processes:
                os.kill(process.pid, signal.SIGCONT)
    return Pause()


def transcript_rows(stack, conversation_id: str) -> list[tuple]:
    return rows(stack.handoff_url, "select seq, author, text from messages where conversation_id=:c "
                                   "order by seq", c=conversation_id)


def crash_and_restart_handoff(stack) -> None:
    stack.handoff.kill()
    stack.handoff.start()
    wait_until_up(stack)


def wait_for(condition, timeout: float = 20, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_crashed_handoff_service_comes_back_with_every_conversation_as_it_was(stack):
    verified = Web(stack)
    verify(verified, stack.customers[1].account_number, f"{stack.customers[1].date_of_birth:%d-%m-%Y}")
    waiting, with_agent = Web(stack), Web(stack)
    waiting.say("hi")
    assert waiting.say("I want to talk to a person")["mode"] == "queued"
    assert with_agent.say("I want to talk to a person")["mode"] == "queued"
    phone = "+31699000301"
    assert sms(stack, phone, "hello").status_code == 200
    wait_for_sms(stack, phone, 1)
    with staff(stack, "agent1") as agent:
        agent.post("/api/agents/me/presence", json={"status": "online"}).raise_for_status()
        mine = next(h for h in agent.get("/api/handoffs").json()
                    if h["conversation_id"] == with_agent.conversation_id)
        agent.post(f"/api/handoffs/{mine['id']}/claim").raise_for_status()
        agent.post(f"/api/handoffs/{mine['id']}/messages", json={"text": "Hi, Anna here."}).raise_for_status()
    people = [verified, waiting, with_agent]
    before = {w.conversation_id: transcript_rows(stack, w.conversation_id) for w in people}
    before[f"sms-{phone[1:]}"] = transcript_rows(stack, f"sms-{phone[1:]}")
    modes = {w.conversation_id: w.transcript()["mode"] for w in people}

    crash_and_restart_handoff(stack)

    for conversation_id, lines in before.items():
        assert transcript_rows(stack, conversation_id) == lines
    assert {w.conversation_id: w.transcript()["mode"] for w in people} == modes
    assert AMOUNT in verified.text("and why is my bill higher?")  # Rasa still knows who it is
    assert waiting.say("are you there?")["mode"] == "queued"
    with staff(stack, "agent1") as agent:
        agent.post(f"/api/handoffs/{mine['id']}/messages", json={"text": "Still here."}).raise_for_status()
        agent.post(f"/api/handoffs/{mine['id']}/resolve", json={"resolution": "test"}).raise_for_status()
        queued = next(h for h in agent.get("/api/handoffs").json()
                      if h["conversation_id"] == waiting.conversation_id)
        agent.post(f"/api/handoffs/{queued['id']}/claim").raise_for_status()
        agent.post(f"/api/handoffs/{queued['id']}/release", json={}).raise_for_status()
        agent.post("/api/agents/me/presence", json={"status": "offline"})
    assert [m["text"] for m in with_agent.transcript()["messages"] if m["author"] == "agent"] == \
        ["Hi, Anna here.", "Still here."]
    assert sms(stack, phone, "what can you do?").status_code == 200
    wait_for_sms(stack, phone, 2)
    assert inconsistencies(stack) == []


def test_a_crash_during_a_web_turn_keeps_the_customer_message_once(stack):
    web = Web(stack)
    web.say("hi")
    with paused(*stack.rasas):
        worker = threading.Thread(target=lambda: _post_ignoring_errors(web, "what is my balance?"))
        worker.start()
        wait_for(lambda: len(transcript_rows(stack, web.conversation_id)) == 3, what="the stored text")
        stack.handoff.kill()  # the bot is still thinking; the reply never gets stored
        worker.join(timeout=30)
    stack.handoff.start()
    wait_until_up(stack)
    assert web.said() == ["hi", "what is my balance?"]
    assert web.transcript()["mode"] == "bot"
    reply = web.say("what is my balance?")  # the customer asks again and gets an answer
    assert reply["mode"] == "bot" and reply["replies"]
    assert web.said() == ["hi", "what is my balance?", "what is my balance?"]
    assert inconsistencies(stack) == []


def _post_ignoring_errors(web: Web, text: str) -> None:
    try:
        web.post(text, timeout=30)
    except httpx.HTTPError:
        pass


def test_a_crash_during_an_sms_turn_keeps_the_text_and_twilios_retry_is_not_doubled(stack):
    phone, sid = "+31699000302", "SM" + "c" * 32
    conversation_id = f"sms-{phone[1:]}"
    assert sms(stack, phone, "hello").status_code == 200
    wait_for_sms(stack, phone, 1)
    with paused(*stack.rasas):
        # the turn outlives the webhook budget (1 s here): Twilio gets its 200, the text is safe
        assert sms(stack, phone, "what is my balance?", sid=sid).status_code == 200
        stack.handoff.kill()
    stack.handoff.start()
    wait_until_up(stack)
    # Twilio retries the same message (it never saw an answer it liked): acknowledged, not redone
    assert sms(stack, phone, "what is my balance?", sid=sid).status_code == 200
    texts = [t for _, a, t in transcript_rows(stack, conversation_id) if a == "customer"]
    assert texts == ["hello", "what is my balance?"]
    assert sms(stack, phone, "what can you do?").status_code == 200
    assert len(wait_for_sms(stack, phone, 2)) >= 2
    assert inconsistencies(stack) == []


def test_rasa_and_the_action_server_crashing_between_turns_lose_no_state(stack):
    customer = stack.customers[2]
    web = Web(stack)
    verify(web, customer.account_number, customer.postcode)
    for rasa in stack.rasas:
        rasa.kill()
    stack.actions.kill()
    stack.actions.start()
    for rasa in stack.rasas:
        rasa.start()
    reply = web.text("why is my bill higher?")
    assert AMOUNT in reply, reply  # still verified: the tracker survived the crash (SQLite WAL)
    assert web.said()[-1] == "why is my bill higher?"
    assert inconsistencies(stack) == []


def tracker_state(stack, conversation_id: str) -> dict:
    response = httpx.get(f"{stack.rasas[0].url}/conversations/{conversation_id}/tracker",
                         params={"include_events": "ALL"}, timeout=30)
    response.raise_for_status()
    return response.json()


def rerun_confirm(stack, state: dict, yes: str) -> dict:
    """What Rasa sends the action server for `yes` on this tracker: as if Rasa had crashed after
    the action committed its write but before saving the turn, and ran it again afterwards.
    (Replacing tracker events through Rasa's API cannot simulate this: its SQL tracker store
    only ever appends.)"""
    domain = httpx.get(f"{stack.rasas[0].url}/domain", headers={"Accept": "application/json"}, timeout=30)
    domain.raise_for_status()
    said = {"text": yes, "intent": {"name": "affirm", "confidence": 1.0}, "entities": [],
            "intent_ranking": [{"name": "affirm", "confidence": 1.0}]}
    tracker = {**state, "latest_message": said,
               "events": [*state["events"], {"event": "user", "text": yes, "parse_data": said,
                                             "timestamp": time.time()}]}
    response = httpx.post(f"{stack.actions.url}/webhook", timeout=30, json={
        "next_action": "action_confirm", "sender_id": state["sender_id"], "tracker": tracker,
        "domain": domain.json(), "version": "3.6.21"})
    response.raise_for_status()
    return response.json()


@pytest.mark.parametrize("account, opening, factor, choice, yes, table", [
    ("10000002", "ik wil graag een goedkoper abonnement", "3511 CD", "basis", "ja, doe maar", "plan_changes"),
    ("10000004", "ik ga mijn abonnement opzeggen, ik ben het zat", "21-07-2001", None, "ja graag", "adjustments"),
])
def test_a_confirmation_run_again_after_rasa_lost_the_turn_writes_once(stack, account, opening, factor,
                                                                       choice, yes, table):
    web = Web(stack)
    web.say(opening)
    web.say(account)
    web.say(factor)
    if choice:
        web.say(choice)
    offered = tracker_state(stack, web.conversation_id)
    assert offered["slots"]["awaiting"] == "confirm" and offered["slots"]["offer"], offered["slots"]

    def written() -> int:
        return rows(stack.billing_url, f"select count(*) from {table} t join accounts a on a.id=t.account_id "
                                       "where a.account_number=:n and t.conversation_id=:c",
                    n=account, c=web.conversation_id)[0][0]

    assert written() == 0
    first = web.text(yes)
    assert written() == 1 and "geregeld" in first.lower(), first
    for _ in range(2):  # the action runs again, on the tracker Rasa still had: the same key
        again = rerun_confirm(stack, offered, yes)
        assert written() == 1, again
    if table == "adjustments":
        assert rows(stack.billing_url, "select count(*) from retention_outcomes r join adjustments ad "
                                       "on ad.id=r.adjustment_id where ad.conversation_id=:c",
                    c=web.conversation_id)[0][0] == 1
    assert inconsistencies(stack) == []


def test_replies_queued_while_twilio_fails_survive_a_crash_and_go_out_once(stack):
    phone = "+31699000303"
    conversation_id = f"sms-{phone[1:]}"
    httpx.post(stack.twilio.url + "/fail", json={"count": 10_000, "status": 503, "to": phone},
               timeout=5).raise_for_status()
    try:
        assert sms(stack, phone, "hello").status_code == 200
        assert sms(stack, phone, "thank you").status_code == 200  # a reply unlike the greeting
        wait_for(lambda: (rows(stack.handoff_url, "select max(attempts) from outbound_sms where "
                                                  "conversation_id=:c", c=conversation_id)[0][0] or 0) >= 2,
                 what="failed attempts")
        stack.handoff.kill()
    finally:
        httpx.post(stack.twilio.url + "/fail", json={"count": 0, "to": phone}, timeout=5).raise_for_status()
    stack.handoff.start()
    wait_until_up(stack)
    outbox = wait_for(lambda: (lambda r: r if r and all(s == "sent" for _, s in r) else None)(
        rows(stack.handoff_url, "select twilio_sid, status from outbound_sms where conversation_id=:c",
             c=conversation_id)), timeout=60, what="the outbox to drain")
    delivered = sent_to(stack, phone)
    # each queued reply went out exactly once, and no reply was queued twice
    assert sorted(m["sid"] for m in delivered) == sorted(sid for sid, _ in outbox), (delivered, outbox)
    bodies = [m["body"] for m in delivered]
    assert len(bodies) >= 2 and len(set(bodies)) == len(bodies), bodies
    assert inconsistencies(stack) == []


def test_staff_and_health_checks_answer_while_many_turns_wait_for_a_stalled_bot(stack):
    """Customer turns wait for the bot in threads of their own (Container.run_turn): 60 turns
    stuck in a stalled Rasa no longer hold every worker thread the staff API needs."""
    agent_token = token(stack, "agent1")

    async def main() -> tuple[float, float, list]:
        async with httpx.AsyncClient(timeout=60) as client:
            with paused(*stack.rasas):
                turns = [asyncio.create_task(client.post(
                    stack.public_url + "/api/chat/messages",
                    json={"conversation_id": f"stall-{i}-{os.getpid()}", "text": "hello"}))
                    for i in range(60)]
                await asyncio.sleep(1.5)
                started = time.perf_counter()
                listed = await client.get(stack.public_url + "/api/handoffs",
                                          headers={"Authorization": f"Bearer {agent_token}"})
                staff_seconds = time.perf_counter() - started
                started = time.perf_counter()
                health = await client.get(stack.public_url + "/healthz")
                health_seconds = time.perf_counter() - started
                assert listed.status_code == 200 and health.status_code == 200
            answers = await asyncio.gather(*turns, return_exceptions=True)
        return staff_seconds, health_seconds, answers

    staff_seconds, health_seconds, answers = asyncio.run(main())
    assert staff_seconds < 3 and health_seconds < 3, (staff_seconds, health_seconds)
    assert all(getattr(a, "status_code", None) == 200 for a in answers), answers[:3]
    assert inconsistencies(stack) == []
