"""SMS has no buttons: options become numbered lines, and a reply of `2` means option two."""
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handoff.models import Author, Message

OPTION = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


HINT = {"en": "(reply with a number)", "nl": "(antwoord met een cijfer)"}


def render(replies: list[dict], limit: int = 1530, language: str | None = None) -> list[str]:
    """One turn as SMS bodies: texts joined, buttons numbered, split at `limit` characters."""
    parts = []
    for reply in replies:
        text = reply["text"]
        if reply.get("buttons"):
            options = "\n".join(f"{i}) {b['title']}" for i, b in enumerate(reply["buttons"], start=1))
            text = f"{text}\n{options}\n{HINT.get(language or 'en', HINT['en'])}"
        parts.append(text)
    return split("\n\n".join(parts), limit)


def split(body: str, limit: int) -> list[str]:
    """Split at paragraph, line or word boundaries so no piece exceeds `limit`."""
    pieces: list[str] = []
    rest = body.strip()
    while len(rest) > limit:
        cut = max(rest.rfind(sep, 0, limit) for sep in ("\n\n", "\n", " "))
        cut = cut if cut > limit // 2 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def option_payload(session: Session, conversation_id: str, text: str) -> str | None:
    """The payload of option N of the buttons shown since the customer last wrote, if `text` is N."""
    match = OPTION.match(text)
    if not match:
        return None
    last_customer = select(func.coalesce(func.max(Message.seq), 0)).where(
        Message.conversation_id == conversation_id, Message.author == Author.customer
    ).scalar_subquery()
    last = session.scalar(
        select(Message).where(Message.conversation_id == conversation_id,
                              Message.author.in_([Author.bot, Author.system]),
                              Message.seq > last_customer, Message.buttons.is_not(None))
        .order_by(Message.seq.desc()).limit(1))
    if last is None or not last.buttons:
        return None
    index = int(match.group(1)) - 1
    return last.buttons[index]["payload"] if 0 <= index < len(last.buttons) else None
