"""Web chat: the REST contract and a WebSocket for live messages."""
import asyncio

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from handoff.api.deps import ContainerDep, SessionDep
from handoff.api.schemas import ChatIn, ChatOut, MessagesOut, is_conversation_id
from handoff.errors import HandoffError, NotFound
from handoff.services import transcript
from handoff.services.pubsub import conversation_topic

router = APIRouter(prefix="/api/chat", tags=["chat"])


@router.post("/messages", response_model=ChatOut)
async def post_message(body: ChatIn, container: ContainerDep) -> ChatOut:
    result = await container.run_turn(
        container.router.customer_message, conversation_id=body.conversation_id, text=body.text,
        channel="web", language=body.lang, bot_text=body.payload)
    return ChatOut(conversation_id=result.conversation_id, mode=result.mode, replies=result.replies)


@router.get("/{conversation_id}/messages", response_model=MessagesOut)
def get_messages(conversation_id: str, session: SessionDep,
                 after: int = Query(0, ge=0)) -> MessagesOut:
    if not is_conversation_id(conversation_id):
        raise NotFound("no such conversation")
    conversation = transcript.get_conversation(session, conversation_id)
    if conversation.channel != "web":  # SMS transcripts are never readable through the web API
        raise NotFound("no such conversation")
    return MessagesOut(conversation_id=conversation.id, mode=conversation.owner.value,
                       messages=[transcript.message_view(m)
                                 for m in transcript.messages_after(session, conversation_id, after)])


@router.websocket("/{conversation_id}/ws")
async def chat_socket(websocket: WebSocket, conversation_id: str) -> None:
    """Pushes every new transcript line; accepts `{"text", "lang"?}` from the customer."""
    container = websocket.app.state.container
    if not is_conversation_id(conversation_id) or conversation_id.startswith("sms-"):
        await websocket.close(code=4400)
        return
    await websocket.accept()
    async with container.broker.subscribe(conversation_topic(conversation_id)) as events:
        async def push() -> None:
            while True:
                await websocket.send_json(await events.get())

        pusher = asyncio.create_task(push())
        try:
            while True:
                data = await websocket.receive_json()
                try:
                    body = ChatIn(conversation_id=conversation_id, **data)
                except (ValidationError, TypeError) as exc:
                    await websocket.send_json({"type": "error", "detail": str(exc).splitlines()[0]})
                    continue
                await websocket.send_json({"type": "typing"})
                try:
                    await container.run_turn(container.router.customer_message,
                                            conversation_id=conversation_id, text=body.text,
                                            channel="web", language=body.lang,
                                            bot_text=body.payload)
                except HandoffError as exc:
                    await websocket.send_json({"type": "error", "detail": str(exc)})
        except (WebSocketDisconnect, ValueError):
            pass
        finally:
            pusher.cancel()
