"""The model registry: which model Rasa runs, activation (hot swap), rollback, history.

Activation is `PUT /model {"model_file": "/abs/path.tar.gz"}` on the Rasa server the service
talks to (HANDOFF_RASA_URL): Rasa loads the new model beside the old one and swaps when it is
loaded, so conversations (trackers, locks) carry on. Only then the registry changes: the
model becomes `active`, the previous one `retired`, an `nlu_activations` row says who, when,
from which model and how long it took, the model's reviewed YAML is written to
bot/data/nlu/reviewed/ (so the repository's data is the live model's) and
`<models dir>/active.json` points at it (handoff.demo starts Rasa with it). A failed load
changes nothing but the history, where it is recorded with its error.

A model the service did not train (the one Rasa was started with) is registered as
`external` the first time it is seen live, so it can be compared with and rolled back to.
"""
import json
import logging
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from billing_core.db import session_scope, utcnow
from bot.training import REPO
from handoff.admin.dataset import current_files, write_reviewed
from handoff.errors import BotUnavailable, Conflict, HandoffError, NotFound
from handoff.models import NluActivation, NluModel
from handoff.services.rasa import rasa_http

log = logging.getLogger(__name__)

ACTIVATABLE = ("candidate", "retired", "external")


class BadRequest(HandoffError):
    status_code = 400


class RasaModels:
    """Rasa's HTTP API for its model: the Rasa URL, or each replica when there are several
    (production mode: a load balancer would pass a model change to one replica only)."""

    def __init__(self, url: str, timeout: float, replica_urls: list[str] | None = None,
                 token: str | None = None):
        self.clients = [rasa_http(u, timeout, token) for u in (replica_urls or [url])]

    def close(self) -> None:
        for client in self.clients:
            client.close()

    @staticmethod
    def _status(client: httpx.Client) -> dict | None:
        try:
            response = client.get("/status", timeout=10)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError):
            return None

    def status(self) -> dict | None:
        """The first replica's /status (they run the same model once an activation is done)."""
        return self._status(self.clients[0])

    def load(self, path: Path) -> float:
        """Every replica loads `path`; if one cannot, those that did go back to their model."""
        started = time.monotonic()
        before = [(self._status(client) or {}).get("model_file") for client in self.clients]
        for index, client in enumerate(self.clients):
            try:
                self._put(client, path)
                if Path((self._status(client) or {}).get("model_file") or "").name != path.name:
                    raise BotUnavailable(f"Rasa at {client.base_url} does not report {path.name} after loading it")
            except BotUnavailable:
                for done, previous in zip(self.clients[:index], before):
                    if previous:
                        try:
                            self._put(done, Path(previous))
                        except BotUnavailable:
                            log.error("Rasa at %s keeps %s: could not restore %s",
                                      done.base_url, path.name, previous)
                raise
        return time.monotonic() - started

    @staticmethod
    def _put(client: httpx.Client, path: Path) -> None:
        try:
            response = client.put("/model", json={"model_file": str(path)})
        except httpx.HTTPError as exc:
            raise BotUnavailable(f"Rasa at {client.base_url} did not load the model: {exc}") from exc
        if response.status_code >= 300:
            try:
                detail = response.json().get("message") or response.text
            except ValueError:
                detail = response.text
            raise BotUnavailable(f"Rasa at {client.base_url} refused the model "
                                 f"({response.status_code}): {detail[:500]}")


