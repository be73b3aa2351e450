"""The live-agent queue: enqueue with priority, position and wait, claim, release, resolve,
and the customer leaving it (abandoned).

Claims are a single conditional UPDATE (status must still be `queued`), so two agents can
never claim the same conversation, on SQLite or PostgreSQL alike.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from billing_core.db import utcnow
from handoff.errors import Conflict, Forbidden, NotFound
from handoff.models import AgentPresence, Conversation, Handoff, HandoffStatus, Owner

# Minutes a flag moves a conversation up the queue.
PRIORITY_FLAGS = {"cancel_threat": 30, "bereavement": 30, "complaint": 20,
                  "verification_failed": 20, "payment_missing": 10, "bot_unavailable": 10}
HANDLE_TIME_SAMPLE = 20


@dataclass(frozen=True)
class Agent:
    username: str
    role: str
    languages: tuple[str, ...]
    max_concurrent: int
    full_name: str = ""


@dataclass(frozen=True)
class QueueStatus:
    position: int
    wait_seconds: int | None  # None: no agent with the right language is online


# A reason no offer changes: the bot drops the cancel_threat flag for it (docs/dialogue.md),
# so a widow's "I want to cancel" is never treated as a threat to talk round.
CANCELLED_FOR_GOOD = {"bereavement", "moving_abroad"}


def packet_churn_risk(packet: dict | None) -> bool:
    """Whether the customer threatened to leave, by the bot's packet: the `cancel_threat`
    flag, or the `churn_risk` slot ("a discount or I leave") unless the reason is one no
    offer changes. The console ticks "Customer threatens to leave" from it
    (the handoff detail's `churn_risk`)."""
    packet = packet or {}
    flags = set(packet.get("flags") or [])
    if "cancel_threat" in flags:
        return True
    return bool((packet.get("slots") or {}).get("churn_risk")) and not flags & CANCELLED_FOR_GOOD


def priority_of(packet: dict, reason: str) -> int:
    flags = set(packet.get("flags") or []) | {reason}
    return sum(PRIORITY_FLAGS.get(flag, 0) for flag in flags)


def enqueue(session: Session, conversation: Conversation, *, packet: dict, reason: str,
            now: datetime | None = None) -> Handoff:
    now = now or utcnow()
    existing = session.scalar(select(Handoff).where(
        Handoff.conversation_id == conversation.id,
        Handoff.status.in_([HandoffStatus.queued, HandoffStatus.claimed])))
    if existing is not None:  # already waiting or with an agent: keep the place
        return existing
    priority = priority_of(packet, reason)
    handoff = Handoff(
        conversation_id=conversation.id, reason=reason,
        language=packet.get("language") or conversation.language or "en", priority=priority,
        rank_at=now - timedelta(minutes=priority), packet=packet, queued_at=now,
    )
    conversation.owner = Owner.queued
    session.add(handoff)
    session.flush()
    return handoff


def queued(session: Session, language: str | None = None) -> list[Handoff]:
    query = select(Handoff).where(Handoff.status == HandoffStatus.queued)
    if language:
        query = query.where(Handoff.language == language)
    return list(session.scalars(query.order_by(Handoff.rank_at, Handoff.id)))


def online_agents(session: Session, language: str | None = None) -> list[AgentPresence]:
    agents = session.scalars(select(AgentPresence).where(AgentPresence.status == "online")).all()
    return [a for a in agents if language is None or language in a.languages.split(",")]


def average_handle_seconds(session: Session, default: int) -> int:
    rows = session.execute(
        select(Handoff.claimed_at, Handoff.closed_at)
        .where(Handoff.claimed_at.is_not(None), Handoff.closed_at.is_not(None))
        .order_by(Handoff.closed_at.desc()).limit(HANDLE_TIME_SAMPLE)).all()
    if not rows:
        return default
    return int(sum((closed - claimed).total_seconds() for claimed, closed in rows) / len(rows))


def status_of(session: Session, handoff: Handoff, *, default_handle_seconds: int) -> QueueStatus:
    """Position among conversations needing the same language, and the expected wait."""
    line = queued(session, handoff.language)
    position = next((i for i, h in enumerate(line, start=1) if h.id == handoff.id), len(line))
    agents = online_agents(session, handoff.language)
    if not agents:
        return QueueStatus(position, None)
    capacity = sum(a.max_concurrent for a in agents)
    handle = average_handle_seconds(session, default_handle_seconds)
    return QueueStatus(position, int(position * handle / capacity))


def get(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound(f"no handoff {handoff_id}")
    return handoff


def set_presence(session: Session, agent: Agent, status: str) -> AgentPresence:
    if status not in ("online", "away", "offline"):
        raise Conflict(f"unknown status {status!r}")
    presence = session.get(AgentPresence, agent.username) or AgentPresence(username=agent.username)
    presence.status = status
    presence.languages = ",".join(agent.languages)
    presence.max_concurrent = agent.max_concurrent
    session.add(presence)
    session.flush()
    return presence


def claim(session: Session, *, handoff_id: int, agent: Agent, now: datetime | None = None) -> Handoff:
    now = now or utcnow()
    handoff = get(session, handoff_id)
    if handoff.language not in agent.languages:
        raise Forbidden(f"this conversation needs an agent who speaks {handoff.language!r}")
    # Lock the agent's presence row so their own parallel claims cannot pass the capacity.
    session.scalar(select(AgentPresence).where(AgentPresence.username == agent.username)
                   .with_for_update())
    active = session.scalar(select(func.count(Handoff.id)).where(
        Handoff.agent == agent.username, Handoff.status == HandoffStatus.claimed))
    if active >= agent.max_concurrent:
        raise Conflict(f"you already have {active} conversations (your limit)")
    claimed = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, Handoff.status == HandoffStatus.queued)
        .values(status=HandoffStatus.claimed, agent=agent.username, claimed_at=now)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise Conflict("this conversation was already claimed or closed")
    session.refresh(handoff)
    conversation = session.get(Conversation, handoff.conversation_id)
    conversation.owner, conversation.agent = Owner.agent, agent.username
    return handoff


def owned(session: Session, *, handoff_id: int, agent: Agent) -> Handoff:
    """The agent's own claimed handoff; anyone else's is off limits."""
    handoff = get(session, handoff_id)
    if handoff.status is not HandoffStatus.claimed:
        raise Conflict(f"this conversation is {handoff.status.value}, not claimed")
    if handoff.agent != agent.username:
        raise Forbidden("this conversation belongs to another agent")
    return handoff


def close(session: Session, *, handoff_id: int, agent: Agent, status: HandoffStatus,
          resolution: str | None, now: datetime | None = None) -> Handoff:
    """Release to the bot or resolve; the conversation goes back to the bot or is closed."""
    handoff = owned(session, handoff_id=handoff_id, agent=agent)
    handoff.status, handoff.resolution, handoff.closed_at = status, resolution, now or utcnow()
    conversation = session.get(Conversation, handoff.conversation_id)
    conversation.owner = Owner.bot if status is HandoffStatus.released else Owner.closed
    conversation.agent = None
    return handoff


def waiting(session: Session, conversation: Conversation) -> Handoff | None:
    """The conversation's handoff still in the queue, if any."""
    return session.scalar(select(Handoff).where(
        Handoff.conversation_id == conversation.id, Handoff.status == HandoffStatus.queued))


def abandon(session: Session, conversation: Conversation, *,
            now: datetime | None = None) -> Handoff | None:
    """The customer left the queue: their waiting handoff is abandoned and the bot answers
    again. None when no handoff was waiting (an agent claimed it a moment ago)."""
    handoff = waiting(session, conversation)
    if handoff is None:
        return None
    left = session.execute(
        update(Handoff).where(Handoff.id == handoff.id, Handoff.status == HandoffStatus.queued)
        .values(status=HandoffStatus.abandoned, closed_at=now or utcnow())
        .execution_options(synchronize_session=False))
    if left.rowcount != 1:
        return None
    session.refresh(handoff)
    conversation.owner = Owner.bot
    return handoff
