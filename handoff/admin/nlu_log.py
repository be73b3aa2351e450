"""Every customer message gets its NLU result: intent, confidence, ranking and entities.

Source: Rasa's SQL tracker store, which Rasa writes after every turn anyway. This reads its
`events` table incrementally (`id > last`, user events only) and fills the matching customer
message of the transcript. Rasa's SQL event broker would give the same rows, but it costs
every turn a full tracker read and one committed insert per event (about 8 per turn); this
costs a turn nothing (measured in docs/retraining.md).

Matching: the tracker's sender id is the conversation id; the user event's text is what the
service forwarded (`text.lstrip("/ ")`, or a button's payload). The first customer message
of that conversation without an NLU result and with that text gets it; a payload goes to the
newest such message (the customer pressed a button or answered an SMS option).

In production mode Rasa's event broker gives the same results instead
(handoff.services.rasa_events) and this only parses what the bot never saw.

Customer text the bot never saw (the conversation was with an agent, or the bot was down) is
parsed with Rasa's `/model/parse` once it is `parse_after` seconds old, marked
`nlu_source = "parse"`. Runs in the handoff service (handoff.main) as a background task.
"""
import json
import logging
from datetime import datetime, timedelta, timezone

import httpx
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from billing_core.db import session_scope, utcnow
from handoff.models import Author, Message, NluCursor
from handoff.services.rasa import rasa_http

log = logging.getLogger(__name__)

CURSOR = "rasa_tracker"
BATCH = 500
PARSE_BATCH = 50
MATCH_SLACK = timedelta(seconds=5)


def tracker_engine(url: str) -> Engine:
    """A reader of Rasa's tracker store. SQLite: plain deferred transactions, so a read only
    takes a shared lock for the milliseconds of the SELECT (never BEGIN IMMEDIATE)."""
    if make_url(url).get_backend_name() == "sqlite":
        return create_engine(url, connect_args={"timeout": 5, "check_same_thread": False})
    return create_engine(url, pool_pre_ping=True, pool_size=1, max_overflow=1)


def nlu_fields(parse_data: dict) -> dict:
    intent = parse_data.get("intent") or {}
    ranking = [{"name": r.get("name"), "confidence": round(float(r.get("confidence") or 0), 4)}
               for r in (parse_data.get("intent_ranking") or [])[:6]]
    entities = [{key: e.get(key) for key in ("entity", "value", "start", "end", "extractor")}
                for e in parse_data.get("entities") or []]
    confidence = intent.get("confidence")
    return {"intent": intent.get("name"),
            "confidence": None if confidence is None else round(float(confidence), 4),
            "intent_ranking": ranking or None, "entities": entities or None}


def forwarded_text(message: Message) -> str:
    """What the router sent to Rasa for a typed message (see Router.customer_message)."""
    return message.text.lstrip("/ ") or "?"


def match(pending: list[Message], event_text: str, at: datetime | None) -> Message | None:
    eligible = [m for m in pending if at is None or m.created_at <= at + MATCH_SLACK]
    found = next((m for m in eligible if forwarded_text(m) == event_text), None)
    if found is None and event_text.startswith("/") and eligible:
        found = eligible[-1]  # a button payload or an SMS option: the newest open message
    return found


