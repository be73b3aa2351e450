"""Production mode: two handoff replicas on one PostgreSQL store, live events through Redis."""
import asyncio
import json

import pytest
import websockets

from bot.serve import free_port
from handoff.migrate import upgrade
from tests.databases import migrated_database
from tests.handoff.conftest import start_handoff_service
from tests.handoff.page_fixtures import Customer, Staff

pytestmark = pytest.mark.postgres
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def replicas(rasa_server, bot_database_url, twilio_fake, tmp_path):
    with migrated_database("postgresql", tmp_path, upgrade) as store:
        services = [start_handoff_service(port=free_port(), database_url=store,
                                          rasa_url=rasa_server.url, billing_url=bot_database_url,
                                          twilio_url=twilio_fake.url, log=tmp_path / f"r{i}.log",
                                          redis_url=REDIS_URL)
                    for i in range(2)]
        yield services
        for service in services:
            service.server.stop()


async def next_event(socket, kind: str, timeout: float = 15) -> dict:
    async def wait():
        while True:
            event = json.loads(await socket.recv())
            if event.get("type") == kind:
                return event
    return await asyncio.wait_for(wait(), timeout)


def test_an_agent_on_one_replica_sees_a_customer_on_the_other(replicas, staff_password):
    first, second = replicas
    agent = Staff(first, "agent1", staff_password)
    customer = Customer(second)

    async def scenario():
        url = first.url.replace("http", "ws") + f"/api/agents/ws?token={agent.token}"
        async with websockets.connect(url) as socket:
            await asyncio.to_thread(customer.say, "I want to speak to a person please")
            await next_event(socket, "queue_changed")  # published by the other replica
            await socket.send(json.dumps({"watch": customer.conversation_id}))
            await asyncio.sleep(0.5)
            await asyncio.to_thread(customer.say, "are you there?")
            event = await next_event(socket, "message")
            return event["message"]

    try:
        message = asyncio.run(scenario())
        assert message == {**message, "author": "customer", "text": "are you there?"}
        # Both replicas read the same queue.
        handoff = Staff(second, "super1", staff_password)
        assert handoff.handoff_for(customer.conversation_id)["conversation_id"] == customer.conversation_id
        handoff.close()
    finally:
        agent.close()
