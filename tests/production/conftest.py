"""Production mode as `make prod-up` runs it: two replicas per tier behind nginx, on the local
PostgreSQL, Redis and RabbitMQ (databases, queue and lock keys of its own, removed after)."""
import asyncio
import json
import secrets
import time
import uuid
from dataclasses import dataclass

import aio_pika
import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.training import current_model
from handoff.prod import ProductionStack, Topology


@dataclass
class Endpoint:
    """One address of the handoff service (the load balancer or a replica), for test clients."""

    url: str

    def token(self, username: str, password: str) -> str:
        response = httpx.post(self.url + "/api/auth/token",
                              data={"username": username, "password": password}, timeout=10)
        response.raise_for_status()
        return response.json()["access_token"]


async def _delete_queue(url: str, name: str) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    name = f"t{uuid.uuid4().hex[:10]}"
    topology = Topology(replicas=2, front_port=0, rasa_port=0, actions_port=0, twilio_port=0,
                        name=name, folder=tmp_path_factory.mktemp("prod"))
    production = ProductionStack(topology, current_model())
    # Generated tokens sometimes start with "-", which a command line must not take for an option.
    (topology.folder / "secrets.json").write_text(json.dumps({
        "HANDOFF_RASA_TOKEN": "-" + secrets.token_urlsafe(24),
        "HANDOFF_TWILIO_AUTH_TOKEN": "-" + secrets.token_hex(16)}))
    try:
        production.prepare(say=lambda _: None)
        production.start(say=lambda _: None)
        yield production
    finally:
        production.stop()
        production.drop_databases()
        asyncio.run(_delete_queue(topology.rabbitmq_url, topology.events_queue))


@pytest.fixture(scope="package")
def staff_password(stack) -> str:
    return stack.env["BILLING_DEMO_STAFF_PASSWORD"]


@pytest.fixture
def handoff_rows(stack):
    """SQL on the handoff store of the stack (what every replica reads and writes)."""
    engine = create_engine(stack.topology.database("handoff"))

    def rows(sql: str, **params) -> list:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params))

    yield rows
    engine.dispose()


def eventually(check, *, timeout: float = 20, interval: float = 0.2):
    """Poll `check` until it returns something truthy; the last value otherwise fails."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"not true within {timeout} s: {check.__doc__ or check}"
            return value
        time.sleep(interval)
