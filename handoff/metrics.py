"""Prometheus metrics of the handoff service (`GET /metrics`).

Counters and histograms are observed where things happen; queue gauges are read from the
store at scrape time, so every replica reports the same queue.
"""
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from handoff.models import AgentPresence, Handoff, HandoffStatus

WAIT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter("handoff_customer_messages_total", "Customer messages received",
                             ["channel", "owner"], registry=self.registry)
        self.errors = Counter("handoff_errors_total", "Failures by channel and kind",
                              ["channel", "kind"], registry=self.registry)
        self.wait = Histogram("handoff_queue_wait_seconds", "Queued until claimed",
                              ["language"], buckets=WAIT_BUCKETS, registry=self.registry)
        self.handle = Histogram("handoff_handle_seconds", "Claimed until released or resolved",
                                ["language"], buckets=WAIT_BUCKETS, registry=self.registry)
        self.queue_length = Gauge("handoff_queue_length", "Conversations waiting for an agent",
                                  ["language"], registry=self.registry)
        self.agents_online = Gauge("handoff_agents_online", "Agents online",
                                   registry=self.registry)

    def render(self, sessions: sessionmaker[Session]) -> bytes:
        with sessions() as session:
            counts = dict(session.execute(
                select(Handoff.language, func.count(Handoff.id))
                .where(Handoff.status == HandoffStatus.queued).group_by(Handoff.language)).all())
            online = session.scalar(select(func.count()).select_from(AgentPresence)
                                    .where(AgentPresence.status == "online"))
        for language in set(counts) | {"en", "nl"}:
            self.queue_length.labels(language).set(counts.get(language, 0))
        self.agents_online.set(online or 0)
        return generate_latest(self.registry)
