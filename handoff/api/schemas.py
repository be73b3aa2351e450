import re
import unicodedata
from typing import Literal

from pydantic import BaseModel, Field, field_validator

MAX_TEXT = 2000


def clean_text(value: str) -> str:
    """Drop control characters (keep newlines and tabs) and surrounding space."""
    cleaned = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C"
                      or unicodedata.category(ch) == "Cf")
    cleaned = cleaned.strip()
    if not cleaned:
        raise ValueError("text is empty")
    return cleaned


class Button(BaseModel):
    title: str
    payload: str


class Reply(BaseModel):
    text: str
    buttons: list[Button] | None = None


class ChatIn(BaseModel):
    conversation_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                 description="letters, digits, _ and -, at most 64")
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    lang: Literal["en", "nl"] | None = None

    _clean = field_validator("text")(clean_text)


class ChatOut(BaseModel):
    conversation_id: str
    mode: Literal["bot", "queued", "agent", "closed"]
    replies: list[Reply]


class MessageOut(BaseModel):
    seq: int
    author: Literal["customer", "bot", "agent", "system"]
    text: str
    at: str
    buttons: list[Button] | None = None
    author_name: str | None = None


class MessagesOut(BaseModel):
    conversation_id: str
    mode: str
    messages: list[MessageOut]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    username: str
    role: str


class AgentText(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)

    _clean = field_validator("text")(clean_text)


class CloseIn(BaseModel):
    resolution: str | None = Field(default=None, max_length=200)


class PresenceIn(BaseModel):
    status: Literal["online", "away", "offline"]


class HandoffSummary(BaseModel):
    id: int
    conversation_id: str
    status: str
    reason: str
    language: str
    priority: int
    queued_at: str
    agent: str | None
    position: int | None = None
    customer_name: str | None = None
    intent: str | None = None
    flags: list[str] = []


class HandoffDetail(HandoffSummary):
    packet: dict
    channel: str
    messages: list[MessageOut]


def is_conversation_id(value: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value) is not None
