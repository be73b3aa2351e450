"""Rasa's SQL tracker store, with each conversation's tracker kept in memory between turns.

Rasa 3.6's `SQLTrackerStore` reads every event of the session and replays it into a new
tracker on each message, counts the stored events again before every save, and with an
event broker retrieves (and replays) the tracker once more to find which events to publish:
23% of the Rasa server's time under load in the embedded default, more in production mode
(docs/performance.md). This store keeps the tracker it handed out and the number of its
events already stored, so a turn costs one indexed query (how many events the conversation
has) plus the inserts of its new events.

It stays correct with several Rasa processes on one database: the cached tracker is used
only while the conversation still has as many stored events as this process last read or
wrote, and only if nobody changed the tracker without saving it (a turn that
failed half-way); otherwise the tracker is read from the database as Rasa would. A new
session, a new domain (model activation) or an unknown tracker object also go the stock way.
"""
import itertools
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY


@dataclass
class _Kept:
    tracker: DialogueStateTracker
    stored: int  # events of `tracker.events` that are in the database
    total: int  # the conversation's stored events (all sessions) when we last read or wrote


class CachedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` plus an LRU of the last `cache_size` conversations' trackers."""

    def __init__(self, *args: Any, cache_size: int = 2000, **kwargs: Any) -> None:
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self.cache_size = int(cache_size)
        super().__init__(*args, **kwargs)
        # built once: an ORM Query per check cost about half of a cached retrieve
        self._count_events = sa.select(sa.func.count(self.SQLEvent.id)).where(
            self.SQLEvent.sender_id == sa.bindparam("sender_id"))

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Optional[Domain]) -> None:
        # trackers hold the old domain's slots: read them again with the new one
        self._domain = domain or Domain.empty()
        self._kept.clear()

    def _total(self, session: Any, sender_id: str) -> int:
        return session.execute(self._count_events, {"sender_id": sender_id}).scalar_one()

    def _keep(self, sender_id: str, tracker: DialogueStateTracker, total: int) -> None:
        if tracker.events.maxlen is not None:
            return  # a bounded history, whose length says nothing
        self._kept[sender_id] = _Kept(tracker, len(tracker.events), total)
        self._kept.move_to_end(sender_id)
        while len(self._kept) > self.cache_size:
            self._kept.popitem(last=False)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        kept = self._kept.pop(sender_id, None)
        with self.session_scope() as session:
            if kept is not None and len(kept.tracker.events) == kept.stored \
                    and self._total(session, sender_id) == kept.total:
                self._keep(sender_id, kept.tracker, kept.total)
                return kept.tracker
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            if not rows or not self.domain:
                return None
            tracker = DialogueStateTracker.from_dict(
                sender_id, [json.loads(row.data) for row in rows], self.domain.slots)
            self._keep(sender_id, tracker, self._total(session, sender_id))
            return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        kept = self._kept.pop(sender_id, None)
        with self.session_scope() as session:
            if kept is not None and kept.tracker is tracker:
                first_new, total = kept.stored, kept.total
            else:  # a tracker this store did not hand out: count what is stored, as Rasa does
                first_new = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
                total = self._total(session, sender_id)
            new_events = list(itertools.islice(tracker.events, first_new, len(tracker.events)))
            if new_events:  # one executemany, not an ORM flush per event
                session.execute(self.SQLEvent.__table__.insert(),
                                [self._row(sender_id, event) for event in new_events])
            session.commit()
        if not any(isinstance(event, SessionStarted) for event in new_events):
            # (a new session is read back on its own, as Rasa reads only the latest one)
            self._keep(sender_id, tracker, total + len(new_events))
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, sender_id)

    @staticmethod
    def _row(sender_id: str, event: Any) -> dict[str, Any]:
        """The columns Rasa's SQLTrackerStore.save writes for an event."""
        data = event.as_dict()
        return {"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                "action_name": data.get("name"), "data": json.dumps(data)}
