"""The live-agent queue for staff: list, inspect, claim, reply, release, resolve."""
import asyncio

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select

from billing_core.security import mask_sensitive
from handoff.api.deps import ContainerDep, SessionDep, StaffUserDep, agent_from_token
from handoff.api.schemas import (AgentText, CloseIn, EarlierMessages, HandoffDetail, HandoffSummary,
                                 IdentityCheckOut, MessageOut, PresenceIn)
from handoff.errors import Forbidden, HandoffError
from handoff.models import Author, Handoff, HandoffStatus, Message, OutboundSms
from handoff.services import identity, queue, transcript
from handoff.services.events import publish_after_commit
from handoff.services.pubsub import QUEUE_TOPIC, conversation_topic
from handoff.services.queue import Agent

router = APIRouter(prefix="/api", tags=["handoffs"])


def summary(handoff: Handoff, position: int | None = None) -> dict:
    packet = handoff.packet or {}
    return {"id": handoff.id, "conversation_id": handoff.conversation_id,
            "status": handoff.status.value, "reason": handoff.reason, "language": handoff.language,
            "priority": handoff.priority, "queued_at": handoff.queued_at.isoformat(),
            "agent": handoff.agent, "position": position,
            "customer_name": (packet.get("customer") or {}).get("name"),
            "intent": packet.get("intent"), "flags": packet.get("flags") or []}


@router.get("/handoffs", response_model=list[HandoffSummary])
def list_handoffs(session: SessionDep, user: StaffUserDep,
                  status: HandoffStatus = Query(HandoffStatus.queued),
                  mine: bool = Query(False, description="only the ones I claimed")) -> list[dict]:
    if status is HandoffStatus.queued and not mine:
        return [summary(h, position) for position, h in enumerate(queue.queued(session), start=1)]
    rows = session.query(Handoff).filter(Handoff.status == status)
    if mine or user.role == "agent":  # beyond the queue, agents list only their own
        rows = rows.filter(Handoff.agent == user.username)
    rows = rows.order_by(Handoff.id.desc()).limit(200)
    return [summary(h) for h in rows]


def may_see(session, user: Agent, conversation_id: str) -> bool:
    """Supervisors and admins see everything; an agent sees the queue and their own conversations."""
    if user.role in ("supervisor", "admin"):
        return True
    return session.scalar(select(Handoff.id).where(
        Handoff.conversation_id == conversation_id,
        (Handoff.status == HandoffStatus.queued)
        | ((Handoff.status == HandoffStatus.claimed) & (Handoff.agent == user.username)))) is not None


def readable_until(session, user: Agent, handoff: Handoff) -> int | None:
    """The last line of the handoff's conversation `user` may read (None: all of it).

    Besides what `may_see` allows, the agent who handled a handoff reads it afterwards,
    read-only, up to the line that closed it (not what the customer said to the bot later).
    Anyone else is told why not."""
    if may_see(session, user, handoff.conversation_id):
        return None
    if handoff.agent == user.username and handoff.closed_at is not None:
        closing = session.scalar(select(func.min(Message.seq)).where(
            Message.conversation_id == handoff.conversation_id,
            Message.author == Author.system, Message.created_at >= handoff.closed_at))
        if closing is None:  # no closing line found: what was written before the close
            closing = session.scalar(select(func.max(Message.seq)).where(
                Message.conversation_id == handoff.conversation_id,
                Message.created_at <= handoff.closed_at)) or 0
        return closing
    if handoff.status is HandoffStatus.claimed:
        raise Forbidden("another agent is handling this conversation")
    if handoff.status is HandoffStatus.abandoned:
        raise Forbidden("the customer left the queue before an agent took this conversation; "
                        "only supervisors can read it")
    raise Forbidden(f"this conversation was {handoff.status.value} by another agent; "
                    "only they and supervisors can read it")


@router.get("/handoffs/{handoff_id}", response_model=HandoffDetail)
def get_handoff(handoff_id: int, session: SessionDep, user: StaffUserDep) -> dict:
    """The packet and the newest 500 lines; the agent who handled a closed handoff reads it
    up to its close."""
    handoff = queue.get(session, handoff_id)
    until = readable_until(session, user, handoff)
    conversation = transcript.get_conversation(session, handoff.conversation_id)
    sms = select(OutboundSms).where(OutboundSms.conversation_id == conversation.id)
    if until is not None:  # the texts sent before the line after the closing one
        after = session.scalar(select(Message.created_at).where(
            Message.conversation_id == conversation.id, Message.seq == until + 1))
        if after is not None:
            sms = sms.where(OutboundSms.created_at < after)
    return {**summary(handoff), "packet": handoff.packet, "channel": conversation.channel,
            "churn_risk": queue.packet_churn_risk(handoff.packet),
            "messages": [transcript.message_view(m, masked=True) for m in transcript.latest_messages(
                session, conversation.id, before=None if until is None else until + 1)],
            "sms": [{"id": m.id, "status": m.status, "attempts": m.attempts,
                     "last_error": m.last_error, "body": m.body}
                    for m in session.scalars(sms.order_by(OutboundSms.id))]}


