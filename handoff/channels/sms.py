"""The SMS channel: Twilio in (webhook, see `handoff.api.routes.sms`), Twilio out (sender).

Inbound, `SmsChannel` turns one verified Twilio message into a turn: STOP/START/HELP are
handled here and never reach the bot; a reply of `2` becomes the payload of option two of the
last bot message; anything else goes to `Router.customer_message`, which stores it before the
bot or the agent sees it.

Outbound, the router and this channel only queue `OutboundSms` rows (in the same transaction
as the transcript lines they carry). `SmsSender`, an asyncio task started with the app, sends
due rows with the official Twilio REST client in a worker thread (the client blocks), records
Twilio's message sid, and on failure retries with exponential backoff. Rows are never deleted:
after `sms_max_attempts` (or an error Twilio says will not go away) a row is `failed` and stays
visible to agents with its last error.
"""
import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from billing_core.customers.models import Customer
from billing_core.db import session_scope, utcnow
from handoff.core.config import Settings
from handoff.models import Author, Conversation, InboundSms, Message, OutboundSms, SmsOptOut
from handoff.services import transcript
from handoff.services.outbox import enqueue_sms
from handoff.services.pubsub import InProcessBroker
from handoff.services.routing import Router
from handoff.channels.sms_render import option_payload

log = logging.getLogger(__name__)

# Twilio's standard opt-out / opt-in / help keywords (the whole message, any case), plus Dutch.
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE",
              "AFMELDEN", "UITSCHRIJVEN"}
START_WORDS = {"START", "UNSTOP", "AANMELDEN"}
START_WHEN_OPTED_OUT = {"YES", "JA"}  # only then: otherwise "yes" answers the bot's question
HELP_WORDS = {"HELP", "INFO", "HULP"}
DUTCH_WORDS = {"AFMELDEN", "UITSCHRIJVEN", "AANMELDEN", "JA", "HULP"}

TEXTS = {
    "help": {
        "en": "Billing support: text your question (e.g. \"what is my balance?\") and our assistant "
              "answers; ask for \"a person\" to talk to a colleague. Reply with a number to pick an option. "
              "Text STOP to stop messages, START to resume.",
        "nl": "Klantenservice facturen: stuur uw vraag (bijv. \"wat is mijn saldo?\") en onze "
              "assistent antwoordt; vraag om \"een medewerker\" voor een collega. Antwoord met een nummer om "
              "een optie te kiezen. Stuur STOP om geen berichten meer te krijgen, START om te hervatten.",
    },
    "started": {
        "en": "You're subscribed again: you'll get our replies by SMS. Text HELP for help, STOP to stop.",
        "nl": "U bent weer aangemeld: u krijgt onze antwoorden weer per sms. Stuur HULP voor hulp, STOP om te stoppen.",
    },
    "stopped_note": "The customer texted {word}: no SMS will be sent to {phone} until they text START.",
    "opted_out_note": "Received while {phone} is opted out (STOP); nothing was sent back.",
}

TWILIO_API = "https://api.twilio.com"
PERMANENT_STATUSES = {400}  # bad number, unsubscribed recipient, bad body: retrying won't help
UNSUBSCRIBED = 21610  # Twilio: the recipient texted STOP to our number


def conversation_id_for(phone: str) -> str:
    """`sms-` and the digits of the number: nothing in it needs URL escaping (Rasa's paths)."""
    digits = re.sub(r"\D", "", phone)
    if not 3 <= len(digits) <= 20:
        raise ValueError(f"not a phone number: {phone!r}")
    return f"sms-{digits}"


def normalize_phone(phone: str) -> str:
    """E.164 as Twilio sends it (`+31600000001`), tolerant of spaces and dashes."""
    raw = phone.strip()
    digits = re.sub(r"\D", "", raw)
    return ("+" if raw.startswith("+") else "") + digits


def keyword_of(text: str, *, opted_out: bool) -> str | None:
    """`stop`, `start` or `help` when the whole message is such a keyword."""
    word = re.sub(r"[\s.!]+", "", text).upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS or (opted_out and word in START_WHEN_OPTED_OUT):
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None


def backoff_seconds(attempts: int, settings: Settings) -> float:
    """Wait before the next try after `attempts` failed ones: base * 2**(attempts-1), capped."""
    return min(settings.sms_retry_max_seconds,
               settings.sms_retry_base_seconds * 2 ** max(0, attempts - 1))


