"""Live events leave only after the data they announce is committed."""
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from handoff.services.pubsub import InProcessBroker

_PENDING = "pending_live_events"


def publish_after_commit(session: Session, broker: InProcessBroker, topic: str,
                         payload: dict[str, Any]) -> None:
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _send, once=True)
        event.listen(session, "after_rollback", _drop, once=True)
    pending.append((broker, topic, payload))


def _send(session: Session) -> None:
    for broker, topic, payload in session.info.pop(_PENDING, []):
        broker.publish(topic, payload)
    if event.contains(session, "after_rollback", _drop):
        event.remove(session, "after_rollback", _drop)


def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)
    if event.contains(session, "after_commit", _send):
        event.remove(session, "after_commit", _send)