class NluLogger:
    def __init__(self, sessions: sessionmaker[Session], *, tracker_url: str | None, rasa_url: str,
                 rasa_token: str | None = None, parse_after_seconds: float = 30.0,
                 events_consumed: bool = False):
        self.sessions = sessions
        self.engine = tracker_engine(tracker_url) if tracker_url else None
        self.events_consumed = events_consumed  # results arrive through Rasa's event broker
        self.parse_after = timedelta(seconds=parse_after_seconds) if parse_after_seconds > 0 else None
        self.rasa = rasa_http(rasa_url, 10, rasa_token)
        self._warned = False
        self._last: int | None = None

    @property
    def enabled(self) -> bool:
        return self.engine is not None or self.events_consumed

    def close(self) -> None:
        self.rasa.close()
        if self.engine is not None:
            self.engine.dispose()

    # -- the tracker store ---------------------------------------------------------------
    def _cursor(self, session: Session) -> NluCursor:
        cursor = session.get(NluCursor, CURSOR)
        if cursor is None:
            cursor = NluCursor(name=CURSOR, last_id=0)
            session.add(cursor)
            session.flush()
        return cursor

    def poll(self) -> int:
        """Read new user events and fill their messages; returns how many were applied.

        The tracker store is read outside any transaction of the handoff store; the cursor
        row is re-checked when writing, so two service processes never apply a row twice.
        """
        if self.engine is None:
            return 0
        if self._last is None:
            with session_scope(self.sessions) as session:
                self._last = self._cursor(session).last_id
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(text(
                    "SELECT id, sender_id, data FROM events WHERE id > :last AND type_name = 'user' "
                    "ORDER BY id LIMIT :batch"), {"last": self._last, "batch": BATCH}).all()
                newest = None if rows or not self._last else \
                    connection.execute(text("SELECT max(id) FROM events")).scalar()
        except (OperationalError, ProgrammingError) as exc:  # not created yet, or locked
            if not self._warned:
                log.warning("cannot read Rasa's tracker store yet: %s", str(exc).splitlines()[0])
                self._warned = True
            return 0
        self._warned = False
        if not rows:
            if self._last and (newest is None or newest < self._last):  # a new tracker store
                log.warning("Rasa's tracker store was reset; reading it from the start")
                with session_scope(self.sessions) as session:
                    self._cursor(session).last_id = 0
                self._last = 0
            return 0
        with session_scope(self.sessions) as session:
            cursor = self._cursor(session)
            fresh = [row for row in rows if row.id > cursor.last_id]
            for row in fresh:
                self._apply(session, row.sender_id, row.data)
            cursor.last_id = max(cursor.last_id, rows[-1].id)
            self._last = cursor.last_id
        return len(fresh)

    def _apply(self, session: Session, sender_id: str, raw: str) -> None:
        try:
            data = json.loads(raw)
        except (TypeError, ValueError):
            return
        if data.get("event") != "user":
            return
        pending = list(session.scalars(
            select(Message).where(Message.conversation_id == sender_id,
                                  Message.author == Author.customer, Message.nlu_source.is_(None))
            .order_by(Message.seq)))
        if not pending:
            return
        stamp = data.get("timestamp")
        at = datetime.fromtimestamp(stamp, timezone.utc) if isinstance(stamp, (int, float)) else None
        message = match(pending, str(data.get("text") or ""), at)
        if message is None:
            return
        for key, value in nlu_fields(data.get("parse_data") or {}).items():
            setattr(message, key, value)
        message.nlu_source = "bot"

    # -- text the bot never saw ----------------------------------------------------------------
    def parse_unseen(self, now: datetime | None = None) -> int:
        if not self.enabled or self.parse_after is None:
            return 0
        cutoff = (now or utcnow()) - self.parse_after
        with session_scope(self.sessions) as session:
            todo = session.execute(
                select(Message.id, Message.text).where(
                    Message.author == Author.customer, Message.nlu_source.is_(None),
                    Message.created_at <= cutoff).order_by(Message.id).limit(PARSE_BATCH)).all()
        results = {}
        for message_id, message_text in todo:
            try:
                response = self.rasa.post("/model/parse", json={"text": message_text.lstrip("/ ") or "?"})
                response.raise_for_status()
                results[message_id] = nlu_fields(response.json())
            except (httpx.HTTPError, ValueError) as exc:
                log.info("could not parse unseen customer text (Rasa: %s); later", exc)
                break
        if results:
            with session_scope(self.sessions) as session:
                for message in session.scalars(select(Message).where(
                        Message.id.in_(results), Message.nlu_source.is_(None))):
                    for key, value in results[message.id].items():
                        setattr(message, key, value)
                    message.nlu_source = "parse"
        return len(results)
