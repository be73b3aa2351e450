"""Labels become training data: Rasa NLU YAML under bot/data/nlu/reviewed/, one file per language.

The files are the reviewed, versioned form (git-diffable, one example per line, intents in
alphabetical order, examples in the order they were labelled). The labels in the handoff
store say what the files should become; `propose` applies them to the current files, and
the admin sees the difference before training. Nothing here writes the repository's files
except `write_reviewed`, called when a model trained from them is activated.

A label is refused when its text is a copy of an evaluation line (../shared/eval, the
held-out split, the tuning set) or of an example in the hand-written training data
(bot/data/nlu/en, nl): evaluation lines must never be trained on, and the hand-written
files are the NLU tuner's, so a different intent there must be changed there.
"""
import difflib
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from billing_core.config import REPO_ROOT

LANGS = ("en", "nl")
ENTITIES = ("account_number", "date_of_birth", "postcode", "plan", "amount", "date")
KINDS = ("intent", "new_intent", "noise")
MAX_TEXT = 300
INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]{2,62}$")
RESERVED_INTENTS = {"nlu_fallback", "restart", "back", "out_of_scope_", "session_start"}
# [text](entity) or [text]{"entity": ..., "value": ...}
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\(([^)]+)\)|(\{[^}]*\}))")
HEADER = ("# Examples labelled by admins in the review inbox (/admin), written by handoff.admin\n"
          "# when a model trained on them is activated. Review them like code; see docs/retraining.md.\n")


class InvalidLabel(ValueError):
    """A label that cannot become training data; the message says why and what to do."""


def strip_annotations(text: str) -> str:
    return ANNOTATION.sub(r"\1", text)


def normalise(text: str) -> str:
    """The comparison form (as tests/test_nlu_data.py): no annotations, case or punctuation."""
    text = strip_annotations(text).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def group_key(text: str) -> str:
    """Grouping form for the inbox: normalised, apostrophes dropped ("what's" = "whats"),
    every number the same ("account 0")."""
    return re.sub(r"\d+", "0", normalise(re.sub(r"['’`]", "", text)))


# -- YAML --------------------------------------------------------------------------------
def parse_examples(document: dict | None) -> dict[str, list[str]]:
    """{intent: [example, ...]} from an NLU YAML document (order kept)."""
    result: dict[str, list[str]] = {}
    for item in (document or {}).get("nlu") or []:
        if "intent" not in item:
            continue
        lines = item.get("examples") or ""
        examples = lines if isinstance(lines, list) else [
            line.strip()[2:].strip() for line in str(lines).splitlines() if line.strip().startswith("- ")]
        examples = [e["text"] if isinstance(e, dict) else str(e) for e in examples]
        result.setdefault(item["intent"], []).extend(examples)
    return result


def read_reviewed(path: Path) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    return parse_examples(yaml.safe_load(path.read_text(encoding="utf-8")))


def render_reviewed(examples: dict[str, list[str]]) -> str:
    """Deterministic YAML: intents sorted, one `- example` per line (a literal block)."""
    lines = [HEADER, 'version: "3.1"\n']
    intents = [(intent, items) for intent, items in sorted(examples.items()) if items]
    if not intents:
        lines.append("nlu: []\n")
    else:
        lines.append("nlu:\n")
        for intent, items in intents:
            lines.append(f"- intent: {intent}\n  examples: |\n")
            lines.extend(f"    - {example}\n" for example in items)
    return "".join(lines)


def reviewed_path(folder: Path, lang: str) -> Path:
    return folder / f"{lang}.yml"


