"""Training jobs: one at a time, in the background, with live progress; then the evaluation.

A job trains in its own workspace (`<models dir>/jobs/nlu-NNNN/`, laid out like the
repository: config.yml, bot/domain, bot/data with the proposed reviewed files, bot/language.py)
with `bot.training.train`, so nothing in the repository changes while it runs and a failed
job leaves no trace but its row (status `failed`, the error, the log tail). The model is
written to `<models dir>/nlu-NNNN.tar.gz`; the live model is untouched until an admin
activates it (handoff.admin.registry).

One job at a time: the `running` column is unique (1 while a job runs, NULL otherwise), so a
second request gets 409 even from another service process. A job whose heartbeat stopped
(the process died) is marked failed after STALE.
"""
import json
import logging
import re
import shutil
import threading
import time
from collections import deque
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from billing_core.db import session_scope, utcnow
from bot.training import REPO, fingerprint, train
from handoff.admin import evaluation
from handoff.admin.dataset import LANGS, parse_examples, strip_annotations
from handoff.admin.registry import Registry
from handoff.errors import Conflict
from handoff.models import NluModel

log = logging.getLogger(__name__)

STALE = timedelta(minutes=2)
HEARTBEAT_SECONDS = 10
TRAIN_SHARE, NLU_EVAL_SHARE = 0.55, 0.25  # of the progress bar; the stories take the rest
NOISE = re.compile(r"(Warning|warn\(|^\s*$|^\s+(More info|from |import |warnings\.|\)\.|self\._)"
                   r"|pkg_resources|declare_namespace|SQLALCHEMY|MovedIn20)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
KEEP = re.compile(r"(Correct:|Accuracy:|Evaluating|Finished|Error|Exception|Traceback|failed)")
ERROR = re.compile(r"(Error|Exception|error:|Traceback|failed|Invalid|could not|Could not)")


def error_summary(text: str, lines: int = 12) -> str:
    """The lines of a failed run's output that say what went wrong."""
    output = [ANSI.sub("", line) for line in text.splitlines() if ANSI.sub("", line).strip()]
    found = [line for line in output if ERROR.search(line) and not NOISE.search(line)]
    picked = found[-lines:] if found else output[-lines:]
    return "\n".join(line.strip()[:400] for line in picked)


class JobProgress:
    """Collects a job's output; writes phase, progress and log tail to its row (throttled)."""

    def __init__(self, sessions: sessionmaker[Session], model_id: int):
        self.sessions, self.model_id = sessions, model_id
        self.tail: deque[str] = deque(maxlen=40)
        self.phase, self.progress = "starting", 0.0
        self._written = 0.0
        self._lock = threading.Lock()
        self.components_total, self.components_done = 9, 0
        self.eval_total = None

    def set(self, phase: str | None = None, progress: float | None = None, force: bool = False) -> None:
        with self._lock:
            if phase is not None:
                self.phase = phase[:200]
            if progress is not None:
                self.progress = max(self.progress, min(0.999, progress))
            if force or time.monotonic() - self._written > 0.7:
                self._write()

    def _write(self) -> None:
        self._written = time.monotonic()
        with session_scope(self.sessions) as session:
            row = session.get(NluModel, self.model_id)
            row.phase, row.progress, row.heartbeat_at = self.phase, round(self.progress, 3), utcnow()
            row.log_tail = "\n".join(self.tail)

    def heartbeat(self) -> None:
        with self._lock:
            self._write()

    # -- output of `rasa train` -------------------------------------------------------------
    def training_line(self, line: str) -> None:
        clean = ANSI.sub("", line).strip()
        if NOISE.search(clean):
            return
        self.tail.append(clean[:300])
        if "Started validating" in clean:
            self.set("checking the training data", 0.03)
        elif "Starting to train component" in clean:
            name = re.search(r"'(\w+)'", clean)
            self.set(f"training {name.group(1) if name else 'a component'}",
                     TRAIN_SHARE * (0.1 + 0.85 * self.components_done / self.components_total))
        elif "Finished training component" in clean or "Restored component" in clean:
            self.components_done += 1
            self.set(None, TRAIN_SHARE * (0.1 + 0.85 * self.components_done / self.components_total))
        elif "Epochs" in clean:
            self.set(None, None)
        elif "model is trained and saved" in clean:
            self.set("model trained", TRAIN_SHARE)
        else:
            self.set(None, None)

    # -- output of the evaluation -------------------------------------------------------------
    def eval_line(self, line: str) -> None:
        if line.startswith("progress "):
            _, done, total = line.split()[:3]
            self.set(None, TRAIN_SHARE + NLU_EVAL_SHARE * int(done) / max(1, int(total)))
        elif line.startswith("phase "):
            self.tail.append(line[6:300])
            self.set(f"evaluating: {line[6:]}", None)
        elif KEEP.search(line) and not NOISE.search(ANSI.sub("", line)):
            self.tail.append(ANSI.sub("", line).strip()[:300])
            self.set(None, None)
        else:
            self.set(None, None)


class TrainingJobs:
    def __init__(self, sessions: sessionmaker[Session], settings, registry: Registry, proposal):
        """`proposal()` returns the reviewed files, diff and label ids to train with."""
        self.sessions, self.settings, self.registry, self.proposal = sessions, settings, registry, proposal
        self.models_dir = Path(settings.nlu_models_dir)

    # -- bookkeeping ---------------------------------------------------------------------------
    def sweep(self) -> int:
        """Mark jobs whose process stopped (no heartbeat for STALE) as failed."""
        cutoff = utcnow() - STALE
        with session_scope(self.sessions) as session:
            stale = session.scalars(select(NluModel).where(NluModel.running == 1)).all()
            count = 0
            for row in stale:
                if (row.heartbeat_at or row.created_at) < cutoff:
                    row.status, row.running, row.finished_at = "failed", None, utcnow()
                    row.error = "interrupted: the service stopped while this job ran"
                    count += 1
            return count

    def running(self, session: Session) -> NluModel | None:
        return session.scalar(select(NluModel).where(NluModel.running == 1))

    # -- start -----------------------------------------------------------------------------------
    def start(self, user: str, *, note: str | None = None) -> int:
        self.sweep()
        proposal = self.proposal()
        status = self.registry.rasa.status()
        try:
            with session_scope(self.sessions) as session:
                busy = self.running(session)
                if busy is not None:
                    raise Conflict(f"a training is already running ({busy.name}, started by "
                                   f"{busy.created_by} at {busy.created_at:%H:%M:%S} UTC); "
                                   "one training at a time")
                live = self.registry.live(session, status)
                row = NluModel(name="nlu-new", status="training", running=1, created_by=user,
                               base_model_id=live.id if live else None, label_ids=proposal["label_ids"],
                               reviewed=proposal["files"], diff=proposal["diff"], phase="queued",
                               heartbeat_at=utcnow())
                session.add(row)
                session.flush()
                row.name = f"nlu-{row.id:04d}"
                row.path = str((self.models_dir / f"{row.name}.tar.gz").resolve())
                model_id = row.id
        except IntegrityError as exc:
            raise Conflict("a training is already running; one training at a time") from exc
        threading.Thread(target=self._run, args=(model_id,), name=f"train-{model_id}", daemon=True).start()
        return model_id

    # -- the job -----------------------------------------------------------------------------------
    def _run(self, model_id: int) -> None:
        progress = JobProgress(self.sessions, model_id)
        stop = threading.Event()

        def beat():
            while not stop.wait(HEARTBEAT_SECONDS):
                try:
                    progress.heartbeat()
                except Exception:  # a missed heartbeat is not worth failing the job for
                    log.exception("heartbeat")

        threading.Thread(target=beat, name=f"heartbeat-{model_id}", daemon=True).start()
        with session_scope(self.sessions) as session:
            row = session.get(NluModel, model_id)
            name, reviewed, base_id = row.name, dict(row.reviewed), row.base_model_id
        workspace = self.models_dir / "jobs" / name
        stage = "training"
        try:
            progress.set("preparing the training data", 0.01, force=True)
            config = self.prepare(workspace, reviewed)
            progress.components_total = max(1, self.component_count(config))
            started = time.monotonic()
            model = train(config=config, data=workspace / "bot" / "data", domain=workspace / "bot" / "domain",
                          out=self.models_dir, name=name, quiet=True, progress=progress.training_line,
                          env={"RASA_CACHE_DIRECTORY": str(self.models_dir / ".rasa-cache")})
            train_seconds = round(time.monotonic() - started, 1)
            with session_scope(self.sessions) as session:
                row = session.get(NluModel, model_id)
                row.status, row.train_seconds = "evaluating", train_seconds
            stage = "evaluation"
            progress.set("evaluating", TRAIN_SHARE, force=True)
            started = time.monotonic()
            report = self.evaluate(model_id, model, base_id, workspace, reviewed, progress)
            report["fingerprint"] = fingerprint(workspace)
            with session_scope(self.sessions) as session:
                row = session.get(NluModel, model_id)
                row.metrics, row.verdict = report, report["verdict"]
                row.eval_seconds = round(time.monotonic() - started, 1)
                row.status, row.running, row.finished_at = "candidate", None, utcnow()
                row.progress, row.phase = 1.0, f"ready: {report['verdict']} than the live model" \
                    if report["verdict"] in ("better", "worse") else f"ready ({report['verdict']})"
                row.log_tail = "\n".join(progress.tail)
        except Exception as exc:  # whatever failed, the job fails visibly and changes nothing
            log.warning("job %s failed in %s: %s", name, stage, str(exc)[:300])
            summary = error_summary(str(exc)) if isinstance(exc, RuntimeError) else f"{type(exc).__name__}: {exc}"
            with session_scope(self.sessions) as session:
                row = session.get(NluModel, model_id)
                row.status, row.running, row.finished_at = "failed", None, utcnow()
                row.error = f"{stage} failed:\n{summary}"
                row.phase = f"{stage} failed"
                row.log_tail = "\n".join(progress.tail)[-8000:] + "\n" + str(exc)[-3000:]
        finally:
            stop.set()
            shutil.rmtree(workspace, ignore_errors=True)

    def prepare(self, workspace: Path, reviewed: dict[str, str]) -> Path:
        """The training inputs, copied: later edits to the repository do not reach this job."""
        shutil.rmtree(workspace, ignore_errors=True)
        (workspace / "bot").mkdir(parents=True)
        config = workspace / "config.yml"
        shutil.copyfile(self.settings.nlu_config, config)
        shutil.copytree(REPO / "bot" / "domain", workspace / "bot" / "domain")
        reviewed_dir = (REPO / "bot" / "data" / "nlu" / "reviewed").resolve()
        shutil.copytree(REPO / "bot" / "data", workspace / "bot" / "data",
                        ignore=lambda folder, names: names if Path(folder).resolve() == reviewed_dir else [])
        target = workspace / "bot" / "data" / "nlu" / "reviewed"
        target.mkdir(parents=True, exist_ok=True)
        for lang, text in reviewed.items():
            (target / f"{lang}.yml").write_text(text, encoding="utf-8")
        shutil.copyfile(REPO / "bot" / "language.py", workspace / "bot" / "language.py")
        shutil.copytree(REPO / "bot" / "nlu_components", workspace / "bot" / "nlu_components",
                        ignore=shutil.ignore_patterns("__pycache__"))
        return config

    @staticmethod
    def component_count(config: Path) -> int:
        import yaml

        try:
            document = yaml.safe_load(config.read_text()) or {}
        except yaml.YAMLError:
            return 9
        pipeline = [c for c in document.get("pipeline") or [] if isinstance(c, dict)]
        trained = [c for c in pipeline if not str(c.get("name", "")).endswith(("Tokenizer", "FallbackClassifier"))]
        return len(trained) + len(document.get("policies") or [])

    # -- evaluation ---------------------------------------------------------------------------------
    def evaluate(self, model_id: int, candidate: Path, base_id: int | None, workspace: Path,
                 reviewed: dict[str, str], progress: JobProgress) -> dict:
        import yaml

        data = evaluation.eval_data(self.settings)
        labels_file = workspace / "labels.jsonl"
        with labels_file.open("w", encoding="utf-8") as out:
            for lang in LANGS:
                for intent, examples in parse_examples(yaml.safe_load(reviewed.get(lang) or "") or {}).items():
                    for example in examples:
                        out.write(json.dumps({"text": strip_annotations(example), "intent": intent,
                                              "lang": lang}, ensure_ascii=False) + "\n")
        has_labels = labels_file.stat().st_size > 0
        base = None
        with session_scope(self.sessions) as session:
            row = session.get(NluModel, base_id) if base_id else None
            if row is not None and row.path and Path(row.path).is_file():
                base = (row.name, Path(row.path))
        eval_fp = data.fingerprint()
        folder = self.models_dir / "eval" / f"nlu-{model_id:04d}"
        cache_file = self.models_dir / "eval" / f"base-{base[0]}-{eval_fp}.json" if base else None
        cached = json.loads(cache_file.read_text()) if cache_file and cache_file.exists() else None
        fixed_sets = {name: str(path) for name, path in data.sets.items()}
        label_set = {evaluation.LABELS: str(labels_file)} if has_labels else {}
        jobs = [{"model": "candidate", "path": str(candidate), "sets": {**fixed_sets, **label_set}}]
        if base:
            jobs.append({"model": "base", "path": str(base[1]),
                         "sets": {**({} if cached else fixed_sets), **label_set}})
        shared = {name: str(path) for name, path in data.sets.items() if name.startswith("shared:")}
        matrices = [{"model": "candidate", "name": "heldout", "title": "held-out split: candidate",
                     "sets": {evaluation.HELDOUT: fixed_sets[evaluation.HELDOUT]}}]
        if shared:
            matrices.append({"model": "candidate", "name": "shared", "title": "../shared/eval: candidate",
                             "sets": shared})
        if base:
            given = (cached or {}).get("predictions") or {}
            matrices.append({"model": "base", "name": "heldout", "title": f"held-out split: live ({base[0]})",
                             "sets": {evaluation.HELDOUT: fixed_sets[evaluation.HELDOUT]}, "predictions": given})
            if shared:
                matrices.append({"model": "base", "name": "shared", "title": f"../shared/eval: live ({base[0]})",
                                 "sets": shared, "predictions": given})
        if base and cached:  # the drawing needs the cached predictions only for base matrices
            for matrix in matrices:
                if matrix["model"] == "base" and not matrix.get("predictions"):
                    matrix["predictions"] = cached["predictions"]
        predictions = evaluation.parse_with_models({"jobs": jobs, "matrices": matrices}, folder,
                                                   progress.eval_line)
        base_predictions = None
        if base:
            base_predictions = {**((cached or {}).get("predictions") or {}), **predictions.get("base", {})}
        stories_candidate = stories_base = None
        if data.actions_url:
            progress.set("evaluating: test stories (candidate)", TRAIN_SHARE + NLU_EVAL_SHARE, force=True)
            stories_candidate = evaluation.run_stories(candidate, data.actions_url, folder / "stories-candidate",
                                                       progress.eval_line)
            if base:
                stories_base = (cached or {}).get("stories")
                if stories_base is None:
                    progress.set("evaluating: test stories (live model)", 0.9, force=True)
                    stories_base = evaluation.run_stories(base[1], data.actions_url, folder / "stories-base",
                                                          progress.eval_line)
        if base and cache_file and not cached:
            fixed = {k: v for k, v in base_predictions.items() if k != evaluation.LABELS}
            cache_file.write_text(json.dumps({"predictions": fixed, "stories": stories_base}))
        examples = evaluation.examples_of(data, labels_file if has_labels else None)
        report = evaluation.compare(examples, base_predictions, predictions["candidate"], stories_base,
                                    stories_candidate, self.settings.nlu_worse_tolerance)
        if not data.actions_url:
            report["stories"]["skipped"] = ("no action server of a demo/test billing database is "
                                            "configured (HANDOFF_NLU_EVAL_ACTIONS_URL)")
        report["base"] = {"id": base_id, "name": base[0] if base else None}
        report["eval_fingerprint"] = eval_fp
        report["sets_used"] = {name: str(path) for name, path in data.sets.items()}
        report["matrices"] = {m["name"]: sorted({x["model"] for x in matrices if x["name"] == m["name"]})
                              for m in matrices}
        report["matrix_dir"] = str(folder)
        return report