@router.get("/handoffs/{handoff_id}/messages", response_model=EarlierMessages)
def earlier_messages(handoff_id: int, session: SessionDep, user: StaffUserDep,
                     before: int = Query(ge=1, description="lines numbered below this one"),
                     limit: int = Query(200, ge=1, le=500)) -> dict:
    """The `limit` lines just before line `before`, oldest first: the detail shows the newest
    500, the console pages back from there."""
    handoff = queue.get(session, handoff_id)
    until = readable_until(session, user, handoff)
    if until is not None:
        before = min(before, until + 1)
    return {"conversation_id": handoff.conversation_id,
            "messages": [transcript.message_view(m, masked=True) for m in transcript.latest_messages(
                session, handoff.conversation_id, before=before, limit=limit)]}


@router.post("/handoffs/{handoff_id}/claim", response_model=HandoffSummary)
async def claim(handoff_id: int, user: StaffUserDep, container: ContainerDep) -> dict:
    return summary(await run_in_threadpool(container.router.claim, handoff_id=handoff_id, agent=user))


@router.post("/handoffs/{handoff_id}/messages", response_model=MessageOut, status_code=201)
async def reply(handoff_id: int, body: AgentText, user: StaffUserDep, container: ContainerDep) -> dict:
    message = await run_in_threadpool(container.router.agent_message, handoff_id=handoff_id,
                                      agent=user, text=body.text)
    return transcript.message_view(message)


@router.post("/handoffs/{handoff_id}/verify", response_model=IdentityCheckOut)
async def verify(handoff_id: int, user: StaffUserDep, container: ContainerDep) -> dict:
    """Check who the customer of your claimed handoff is from their own messages since it was
    queued (an account number, or by SMS the sender's phone, and a date of birth or
    postcode): one verification attempt, counted and locked as the bot's are, audited as you.
    Verified, the packet records the customer. 409 when there is nothing (new) to check."""
    return await run_in_threadpool(identity.check, container, handoff_id=handoff_id, agent=user)


@router.post("/handoffs/{handoff_id}/release", response_model=HandoffSummary)
async def release(handoff_id: int, user: StaffUserDep, container: ContainerDep,
                  body: CloseIn | None = None) -> dict:
    return summary(await run_in_threadpool(
        container.router.close, handoff_id=handoff_id, agent=user,
        status=HandoffStatus.released, resolution=body.resolution if body else None))


@router.post("/handoffs/{handoff_id}/resolve", response_model=HandoffSummary)
async def resolve(handoff_id: int, user: StaffUserDep, container: ContainerDep,
                  body: CloseIn | None = None) -> dict:
    return summary(await run_in_threadpool(
        container.router.close, handoff_id=handoff_id, agent=user,
        status=HandoffStatus.resolved, resolution=body.resolution if body else None))


@router.post("/agents/me/presence")
def presence(body: PresenceIn, user: StaffUserDep, session: SessionDep, container: ContainerDep) -> dict:
    queue.set_presence(session, user, body.status)
    publish_after_commit(session, container.broker, QUEUE_TOPIC, {"type": "queue_changed"})
    return {"username": user.username, "status": body.status}


@router.websocket("/agents/ws")
async def agent_socket(websocket: WebSocket, token: str = "") -> None:
    """Live queue changes, and the messages of conversations the agent watches.

    Browsers cannot set headers on WebSockets, so the token comes as a query parameter.
    Send `{"watch": conversation_id}` to follow a conversation.
    """
    container = websocket.app.state.container
    try:
        user = await run_in_threadpool(agent_from_token, container, token)
    except HandoffError:
        await websocket.close(code=4401)
        return

    def allowed(conversation_id: str) -> bool:
        with container.sessions() as session:
            return may_see(session, user, conversation_id)
    await websocket.accept()
    async with container.broker.subscribe(QUEUE_TOPIC) as events:
        watched: dict[str, asyncio.Task] = {}

        async def forward(source: asyncio.Queue) -> None:
            while True:
                event = await source.get()
                message = event.get("message")
                if message and message.get("author") == "customer":  # staff see masked text
                    event = {**event, "message": {**message, "text": mask_sensitive(message["text"])}}
                await websocket.send_json(event)

        async def watch(conversation_id: str) -> None:
            async with container.broker.subscribe(conversation_topic(conversation_id)) as source:
                await forward(source)

        pusher = asyncio.create_task(forward(events))
        try:
            while True:
                data = await websocket.receive_json()
                conversation_id = str(data.get("watch", ""))[:64] if isinstance(data, dict) else ""
                if not conversation_id or conversation_id in watched:
                    continue
                if await run_in_threadpool(allowed, conversation_id):
                    watched[conversation_id] = asyncio.create_task(watch(conversation_id))
                else:
                    await websocket.send_json({"type": "error", "conversation_id": conversation_id,
                                               "detail": "not your conversation"})
        except (WebSocketDisconnect, ValueError):
            pass
        finally:
            pusher.cancel()
            for task in watched.values():
                task.cancel()
