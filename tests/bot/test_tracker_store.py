"""bot/tracker_store.py inside .venv-rasa: the cached tracker store stores and reads exactly
what Rasa's own SQLTrackerStore does, and never answers from a stale tracker."""
import json
import subprocess

import pytest

from bot.training import REPO, rasa_env

pytestmark = pytest.mark.rasa

PROBE = r'''
import asyncio, json, sys
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from bot.tracker_store import CachedSQLTrackerStore

DB = sys.argv[1]
domain = Domain.from_dict({"intents": ["greet"], "slots": {"name": {"type": "text", "mappings": []}}})


class Broker(EventBroker):
    def __init__(self):
        self.published = []

    def publish(self, event):
        self.published.append(event)


def events(tracker):
    return [e.as_dict() for e in tracker.events] if tracker else None


async def main():
    broker = Broker()
    store = CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=DB, event_broker=broker)
    other = CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=DB)  # another Rasa process
    stock = SQLTrackerStore(domain=domain, dialect="sqlite", db=DB)
    out = {}

    tracker = await store.get_or_create_tracker("c1")
    tracker.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
    tracker.update(BotUttered("hi there"))
    await store.save(tracker)
    again = await store.retrieve("c1")
    out["kept_between_turns"] = again is tracker
    out["stored_as_rasa_reads_it"] = events(await stock.retrieve("c1")) == events(tracker)
    out["published"] = [e["event"] for e in broker.published]

    again.update(SlotSet("name", "Jane"))
    await store.save(again)
    out["second_save_published"] = [e["event"] for e in broker.published[len(out["published"]):]]
    out["second_save_stored_once"] = events(await stock.retrieve("c1")) == events(again)

    # another process writes to the conversation: this one must not answer from memory
    theirs = await other.retrieve("c1")
    theirs.update(SlotSet("name", "Sanne"))
    await other.save(theirs)
    fresh = await store.retrieve("c1")
    out["other_writer_seen"] = fresh is not again and fresh.get_slot("name") == "Sanne"
    out["after_other_writer"] = events(fresh) == events(await stock.retrieve("c1"))

    # a turn that changed the tracker and failed before saving: read it back as stored
    fresh.update(BotUttered("never saved"))
    unsaved = await store.retrieve("c1")
    out["unsaved_change_dropped"] = unsaved is not fresh and events(unsaved) == events(await stock.retrieve("c1"))

    # a new session: read back with only the new session's events, as Rasa does
    unsaved.update(ActionExecuted("action_session_start"))
    unsaved.update(SessionStarted())
    unsaved.update(SlotSet("name", "Jane"))
    unsaved.update(ActionExecuted("action_listen"))
    await store.save(unsaved)
    new_session = await store.retrieve("c1")
    out["new_session_like_rasa"] = events(new_session) == events(await stock.retrieve("c1"))
    out["new_session_events"] = len(new_session.events)

    # a new model's domain: trackers are read again with it
    store.domain = domain
    out["reread_after_domain_change"] = (await store.retrieve("c1")) is not new_session

    out["unknown"] = await store.retrieve("nobody")
    print(json.dumps(out))


asyncio.run(main())
'''


def test_cached_tracker_store_matches_rasas_and_is_never_stale(tmp_path):
    result = subprocess.run([str(REPO / ".venv-rasa" / "bin" / "python"), "-c", PROBE,
                             str(tmp_path / "tracker.db")],
                            cwd=REPO, env=rasa_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["kept_between_turns"] is True
    assert out["stored_as_rasa_reads_it"] is True
    # the new tracker's first listen, then the turn: each event published once, in order
    assert out["published"] == ["action", "user", "bot"]
    assert out["second_save_published"] == ["slot"]
    assert out["second_save_stored_once"] is True
    assert out["other_writer_seen"] is True
    assert out["after_other_writer"] is True
    assert out["unsaved_change_dropped"] is True
    assert out["new_session_like_rasa"] is True
    assert out["new_session_events"] == 3  # session_started, slot, action_listen
    assert out["reread_after_domain_change"] is True
    assert out["unknown"] is None
