"""Waiting customers hear their place in the queue once per update, however many replicas
run the periodic updates (handoff.main runs Router.send_queue_updates in every process)."""
import threading
from datetime import timedelta

from sqlalchemy import select

from billing_core.db import utcnow
from handoff.core.config import Settings
from handoff.metrics import Metrics
from handoff.models import Author, Message
from handoff.services.pubsub import InProcessBroker
from handoff.services.rasa import RasaClient
from handoff.services.routing import Router
from tests.handoff_store.test_queue import add_conversation


def router(sessions) -> Router:
    # the bot is not called by queue updates: its URL points nowhere
    return Router(sessions=sessions, rasa=RasaClient("http://127.0.0.1:9", 1), broker=InProcessBroker(),
                  settings=Settings(), render_sms=lambda replies, language: [], metrics=Metrics())


def updates(sessions) -> dict[str, int]:
    with sessions() as session:
        rows = session.scalars(select(Message).where(Message.author == Author.system)).all()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.conversation_id] = counts.get(row.conversation_id, 0) + 1
    return counts


def test_replicas_updating_the_queue_together_tell_each_customer_once(sessions):
    with sessions() as session, session.begin():
        for i in range(6):
            add_conversation(session, f"web-wait{i}")
    later = utcnow() + timedelta(hours=1)  # every update is due
    routers = [router(sessions) for _ in range(4)]
    start = threading.Barrier(len(routers))
    sent: list[int] = []

    def run(replica: Router) -> None:
        start.wait()
        sent.append(replica.send_queue_updates(now=later))

    threads = [threading.Thread(target=run, args=(r,)) for r in routers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == 6
    assert updates(sessions) == {f"web-wait{i}": 1 for i in range(6)}
    # and the next round finds nothing due
    assert routers[0].send_queue_updates(now=later) == 0
