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
                                 description="letters, digits, _ and -, at most 64; "
                                             "ids starting with sms- belong to the SMS channel")
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="what the customer sees as sent")
    payload: str | None = Field(default=None, pattern=r"^/[A-Za-z_]+(\{.{0,200}\})?$",
                                description="a button's payload; `text` is then its title")
    lang: Literal["en", "nl"] | None = None

    _clean = field_validator("text")(clean_text)

    @field_validator("conversation_id")
    @classmethod
    def _not_an_sms_id(cls, value: str) -> str:
        if value.startswith("sms-"):
            raise ValueError("ids starting with sms- belong to the SMS channel")
        return value


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


class EarlierMessages(BaseModel):
    conversation_id: str
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


class OutboundSmsOut(BaseModel):
    id: int
    status: str  # pending | sent | failed
    attempts: int
    last_error: str | None
    body: str


class HandoffDetail(HandoffSummary):
    packet: dict
    channel: str
    churn_risk: bool = False  # the packet says the customer threatens to leave
    messages: list[MessageOut]  # the newest 500 lines; older ones: GET .../messages?before=
    sms: list[OutboundSmsOut] = []


ConcessionKindName = Literal["goodwill_credit", "late_fee_waiver", "retention_discount"]


class ConcessionIn(BaseModel):
    """An agent's concession for the customer of a conversation they handle."""

    kind: ConcessionKindName
    amount_minor: int = Field(gt=0, le=10_000_000, description="total, in cents")
    reason_code: str = Field(default="agent_goodwill", pattern=r"^[a-z0-9_]{1,64}$")
    idempotency_key: str = Field(pattern=r"^[A-Za-z0-9_.:-]{8,48}$",
                                 description="made by the client once per offer; a retry reuses it")
    note: str | None = Field(default=None, max_length=500)
    churn_risk: bool | None = Field(
        default=None, description="the customer threatens to leave; default: as the handoff's packet says")
    request_approval: bool = Field(default=False,
                                   description="above the agent's limit: ask a supervisor")


class ConcessionOut(BaseModel):
    id: int
    status: Literal["granted", "pending_approval", "rejected"]
    kind: str
    amount_minor: int
    currency: str
    months: int | None = None
    reason_code: str
    note: str | None = None
    channel: str | None = None
    granted_by: str
    granted_by_role: str
    approved_by: str | None = None
    decided_at: str | None = None
    conversation_id: str | None = None
    account_number: str
    customer_name: str
    created_at: str


class ConcessionOption(BaseModel):
    """What the policy allows for this customer, and the caller's own limit."""

    kind: str
    eligible: bool
    reasons: list[str]
    suggested_minor: int
    max_minor: int
    role_limit_minor: int
    currency: str
    months: int | None = None


class DecisionIn(BaseModel):
    reason: str | None = Field(default=None, max_length=200)


class InvoiceOut(BaseModel):
    number: str
    issue_date: str
    due_date: str
    total_minor: int
    open_minor: int
    currency: str


class BillChangeOut(BaseModel):
    reason: str
    description: str
    impact_minor: int


class PaymentOut(BaseModel):
    amount_minor: int
    currency: str
    paid_on: str
    method: str


class AccountOut(BaseModel):
    account_number: str
    status: str
    currency: str
    customer_name: str
    customer_language: str
    customer_since: str
    phone: str | None = None  # masked: last digits only
    balance_minor: int
    overdue_minor: int
    balance_status: str
    next_due_date: str | None = None
    plan: dict | None = None
    invoices: list[InvoiceOut]
    payments: list[PaymentOut] = []  # newest first: "I already paid" is checked against these
    bill_changes: list[BillChangeOut]
    percent_change: int | None = None
    concessions: list[ConcessionOut]


class BankTransferOut(BaseModel):
    beneficiary: str
    iban: str = Field(description="without spaces")
    reference: str = Field(description="what the customer puts in the transfer's description")


class PaymentLinkOut(BaseModel):
    amount_minor: int
    currency: str
    account: str = Field(description="the account number, masked but for the last 4 digits")
    valid_until: str = Field(description="ISO 8601, UTC")
    bank_transfer: BankTransferOut | None = Field(
        None, description="absent when no bank account is configured (BILLING_PAYMENT_IBAN)")


class CannedResponse(BaseModel):
    key: str
    title: dict[str, str]
    text: dict[str, str]


def is_conversation_id(value: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value) is not None


class IdentityCheckOut(BaseModel):
    """An agent's identity check: whether it worked and, only then, who the customer is."""

    verified: bool
    account_number: str | None = None
    customer_name: str | None = None
