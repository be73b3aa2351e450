"""Who answers: the bot while it owns the conversation, a person once it was handed off.

Every customer message is stored before anything else happens, so it is never lost; no
database transaction stays open while Rasa thinks.
"""
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from billing_core.db import session_scope, utcnow
from handoff.core.config import Settings
from handoff.errors import BotUnavailable, NotFound
from handoff.metrics import Metrics
from handoff.models import Author, Conversation, Handoff, HandoffStatus, Message, Owner
from handoff.services import queue, transcript
from handoff.services.leaving import LEAVE_QUEUE, asks_about_the_wait, wants_to_leave_queue
from handoff.services.outbox import enqueue_sms
from handoff.services.pubsub import QUEUE_TOPIC, InProcessBroker
from handoff.services.rasa import BotTurn, RasaClient
from handoff.texts import say

log = logging.getLogger(__name__)

# Renders a turn's messages for SMS in a language: one or more bodies.
SmsRenderer = Callable[[list[dict], str | None], list[str]]


@dataclass
class TurnResult:
    conversation_id: str
    mode: str
    replies: list[dict] = field(default_factory=list)


def reply_view(message: Message) -> dict:
    view = {"text": message.text}
    if message.buttons:
        view["buttons"] = message.buttons
    return view


def packet_for_agent(session: Session, conversation_id: str, packet: dict) -> dict:
    """The bot's packet, with the buttons the customer pressed shown by their titles."""
    lines = transcript.with_button_titles(session, conversation_id, packet.get("transcript") or [])
    return {**packet, "transcript": lines}


