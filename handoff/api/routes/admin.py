"""Admin API: review inbox, labels, reviewed data, training, evaluation, models (admins only).

Every route under /api/admin needs the admin role: 401 without a valid token, 403 for
agents and supervisors (the check runs before the request body is read). Agents record
suggestions through /api/nlu/suggestions instead. See docs/retraining.md.
"""
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from billing_core.enums import Role
from handoff.api.deps import AdminDep, ContainerDep, StaffUserDep, require

router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[require(Role.admin)])
suggestions = APIRouter(prefix="/api/nlu", tags=["admin"])


class EntitySpan(BaseModel):
    start: int = Field(ge=0)
    end: int = Field(ge=1)
    entity: str
    value: str | None = None


class LabelIn(BaseModel):
    message_ids: list[int] = Field(min_length=1, max_length=500,
                                   description="the representative first; the others get the same label")
    kind: Literal["intent", "new_intent", "noise"]
    intent: str | None = None
    text: str | None = Field(None, max_length=1000, description="the example; default: the message (masked)")
    entities: list[EntitySpan] = Field(default_factory=list, description="spans in `text`")


class ActivateIn(BaseModel):
    override: bool = False
    reason: str | None = Field(None, max_length=300)


class SuggestionIn(BaseModel):
    message_id: int
    intent: str = Field(max_length=64)
    note: str | None = Field(None, max_length=300)


@router.get("/inbox")
def review_inbox(container: ContainerDep, user: AdminDep,
                 lang: Literal["en", "nl"] | None = None,
                 reason: Literal["fallback", "out_of_scope", "low_confidence", "handed_off"] | None = None,
                 sort: Literal["recent", "frequent"] = "recent",
                 limit: int = Query(100, ge=1, le=500)) -> dict:
    """Groups of similar customer messages the bot probably got wrong, not labelled yet."""
    return container.admin.inbox(lang=lang, reason=reason, sort=sort, limit=limit)


@router.get("/intents")
def intents(container: ContainerDep, user: AdminDep) -> dict:
    return container.admin.intents()


@router.post("/labels", status_code=201)
def label(body: LabelIn, container: ContainerDep, user: AdminDep) -> dict:
    """Label messages with an existing intent, a new intent, or as noise (with entity spans)."""
    return container.admin.label(user=user.username, message_ids=body.message_ids, kind=body.kind,
                                 intent=body.intent, text=body.text,
                                 entities=[span.model_dump() for span in body.entities])


@router.get("/labels")
def labels(container: ContainerDep, user: AdminDep,
           status: Literal["active", "deleted"] | None = None) -> list[dict]:
    return container.admin.labels(status)


@router.delete("/labels/{label_id}")
def delete_label(label_id: int, container: ContainerDep, user: AdminDep) -> dict:
    """The example leaves the reviewed data at the next training; its messages return to the inbox."""
    return container.admin.delete_label(label_id, user.username)


@router.get("/dataset")
def dataset(container: ContainerDep, user: AdminDep) -> dict:
    """What training would change in bot/data/nlu/reviewed/: the diff, per language."""
    proposal = container.admin.proposal()
    return {"diff": proposal["diff"], "languages": proposal["languages"], "files": proposal["files"],
            "pending": proposal["pending"], "labels": len(proposal["label_ids"])}


@router.post("/training", status_code=202)
def start_training(container: ContainerDep, user: AdminDep) -> dict:
    """Train a candidate in the background (409 while another training runs)."""
    model_id = container.admin.jobs.start(user.username)
    return container.admin.job(model_id)


@router.get("/training")
def current_training(container: ContainerDep, user: AdminDep) -> dict | None:
    """The running training, or the latest one (progress, phase, log tail, error)."""
    return container.admin.job()


@router.get("/training/{model_id}")
def training(model_id: int, container: ContainerDep, user: AdminDep) -> dict | None:
    return container.admin.job(model_id)


@router.get("/models")
def models(container: ContainerDep, user: AdminDep) -> dict:
    """The live model, the rollback target, every model with who/when/figures, activations."""
    return container.admin.registry.history()


@router.get("/models/{model_id}")
def model(model_id: int, container: ContainerDep, user: AdminDep) -> dict:
    return container.admin.model(model_id)


@router.get("/models/{model_id}/confusion", response_class=FileResponse)
def confusion(model_id: int, container: ContainerDep, user: AdminDep,
              set: Literal["heldout", "shared"] = "heldout",
              which: Literal["candidate", "base"] = "candidate") -> FileResponse:
    """Confusion matrix (PNG) of the candidate or the model it was compared with."""
    return FileResponse(container.admin.matrix(model_id, set, which), media_type="image/png",
                        headers={"Cache-Control": "no-store"})


@router.post("/models/{model_id}/activate")
def activate(model_id: int, body: ActivateIn, container: ContainerDep, user: AdminDep) -> dict:
    """Hot-swap Rasa to this model; a model worse than the live one needs override + reason."""
    return container.admin.registry.activate(model_id, user=user.username, override=body.override,
                                             reason=body.reason)


@router.post("/rollback")
def rollback(container: ContainerDep, user: AdminDep) -> dict:
    """Back to the model that was live before the current one."""
    return container.admin.registry.rollback(user=user.username)


@suggestions.post("/suggestions", status_code=201)
def suggest(body: SuggestionIn, container: ContainerDep, user: StaffUserDep) -> dict:
    """An agent's hint that a customer message meant another intent (admins decide)."""
    return container.admin.suggest(user=user, message_id=body.message_id, intent=body.intent, note=body.note)

