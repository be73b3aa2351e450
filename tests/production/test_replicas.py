"""Production mode: consecutive turns on different replicas, agents and customers on different
handoff replicas, turns that bypass the handoff service, and one replica of each tier killed.

Everything real: nginx, two Rasa servers on one PostgreSQL tracker store with Redis locks,
two action servers, two handoff services sharing PostgreSQL and Redis pub/sub, Rasa's events
through RabbitMQ. The kill test runs last (it restarts what it killed).
"""
import asyncio
import json
import shutil
import threading
import time
import uuid

import httpx
import pytest
import websockets

from tests.handoff.page_fixtures import Customer, Staff
from tests.handoff.test_replicas import next_event
from tests.production.conftest import Endpoint, eventually

pytestmark = [pytest.mark.postgres, pytest.mark.rasa, pytest.mark.slow]

JANE = ("10000001", "12-04-1985")


def rasa_turn(url: str, sender: str, text: str) -> str:
    response = httpx.post(url + "/webhooks/rest/webhook", json={"sender": sender, "message": text},
                          timeout=60)
    response.raise_for_status()
    return "\n".join(message.get("text", "") for message in response.json())


def served_by(stack, port: int, path: str) -> set[str]:
    """The replicas nginx sent `path` requests on front `port` to (its access log)."""
    log = (stack.topology.folder / "nginx" / "access.log").read_text().splitlines()
    return {line.split()[-2] for line in log if f" {port} " in line and path in line}


def test_consecutive_turns_on_different_rasa_replicas_keep_one_dialogue(stack):
    first, second = stack.replica_url("rasa", 0), stack.replica_url("rasa", 1)
    sender = f"web-{uuid.uuid4().hex[:12]}"
    assert "account number" in rasa_turn(first, sender, "what is my balance")
    assert "date of birth" in rasa_turn(second, sender, JANE[0])  # the form goes on
    answer = rasa_turn(first, sender, JANE[1])
    assert "Jane Doe" in answer and "€53.40" in answer, answer
    assert "30%" in rasa_turn(second, sender, "why is my bill so high?")  # still verified


def test_simultaneous_messages_of_one_conversation_on_both_rasa_replicas_take_turns(stack):
    """The Redis lock store: each turn reads and writes the tracker alone, so none is lost."""
    urls = [stack.replica_url("rasa", i) for i in range(2)]
    sender = f"web-{uuid.uuid4().hex[:12]}"

    async def pairs():
        async with httpx.AsyncClient(timeout=60) as client:
            for round_ in range(6):
                await asyncio.gather(*(
                    client.post(url + "/webhooks/rest/webhook",
                                json={"sender": sender, "message": f"hello {round_}-{i}"})
                    for i, url in enumerate(urls)))

    asyncio.run(pairs())
    events = httpx.get(f"{urls[0]}/conversations/{sender}/tracker",
                       params={"include_events": "ALL", "token": stack.env["HANDOFF_RASA_TOKEN"]},
                       timeout=30).json()["events"]
    said = [e["text"] for e in events if e["event"] == "user"]
    assert sorted(said) == sorted(f"hello {r}-{i}" for r in range(6) for i in range(2)), said
    # every user message is answered before the next one is read
    kinds = [e["event"] for e in events if e["event"] in ("user", "bot")]
    assert all(kinds[i + 1] == "bot" for i, kind in enumerate(kinds) if kind == "user"), kinds


def test_conversations_through_the_balancer_use_both_replicas_of_every_tier(stack):
    customer = Customer(Endpoint(stack.url))
    customer.say("hi")
    customer.say("what is my balance")
    customer.say(JANE[0])
    assert "€53.40" in customer.text(JANE[1])
    assert "30%" in customer.text("why is my bill so high?")
    topology = stack.topology
    for tier, port, path in (("handoff", topology.front_port, "/api/chat/messages"),
                             ("rasa", topology.rasa_port, "/webhooks/rest/webhook"),
                             ("actions", topology.actions_port, "/webhook")):
        expected = {f"127.0.0.1:{p}" for p in stack.ports[tier]}
        assert served_by(stack, port, path) == expected, tier


