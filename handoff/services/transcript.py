"""Conversations and their numbered transcript."""
import re

from sqlalchemy import select

from billing_core.security import mask_sensitive
from sqlalchemy.orm import Session

from handoff.errors import NotFound
from handoff.models import Author, Conversation, Message
from handoff.services.events import publish_after_commit
from handoff.services.pubsub import InProcessBroker, conversation_topic

CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def get_conversation(session: Session, conversation_id: str, *, for_update: bool = False) -> Conversation:
    query = select(Conversation).where(Conversation.id == conversation_id)
    if for_update:
        query = query.with_for_update()
    conversation = session.scalar(query)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id!r}")
    return conversation


def get_or_create(session: Session, conversation_id: str, *, channel: str,
                  phone: str | None = None, language: str | None = None) -> Conversation:
    conversation = session.scalar(select(Conversation).where(Conversation.id == conversation_id)
                                  .with_for_update())
    if conversation is None:
        conversation = Conversation(id=conversation_id, channel=channel, phone=phone,
                                    language=language)
        session.add(conversation)
        session.flush()
    elif language and conversation.language != language:
        conversation.language = language
    return conversation


def append(session: Session, conversation: Conversation, *, author: Author, text: str,
           buttons: list | None = None, author_name: str | None = None,
           broker: InProcessBroker | None = None) -> Message:
    """Add a line; the conversation row is locked by the caller, so numbers never collide.

    Watchers hear of it through `broker` once the transaction commits.
    """
    conversation.last_seq += 1
    message = Message(conversation_id=conversation.id, seq=conversation.last_seq, author=author,
                      author_name=author_name, text=text, buttons=buttons or None)
    session.add(message)
    session.flush()
    if broker is not None:
        publish_after_commit(session, broker, conversation_topic(conversation.id),
                             {"type": "message", "conversation_id": conversation.id,
                              "message": message_view(message), "mode": conversation.owner.value})
    return message


def messages_after(session: Session, conversation_id: str, after: int = 0,
                   limit: int = 500) -> list[Message]:
    return list(session.scalars(
        select(Message).where(Message.conversation_id == conversation_id, Message.seq > after)
        .order_by(Message.seq).limit(limit)))


def latest_messages(session: Session, conversation_id: str, *, before: int | None = None,
                    limit: int = 500) -> list[Message]:
    """The newest `limit` lines (of those before line `before`), oldest first: a long-lived
    SMS conversation shows its latest lines, and staff page back from there."""
    query = select(Message).where(Message.conversation_id == conversation_id)
    if before is not None:
        query = query.where(Message.seq < before)
    return list(reversed(session.scalars(query.order_by(Message.seq.desc()).limit(limit)).all()))


def with_button_titles(session: Session, conversation_id: str, lines: list[dict]) -> list[dict]:
    """The bot's transcript for the agent with each button press as the customer saw it: the
    bot reads a button's payload (`/affirm`, `/inform{"arrangement_option": ...}`, also an SMS
    option number mapped back), the agent reads its title ("Yes", "6 instalments"), taken
    from the latest buttons the bot showed with that payload before it."""
    shown = {message.text: message.buttons for message in session.scalars(
        select(Message).where(Message.conversation_id == conversation_id,
                              Message.author == Author.bot, Message.buttons.is_not(None),
                              Message.text.in_([line.get("text") for line in lines
                                                if line.get("from") == "bot"]))
        .order_by(Message.seq))}
    titles: dict[str, str] = {}
    readable = []
    for line in lines:
        if line.get("from") == "bot":
            titles.update({button["payload"]: button["title"]
                           for button in shown.get(line.get("text"), [])})
        elif line.get("from") == "customer" and line.get("text") in titles:
            line = {**line, "text": titles[line["text"]]}
        readable.append(line)
    return readable


def staff_text(message: Message) -> str:
    """A line as staff see it: the customer's dates of birth, postcodes and card numbers hidden."""
    return mask_sensitive(message.text) if message.author is Author.customer else message.text


def message_view(message: Message, *, masked: bool = False) -> dict:
    """A transcript line for clients; `masked` (staff views) hides what `staff_text` hides."""
    view = {"seq": message.seq, "author": message.author.value,
            "text": staff_text(message) if masked else message.text,
            "at": message.created_at.isoformat()}
    if message.buttons:
        view["buttons"] = message.buttons
    if message.author_name:
        view["author_name"] = message.author_name
    return view
