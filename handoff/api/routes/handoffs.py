"""The live-agent queue for staff: list, inspect, claim, reply, release, resolve."""
import asyncio

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from handoff.api.deps import ContainerDep, SessionDep, StaffUserDep, agent_from_token
from handoff.api.schemas import AgentText, CloseIn, HandoffDetail, HandoffSummary, MessageOut, PresenceIn
from handoff.errors import HandoffError
from handoff.models import Handoff, HandoffStatus
from handoff.services import queue, transcript
from handoff.services.pubsub import QUEUE_TOPIC, conversation_topic

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
    if mine:
        rows = rows.filter(Handoff.agent == user.username)
    rows = rows.order_by(Handoff.id.desc()).limit(200)
    return [summary(h) for h in rows]


@router.get("/handoffs/{handoff_id}", response_model=HandoffDetail)
def get_handoff(handoff_id: int, session: SessionDep, user: StaffUserDep) -> dict:
    handoff = queue.get(session, handoff_id)
    conversation = transcript.get_conversation(session, handoff.conversation_id)
    return {**summary(handoff), "packet": handoff.packet, "channel": conversation.channel,
            "messages": [transcript.message_view(m)
                         for m in transcript.messages_after(session, conversation.id)]}


@router.post("/handoffs/{handoff_id}/claim", response_model=HandoffSummary)
async def claim(handoff_id: int, user: StaffUserDep, container: ContainerDep) -> dict:
    return summary(await run_in_threadpool(container.router.claim, handoff_id=handoff_id, agent=user))


@router.post("/handoffs/{handoff_id}/messages", response_model=MessageOut, status_code=201)
async def reply(handoff_id: int, body: AgentText, user: StaffUserDep, container: ContainerDep) -> dict:
    message = await run_in_threadpool(container.router.agent_message, handoff_id=handoff_id,
                                      agent=user, text=body.text)
    return transcript.message_view(message)


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
    container.broker.publish(QUEUE_TOPIC, {"type": "queue_changed"})
    return {"username": user.username, "status": body.status}


@router.websocket("/agents/ws")
async def agent_socket(websocket: WebSocket, token: str = "") -> None:
    """Live queue changes, and the messages of conversations the agent watches.

    Browsers cannot set headers on WebSockets, so the token comes as a query parameter.
    Send `{"watch": conversation_id}` to follow a conversation.
    """
    container = websocket.app.state.container
    try:
        await run_in_threadpool(agent_from_token, container, token)
    except HandoffError:
        await websocket.close(code=4401)
        return
    await websocket.accept()
    async with container.broker.subscribe(QUEUE_TOPIC) as events:
        watched: dict[str, asyncio.Task] = {}

        async def forward(source: asyncio.Queue) -> None:
            while True:
                await websocket.send_json(await source.get())

        async def watch(conversation_id: str) -> None:
            async with container.broker.subscribe(conversation_topic(conversation_id)) as source:
                await forward(source)

        pusher = asyncio.create_task(forward(events))
        try:
            while True:
                data = await websocket.receive_json()
                conversation_id = str(data.get("watch", ""))[:64] if isinstance(data, dict) else ""
                if conversation_id and conversation_id not in watched:
                    watched[conversation_id] = asyncio.create_task(watch(conversation_id))
        except (WebSocketDisconnect, ValueError):
            pass
        finally:
            pusher.cancel()
            for task in watched.values():
                task.cancel()