def test_an_agent_on_one_handoff_replica_talks_live_with_a_customer_on_the_other(stack, staff_password):
    agent_side, customer_side = Endpoint(stack.replica_url("handoff", 0)), Endpoint(stack.replica_url("handoff", 1))
    agent = Staff(agent_side, "agent1", staff_password)
    customer = Customer(customer_side)

    async def scenario():
        url = agent_side.url.replace("http", "ws") + f"/api/agents/ws?token={agent.token}"
        async with websockets.connect(url) as socket:
            result = await asyncio.to_thread(customer.say, "I want to speak to a person please")
            assert result["mode"] == "queued", result
            await next_event(socket, "queue_changed")  # published by the other replica
            handoff = await asyncio.to_thread(agent.handoff_for, customer.conversation_id)
            claimed = await asyncio.to_thread(agent.post, f"/api/handoffs/{handoff['id']}/claim")
            assert claimed.status_code == 200, claimed.text
            await socket.send(json.dumps({"watch": customer.conversation_id}))
            await asyncio.sleep(0.5)
            await asyncio.to_thread(customer.say, "are you there?")
            heard = (await next_event(socket, "message"))["message"]
            reply = await asyncio.to_thread(agent.post, f"/api/handoffs/{handoff['id']}/messages",
                                            {"text": "Yes, I am here. How can I help?"})
            assert reply.status_code == 201, reply.text
            return heard

    try:
        heard = asyncio.run(scenario())
        assert heard == {**heard, "author": "customer", "text": "are you there?"}
        # the customer's own socket is on the other replica: the agent's line arrives there too
        lines = httpx.get(f"{customer_side.url}/api/chat/{customer.conversation_id}/messages",
                          timeout=10).json()["messages"]
        assert lines[-1]["author"] == "agent" and lines[-1]["text"].startswith("Yes, I am here")
        # the handoff paused the bot through Rasa's API (with its token)
        tracker = httpx.get(f"{stack.rasa_url}/conversations/{customer.conversation_id}/tracker",
                            params={"token": stack.env["HANDOFF_RASA_TOKEN"]}, timeout=10).json()
        assert tracker["paused"] is True
    finally:
        agent.close()


def test_turns_that_bypass_the_handoff_service_reach_its_transcript(stack, handoff_rows):
    sender = f"api-{uuid.uuid4().hex[:12]}"
    greeting = rasa_turn(stack.rasa_url, sender, "hello there")
    rasa_turn(stack.rasa_url, sender, "what is my balance")

    def transcript():
        return handoff_rows("select seq, author, text, intent from messages where conversation_id = :c "
                            "order by seq", c=sender)
    lines = eventually(lambda: len(transcript()) >= 5 and transcript())
    assert [(author, text_) for _, author, text_, _ in lines[:2]] == [("customer", "hello there"),
                                                                     ("bot", greeting)]
    assert lines[0].intent == "greet" and lines[2].intent == "ask_balance"
    assert [line.seq for line in lines] == list(range(1, len(lines) + 1))
    channel, = handoff_rows("select channel from conversations where id = :c", c=sender)[0]
    assert channel == "rasa"
    # turns through the service are not stored twice; their intents arrive the same way
    customer = Customer(Endpoint(stack.url))
    customer.say("what is my balance")
    eventually(lambda: handoff_rows("select intent from messages where conversation_id = :c and seq = 1",
                                    c=customer.conversation_id)[0].intent == "ask_balance")
    authors = [a for a, in handoff_rows("select author from messages where conversation_id = :c",
                                        c=customer.conversation_id)]
    assert authors.count("customer") == 1 and authors.count("bot") == 2, authors


def readiness(stack, index: int) -> dict:
    return httpx.get(stack.replica_url("handoff", index) + "/readyz", timeout=10).json()


def test_both_handoff_replicas_are_ready_and_one_consumes_rasa_events(stack):
    states = [readiness(stack, i) for i in range(2)]
    assert all(s["status"] == "ok" and s["checks"]["live_events"] == "ok" for s in states), states
    assert sorted(s["checks"]["rasa_events"] for s in states) == ["consuming", "standby"], states


def test_rasa_api_refuses_requests_without_the_token(stack):
    """Its tracker API could set any conversation's slots (`verified_account`)."""
    sender = f"web-{uuid.uuid4().hex[:12]}"
    for url in (stack.rasa_url, stack.replica_url("rasa", 0)):
        assert httpx.get(url + "/status", timeout=10).status_code == 401
        forged = httpx.post(f"{url}/conversations/{sender}/tracker/events", timeout=10,
                            json=[{"event": "slot", "name": "verified_account", "value": "10000001"}])
        assert forged.status_code == 401
        wrong = httpx.get(url + "/status", params={"token": "guess"}, timeout=10)
        assert wrong.status_code == 401


