"""Rasa's event broker (RabbitMQ), consumed in production mode (HANDOFF_RASA_EVENTS_URL).

Rasa publishes every tracker event to the fanout exchange `rasa-exchange`; its endpoints.yml
binds the queue named by HANDOFF_RASA_EVENTS_QUEUE. Exactly one handoff replica consumes it
at a time (an exclusive AMQP consumer): the others retry every few seconds and take over when
that replica goes away, and RabbitMQ redelivers what it had not acknowledged. One consumer
keeps each conversation's events in order.

What an event does:
- a `user` event of a turn this service forwarded (metadata `handoff_seq`) fills in the NLU
  result of that customer message (the review inbox reads it);
- a `user` event of a turn that reached Rasa some other way (its REST API, another channel)
  adds the customer line, with its NLU result, to the transcript, creating the conversation
  (channel `rasa`) if needed; the `bot` events that answer it are added too. Agents see those
  lines live, and nothing is stored twice (`Message.event_key`, redeliveries are skipped).
"""
import asyncio
import hashlib
import json
import logging
from collections import OrderedDict
from typing import Any

import aio_pika
import anyio
from aiormq.exceptions import ChannelAccessRefused
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from billing_core.db import session_scope
from handoff.admin.nlu_log import nlu_fields
from handoff.models import Author, Conversation, Message
from handoff.services import transcript
from handoff.services.pubsub import InProcessBroker

log = logging.getLogger(__name__)

EXCHANGE = "rasa-exchange"  # Rasa 3.6's pika broker: a fanout exchange of this name
DIRECT_CHANNEL = "rasa"
PREFETCH = 100


def bot_event_key(sender_id: str, event: dict[str, Any]) -> str:
    """Bot events carry no id; their sender, time and text identify them."""
    raw = json.dumps([sender_id, event.get("timestamp"), event.get("text")])
    return "bot:" + hashlib.sha256(raw.encode()).hexdigest()[:56]


class RasaEventSink:
    """Applies Rasa events to the handoff store (synchronous; one event per transaction)."""

    REMEMBERED = 10_000  # conversations whose last turn's route is known without a query

    def __init__(self, sessions: sessionmaker[Session], broker: InProcessBroker):
        self.sessions, self.broker = sessions, broker
        # conversation -> did its latest user event bypass this service? (bot events of
        # forwarded turns, most of the traffic, then need no transaction at all)
        self._bypassed: OrderedDict[str, bool] = OrderedDict()

    def _remember(self, sender_id: str, bypassed: bool) -> None:
        self._bypassed[sender_id] = bypassed
        self._bypassed.move_to_end(sender_id)
        while len(self._bypassed) > self.REMEMBERED:
            self._bypassed.popitem(last=False)

    def apply(self, event: dict[str, Any]) -> str:
        """Returns what was done, for logs and tests: nlu, customer, bot, duplicate or skipped."""
        sender_id, kind = event.get("sender_id"), event.get("event")
        if kind not in ("user", "bot") or not isinstance(sender_id, str) \
                or not transcript.CONVERSATION_ID.match(sender_id):
            return "skipped"  # slots, actions, session starts: nothing for the transcript
        if kind == "bot" and (not event.get("text") or self._bypassed.get(sender_id) is False):
            return "skipped"
        with session_scope(self.sessions) as session:
            if kind == "user":
                result = self._user(session, sender_id, event)
                self._remember(sender_id, result in ("customer", "duplicate"))
                return result
            return self._bot(session, sender_id, event)

    def _user(self, session: Session, sender_id: str, event: dict[str, Any]) -> str:
        metadata = event.get("metadata") or {}
        nlu = nlu_fields(event.get("parse_data") or {})
        seq = metadata.get("handoff_seq")
        if isinstance(seq, int):  # forwarded by this service: the line exists
            message = session.scalar(select(Message).where(
                Message.conversation_id == sender_id, Message.seq == seq,
                Message.author == Author.customer))
            if message is None or message.nlu_source is not None:
                return "skipped"
            for key, value in nlu.items():
                setattr(message, key, value)
            message.nlu_source = "bot"
            return "nlu"
        key = f"user:{event.get('message_id') or bot_event_key(sender_id, event)[4:]}"[:64]
        if session.scalar(select(Message.id).where(Message.event_key == key)) is not None:
            return "duplicate"  # redelivered: its answers may still be missing
        conversation = transcript.get_or_create(session, sender_id, channel=DIRECT_CHANNEL)
        message = transcript.append(session, conversation, author=Author.customer,
                                    text=str(event.get("text") or ""), broker=self.broker)
        message.event_key = key
        for name, value in nlu.items():
            setattr(message, name, value)
        message.nlu_source = "bot"
        return "customer"

    def _bot(self, session: Session, sender_id: str, event: dict[str, Any]) -> str:
        """Only answers to turns that bypassed this service: it stores the others itself."""
        if (event.get("metadata") or {}).get("agent_summary"):
            return "skipped"
        last_customer = session.scalar(
            select(Message).where(Message.conversation_id == sender_id,
                                  Message.author == Author.customer)
            .order_by(Message.seq.desc()).limit(1))
        if last_customer is None or last_customer.event_key is None:
            return "skipped"
        key = bot_event_key(sender_id, event)
        if session.scalar(select(Message.id).where(Message.event_key == key)) is not None:
            return "skipped"
        conversation = session.scalar(select(Conversation).where(Conversation.id == sender_id)
                                      .with_for_update())
        buttons = [{"title": b.get("title", ""), "payload": b.get("payload", "")}
                   for b in (event.get("data") or {}).get("buttons") or []]
        message = transcript.append(session, conversation, author=Author.bot,
                                    text=str(event["text"]), buttons=buttons, broker=self.broker)
        message.event_key = key
        return "bot"


class RasaEventConsumer:
    """Background task of the service: consume while this replica holds the queue."""

    def __init__(self, sink: RasaEventSink, *, url: str, queue: str, retry_seconds: float):
        self.sink, self.url, self.queue, self.retry = sink, url, queue, retry_seconds
        self.applied = 0
        self.consuming = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except ChannelAccessRefused:
                log.debug("another replica consumes %s; retrying in %.0f s", self.queue, self.retry)
            except Exception as exc:  # broker down or connection lost: try again later
                log.warning("Rasa event broker: %s; retrying in %.0f s", exc, self.retry)
            self.consuming.clear()
            await asyncio.sleep(self.retry)

    async def _consume(self) -> None:
        connection = await aio_pika.connect(self.url, timeout=10)
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=PREFETCH)
            # Declared exactly as Rasa declares them, whichever side starts first.
            exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.FANOUT)
            queue = await channel.declare_queue(self.queue, durable=True)
            await queue.bind(exchange, "")
            # one event at a time, in the order Rasa published them
            async with queue.iterator(exclusive=True) as messages:
                log.info("consuming Rasa's events from %s", self.queue)
                self.consuming.set()
                async for message in messages:
                    await self._handle(message)

    async def _handle(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        try:
            event = json.loads(message.body)
        except ValueError:
            log.warning("Rasa event broker: a message that is not JSON was dropped")
            await message.ack()
            return
        try:
            await anyio.to_thread.run_sync(self.sink.apply, event)
        except Exception:
            log.exception("could not apply Rasa's %s event; it is redelivered", event.get("event"))
            await message.nack(requeue=True)
            await asyncio.sleep(1)
            return
        self.applied += 1
        await message.ack()