class Registry:
    def __init__(self, sessions: sessionmaker[Session], settings, rasa: RasaModels):
        self.sessions, self.settings, self.rasa = sessions, settings, rasa
        self.models_dir = Path(settings.nlu_models_dir)
        self._activating = threading.Lock()

    # -- what runs now -----------------------------------------------------------------------
    def _resolve(self, file_name: str) -> Path | None:
        for folder in (self.models_dir, REPO / "models"):
            candidate = folder / file_name
            if candidate.is_file():
                return candidate.resolve()
        return None

    def live(self, session: Session, status: dict | None) -> NluModel | None:
        """The registry row of the model Rasa runs now, from its /status (asked before the
        transaction: no lock is held while Rasa answers); without an answer, the last active."""
        if not status or not status.get("model_file"):
            return session.scalar(select(NluModel).where(NluModel.status == "active")
                                  .order_by(NluModel.id.desc()))
        file_name = Path(status["model_file"]).name
        row = session.scalar(select(NluModel).where(
            or_(NluModel.path.like(f"%/{file_name}"),
                (NluModel.origin == "external") & (NluModel.name == file_name.removesuffix(".tar.gz"))),
            NluModel.status.not_in(("training", "evaluating", "failed"))).order_by(NluModel.id.desc()))
        if row is None:
            path = self._resolve(file_name)
            row = NluModel(name=file_name.removesuffix(".tar.gz"), path=str(path) if path else None,
                           origin="external", status="active", created_by="rasa",
                           reviewed=current_files(Path(self.settings.nlu_reviewed_dir)),
                           phase="running when the service first saw it", progress=1.0,
                           activated_at=utcnow())
            session.add(row)
            session.flush()
        for other in session.scalars(select(NluModel).where(NluModel.status == "active",
                                                            NluModel.id != row.id)):
            other.status = "retired"  # Rasa was restarted with another model
        if row.status != "active":
            row.status = "active"
        return row

    def rollback_target(self, session: Session, live: NluModel | None) -> NluModel | None:
        """The model that was live before the live one was activated (not rolled back to):
        A → B → C, roll back: B; roll back again: A; a model Rasa started with has none."""
        if live is None:
            return None
        activation = session.scalar(select(NluActivation).where(
            NluActivation.model_id == live.id, NluActivation.ok, NluActivation.action == "activate")
            .order_by(NluActivation.id.desc()))
        if activation is None or activation.previous_model_id is None:
            return None
        return session.get(NluModel, activation.previous_model_id)

    # -- activation -----------------------------------------------------------------------------
    def activate(self, model_id: int, *, user: str, override: bool = False, reason: str | None = None,
                 action: str = "activate") -> dict:
        if not self._activating.acquire(blocking=False):
            raise Conflict("another activation is in progress; wait for it to finish")
        try:
            return self._activate(model_id, user=user, override=override, reason=reason, action=action)
        finally:
            self._activating.release()

    def _activate(self, model_id: int, *, user: str, override: bool, reason: str | None,
                  action: str) -> dict:
        reason = (reason or "").strip() or None
        status = self.rasa.status()
        if status is None:
            raise BotUnavailable("Rasa does not answer at the moment; nothing was changed")
        with session_scope(self.sessions) as session:
            model = session.get(NluModel, model_id)
            if model is None:
                raise NotFound(f"no model {model_id}")
            live = self.live(session, status)
            if live is not None and live.id == model.id:
                raise Conflict(f"{model.name} is already the live model")
            if model.status not in ACTIVATABLE:
                raise Conflict(f"{model.name} is {model.status}; only a trained and evaluated model "
                               "can be activated")
            if not model.path or not Path(model.path).is_file():
                raise Conflict(f"the file of {model.name} is missing ({model.path})")
            if action == "activate" and model.verdict == "worse":
                if not override:
                    reasons = "; ".join((model.metrics or {}).get("reasons") or [])
                    raise Conflict(f"{model.name} is worse than the live model ({reasons}). "
                                   "Activate it anyway only with an override and a reason.")
                if not reason:
                    raise BadRequest("an override needs a reason (it is kept in the model history)")
            path, previous_id, name = Path(model.path), live.id if live else None, model.name
            reviewed = model.reviewed
        try:
            seconds = self.rasa.load(path)
        except BotUnavailable as exc:
            with session_scope(self.sessions) as session:
                session.add(NluActivation(model_id=model_id, previous_model_id=previous_id, action=action,
                                          by=user, override_reason=reason, ok=False, error=str(exc)))
            raise
        with session_scope(self.sessions) as session:
            model = session.get(NluModel, model_id)
            if previous_id is not None:
                session.get(NluModel, previous_id).status = "retired"
            model.status, model.activated_at, model.activated_by = "active", utcnow(), user
            session.add(NluActivation(model_id=model_id, previous_model_id=previous_id, action=action,
                                      by=user, override_reason=reason, seconds=round(seconds, 2), ok=True))
            fingerprint = (model.metrics or {}).get("fingerprint")
        if reviewed:
            write_reviewed(Path(self.settings.nlu_reviewed_dir), reviewed)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        pointer = self.models_dir / "active.json"
        pointer.with_suffix(".tmp").write_text(json.dumps(
            {"model": str(path), "name": name, "fingerprint": fingerprint, "by": user,
             "at": utcnow().isoformat()}, indent=2))
        pointer.with_suffix(".tmp").replace(pointer)
        log.info("%s: %s is live (%.1f s, by %s)", action, name, seconds, user)
        return {"model_id": model_id, "name": name, "action": action, "seconds": round(seconds, 2),
                "previous_model_id": previous_id}

    def rollback(self, *, user: str) -> dict:
        status = self.rasa.status()
        with session_scope(self.sessions) as session:
            target = self.rollback_target(session, self.live(session, status))
            if target is None:
                raise Conflict("there is no previous model to roll back to")
            target_id = target.id
        return self.activate(target_id, user=user, action="rollback")

    # -- history -----------------------------------------------------------------------------
    def history(self) -> dict:
        status = self.rasa.status()
        with session_scope(self.sessions) as session:
            return self._history(session, status)

    def _history(self, session: Session, status: dict | None) -> dict:
        live = self.live(session, status)
        target = self.rollback_target(session, live)
        models = session.scalars(select(NluModel).order_by(NluModel.id.desc()).limit(100)).all()
        activations = session.scalars(select(NluActivation).order_by(NluActivation.id.desc()).limit(100)).all()
        names = {m.id: m.name for m in models}
        return {
            "live": model_view(live) if live else None,
            "rollback_to": model_view(target) if target else None,
            "models": [model_view(m) for m in models],
            "activations": [{"id": a.id, "model_id": a.model_id, "model": names.get(a.model_id),
                             "previous_model_id": a.previous_model_id,
                             "previous": names.get(a.previous_model_id), "action": a.action,
                             "by": a.by, "at": a.at.isoformat(), "seconds": a.seconds, "ok": a.ok,
                             "error": a.error, "override_reason": a.override_reason}
                            for a in activations],
        }


