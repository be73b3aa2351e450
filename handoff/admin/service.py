"""The admin console's operations, built once per service process (handoff.container)."""
import asyncio
import logging
from pathlib import Path

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from billing_core.db import session_scope
from billing_core.security import mask_sensitive
from handoff.admin import dataset, inbox
from handoff.admin.dataset import LANGS, InvalidLabel, LabelView, ProtectedTexts
from handoff.admin.jobs import TrainingJobs
from handoff.admin.nlu_log import NluLogger
from handoff.admin.registry import BadRequest, RasaModels, Registry, model_view
from handoff.errors import Forbidden, NotFound
from handoff.models import Author, Conversation, Handoff, HandoffStatus, Message, NluLabel, NluModel, NluSuggestion

log = logging.getLogger(__name__)


def label_view(label: NluLabel) -> dict:
    return {"id": label.id, "language": label.language, "text": label.text, "kind": label.kind,
            "intent": label.intent, "entities": label.entities or [], "status": label.status,
            "example": dataset.annotate(label.text, label.entities) if label.kind != "noise" else None,
            "message_id": label.message_id, "message_count": len(label.message_ids or []) or 1,
            "created_by": label.created_by, "updated_by": label.updated_by,
            "created_at": label.created_at.isoformat(), "updated_at": label.updated_at.isoformat()}