class Router:
    def __init__(self, *, sessions: sessionmaker[Session], rasa: RasaClient,
                 broker: InProcessBroker, settings: Settings, render_sms: SmsRenderer,
                 metrics: Metrics):
        self.sessions, self.rasa, self.broker = sessions, rasa, broker
        self.settings, self.render_sms, self.metrics = settings, render_sms, metrics

    # -- customers -------------------------------------------------------------------
    def customer_message(self, *, conversation_id: str, text: str, channel: str,
                         language: str | None = None, phone: str | None = None,
                         bot_text: str | None = None) -> TurnResult:
        """Store the message, then let the bot or the agent answer.

        `bot_text` is what the bot should read when it differs from what the customer typed
        (an SMS option number mapped back to its button's payload).
        """
        with session_scope(self.sessions) as session:
            conversation = transcript.get_or_create(session, conversation_id, channel=channel,
                                                    phone=phone, language=language)
            if conversation.channel != channel:
                raise NotFound("no such conversation on this channel")
            if conversation.owner is Owner.closed:
                conversation.owner = Owner.bot
            line = transcript.append(session, conversation, author=Author.customer, text=text,
                                     broker=self.broker)
            owner, language, seq = conversation.owner, conversation.language, line.seq
            catch_up = conversation.bot_catch_up
            if owner is Owner.queued:
                left, replies = self._while_queued(session, conversation, text, bot_text)
        self.metrics.turns.labels(channel, owner.value).inc()
        if owner is Owner.queued:
            if left is None:
                return TurnResult(conversation_id, owner.value, replies)
            self._after_leaving(conversation_id, left)
            return TurnResult(conversation_id, Owner.bot.value, replies)
        if owner is not Owner.bot:
            return TurnResult(conversation_id, owner.value)
        if bot_text == LEAVE_QUEUE:  # a queue's button tapped after the wait ended
            bot_text = None
        # handoff_seq: Rasa's user event names the line it answers (handoff.services.rasa_events)
        metadata = {"channel": channel, "lang": language, "phone": phone, "handoff_seq": seq}
        # Typed text never reaches Rasa as "/intent{...}" syntax; only real buttons do.
        try:
            if catch_up is not None:
                self._catch_up(conversation_id, catch_up)
                self._remember_catch_up(conversation_id, None)
            turn = self.rasa.send(conversation_id, bot_text or text.lstrip("/ ") or "?",
                                  {k: v for k, v in metadata.items() if v})
            if not turn.replies and turn.handoff_packet is None:
                # This bot answers every turn; silence means its actions failed.
                raise BotUnavailable("the assistant gave no answer")
        except BotUnavailable:
            self.metrics.errors.labels(channel, "bot_unavailable").inc()
            return self._bot_unavailable(conversation_id)
        return self._bot_answered(conversation_id, turn)

    def _while_queued(self, session: Session, conversation: Conversation, text: str,
                      bot_text: str | None) -> tuple[Handoff | None, list[dict]]:
        """A waiting customer's message: leaving the queue ("never mind", the Stop waiting
        button) returns the abandoned handoff; a question about the wait ("how long is the
        wait?", "komt er nog iemand?") gets the place in the queue and the expected wait; the
        first other message while waiting is acknowledged (saying how to leave), later ones
        wait for the agent quietly."""
        if bot_text == LEAVE_QUEUE or wants_to_leave_queue(text):
            left = queue.abandon(session, conversation)
            if left is not None:
                message = transcript.append(session, conversation, author=Author.system,
                                            text=say("left_queue", conversation.language),
                                            broker=self.broker)
                self._deliver(session, conversation, [message])
                return left, [reply_view(message)]
        waiting = queue.waiting(session, conversation)
        if waiting is None:
            return None, []
        if bot_text is None and asks_about_the_wait(text):
            message = self._queue_status_message(session, conversation, waiting)
            self._deliver(session, conversation, [message])
            return None, [reply_view(message)]
        written = session.scalars(select(Message.text).where(
            Message.conversation_id == conversation.id, Message.author == Author.customer,
            Message.created_at >= waiting.queued_at)).all()
        if sum(not asks_about_the_wait(line) for line in written) != 1:
            return None, []
        message = transcript.append(session, conversation, author=Author.system,
                                    text=say("queued_message_saved", conversation.language),
                                    broker=self.broker)
        self._deliver(session, conversation, [message])
        return None, [reply_view(message)]

    def _after_leaving(self, conversation_id: str, handoff: Handoff) -> None:
        self.broker.publish(QUEUE_TOPIC, {"type": "queue_changed"})
        minutes = max(1, round((handoff.closed_at - handoff.queued_at).total_seconds() / 60))
        self._hand_back(conversation_id, restart=False,
                        summary=f"The customer left the queue after {minutes} min of waiting; "
                                "the bot takes over again.")

    def _hand_back(self, conversation_id: str, *, restart: bool, summary: str) -> None:
        """Unpause the bot (a paused bot answers nothing, and the customer's next message would
        be queued again as the bot being down): resumed with its state, or restarted as in a new
        conversation. When Rasa cannot be reached now, it is done before the next message."""
        catch_up = {"restart": restart, "summary": summary}
        try:
            self._catch_up(conversation_id, catch_up)
            catch_up = None
        except BotUnavailable:
            log.warning("could not hand %s back to the bot; retried with the next message",
                        conversation_id)
        self._remember_catch_up(conversation_id, catch_up)

    def _remember_catch_up(self, conversation_id: str, catch_up: dict | None) -> None:
        with session_scope(self.sessions) as session:
            conversation = transcript.get_conversation(session, conversation_id, for_update=True)
            if conversation.bot_catch_up != catch_up:
                conversation.bot_catch_up = catch_up

    def _catch_up(self, conversation_id: str, catch_up: dict) -> None:
        if catch_up["restart"]:
            self.rasa.restart(conversation_id, catch_up["summary"])
        else:
            self.rasa.resume(conversation_id, catch_up["summary"])

    @staticmethod
    def _leave_button(conversation: Conversation) -> list[dict]:
        return [{"title": say("leave_queue_button", conversation.language), "payload": LEAVE_QUEUE}]

    def _bot_answered(self, conversation_id: str, turn: BotTurn) -> TurnResult:
        with session_scope(self.sessions) as session:
            conversation = transcript.get_conversation(session, conversation_id, for_update=True)
            messages = [transcript.append(session, conversation, author=Author.bot,
                                          text=reply["text"], buttons=reply.get("buttons"),
                                          broker=self.broker)
                        for reply in turn.replies]
            handoff = None
            if turn.handoff_packet is not None:
                # the bot's language follows what the customer writes: the queue's texts too
                conversation.language = turn.handoff_packet.get("language") or conversation.language
                handoff = queue.enqueue(session, conversation,
                                        packet=packet_for_agent(session, conversation.id,
                                                                turn.handoff_packet),
                                        reason=turn.handoff_packet.get("reason") or "customer_asked")
                messages.append(self._queue_status_message(session, conversation, handoff))
            self._deliver(session, conversation, messages)
            result = TurnResult(conversation_id, conversation.owner.value,
                                [reply_view(m) for m in messages])
        if handoff is not None:
            self._after_handoff(conversation_id)
        return result

    def _bot_unavailable(self, conversation_id: str) -> TurnResult:
        """Rasa did not answer: apologise and queue the customer for a person."""
        with session_scope(self.sessions) as session:
            conversation = transcript.get_conversation(session, conversation_id, for_update=True)
            messages = [transcript.append(session, conversation, author=Author.system,
                                          text=say("bot_unavailable", conversation.language),
                                          broker=self.broker)]
            handoff = queue.enqueue(session, conversation, reason="bot_unavailable",
                                    packet=self._fallback_packet(session, conversation))
            messages.append(self._queue_status_message(session, conversation, handoff))
            self._deliver(session, conversation, messages)
            result = TurnResult(conversation_id, conversation.owner.value,
                                [reply_view(m) for m in messages])
        self.broker.publish(QUEUE_TOPIC, {"type": "queue_changed"})
        return result

    def _fallback_packet(self, session: Session, conversation: Conversation) -> dict:
        """Without the bot, the agent still gets the transcript (the customer's words masked)
        and the channel."""
        lines = transcript.latest_messages(session, conversation.id)
        return {"version": 1, "conversation_id": conversation.id, "reason": "bot_unavailable",
                "language": conversation.language or "en", "channel": conversation.channel,
                "flags": ["bot_unavailable"], "verified": False, "customer": None, "bill": None,
                "intent": None, "intents": [], "slots": {}, "bot_tried": [], "offers": [],
                "transcript": [{"from": m.author.value, "text": transcript.staff_text(m),
                                "at": m.created_at.isoformat()} for m in lines]}

    def _after_handoff(self, conversation_id: str) -> None:
        self.broker.publish(QUEUE_TOPIC, {"type": "queue_changed"})
        try:
            self.rasa.pause(conversation_id)
        except BotUnavailable:  # the service stops forwarding anyway; the tracker catches up
            log.warning("could not pause the bot for %s", conversation_id)

    def _queue_status_message(self, session: Session, conversation: Conversation,
                              handoff: Handoff, *, update: bool = False,
                              now: datetime | None = None) -> Message:
        status = queue.status_of(session, handoff,
                                 default_handle_seconds=self.settings.default_handle_seconds)
        if status.wait_seconds is None:
            text = say("queued_no_agents", conversation.language, position=status.position)
        else:
            text = say("queue_update" if update else "queued", conversation.language,
                       position=status.position, minutes=max(1, round(status.wait_seconds / 60)))
        handoff.last_update_position = status.position
        handoff.last_update_at = now or utcnow()
        return transcript.append(session, conversation, author=Author.system, text=text,
                                 buttons=self._leave_button(conversation), broker=self.broker)

    def send_queue_updates(self, now: datetime | None = None) -> int:
        """Tell waiting customers when they moved up meaningfully, or every few minutes."""
        now = now or utcnow()
        interval = timedelta(seconds=self.settings.queue_update_interval_seconds)
        sent = 0
        with session_scope(self.sessions) as session:
            for handoff in queue.queued(session):
                if not self._update_due(session, handoff, now, interval):
                    continue
                conversation = transcript.get_conversation(session, handoff.conversation_id,
                                                           for_update=True)
                # Another replica may have sent this update while we waited for the lock.
                session.refresh(handoff)
                if handoff.status is not HandoffStatus.queued or \
                        not self._update_due(session, handoff, now, interval):
                    continue
                message = self._queue_status_message(session, conversation, handoff,
                                                     update=True, now=now)
                self._deliver(session, conversation, [message])
                sent += 1
        return sent

    def _update_due(self, session: Session, handoff: Handoff, now: datetime,
                    interval: timedelta) -> bool:
        """Moved up meaningfully since the customer was last told, or told long enough ago."""
        status = queue.status_of(session, handoff,
                                 default_handle_seconds=self.settings.default_handle_seconds)
        told = handoff.last_update_position or status.position
        moved = status.position < told and (status.position <= 3 or told - status.position >= 2)
        return moved or handoff.last_update_at is None or now - handoff.last_update_at >= interval

    def _deliver(self, session: Session, conversation: Conversation, messages: list[Message]) -> None:
        """Web clients read the transcript; SMS customers get the turn as text messages."""
        if conversation.channel == "sms" and messages:
            enqueue_sms(session, conversation,
                        self.render_sms([reply_view(m) for m in messages], conversation.language))

    # -- agents ----------------------------------------------------------------------
    def claim(self, *, handoff_id: int, agent: queue.Agent) -> Handoff:
        with session_scope(self.sessions) as session:
            handoff = queue.claim(session, handoff_id=handoff_id, agent=agent)
            self.metrics.wait.labels(handoff.language).observe(
                (handoff.claimed_at - handoff.queued_at).total_seconds())
            conversation = transcript.get_conversation(session, handoff.conversation_id,
                                                       for_update=True)
            message = transcript.append(
                session, conversation, author=Author.system, broker=self.broker,
                text=say("agent_joined", conversation.language,
                         name=agent.full_name.split()[0] if agent.full_name else agent.username))
            self._deliver(session, conversation, [message])
        self.broker.publish(QUEUE_TOPIC, {"type": "queue_changed"})
        return handoff

    def agent_message(self, *, handoff_id: int, agent: queue.Agent, text: str) -> Message:
        with session_scope(self.sessions) as session:
            handoff = queue.owned(session, handoff_id=handoff_id, agent=agent)
            conversation = transcript.get_conversation(session, handoff.conversation_id,
                                                       for_update=True)
            message = transcript.append(session, conversation, author=Author.agent, text=text,
                                        author_name=agent.full_name or agent.username,
                                        broker=self.broker)
            self._deliver(session, conversation, [message])
        return message

    def close(self, *, handoff_id: int, agent: queue.Agent, status: HandoffStatus,
              resolution: str | None) -> Handoff:
        """Release to the bot (which resumes with its state and a note) or resolve (the
        conversation is closed; the bot starts afresh with the customer's next message)."""
        with session_scope(self.sessions) as session:
            handoff = queue.close(session, handoff_id=handoff_id, agent=agent, status=status,
                                  resolution=resolution)
            self.metrics.handle.labels(handoff.language).observe(
                (handoff.closed_at - handoff.claimed_at).total_seconds())
            conversation = transcript.get_conversation(session, handoff.conversation_id,
                                                       for_update=True)
            key = "back_to_bot" if status is HandoffStatus.released else "resolved"
            message = transcript.append(session, conversation, author=Author.system,
                                        text=say(key, conversation.language), broker=self.broker)
            self._deliver(session, conversation, [message])
            conversation_id = conversation.id
        self._back_to_bot(conversation_id, status, agent.username, resolution)
        self.broker.publish(QUEUE_TOPIC, {"type": "queue_changed"})
        return handoff

    def _back_to_bot(self, conversation_id: str, status: HandoffStatus, username: str,
                     resolution: str | None) -> None:
        """Released, the bot resumes with its state; resolved, the conversation was closed, so
        it starts afresh (docs/dialogue.md)."""
        done = f": {resolution}" if resolution else ""
        if status is HandoffStatus.released:
            self._hand_back(conversation_id, restart=False,
                            summary=f"Agent {username} handled the conversation{done}; "
                                    "the bot takes over again.")
        else:
            self._hand_back(conversation_id, restart=True,
                            summary=f"Agent {username} resolved the conversation{done}; it was closed.")