def write_reviewed(folder: Path, files: dict[str, str]) -> None:
    """Replace the reviewed files (each atomically: a temporary file, then a rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    for lang, text in files.items():
        target = reviewed_path(folder, lang)
        temporary = target.with_suffix(".yml.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)


def current_files(folder: Path) -> dict[str, str]:
    """The reviewed files as they are now (a missing file reads as an empty one)."""
    return {lang: reviewed_path(folder, lang).read_text(encoding="utf-8")
            if reviewed_path(folder, lang).exists() else render_reviewed({}) for lang in LANGS}


# -- annotations ---------------------------------------------------------------------------
def annotate(text: str, entities: list[dict] | None) -> str:
    """The example line: spans become [span](entity), or [span]{"entity", "value"}."""
    out, last = [], 0
    for span in sorted(entities or [], key=lambda e: e["start"]):
        start, end = span["start"], span["end"]
        piece = text[start:end]
        out.append(text[last:start])
        value = span.get("value")
        if value and value != piece:
            meta = json.dumps({"entity": span["entity"], "value": value}, ensure_ascii=False)
            out.append(f"[{piece}]{meta}")
        else:
            out.append(f"[{piece}]({span['entity']})")
        last = end
    out.append(text[last:])
    return "".join(out)


def check_entities(text: str, entities: list[dict] | None) -> list[dict]:
    clean, previous_end = [], -1
    for span in sorted(entities or [], key=lambda e: (e.get("start", -1), e.get("end", -1))):
        try:
            start, end, entity = int(span["start"]), int(span["end"]), str(span["entity"])
        except (KeyError, TypeError, ValueError):
            raise InvalidLabel("an entity needs start, end and entity")
        if entity not in ENTITIES:
            raise InvalidLabel(f"unknown entity {entity!r}; use one of {', '.join(ENTITIES)}")
        if not 0 <= start < end <= len(text):
            raise InvalidLabel(f"the {entity} span {start}-{end} is outside the text")
        piece = text[start:end]
        if piece != piece.strip() or not piece.strip():
            raise InvalidLabel(f"the {entity} span {piece!r} starts or ends with a space")
        if start < previous_end:
            raise InvalidLabel("entity spans overlap")
        value = span.get("value")
        if value is not None and (not str(value).strip() or any(c in str(value) for c in '[]{}"')):
            raise InvalidLabel(f"the {entity} value {value!r} cannot be stored")
        clean.append({"start": start, "end": end, "entity": entity,
                      **({"value": str(value).strip()} if value and str(value).strip() != piece else {})})
        previous_end = end
    return clean


# -- what a label may not copy -------------------------------------------------------------------
@dataclass
class Protected:
    """Normalised texts a label must not copy, with where they come from."""

    evaluation: dict[str, str] = field(default_factory=dict)   # key -> "file:line"
    training: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (intent, file)
    intents: set[str] = field(default_factory=set)              # intents of the domain


def _jsonl_keys(path: Path, into: dict[str, str], shown: str) -> None:
    if not path.exists():
        return
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                into.setdefault(normalise(json.loads(line)["text"]), f"{shown}:{number}")
            except (ValueError, KeyError, TypeError):
                continue


def domain_intents(domain: Path) -> set[str]:
    intents = set()
    for path in sorted(domain.rglob("*.yml")) if domain.is_dir() else [domain]:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in document.get("intents") or []:
            intents.add(next(iter(item)) if isinstance(item, dict) else str(item))
    return intents


class ProtectedTexts:
    """Loads the protected texts once, again when a file changed (checked by mtime)."""

    def __init__(self, *, shared_eval_dir: Path, heldout: Path, nlu_dir: Path = REPO_ROOT / "bot" / "data" / "nlu",
                 dev: Path = REPO_ROOT / "bench" / "nlu_dev.jsonl", domain: Path = REPO_ROOT / "bot" / "domain"):
        self.shared_eval_dir, self.heldout, self.nlu_dir = shared_eval_dir, heldout, nlu_dir
        self.dev, self.domain = dev, domain
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._value = Protected()

    def _files(self) -> list[Path]:
        files = sorted(self.shared_eval_dir.glob("*.jsonl")) if self.shared_eval_dir.is_dir() else []
        files += [self.heldout, self.dev]
        for lang in LANGS:
            files += sorted((self.nlu_dir / lang).glob("*.yml"))
        files += sorted(self.domain.rglob("*.yml")) if self.domain.is_dir() else []
        return files

    def get(self) -> Protected:
        files = self._files()
        stamp = tuple((str(p), p.stat().st_mtime_ns) for p in files if p.exists())
        with self._lock:
            if stamp != self._stamp:
                self._value = self._load()
                self._stamp = stamp
            return self._value

    def _load(self) -> Protected:
        protected = Protected()
        if self.shared_eval_dir.is_dir():
            for path in sorted(self.shared_eval_dir.glob("*.jsonl")):
                _jsonl_keys(path, protected.evaluation, f"../shared/eval/{path.name}")
        _jsonl_keys(self.heldout, protected.evaluation, "bot/eval/heldout.jsonl")
        _jsonl_keys(self.dev, protected.evaluation, "bench/nlu_dev.jsonl")
        for lang in LANGS:
            for path in sorted((self.nlu_dir / lang).glob("*.yml")):
                document = yaml.safe_load(path.read_text(encoding="utf-8"))
                for intent, examples in parse_examples(document).items():
                    for example in examples:
                        protected.training.setdefault(
                            normalise(example), (intent, f"bot/data/nlu/{lang}/{path.name}"))
        protected.intents = domain_intents(self.domain)
        return protected


def validate(*, text: str, kind: str, intent: str | None, entities: list[dict] | None,
             protected: Protected, known_intents: set[str]) -> tuple[str, str | None, list[dict]]:
    """(clean text, intent, clean entities) of a label, or InvalidLabel saying what is wrong."""
    text = " ".join(str(text or "").split())
    if kind not in KINDS:
        raise InvalidLabel(f"kind must be one of {', '.join(KINDS)}")
    if not text:
        raise InvalidLabel("the example text is empty")
    if len(text) > MAX_TEXT:
        raise InvalidLabel(f"the example is longer than {MAX_TEXT} characters; shorten it")
    if kind == "noise":
        return text, None, []
    if "•" in text:
        raise InvalidLabel("the text has a masked part (••); replace it with a made-up value "
                           "before it becomes training data (no real personal data in the repository)")
    if any(c in text for c in "[]{}"):
        raise InvalidLabel("brackets [ ] { } mean entity annotations in Rasa's format; "
                           "remove them from the text and mark entities with the entity buttons")
    if text.startswith("/"):
        raise InvalidLabel("a text starting with / is Rasa's intent syntax, not something to learn")
    intent = (intent or "").strip()
    if kind == "intent":
        if intent not in known_intents:
            raise InvalidLabel(f"unknown intent {intent!r}; choose an existing intent or label a new one")
    else:
        if not INTENT_NAME.match(intent) or intent in RESERVED_INTENTS:
            raise InvalidLabel("a new intent name is lowercase letters, digits and _, "
                               "3 to 63 characters, starting with a letter (e.g. ask_refund)")
        if intent in protected.intents:
            raise InvalidLabel(f"{intent!r} already exists; label it as an existing intent")
    entities = check_entities(text, entities)
    key = normalise(text)
    if not key:
        raise InvalidLabel("the text has no words")
    if key in protected.evaluation:
        raise InvalidLabel(
            f"this text is an evaluation line ({protected.evaluation[key]}); evaluation lines must "
            "never become training data, or the scores stop meaning anything. Write your own "
            "example instead, or mark the message as noise.")
    if key in protected.training:
        existing, where = protected.training[key]
        if existing == intent:
            raise InvalidLabel(f"this text is already training data for {existing} ({where})")
        raise InvalidLabel(f"this text is training data for {existing} in {where}, which the "
                           f"hand-written data owns; change it there, not through a label")
    return text, intent, entities


# -- labels applied to the files --------------------------------------------------------------
@dataclass
class LabelView:
    """What `propose` needs of a label (the store's NluLabel, or a test's stand-in)."""

    id: int
    language: str
    key: str
    text: str
    kind: str
    intent: str | None
    entities: list | None
    status: str


def propose(current: dict[str, list[str]], labels: list[LabelView]) -> dict[str, list[str]]:
    """The examples after applying labels (oldest first) to the current file's examples.

    An active intent label puts its example under its intent (moved there when the same text
    is under another intent, left in place when it is already there); noise and deleted
    labels take their text out of the reviewed data.
    """
    result = {intent: list(items) for intent, items in current.items()}
    for label in labels:
        wanted = annotate(label.text, label.entities) if (
            label.status == "active" and label.kind != "noise" and label.intent) else None
        already = wanted is not None and wanted in result.get(label.intent, [])
        for intent, items in result.items():
            result[intent] = [e for e in items if normalise(e) != label.key
                              or (already and intent == label.intent and e == wanted)]
        if wanted is not None and not already:
            result.setdefault(label.intent, []).append(wanted)
    return {intent: items for intent, items in result.items() if items}


def unified_diff(lang: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"a/bot/data/nlu/reviewed/{lang}.yml", tofile=f"b/bot/data/nlu/reviewed/{lang}.yml"))


def changes(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, list[dict]]:
    """Examples added, removed and moved between intents (for the summary above the diff)."""
    def index(examples):
        return {normalise(e): (intent, e) for intent, items in examples.items() for e in items}

    old, new = index(before), index(after)
    added = [{"intent": i, "example": e} for k, (i, e) in new.items() if k not in old]
    removed = [{"intent": i, "example": e} for k, (i, e) in old.items() if k not in new]
    moved = [{"from": old[k][0], "intent": i, "example": e} for k, (i, e) in new.items()
             if k in old and old[k][0] != i]
    edited = [{"intent": i, "example": e} for k, (i, e) in new.items()
              if k in old and old[k][0] == i and old[k][1] != e]
    return {"added": added, "removed": removed, "moved": moved, "edited": edited}


def new_intents(examples: dict[str, list[str]], domain: set[str]) -> list[str]:
    return sorted(set(examples) - domain)
