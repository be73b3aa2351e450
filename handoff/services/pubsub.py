"""Fan-out of live events to WebSocket clients (consoles, chat pages).

Embedded default: in-process queues. Producers may run in worker threads, so publishing
hands the event to the event loop thread-safely.
"""
import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

QUEUE_TOPIC = "queue"


def conversation_topic(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


class InProcessBroker:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def publish(self, topic: str, event: dict[str, Any]) -> None:
        if self._loop is None:
            return
        for queue in list(self._subscribers.get(topic, ())):
            self._loop.call_soon_threadsafe(queue.put_nowait, event)

    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[asyncio.Queue]:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        for topic in topics:
            self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            for topic in topics:
                self._subscribers[topic].discard(queue)
