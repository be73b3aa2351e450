"""The review inbox: customer messages the bot probably got wrong, similar ones grouped.

A message is in the inbox when its NLU result is a fallback (nlu_fallback), out of scope,
below the review confidence, or when it is the last thing the customer said before a
handoff, and nobody labelled its text yet (labels are per language and normalised text;
deleting a label brings its messages back). Groups: the same text up to case, punctuation
and numbers ("account 10000001" = "account 10000002"), then groups of one language whose
word sets overlap enough (Jaccard) are merged, largest first.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from billing_core.security import mask_sensitive
from bot.language import detect_language
from handoff.admin.dataset import group_key, normalise
from handoff.models import Author, Conversation, Handoff, Message, NluLabel, NluSuggestion

FALLBACK, OUT_OF_SCOPE = "nlu_fallback", "out_of_scope"
REASONS = ("fallback", "out_of_scope", "low_confidence", "handed_off")
SCAN_LIMIT = 3000       # newest candidate messages considered
HANDOFF_LIMIT = 1000    # newest handoffs whose last customer message is considered
MERGE_SIMILARITY = 0.6  # token Jaccard above which groups merge
MESSAGES_PER_GROUP = 20


@dataclass
class Candidate:
    id: int
    conversation_id: str
    seq: int
    text: str
    lang: str
    intent: str | None
    confidence: float | None
    ranking: list
    entities: list
    source: str | None
    at: datetime
    reasons: list[str]

    def view(self) -> dict:
        return {"id": self.id, "conversation_id": self.conversation_id, "seq": self.seq,
                "text": self.text, "lang": self.lang, "intent": self.intent,
                "confidence": None if self.confidence is None else round(self.confidence, 3),
                "ranking": self.ranking, "entities": self.entities, "source": self.source,
                "at": self.at.isoformat(), "reasons": self.reasons}


def message_language(text: str, conversation_language: str | None) -> str:
    return detect_language(text) or conversation_language or "en"


def handed_off_message_ids(session: Session, limit: int = HANDOFF_LIMIT) -> set[int]:
    """The last customer message before each recent handoff."""
    last = (select(func.max(Message.id))
            .where(Message.conversation_id == Handoff.conversation_id,
                   Message.author == Author.customer, Message.created_at <= Handoff.queued_at)
            .correlate(Handoff).scalar_subquery())
    rows = session.execute(select(last).select_from(Handoff).order_by(Handoff.id.desc()).limit(limit)).scalars()
    return {row for row in rows if row is not None}


def candidates(session: Session, *, threshold: float, lang: str | None = None,
               reason: str | None = None) -> list[Candidate]:
    handed_off = handed_off_message_ids(session)
    conditions = [Message.intent.in_([FALLBACK, OUT_OF_SCOPE]), Message.confidence < threshold]
    if handed_off:
        conditions.append(Message.id.in_(handed_off))
    rows = session.execute(
        select(Message, Conversation.language)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.author == Author.customer, Message.nlu_source.is_not(None), or_(*conditions))
        .order_by(Message.id.desc()).limit(SCAN_LIMIT)).all()
    labelled, covered = set(), set()
    for language, key, ids in session.execute(select(NluLabel.language, NluLabel.key, NluLabel.message_ids)
                                              .where(NluLabel.status != "deleted")):
        labelled.add((language, key))
        covered.update(ids or [])
    result = []
    for message, conversation_language in rows:
        text = mask_sensitive(message.text)
        language = message_language(message.text, conversation_language)
        if lang and language != lang:
            continue
        if message.id in covered or (language, normalise(text)) in labelled:
            continue
        reasons = []
        if message.intent == FALLBACK:
            reasons.append("fallback")
        if message.intent == OUT_OF_SCOPE:
            reasons.append("out_of_scope")
        if message.confidence is not None and message.confidence < threshold and message.intent != FALLBACK:
            reasons.append("low_confidence")
        if message.id in handed_off:
            reasons.append("handed_off")
        if reason and reason not in reasons:
            continue
        ranking = [r for r in (message.intent_ranking or []) if r.get("name") != FALLBACK][:5]
        result.append(Candidate(message.id, message.conversation_id, message.seq, text, language,
                                message.intent, message.confidence, ranking, message.entities or [],
                                message.nlu_source, message.created_at, reasons))
    return result


def tokens(key: str) -> frozenset[str]:
    return frozenset(word for word in key.split() if len(word) > 1 or word.isdigit())


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def group(items: list[Candidate], *, sort: str = "recent",
          similarity: float = MERGE_SIMILARITY) -> list[dict]:
    """Groups of similar candidates, newest (`recent`) or largest (`frequent`) first."""
    exact: dict[tuple[str, str], list[Candidate]] = {}
    for item in items:
        exact.setdefault((item.lang, group_key(item.text)), []).append(item)
    clusters: list[dict] = []
    for (lang, key), members in sorted(exact.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        words = tokens(key)
        target = next((c for c in clusters if c["lang"] == lang
                       and jaccard(words, c["tokens"]) >= similarity), None)
        if target is None:
            clusters.append({"lang": lang, "key": key, "tokens": words, "members": list(members)})
        else:
            target["members"].extend(members)
    groups = []
    for cluster in clusters:
        members = sorted(cluster["members"], key=lambda m: m.at, reverse=True)
        texts = Counter(normalise(m.text) for m in members)
        top_text = texts.most_common(1)[0][0]
        representative = next(m for m in members if normalise(m.text) == top_text)
        reasons = Counter(r for m in members for r in m.reasons)
        intents = Counter(m.intent for m in members)
        groups.append({
            "id": f"{cluster['lang']}:{cluster['key']}"[:200],
            "lang": cluster["lang"],
            "count": len(members),
            "distinct_texts": len(texts),
            "representative": representative.view(),
            "messages": [m.view() for m in members[:MESSAGES_PER_GROUP]],
            "message_ids": [m.id for m in members],
            "reasons": dict(reasons.most_common()),
            "predicted": dict(intents.most_common()),
            "first_at": members[-1].at.isoformat(),
            "last_at": members[0].at.isoformat(),
        })
    groups.sort(key=lambda g: g["last_at"], reverse=True)  # newest first ...
    if sort == "frequent":
        groups.sort(key=lambda g: -g["count"])  # ... or largest first, newest among equals
    return groups


def suggestions_for(session: Session, message_ids: list[int]) -> dict[int, list[dict]]:
    if not message_ids:
        return {}
    found: dict[int, list[dict]] = {}
    for row in session.scalars(select(NluSuggestion).where(NluSuggestion.message_id.in_(message_ids))
                               .order_by(NluSuggestion.id)):
        found.setdefault(row.message_id, []).append(
            {"intent": row.intent, "note": row.note, "by": row.suggested_by,
             "at": row.created_at.isoformat()})
    return found


def inbox(session: Session, *, threshold: float, lang: str | None = None, reason: str | None = None,
          sort: str = "recent", limit: int = 100) -> dict:
    items = candidates(session, threshold=threshold, lang=lang, reason=reason)
    groups = group(items, sort=sort)[:limit]
    hints = suggestions_for(session, [i for g in groups for i in g["message_ids"]])
    for g in groups:
        g["suggestions"] = [s for i in g["message_ids"] for s in hints.get(i, [])]
    counts = Counter(r for item in items for r in item.reasons)
    return {"messages": len(items), "groups": groups, "reasons": {r: counts.get(r, 0) for r in REASONS},
            "threshold": threshold}


def nlu_coverage(session: Session) -> dict:
    """How many customer messages carry an NLU result (and from where)."""
    rows = session.execute(select(Message.nlu_source, func.count()).where(
        Message.author == Author.customer).group_by(Message.nlu_source)).all()
    counts = {source or "none": n for source, n in rows}
    return {"customer_messages": sum(counts.values()), **counts}

