"""The handoff service: `uvicorn handoff.main:app` (or `python -m handoff`)."""
import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from handoff.api import errors
from handoff.api.routes import auth, chat, handoffs, health
from handoff.channels.sms_render import render
from handoff.container import Container
from handoff.core.config import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        container = Container.build(
            settings, render_sms=lambda replies: render(replies, settings.sms_segment_chars))
        container.broker.bind(asyncio.get_running_loop())
        app.state.container = container
        yield
        container.close()

    app = FastAPI(title="Billing support handoff service", version="0.1.0", lifespan=lifespan,
                  description="Customer channels, bot/agent routing, live-agent queue and consoles.")
    errors.install(app)
    for module in (health, auth, chat, handoffs):
        app.include_router(module.router)
    return app


app = create_app()
