from fastapi import APIRouter
from sqlalchemy import text

from handoff.api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: SessionDep) -> dict:
    session.execute(text("select 1"))
    return {"status": "ok"}
