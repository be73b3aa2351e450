"""Fan-out of live events to WebSocket clients (consoles, chat pages).

Embedded default: in-process queues. Producers may run in worker threads, so publishing
hands the event to the event loop thread-safely. Production (HANDOFF_REDIS_URL): Redis
pub/sub, so every worker and replica delivers every event.
"""
import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)

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

    def close(self) -> None:
        """Nothing to release in-process."""

    def ready(self) -> bool:
        return True

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


class RedisBroker(InProcessBroker):
    """Fan-out across processes and replicas: publish to Redis, deliver locally from one listener.

    An agent connected to one replica sees a customer talking to another. Publishing uses a
    synchronous client (callers may be worker threads); one asyncio task per process listens
    and hands each event to this process's local subscribers.
    """

    CHANNEL_PREFIX = "handoff:"

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis

        self._url = url
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._listener: asyncio.Task | None = None
        self._listening = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        super().bind(loop)
        self._listener = loop.create_task(self._listen())

    def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Never fails the caller: the data is committed, and clients catch up by polling."""
        import redis

        try:
            self._client.publish(self.CHANNEL_PREFIX + topic, json.dumps(event))
        except redis.RedisError as exc:
            log.warning("live event on %s not published (Redis: %s)", topic, exc)

    def ready(self) -> bool:
        import redis

        try:
            return bool(self._client.ping()) and self._listening
        except redis.RedisError:
            return False

    async def _listen(self) -> None:
        """Listens for as long as the process lives, reconnecting when Redis goes away."""
        import redis.asyncio

        while True:
            client = redis.asyncio.Redis.from_url(self._url)
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(self.CHANNEL_PREFIX + "*")
                self._listening = True
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    topic = message["channel"].decode()[len(self.CHANNEL_PREFIX):]
                    super().publish(topic, json.loads(message["data"]))
            except (redis.RedisError, OSError) as exc:
                log.warning("Redis pub/sub lost (%s); reconnecting in 1 s", exc)
            finally:
                self._listening = False
                await pubsub.aclose()
                await client.aclose()
            await asyncio.sleep(1)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
        self._client.close()
