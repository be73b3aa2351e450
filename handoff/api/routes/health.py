"""Liveness (`/healthz`: the process and its store answer) and readiness (`/readyz`: what a
load balancer needs before sending traffic: the store and, in production, Redis pub/sub)."""
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from handoff.api.deps import ContainerDep, SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: SessionDep) -> dict:
    session.execute(text("select 1"))
    return {"status": "ok"}


@router.get("/readyz")
def readyz(session: SessionDep, container: ContainerDep) -> JSONResponse:
    session.execute(text("select 1"))
    live_events = container.broker.ready()
    consumer = container.rasa_events
    checks = {
        "store": "ok",
        "live_events": "ok" if live_events else "unavailable",
        # one replica consumes Rasa's events, the others stand by (not a readiness condition)
        "rasa_events": "off" if consumer is None else
                       "consuming" if consumer.consuming.is_set() else "standby",
    }
    return JSONResponse({"status": "ok" if live_events else "unavailable", "checks": checks},
                        status_code=200 if live_events else 503)
