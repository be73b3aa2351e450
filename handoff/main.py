"""The handoff service: `uvicorn handoff.main:app` (or `python -m handoff`)."""
import asyncio
import gc
import logging
import re
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from handoff.api import errors
from fastapi.staticfiles import StaticFiles
from handoff.api.routes import accounts, concessions, pages, payments, reports
from handoff.api.routes import admin as admin_routes
from handoff.api.routes import auth, chat, handoffs, health, metrics
from handoff.channels.sms_render import render
from handoff.api.routes import sms as sms_routes
from handoff.channels.sms import SmsSender
from handoff.container import Container
from handoff.core.config import Settings, get_settings

log = logging.getLogger(__name__)


class RedactTokens(logging.Filter):
    """Staff WebSockets carry the access token in the URL (browsers cannot set headers there),
    and a payment link's token is its path (`/pay/{token}`, `/api/payment-links/{token}`);
    uvicorn logs both: keep bearer tokens and payment-link tokens out of logs."""

    TOKEN = re.compile(r"(token=|/pay/|/api/payment-links/)[^&\s\"'?/]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self.TOKEN.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        if isinstance(record.msg, str):
            record.msg = self.TOKEN.sub(r"\1[redacted]", record.msg)
        return True


for _name in ("uvicorn.error", "uvicorn.access"):
    logging.getLogger(_name).addFilter(RedactTokens())


QUEUE_UPDATE_TICK_SECONDS = 15


async def send_queue_updates(container: Container) -> None:
    """Keep waiting customers informed (see Router.send_queue_updates)."""
    while True:
        await asyncio.sleep(QUEUE_UPDATE_TICK_SECONDS)
        try:
            await run_in_threadpool(container.router.send_queue_updates)
        except Exception:  # a bad tick must not stop the updates
            log.exception("queue updates failed")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        container = Container.build(
            settings,
            render_sms=lambda replies, language: render(replies, settings.sms_segment_chars, language))
        container.broker.bind(asyncio.get_running_loop())
        app.state.container = container
        sms_sender = SmsSender(container.sessions, settings).start()  # outbound SMS, kicked on new rows
        updates = asyncio.create_task(send_queue_updates(container))
        container.admin.jobs.sweep()  # trainings of a stopped process are marked failed
        nlu_logger = asyncio.create_task(container.admin.run_nlu_logger())  # intents of customer messages
        tasks = [updates, nlu_logger]
        # What is loaded by now lives as long as the process: keep it out of the collector's
        # full collections, which otherwise paused turns for ~100 ms a few times a minute.
        gc.freeze()
        if container.rasa_events is not None:  # production: Rasa's event broker
            tasks.append(asyncio.create_task(container.rasa_events.run()))
        yield
        for task in tasks:
            task.cancel()
        await sms_sender.stop()
        container.close()

    app = FastAPI(title="Billing support handoff service", version="0.1.0", lifespan=lifespan,
                  description="Customer channels, bot/agent routing, live-agent queue and consoles.")
    errors.install(app)
    app.include_router(sms_routes.router)  # Twilio webhook
    for module in (health, metrics, auth, chat, handoffs):
        app.include_router(module.router)
    for module in (pages, concessions, accounts, reports):  # web pages, console API, reports
        app.include_router(module.router)
    app.include_router(payments.router)  # what a payment link shows (no login: the token is it)
    app.include_router(admin_routes.router)  # NLU review and retraining (admins)
    app.include_router(admin_routes.suggestions)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    return app


app = create_app()