def test_a_model_activation_reaches_every_rasa_replica(stack, tmp_path):
    """What the admin console's activation does (handoff.admin.registry.RasaModels)."""
    from handoff.admin.registry import RasaModels
    copy = tmp_path / "bot-activation-copy.tar.gz"
    shutil.copyfile(stack.model, copy)
    urls = [stack.replica_url("rasa", i) for i in range(2)]
    token = stack.env["HANDOFF_RASA_TOKEN"]
    models = RasaModels(stack.rasa_url, 120, urls, token)
    try:
        models.load(copy)
        for url in urls:
            status = httpx.get(url + "/status", params={"token": token}, timeout=10).json()
            assert status["model_file"].endswith(copy.name), url
        models.load(stack.model)
        for url in urls:
            status = httpx.get(url + "/status", params={"token": token}, timeout=10).json()
            assert status["model_file"].endswith(stack.model.name)
    finally:
        models.close()


def test_the_balancer_logs_no_payment_link_or_access_token(stack):
    """A payment link's token is its path and a staff WebSocket's token its query string:
    nginx's access log keeps the request line without them."""
    secret = "eyJ0ZXN0IjoibG9nIn0.c2VjcmV0LXNpZ25hdHVyZQ"
    # (the query-string token as a staff WebSocket URL carries it, on a plain endpoint: a
    # WebSocket path without an upgrade can be held open by the replica)
    for path in (f"/pay/{secret}", f"/api/payment-links/{secret}",
                 f"/api/handoffs?token={secret}&x=1"):
        httpx.get(stack.url + path, timeout=10)  # refused or not found: logged either way
    deadline = time.monotonic() + 15
    log_file = stack.topology.folder / "nginx" / "access.log"
    while log_file.read_text().count("[redacted]") < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    log = log_file.read_text()
    assert secret not in log
    for logged in ("/pay/[redacted]", "/api/payment-links/[redacted]",
                   "/api/handoffs?token=[redacted]&x=1"):
        assert logged in log, logged


def test_killing_one_replica_of_each_tier_loses_no_conversation(stack, handoff_rows):
    """Eight customers talk through the balancer while Rasa 1, actions 1 and handoff 1 die."""
    customers = [Customer(Endpoint(stack.url)) for _ in range(8)]
    script = ["hi", "what is my balance", JANE[0], JANE[1], "why is my bill so high?",
              "what is my balance", "thanks"]
    said: dict[str, list[str]] = {c.conversation_id: [] for c in customers}
    outcomes: dict[str, list[dict]] = {c.conversation_id: [] for c in customers}
    half = threading.Barrier(len(customers) + 1)
    errors: list[BaseException] = []

    def talk(customer: Customer) -> None:
        try:
            for step, line in enumerate(script):
                if step == 3:
                    half.wait(timeout=120)  # everyone is mid-conversation when the kill comes
                    half.wait(timeout=120)
                outcomes[customer.conversation_id].append(customer.say(line))
                said[customer.conversation_id].append(line)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=talk, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    half.wait(timeout=120)
    for tier in ("rasa", "actions", "handoff"):
        stack.kill(tier, 0)
    half.wait(timeout=120)
    for thread in threads:
        thread.join(timeout=300)
    try:
        assert not errors, errors
        for customer in customers:
            cid = customer.conversation_id
            assert said[cid] == script  # every message accepted (nginx moved on to the living)
            stored = [t for t, in handoff_rows("select text from messages where conversation_id = :c "
                                               "and author = 'customer' order by seq", c=cid)]
            assert stored == script, f"{cid}: customer lines lost or doubled: {stored}"
            modes = [outcome["mode"] for outcome in outcomes[cid]]
            # after the kill every turn is answered by the bot on the surviving replicas
            # (verification held); a turn cut mid-flight would have queued the customer instead
            if "queued" not in modes:
                replies = "\n".join(r["text"] for o in outcomes[cid][3:] for r in o["replies"])
                assert "Jane Doe" in replies and "€53.40" in replies, replies
        # the surviving handoff replica took over Rasa's events
        eventually(lambda: readiness(stack, 1)["checks"]["rasa_events"] == "consuming", timeout=30)
        sender = f"api-{uuid.uuid4().hex[:12]}"
        rasa_turn(stack.rasa_url, sender, "hello there")
        eventually(lambda: handoff_rows("select count(*) from messages where conversation_id = :c",
                                        c=sender)[0][0] == 2, timeout=30)
    finally:
        for tier in ("actions", "rasa", "handoff"):
            stack.restart(tier, 0)