class Admin:
    def __init__(self, sessions: sessionmaker[Session], settings):
        self.sessions, self.settings = sessions, settings
        self.protected = ProtectedTexts(shared_eval_dir=Path(settings.nlu_shared_eval_dir),
                                        heldout=Path(settings.nlu_heldout))
        self.rasa = RasaModels(settings.rasa_url, settings.nlu_activation_timeout_seconds,
                               settings.rasa_replica_urls, settings.rasa_token)
        self.registry = Registry(sessions, settings, self.rasa)
        self.jobs = TrainingJobs(sessions, settings, self.registry, self.proposal)
        self.logger = NluLogger(sessions, tracker_url=settings.nlu_tracker_url, rasa_url=settings.rasa_url,
                                rasa_token=settings.rasa_token,
                                parse_after_seconds=settings.nlu_parse_after_seconds,
                                events_consumed=settings.rasa_events_url is not None)
        self.reviewed_dir = Path(settings.nlu_reviewed_dir)

    def close(self) -> None:
        self.rasa.close()
        self.logger.close()

    # -- background: NLU results of customer messages ----------------------------------------------
    async def run_nlu_logger(self) -> None:
        if not self.logger.enabled:
            log.info("NLU logging is off (neither HANDOFF_NLU_TRACKER_URL nor HANDOFF_RASA_EVENTS_URL is set)")
            return
        ticks = 0
        while True:
            await asyncio.sleep(self.settings.nlu_poll_seconds)
            ticks += 1
            try:
                await run_in_threadpool(self.logger.poll)
                if ticks % 5 == 0:
                    await run_in_threadpool(self.logger.parse_unseen)
            except Exception:  # a bad tick must not stop the logger
                log.exception("NLU logging failed")

    # -- inbox and labels ---------------------------------------------------------------------------------
    def known_intents(self, session: Session) -> set[str]:
        intents = set(self.protected.get().intents)
        intents |= {i for i, in session.execute(select(NluLabel.intent).where(
            NluLabel.status == "active", NluLabel.kind == "new_intent"))}
        for lang in LANGS:
            intents |= set(dataset.read_reviewed(dataset.reviewed_path(self.reviewed_dir, lang)))
        return intents

    def intents(self) -> dict:
        with session_scope(self.sessions) as session:
            domain = self.protected.get().intents
            known = self.known_intents(session)
        return {"intents": sorted(domain), "new_intents": sorted(known - domain),
                "entities": list(dataset.ENTITIES)}

    def inbox(self, **filters) -> dict:
        with session_scope(self.sessions) as session:
            result = inbox.inbox(session, threshold=self.settings.review_confidence, **filters)
            result["coverage"] = inbox.nlu_coverage(session)
            result["logging"] = self.logger.enabled
            return result

    def label(self, *, user: str, message_ids: list[int], kind: str, intent: str | None,
              text: str | None, entities: list[dict] | None) -> dict:
        if not message_ids:
            raise BadRequest("choose at least one message")
        protected = self.protected.get()
        with session_scope(self.sessions) as session:
            rows = session.execute(
                select(Message, Conversation.language).join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.id.in_(message_ids), Message.author == Author.customer)).all()
            by_id = {message.id: (message, language) for message, language in rows}
            missing = [i for i in message_ids if i not in by_id]
            if missing:
                raise NotFound(f"no customer message {missing[0]}")
            known = self.known_intents(session)
            first, first_language = by_id[message_ids[0]]
            language = inbox.message_language(first.text, first_language)
            try:
                clean, intent, spans = dataset.validate(
                    text=text if text is not None else mask_sensitive(first.text), kind=kind,
                    intent=intent, entities=entities, protected=protected, known_intents=known)
            except InvalidLabel as exc:
                raise BadRequest(str(exc)) from exc
            # the representative's label, then one per other valid distinct text of the group;
            # messages whose text cannot be an example (masked, an evaluation line, ...) are
            # covered by the representative's label, so the whole group leaves the inbox
            items = {(language, dataset.normalise(clean)): {"message_id": first.id, "text": clean,
                                                            "entities": spans, "ids": [first.id]}}
            skipped = []
            for message_id in message_ids[1:]:
                message, conversation_language = by_id[message_id]
                other = mask_sensitive(message.text)
                key = (inbox.message_language(message.text, conversation_language), dataset.normalise(other))
                if key in items:
                    items[key]["ids"].append(message_id)
                    continue
                try:
                    other_clean, _, _ = dataset.validate(text=other, kind=kind, intent=intent, entities=None,
                                                         protected=protected, known_intents=known | {intent})
                except InvalidLabel as exc:
                    skipped.append({"message_id": message_id, "text": other, "reason": str(exc)})
                    items[(language, dataset.normalise(clean))]["ids"].append(message_id)
                    continue
                items[key] = {"message_id": message_id, "text": other_clean, "entities": [], "ids": [message_id]}
            saved = []
            for (lang, key), item in items.items():
                row = session.scalar(select(NluLabel).where(NluLabel.language == lang, NluLabel.key == key))
                if row is None:
                    row = NluLabel(language=lang, key=key, created_by=user)
                    session.add(row)
                row.text, row.kind, row.intent = item["text"], kind, intent
                row.entities = item["entities"] or None
                row.status, row.message_id, row.updated_by = "active", item["message_id"], user
                row.message_ids = sorted(set(row.message_ids or []) | set(item["ids"]))
                session.flush()
                saved.append(label_view(row))
            return {"labels": saved, "skipped": skipped}

    def labels(self, status: str | None = None) -> list[dict]:
        with session_scope(self.sessions) as session:
            query = select(NluLabel).order_by(NluLabel.id.desc()).limit(500)
            if status:
                query = query.where(NluLabel.status == status)
            return [label_view(row) for row in session.scalars(query)]

    def delete_label(self, label_id: int, user: str) -> dict:
        with session_scope(self.sessions) as session:
            row = session.get(NluLabel, label_id)
            if row is None:
                raise NotFound(f"no label {label_id}")
            row.status, row.updated_by = "deleted", user
            return label_view(row)

    def suggest(self, *, user, message_id: int, intent: str, note: str | None) -> dict:
        """An agent's hint from a conversation they can see; only recorded for the admins."""
        from handoff.api.routes.handoffs import may_see

        with session_scope(self.sessions) as session:
            message = session.get(Message, message_id)
            if message is None or message.author is not Author.customer:
                raise NotFound(f"no customer message {message_id}")
            if not may_see(session, user, message.conversation_id) and not session.scalar(
                    select(Handoff.id).where(Handoff.conversation_id == message.conversation_id,
                                             Handoff.agent == user.username,
                                             Handoff.status.in_([HandoffStatus.claimed, HandoffStatus.resolved,
                                                                 HandoffStatus.released]))):
                raise Forbidden("this conversation belongs to another agent")
            intent = (intent or "").strip()
            if not dataset.INTENT_NAME.match(intent):
                raise BadRequest("an intent name is lowercase letters, digits and _ (e.g. ask_balance)")
            row = NluSuggestion(message_id=message_id, intent=intent, note=(note or "").strip()[:300] or None,
                                suggested_by=user.username)
            session.add(row)
            session.flush()
            return {"id": row.id, "message_id": message_id, "intent": intent, "note": row.note,
                    "suggested_by": row.suggested_by, "created_at": row.created_at.isoformat()}

    # -- the reviewed data ----------------------------------------------------------------------------------
    def proposal(self) -> dict:
        """The reviewed files the labels ask for, their diff to the current files, label ids."""
        with session_scope(self.sessions) as session:
            rows = session.scalars(select(NluLabel).where(NluLabel.status.in_(("active", "deleted")))
                                   .order_by(NluLabel.id)).all()
            labels = [LabelView(r.id, r.language, r.key, r.text, r.kind, r.intent, r.entities, r.status)
                      for r in rows]
        domain = self.protected.get().intents
        before_files = dataset.current_files(self.reviewed_dir)
        files, diffs, summary = {}, [], {}
        for lang in LANGS:
            before = dataset.read_reviewed(dataset.reviewed_path(self.reviewed_dir, lang))
            after = dataset.propose(before, [label for label in labels if label.language == lang])
            # unchanged examples keep the file as it is (no reformatting shows up as a change)
            text = before_files[lang] if after == before else dataset.render_reviewed(after)
            files[lang] = text
            diff = dataset.unified_diff(lang, before_files[lang], text)
            if diff:
                diffs.append(diff)
            summary[lang] = {**dataset.changes(before, after), "examples": sum(map(len, after.values())),
                             "new_intents": dataset.new_intents(after, domain), "diff": diff}
        return {"files": files, "diff": "".join(diffs), "languages": summary,
                "label_ids": [label.id for label in labels if label.status == "active"],
                "pending": sum(len(s["added"]) + len(s["removed"]) + len(s["moved"]) + len(s["edited"])
                               for s in summary.values())}

    # -- training and models ------------------------------------------------------------------------------
    def job(self, model_id: int | None = None) -> dict | None:
        self.jobs.sweep()
        with session_scope(self.sessions) as session:
            if model_id is not None:
                row = session.get(NluModel, model_id)
                if row is None or row.origin != "trained":
                    raise NotFound(f"no training job {model_id}")
            else:
                row = self.jobs.running(session) or session.scalar(
                    select(NluModel).where(NluModel.origin == "trained").order_by(NluModel.id.desc()))
            if row is None:
                return None
            view = model_view(row, full=True)
            view["running"] = row.running == 1
            return view

    def model(self, model_id: int) -> dict:
        with session_scope(self.sessions) as session:
            row = session.get(NluModel, model_id)
            if row is None:
                raise NotFound(f"no model {model_id}")
            return model_view(row, full=True)

    def matrix(self, model_id: int, name: str, which: str) -> Path:
        with session_scope(self.sessions) as session:
            row = session.get(NluModel, model_id)
            if row is None or not row.metrics:
                raise NotFound(f"model {model_id} has no evaluation")
            folder = Path(row.metrics.get("matrix_dir") or "")
        if which not in ("candidate", "base") or name not in ("heldout", "shared"):
            raise NotFound("no such confusion matrix")
        path = folder / f"{which}-{name}.png"
        if not path.is_file():
            raise NotFound("no such confusion matrix")
        return path