# -- inbound --------------------------------------------------------------------------------
@dataclass
class SmsChannel:
    sessions: sessionmaker[Session]
    billing_sessions: sessionmaker[Session]
    router: Router
    broker: InProcessBroker

    @classmethod
    def of(cls, container) -> "SmsChannel":
        return cls(container.sessions, container.billing_sessions, container.router,
                   container.broker)

    def claim_message_sid(self, message_sid: str, conversation_id: str) -> bool:
        """Record a MessageSid; False if it was seen before (a retried webhook)."""
        try:
            with session_scope(self.sessions) as session:
                if session.get(InboundSms, message_sid) is not None:
                    return False
                session.add(InboundSms(message_sid=message_sid, conversation_id=conversation_id))
        except IntegrityError:  # the same sid arrived twice at once; the other one won
            return False
        return True

    def forget_message_sid(self, message_sid: str) -> None:
        """Undo `claim_message_sid` when the message could not be stored, so a retry works."""
        with session_scope(self.sessions) as session:
            row = session.get(InboundSms, message_sid)
            if row is not None:
                session.delete(row)

    def customer_text_stored(self, conversation_id: str, text: str, since: datetime) -> bool:
        with self.sessions() as session:
            return bool(session.scalar(select(exists().where(
                Message.conversation_id == conversation_id, Message.author == Author.customer,
                Message.text == text, Message.created_at >= since))))

    def receive(self, *, phone: str, text: str) -> str:
        """Handle one customer text; returns what happened (for logs and tests)."""
        conversation_id = conversation_id_for(phone)
        with self.sessions() as session:
            opted_out = session.get(SmsOptOut, phone) is not None
            conversation = session.get(Conversation, conversation_id)
            known_language = conversation.language if conversation else None
            bot_text = option_payload(session, conversation_id, text) if conversation else None
        keyword = keyword_of(text, opted_out=opted_out)
        if keyword == "stop":
            self._opt_out(conversation_id, phone, text)
        elif keyword == "start":
            self._opt_in(conversation_id, phone, text)
        elif keyword == "help":
            self._help(conversation_id, phone, text)
        elif opted_out:
            # They asked for no messages: keep what they wrote for the agents, answer nothing.
            self._note(conversation_id, phone, text, TEXTS["opted_out_note"].format(phone=phone))
            return "opted_out"
        else:
            # The customer's profile language until the conversation has one (queue texts).
            language = None if conversation else self._profile_language(phone)
            self.router.customer_message(conversation_id=conversation_id, text=text,
                                         channel="sms", phone=phone, language=language,
                                         bot_text=bot_text)
            return "option" if bot_text else "message"
        return keyword

    # STOP, START, HELP: the customer's text and the answer go into the transcript, so the
    # agents see them; only START and HELP are answered by SMS.
    def _opt_out(self, conversation_id: str, phone: str, text: str) -> None:
        with session_scope(self.sessions) as session:
            if session.get(SmsOptOut, phone) is None:
                session.add(SmsOptOut(phone=phone))
            conversation = self._conversation(session, conversation_id, phone)
            transcript.append(session, conversation, author=Author.customer, text=text,
                              broker=self.broker)
            transcript.append(session, conversation, author=Author.system, broker=self.broker,
                              text=TEXTS["stopped_note"].format(word=text.strip().upper(), phone=phone))

    def _opt_in(self, conversation_id: str, phone: str, text: str) -> None:
        with session_scope(self.sessions) as session:
            row = session.get(SmsOptOut, phone)
            if row is not None:
                session.delete(row)
                session.flush()
            self._answer(session, conversation_id, phone, text, "started")

    def _help(self, conversation_id: str, phone: str, text: str) -> None:
        with session_scope(self.sessions) as session:
            self._answer(session, conversation_id, phone, text, "help")

    def _answer(self, session: Session, conversation_id: str, phone: str, text: str,
                key: str) -> None:
        conversation = self._conversation(session, conversation_id, phone)
        language = conversation.language or self._keyword_language(text) or \
            self._profile_language(phone) or "en"
        transcript.append(session, conversation, author=Author.customer, text=text,
                          broker=self.broker)
        reply = TEXTS[key][language if language in TEXTS[key] else "en"]
        transcript.append(session, conversation, author=Author.system, text=reply,
                          broker=self.broker)
        enqueue_sms(session, conversation, [reply])

    def _note(self, conversation_id: str, phone: str, text: str, note: str) -> None:
        with session_scope(self.sessions) as session:
            conversation = self._conversation(session, conversation_id, phone)
            transcript.append(session, conversation, author=Author.customer, text=text,
                              broker=self.broker)
            transcript.append(session, conversation, author=Author.system, text=note,
                              broker=self.broker)

    @staticmethod
    def _conversation(session: Session, conversation_id: str, phone: str) -> Conversation:
        conversation = transcript.get_or_create(session, conversation_id, channel="sms", phone=phone)
        if conversation.phone is None:
            conversation.phone = phone
        return conversation

    @staticmethod
    def _keyword_language(text: str) -> str | None:
        return "nl" if re.sub(r"[\s.!]+", "", text).upper() in DUTCH_WORDS else None

    def _profile_language(self, phone: str) -> str | None:
        """The billing customer's language for this number, if the number is theirs."""
        try:
            with self.billing_sessions() as session:
                language = session.scalar(select(Customer.language).where(Customer.phone == phone))
        except Exception:  # a hint only: never fail a customer message over it
            log.warning("could not look up the language of %s", phone, exc_info=True)
            return None
        return getattr(language, "value", language)


