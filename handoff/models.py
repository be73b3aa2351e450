import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing_core.db import TimestampMixin, utcnow
from handoff.db import HandoffBase


class Owner(str, enum.Enum):
    """Who answers the customer. The transcript here is the source of truth for it."""

    bot = "bot"
    queued = "queued"
    agent = "agent"
    closed = "closed"


class Author(str, enum.Enum):
    customer = "customer"
    bot = "bot"
    agent = "agent"
    system = "system"


class HandoffStatus(str, enum.Enum):
    queued = "queued"
    claimed = "claimed"
    released = "released"  # back to the bot
    resolved = "resolved"
    abandoned = "abandoned"  # the customer left the queue


class Conversation(TimestampMixin, HandoffBase):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # web | sms
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    language: Mapped[str | None] = mapped_column(String(2))
    owner: Mapped[Owner] = mapped_column(default=Owner.bot)
    agent: Mapped[str | None] = mapped_column(String(64))
    last_seq: Mapped[int] = mapped_column(default=0)
    # The bot was to be handed the conversation back ({"restart": bool, "summary": str}) but
    # Rasa could not be reached: done before the customer's next message reaches it.
    bot_catch_up: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    messages: Mapped[list["Message"]] = relationship(
        back_populates="conversation", order_by="Message.seq", lazy="raise")


class Message(HandoffBase):
    """One line of the transcript, numbered per conversation (clients poll `after=seq`)."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    seq: Mapped[int]
    author: Mapped[Author]
    author_name: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # NLU result of a customer message, filled in from Rasa's events (review inbox).
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None]
    # Top intents [{"name", "confidence"}] and entities [{"entity", "value", "start", "end"}];
    # nlu_source: "bot" (the turn Rasa answered) or "parse" (text the bot never saw, parsed later).
    intent_ranking: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    entities: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    nlu_source: Mapped[str | None] = mapped_column(String(8), index=True)
    # Set on lines taken from Rasa's event broker (turns that bypassed this service): the
    # event's identity, so a redelivered event is not stored twice.
    event_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Handoff(TimestampMixin, HandoffBase):
    """One stay in the live-agent queue, from the bot's handoff to release or resolution.

    `rank_at` orders the queue: the time queued, moved earlier by the priority (in minutes),
    so urgent conversations go first and everyone moves up as they wait.
    """

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    status: Mapped[HandoffStatus] = mapped_column(default=HandoffStatus.queued, index=True)
    reason: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    priority: Mapped[int] = mapped_column(default=0)
    rank_at: Mapped[datetime] = mapped_column(index=True)
    packet: Mapped[dict] = mapped_column(JSON)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    agent: Mapped[str | None] = mapped_column(String(64), index=True)
    resolution: Mapped[str | None] = mapped_column(String(200))
    last_update_position: Mapped[int | None]  # what the customer was last told
    last_update_at: Mapped[datetime | None]


class AgentPresence(HandoffBase):
    __tablename__ = "agent_presence"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(8), default="offline")  # online | away | offline
    languages: Mapped[str] = mapped_column(String(32), default="en")  # skills, copied at sign-in
    max_concurrent: Mapped[int] = mapped_column(default=3)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InboundSms(HandoffBase):
    """Every Twilio MessageSid seen, so a retried webhook is answered once."""

    __tablename__ = "inbound_sms"

    message_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboundSms(HandoffBase):
    """An SMS to send; kept until Twilio accepts it, retried with backoff, visible to agents."""

    __tablename__ = "outbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    to: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="pending", index=True)  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(300))
    twilio_sid: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsOptOut(HandoffBase):
    """Phones that sent STOP; nothing is sent to them until START."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class NluCursor(HandoffBase):
    """How far the NLU logger has read Rasa's tracker store (last event id seen)."""

    __tablename__ = "nlu_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NluLabel(TimestampMixin, HandoffBase):
    """An admin's label for a customer text: an intent (existing or new) or noise.

    `text` is the training example without annotations; `entities` are character spans
    [{"start", "end", "entity", "value"}]. `key` is the normalised text (one label per
    language and key). `status`: active, or deleted (its example leaves the reviewed data).
    """

    __tablename__ = "nlu_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(2))
    key: Mapped[str] = mapped_column(String(300), index=True)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(12))  # intent | new_intent | noise
    intent: Mapped[str | None] = mapped_column(String(64))
    entities: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    status: Mapped[str] = mapped_column(String(12), default="active", index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))  # the one labelled
    message_ids: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # all it took off the inbox
    created_by: Mapped[str] = mapped_column(String(64))
    updated_by: Mapped[str | None] = mapped_column(String(64))


class NluSuggestion(HandoffBase):
    """An agent's hint from a conversation: "the customer meant X" (admins decide)."""

    __tablename__ = "nlu_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    intent: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(300))
    suggested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NluModel(HandoffBase):
    """Model registry and training jobs: one row per training (and per outside model seen live).

    status: training, evaluating, failed, candidate, active, retired, external (a model the
    service found running and did not train). `running` is 1 while a job trains or
    evaluates and NULL otherwise; its unique index allows one job at a time across processes.
    """

    __tablename__ = "nlu_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str | None] = mapped_column(String(500))
    origin: Mapped[str] = mapped_column(String(12), default="trained")  # trained | external
    status: Mapped[str] = mapped_column(String(12), index=True)
    running: Mapped[int | None] = mapped_column(unique=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    progress: Mapped[float] = mapped_column(default=0.0)
    phase: Mapped[str | None] = mapped_column(String(200))
    log_tail: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    train_seconds: Mapped[float | None]
    eval_seconds: Mapped[float | None]
    base_model_id: Mapped[int | None] = mapped_column(ForeignKey("nlu_models.id"))
    label_ids: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    reviewed: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # {lang: YAML text}
    diff: Mapped[str | None] = mapped_column(Text)
    metrics: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    verdict: Mapped[str | None] = mapped_column(String(12))  # better | same | worse | unknown
    activated_at: Mapped[datetime | None]
    activated_by: Mapped[str | None] = mapped_column(String(64))


class NluActivation(HandoffBase):
    """Every activation and rollback: who, when, from which model to which, and how it went."""

    __tablename__ = "nlu_activations"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("nlu_models.id"), index=True)
    previous_model_id: Mapped[int | None] = mapped_column(ForeignKey("nlu_models.id"))
    action: Mapped[str] = mapped_column(String(12))  # activate | rollback
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    override_reason: Mapped[str | None] = mapped_column(String(300))
    seconds: Mapped[float | None]
    ok: Mapped[bool] = mapped_column(default=True)
    error: Mapped[str | None] = mapped_column(Text)