def headline_of(model: NluModel) -> dict:
    metrics = model.metrics or {}
    figures = {}
    for row in metrics.get("headline") or []:
        figures[f"{row['set']}.{row['figure']}"] = row["candidate"]
    stories = (metrics.get("stories") or {}).get("candidate")
    if stories:
        figures["stories"] = f"{stories['stories_correct']}/{stories['stories_total']}"
    return figures


def model_view(model: NluModel, *, full: bool = False) -> dict:
    view = {"id": model.id, "name": model.name, "status": model.status, "origin": model.origin,
            "created_by": model.created_by, "created_at": model.created_at.isoformat(),
            "finished_at": model.finished_at.isoformat() if model.finished_at else None,
            "train_seconds": model.train_seconds, "eval_seconds": model.eval_seconds,
            "base_model_id": model.base_model_id, "verdict": model.verdict,
            "activated_at": model.activated_at.isoformat() if model.activated_at else None,
            "activated_by": model.activated_by, "error": model.error,
            "labels": len(model.label_ids or []), "figures": headline_of(model),
            "progress": model.progress, "phase": model.phase}
    if full:
        view.update({"metrics": model.metrics, "diff": model.diff, "log_tail": model.log_tail,
                     "path": model.path})
    return view


def deployed_model(models_dir: Path) -> Path | None:
    """The model an admin activated last (`<models dir>/active.json`), when it was trained on
    exactly the repository's current config, domain and data (the reviewed files included);
    otherwise None and the caller trains or picks the model of the data (handoff.demo)."""
    from bot.training import fingerprint

    pointer = Path(models_dir) / "active.json"
    try:
        active = json.loads(pointer.read_text())
    except (OSError, ValueError):
        return None
    model = Path(active.get("model") or "")
    if active.get("fingerprint") and active["fingerprint"] == fingerprint() and model.is_file():
        return model
    return None
