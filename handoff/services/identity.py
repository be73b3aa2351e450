"""Who an unverified customer is, checked by the agent from what the customer typed.

The agent reads the customer's dates of birth and postcodes masked, so they cannot check them
themselves: `POST /api/handoffs/{id}/verify` reads the customer's own messages since the
handoff was queued for an account number (or, by SMS, the sender's phone) and a date of birth
or postcode, and the billing core's `verify_identity` checks them, one attempt per check:
failures count towards the lock as the bot's do, and a lock holds. Only the outcome reaches
the agent, never the factors.
"""
import re
from dataclasses import dataclass

from sqlalchemy import select

from billing_core.actor import Actor
from billing_core.audit.service import record_event
from billing_core.customers.models import Account
from billing_core.customers.service import verify_identity
from billing_core.db import session_scope
from billing_core.enums import Role
from billing_core.errors import InvalidRequest
from billing_core.security import date_of_birth_in, parse_date_of_birth, postcodes_in
from handoff.errors import Conflict
from handoff.models import Author, Handoff, Message
from handoff.services import queue, transcript
from handoff.services.events import publish_after_commit
from handoff.services.pubsub import QUEUE_TOPIC
from handoff.services.queue import Agent

# Digits with spaces, dots or dashes between them ("1000-0003", "10 00 00 02").
_DIGIT_RUN = re.compile(r"\d(?:[\s.-]?\d)+")
_NUMERIC_DATE = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.](\d{4}|\d{2})|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
# "I used 1500 MB abroad" is written like a postcode
_UNITS = re.compile(r"(MB|GB|KB|TB)$")


@dataclass(frozen=True)
class Claimed:
    """What the customer's messages say about who they are (nothing is checked yet)."""

    account_number: str | None = None
    date_of_birth: str | None = None  # ISO
    postcode: str | None = None

    @property
    def factor(self) -> bool:
        return bool(self.date_of_birth or self.postcode)


def account_number_in(text: str) -> str | None:
    """An 8-digit account number, however grouped, that is not a date ("12041985")."""
    # eight digits on their own first: "10000001 12041985" is a number and a date
    for run in re.findall(r"\b\d{8}\b", text) + _DIGIT_RUN.findall(text):
        digits = re.sub(r"[\s.-]", "", run)
        if len(digits) != 8 or _NUMERIC_DATE.fullmatch(run.strip()):
            continue
        try:
            parse_date_of_birth(digits)
        except InvalidRequest:
            return digits
    return None


def claimed_identity(texts: list[str]) -> Claimed:
    """The newest account number, and the newest date of birth (or else the newest postcode),
    in the customer's messages (oldest first)."""
    number = dob = postcode = None
    for text in reversed(texts):
        number = number or account_number_in(text)
        born = date_of_birth_in(text)
        dob = dob or (born.isoformat() if born else None)
        postcode = postcode or next((code for code in postcodes_in(text)
                                     if not _UNITS.search(code)), None)
    return Claimed(number, dob, None if dob else postcode)


def check(container, *, handoff_id: int, agent: Agent) -> dict:
    """The agent's check of their claimed handoff's customer: one verification attempt with
    what the customer typed since the handoff was queued, audited as the agent; the packet
    records a verified customer (and which lines were checked, so the same details are never
    tried twice). Returns only whether it worked, and then who the customer is."""
    with session_scope(container.sessions) as session:
        queue.owned(session, handoff_id=handoff_id, agent=agent)
        handoff = session.scalar(select(Handoff).where(Handoff.id == handoff_id).with_for_update())
        packet = dict(handoff.packet or {})
        if packet.get("verified") and (packet.get("customer") or {}).get("account_number"):
            raise Conflict("the customer is verified already")
        conversation = transcript.get_conversation(session, handoff.conversation_id)
        lines = session.execute(select(Message.seq, Message.text).where(
            Message.conversation_id == conversation.id, Message.author == Author.customer,
            Message.created_at >= handoff.queued_at).order_by(Message.seq)).all()
        last_seq = lines[-1].seq if lines else 0
        if lines and packet.get("identity_checked_seq", 0) >= last_seq:
            raise Conflict("nothing new from the customer since the last check: ask them for "
                           "their account number and date of birth or postcode again")
        claimed = claimed_identity([line.text for line in lines])
        phone = conversation.phone if conversation.channel == "sms" else None
        if not (claimed.account_number or phone) or not claimed.factor:
            raise Conflict("the customer's messages since the handoff have no account number "
                           "and date of birth or postcode to check; ask the customer for them")
        with session_scope(container.billing_sessions) as billing:
            result = verify_identity(
                billing, account_number=claimed.account_number,
                phone=None if claimed.account_number else phone,
                date_of_birth=claimed.date_of_birth, postcode=claimed.postcode,
                conversation_id=conversation.id)
            number = result.account_number or claimed.account_number
            account_id = billing.scalar(select(Account.id).where(
                Account.account_number == number)) if number else None
            record_event(billing, actor=Actor(id=agent.username, role=Role(agent.role)),
                         action="verification.checked_by_agent", entity_type="account",
                         entity_id=number, account_id=account_id,
                         after={"status": result.status.value}, conversation_id=conversation.id)
        packet["identity_checked_seq"] = last_seq
        if result.verified:
            packet.update(verified=True, verified_by=agent.username,
                          customer={"name": result.customer_name,
                                    "account_number": result.account_number})
        handoff.packet = packet
        publish_after_commit(session, container.broker, QUEUE_TOPIC, {"type": "queue_changed"})
    if not result.verified:
        return {"verified": False, "account_number": None, "customer_name": None}
    return {"verified": True, "account_number": result.account_number,
            "customer_name": result.customer_name}