# -- outbound -------------------------------------------------------------------------------
def make_twilio_client(settings: Settings) -> Client:
    """The official REST client, sending to `settings.twilio_api_base_url`.

    twilio 9 builds every URL from its domain objects: `client.api` is the `Api` domain whose
    `base_url` ("https://api.twilio.com") prefixes `/2010-04-01/Accounts/{sid}/Messages.json`.
    Setting that public attribute points the client at another host (the local stand-in in
    tests and the demo). Edge and region (TWILIO_EDGE / TWILIO_REGION in the environment)
    would rewrite the host name, so they are cleared: the setting alone says where SMS go.
    """
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                    http_client=TwilioHttpClient(timeout=settings.twilio_timeout_seconds))
    client.edge = client.region = None
    client.api.base_url = settings.twilio_api_base_url.rstrip("/") or TWILIO_API
    return client


@dataclass
class _Due:
    id: int
    to: str
    body: str
    attempts: int


class SmsSender:
    """Sends pending OutboundSms rows, oldest first per phone, so replies arrive in order.

    One row at a time: claim it (attempts + 1 and a lease on `next_attempt_at`, a conditional
    UPDATE, so two service processes never send the same row twice while both live), send it
    with no transaction open, record the outcome. If the process dies mid-send, the lease
    expires and the row is retried: at least once, never lost. A phone whose oldest row is
    waiting for a retry holds its later rows back.
    """

    LEASE_FACTOR = 3  # lease = this many client timeouts

    def __init__(self, sessions: sessionmaker[Session], settings: Settings,
                 client: Client | None = None):
        self.sessions, self.settings = sessions, settings
        self.client = client or make_twilio_client(settings)
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        event.listen(sessions, "after_flush", self._note_new_rows)
        event.listen(sessions, "after_commit", self._kick_after_commit)
        event.listen(sessions, "after_rollback", self._forget_new_rows)

    # An immediate kick whenever a transaction that queued an SMS commits, whoever queued it
    # (router, agent reply, queue update, this channel), through the ORM's session events.
    @staticmethod
    def _note_new_rows(session: Session, _context) -> None:
        if any(isinstance(obj, OutboundSms) for obj in session.new):
            session.info["sms_queued"] = True

    def _kick_after_commit(self, session: Session) -> None:
        if session.info.pop("sms_queued", False):
            self.kick()

    @staticmethod
    def _forget_new_rows(session: Session) -> None:
        session.info.pop("sms_queued", None)

    def kick(self) -> None:
        """Send now (thread-safe: producers run in worker threads)."""
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    def start(self) -> "SmsSender":
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="sms-sender")
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        event.remove(self.sessions, "after_flush", self._note_new_rows)
        event.remove(self.sessions, "after_commit", self._kick_after_commit)
        event.remove(self.sessions, "after_rollback", self._forget_new_rows)
        self._loop = None

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            wait = self.settings.sms_poll_seconds
            try:
                await self.send_due()
                next_due = await asyncio.to_thread(self._seconds_to_next_due)
                if next_due is not None:
                    wait = min(wait, max(0.05, next_due))
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad round must not stop the sender
                log.exception("sms sender round failed")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass

    async def send_due(self) -> int:
        """Send what is due, oldest first per phone; returns how many went out or were dropped."""
        by_phone: dict[str, list[tuple[_Due, datetime]]] = {}
        for row, due_at in await asyncio.to_thread(self._pending):
            by_phone.setdefault(row.to, []).append((row, due_at))
        done = 0
        for rows in by_phone.values():
            for row, due_at in rows:
                if due_at > utcnow() or not await asyncio.to_thread(self._attempt, row):
                    break  # later rows to this phone wait for this one
                done += 1
        return done

    def _seconds_to_next_due(self) -> float | None:
        """Until the oldest pending row of some phone falls due (later rows wait behind it)."""
        heads: dict[str, datetime] = {}
        for row, due_at in self._pending():
            heads.setdefault(row.to, due_at)
        if not heads:
            return None
        return (min(heads.values()) - utcnow()).total_seconds()

    def _pending(self) -> list[tuple[_Due, datetime]]:
        with self.sessions() as session:
            rows = session.scalars(select(OutboundSms).where(OutboundSms.status == "pending")
                                   .order_by(OutboundSms.id).limit(500)).all()
            return [(_Due(r.id, r.to, r.body, r.attempts), r.next_attempt_at) for r in rows]

    def _attempt(self, row: _Due) -> bool:
        """Claim, send and record one row (worker thread). True if it was sent or dropped."""
        now = utcnow()
        lease = timedelta(seconds=self.settings.twilio_timeout_seconds * self.LEASE_FACTOR)
        with session_scope(self.sessions) as session:
            if session.get(SmsOptOut, row.to) is not None:
                session.execute(update(OutboundSms).where(
                    OutboundSms.id == row.id, OutboundSms.status == "pending").values(
                    status="failed", last_error="not sent: the customer texted STOP"))
                return True
            claimed = session.execute(update(OutboundSms).where(
                OutboundSms.id == row.id, OutboundSms.status == "pending",
                OutboundSms.attempts == row.attempts, OutboundSms.next_attempt_at <= now,
            ).values(attempts=row.attempts + 1, next_attempt_at=now + lease)).rowcount
        if not claimed:  # another sender has it, or it changed; look again next round
            return False
        attempts = row.attempts + 1
        try:
            message = self.client.messages.create(to=row.to, from_=self.settings.twilio_from_number,
                                                  body=row.body)
        except Exception as exc:  # noqa: BLE001 - network errors are not TwilioExceptions
            self._failed(row, attempts, exc)
            return False
        with session_scope(self.sessions) as session:
            session.execute(update(OutboundSms).where(OutboundSms.id == row.id).values(
                status="sent", twilio_sid=message.sid, last_error=None))
        log.info("sms %s sent to %s as %s (attempt %d)", row.id, row.to, message.sid, attempts)
        return True

    def _failed(self, row: _Due, attempts: int, exc: Exception) -> None:
        status = getattr(exc, "status", None)
        code = getattr(exc, "code", None)
        permanent = isinstance(exc, TwilioRestException) and status in PERMANENT_STATUSES
        if isinstance(exc, TwilioException):
            error = f"twilio {status or ''} {code or ''}: {getattr(exc, 'msg', exc)}"
        else:
            error = f"{type(exc).__name__}: {exc}"
        error = " ".join(error.split())[:300]
        give_up = permanent or attempts >= self.settings.sms_max_attempts
        with session_scope(self.sessions) as session:
            values = {"last_error": error}
            if give_up:
                values["status"] = "failed"
            else:
                values["next_attempt_at"] = utcnow() + timedelta(
                    seconds=backoff_seconds(attempts, self.settings))
            session.execute(update(OutboundSms).where(OutboundSms.id == row.id).values(**values))
            if code == UNSUBSCRIBED and session.get(SmsOptOut, row.to) is None:
                session.add(SmsOptOut(phone=row.to))
        log.warning("sms %s to %s failed (attempt %d%s): %s", row.id, row.to, attempts,
                    ", giving up" if give_up else "", error)
