"""Everything the running service holds once: engines, clients, broker, router."""
import functools
from dataclasses import dataclass, field

import anyio

from sqlalchemy.orm import Session, sessionmaker

from billing_core.config import get_settings as billing_settings
from billing_core.db import make_engine, make_session_factory
from handoff.admin.service import Admin
from handoff.core.config import Settings
from handoff.metrics import Metrics
from handoff.services.pubsub import InProcessBroker, RedisBroker
from handoff.services.rasa import RasaClient
from handoff.services.rasa_events import RasaEventConsumer, RasaEventSink
from handoff.services.routing import Router, SmsRenderer


TURN_THREADS = 64


@dataclass
class Container:
    settings: Settings
    sessions: sessionmaker[Session]
    billing_sessions: sessionmaker[Session]
    broker: InProcessBroker
    rasa: RasaClient
    router: Router
    metrics: Metrics
    admin: Admin | None = None  # NLU review and retraining (handoff.admin)
    rasa_events: RasaEventConsumer | None = None  # production: Rasa's event broker
    # Customer turns wait for the bot in worker threads of their own: when the bot is slow
    # they cannot take all of the default pool's 40 threads, which the staff API, pages and
    # health checks (sync endpoints) need too. Built in the running event loop (lifespan).
    turn_threads: anyio.CapacityLimiter = field(
        default_factory=lambda: anyio.CapacityLimiter(TURN_THREADS))

    async def run_turn(self, function, /, *args, **kwargs):
        """Run a blocking customer turn (it calls the bot) in a turn thread."""
        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs),
                                              limiter=self.turn_threads)

    @classmethod
    def build(cls, settings: Settings, render_sms: SmsRenderer) -> "Container":
        sessions = make_session_factory(make_engine(settings.database_url))
        billing = make_session_factory(make_engine(billing_settings().database_url))
        broker = RedisBroker(settings.redis_url) if settings.redis_url else InProcessBroker()
        rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_seconds, settings.rasa_token,
                          settings.rasa_replica_urls if settings.rasa_sticky else None)
        metrics = Metrics()
        router = Router(sessions=sessions, rasa=rasa, broker=broker, settings=settings,
                        render_sms=render_sms, metrics=metrics)
        rasa_events = None
        if settings.rasa_events_url:
            rasa_events = RasaEventConsumer(RasaEventSink(sessions, broker), url=settings.rasa_events_url,
                                            queue=settings.rasa_events_queue,
                                            retry_seconds=settings.rasa_events_retry_seconds)
        return cls(settings, sessions, billing, broker, rasa, router, metrics,
                   Admin(sessions, settings), rasa_events)

    def close(self) -> None:
        self.broker.close()
        self.rasa.close()
        if self.admin is not None:
            self.admin.close()
        self.sessions.kw["bind"].dispose()
        self.billing_sessions.kw["bind"].dispose()
