"""The retraining workflow's parts without servers: labels to YAML, refusals, grouping,
matching Rasa's events to messages, the verdict, and the h0002 migration on both backends."""
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from billing_core.db import make_engine
from billing_core.migrate import alembic_config
from handoff.admin import dataset, evaluation, inbox
from handoff.admin.dataset import InvalidLabel, LabelView, ProtectedTexts
from handoff.admin.nlu_log import match, nlu_fields
from handoff.db import HandoffBase
from handoff.migrate import MIGRATIONS, upgrade
from handoff.models import Author, Message
from tests.databases import migrated_database

REPO = Path(__file__).resolve().parents[2]
SHARED_EVAL = REPO.parent / "shared" / "eval"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def protected():
    return ProtectedTexts(shared_eval_dir=SHARED_EVAL, heldout=REPO / "bot" / "eval" / "heldout.jsonl").get()


def check(protected, text, kind="intent", intent="ask_balance", entities=None):
    return dataset.validate(text=text, kind=kind, intent=intent, entities=entities, protected=protected,
                            known_intents=protected.intents)


# -- refusals ------------------------------------------------------------------------------------
@pytest.mark.skipif(not SHARED_EVAL.is_dir(), reason="../shared/eval is not present")
def test_an_exact_copy_of_a_shared_evaluation_line_is_refused_with_its_source(protected):
    line = json.loads((SHARED_EVAL / "clinc150_billing.jsonl").read_text().splitlines()[0])
    with pytest.raises(InvalidLabel, match=r"evaluation line \(\.\./shared/eval/clinc150_billing\.jsonl:1\)"):
        check(protected, line["text"], intent=line["intent"])
    # the same line with other case and punctuation is the same text
    with pytest.raises(InvalidLabel, match="must never become training data"):
        check(protected, line["text"].upper() + "!!", intent=line["intent"])


def test_held_out_lines_and_hand_written_examples_are_refused(protected):
    heldout = json.loads((REPO / "bot" / "eval" / "heldout.jsonl").read_text().splitlines()[0])
    with pytest.raises(InvalidLabel, match=r"bot/eval/heldout\.jsonl"):
        check(protected, heldout["text"], intent=heldout["intent"])
    key, (intent, where) = next(iter(protected.training.items()))
    other = "ask_plans" if intent != "ask_plans" else "ask_balance"
    with pytest.raises(InvalidLabel, match=f"training data for {intent} in {where}"):
        check(protected, key, intent=other)


@pytest.mark.parametrize("text, kind, intent, message", [
    ("my birthday is ••-••-••••", "intent", "inform", "masked part"),
    ("see [this](plan)", "intent", "change_plan", "brackets"),
    ("/greet", "intent", "greet", "intent syntax"),
    ("   ", "intent", "greet", "empty"),
    ("x" * 301, "intent", "greet", "longer than 300"),
    ("where is my refund", "intent", "ask_refund", "unknown intent"),
    ("where is my refund", "new_intent", "Ask-Refund", "lowercase"),
    ("where is my refund", "new_intent", "ask_balance", "already exists"),
    ("where is my refund", "new_intent", "nlu_fallback", "lowercase letters"),
])
def test_labels_that_cannot_become_training_data(protected, text, kind, intent, message):
    with pytest.raises(InvalidLabel, match=message):
        check(protected, text, kind=kind, intent=intent)


def test_noise_needs_no_intent_and_a_new_intent_is_accepted(protected):
    assert check(protected, "asdfgh qwerty", kind="noise", intent=None) == ("asdfgh qwerty", None, [])
    assert check(protected, "where  is my refund", kind="new_intent", intent="ask_refund_status") == \
        ("where is my refund", "ask_refund_status", [])


@pytest.mark.parametrize("spans, message", [
    ([{"start": 0, "end": 3, "entity": "iban"}], "unknown entity"),
    ([{"start": 20, "end": 40, "entity": "plan"}], "outside the text"),
    ([{"start": 7, "end": 16, "entity": "account_number"}], "starts or ends with a space"),
    ([{"start": 8, "end": 16, "entity": "account_number"}, {"start": 10, "end": 12, "entity": "amount"}], "overlap"),
])
def test_bad_entity_spans(protected, spans, message):
    with pytest.raises(InvalidLabel, match=message):
        check(protected, "account 10000001 pls", entities=spans)


def test_entity_spans_become_rasa_annotations(protected):
    text, intent, spans = check(protected, "switch account 10000001 to basis on 1 may", intent="change_plan",
                                entities=[{"start": 15, "end": 23, "entity": "account_number"},
                                          {"start": 27, "end": 32, "entity": "plan", "value": "basic"},
                                          {"start": 36, "end": 41, "entity": "date"}])
    line = dataset.annotate(text, spans)
    assert line == ('switch account [10000001](account_number) to [basis]{"entity": "plan", "value": "basic"} '
                    'on [1 may](date)')
    assert dataset.strip_annotations(line) == text
    assert dataset.normalise(line) == dataset.normalise(text)


# -- the reviewed files ----------------------------------------------------------------------------
def label(id, text, intent, kind="intent", status="active", lang="en", entities=None):
    return LabelView(id, lang, dataset.normalise(text), text, kind, intent, entities, status)


def test_labels_add_move_and_remove_examples_and_the_yaml_is_rasa_nlu_data():
    before = {"ask_balance": ["how much do i owe you lot"], "complain": ["this is a rip off mate"]}
    labels = [label(1, "what's the damage", "ask_balance"),
              label(2, "this is a rip off mate", "cancel_service"),      # moved
              label(3, "how much do I owe you lot!", "ask_balance"),     # same text, edited
              label(4, "lalala", None, kind="noise"),
              label(5, "gimme a discount", "request_discount", status="deleted")]
    after = dataset.propose(before, labels)
    assert after == {"ask_balance": ["what's the damage", "how much do I owe you lot!"],
                     "cancel_service": ["this is a rip off mate"]}
    changes = dataset.changes(before, after)
    assert [c["example"] for c in changes["added"]] == ["what's the damage"]
    assert [c["example"] for c in changes["moved"]] == ["this is a rip off mate"]
    assert [c["example"] for c in changes["edited"]] == ["how much do I owe you lot!"]
    assert dataset.propose(after, [label(6, "what's the damage", "ask_balance")]) == after  # in place
    text = dataset.render_reviewed(after)
    document = yaml.safe_load(text)
    assert document["version"] == "3.1"
    assert dataset.parse_examples(document) == after
    assert [item["intent"] for item in document["nlu"]] == sorted(after)  # deterministic, git-diffable


def test_applying_the_same_labels_twice_changes_nothing():
    labels = [label(1, "what's the damage", "ask_balance"), label(2, "zet me op [basis](plan)", "change_plan", lang="nl")]
    once = dataset.propose({}, labels)
    assert dataset.propose(once, labels) == once
    before = dataset.render_reviewed(once)
    assert dataset.unified_diff("en", before, dataset.render_reviewed(dataset.propose(once, labels))) == ""


def test_a_deleted_label_takes_its_example_out_and_the_diff_shows_it():
    current = {"ask_balance": ["what's the damage", "how deep in the red am i"]}
    after = dataset.propose(current, [label(1, "What's the damage?", "ask_balance", status="deleted")])
    assert after == {"ask_balance": ["how deep in the red am i"]}
    diff = dataset.unified_diff("en", dataset.render_reviewed(current), dataset.render_reviewed(after))
    assert "-    - what's the damage" in diff and diff.startswith("--- a/bot/data/nlu/reviewed/en.yml")


def test_empty_reviewed_files_are_valid_and_shipped():
    for lang in dataset.LANGS:
        path = REPO / "bot" / "data" / "nlu" / "reviewed" / f"{lang}.yml"
        document = yaml.safe_load(path.read_text())
        assert document["version"] == "3.1" and isinstance(document["nlu"], list)


# -- grouping -----------------------------------------------------------------------------------------
def candidate(id, text, lang="en", minutes=0, reasons=("fallback",)):
    return inbox.Candidate(id, "web-x", id, text, lang, "nlu_fallback", 0.3, [], [], "bot",
                           NOW - timedelta(minutes=minutes), list(reasons))


def test_similar_messages_are_grouped_and_sorted():
    items = [candidate(1, "What's the damage?", minutes=50), candidate(2, "whats the damage", minutes=40),
             candidate(3, "whats the damage now", minutes=30),  # 3 of 4 words in common
             candidate(4, "account 10000001 blocked", minutes=1), candidate(5, "account 10000002 blocked!", minutes=2),
             candidate(6, "whats de damage", lang="nl", minutes=5), candidate(7, "something else entirely", minutes=3)]
    groups = inbox.group(items, sort="frequent")
    sizes = {g["representative"]["text"]: g["count"] for g in groups}
    assert groups[0]["count"] == 3 and sorted(groups[0]["message_ids"]) == [1, 2, 3]  # merged by word overlap
    assert sizes["account 10000001 blocked"] == 2      # numbers do not split a group
    assert {g["lang"] for g in groups} == {"en", "nl"}  # languages never mix
    recent = inbox.group(items, sort="recent")
    assert recent[0]["message_ids"][0] == 4            # newest first


# -- matching Rasa's user events to messages ---------------------------------------------------------
def message(seq, text, seconds):
    return Message(id=seq, conversation_id="web-1", seq=seq, author=Author.customer, text=text,
                   created_at=NOW + timedelta(seconds=seconds))


def test_events_find_their_message_by_text_and_order():
    pending = [message(1, "yes", 0), message(3, "/yes", 10), message(5, "2", 20)]
    assert match(pending, "yes", NOW + timedelta(seconds=1)).seq == 1          # first open "yes"
    assert match(pending[1:], "yes", NOW + timedelta(seconds=11)).seq == 3     # "/yes" was sent as "yes"
    assert match(pending, "/affirm", NOW + timedelta(seconds=21)).seq == 5     # a payload: newest open one
    assert match(pending, "/affirm", NOW + timedelta(seconds=1)).seq == 1      # not one written after the event
    assert match(pending, "no", NOW + timedelta(seconds=30)) is None


def test_nlu_fields_from_parse_data():
    fields = nlu_fields({"intent": {"name": "nlu_fallback", "confidence": 0.5},
                         "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.5},
                                            {"name": "ask_balance", "confidence": 0.41234567}],
                         "entities": [{"entity": "account_number", "value": "10000001", "start": 0, "end": 8,
                                       "extractor": "RegexEntityExtractor", "processors": []}]})
    assert fields["intent"] == "nlu_fallback" and fields["confidence"] == 0.5
    assert fields["intent_ranking"][1] == {"name": "ask_balance", "confidence": 0.4123}
    assert fields["entities"] == [{"entity": "account_number", "value": "10000001", "start": 0, "end": 8,
                                   "extractor": "RegexEntityExtractor"}]


# -- the verdict ------------------------------------------------------------------------------------
def examples(n_per_intent=10):
    return [{"text": f"{intent} {i}", "intent": intent, "lang": "en"}
            for intent in ("ask_balance", "pay_bill", "out_of_scope") for i in range(n_per_intent)]


def predictions(rows, wrong=0):
    return [[("pay_bill" if r["intent"] == "ask_balance" and i < wrong else r["intent"]), 0.9]
            for i, r in enumerate(rows)]


def test_a_candidate_that_loses_held_out_accuracy_is_worse_and_says_why():
    rows = examples()
    data = {"heldout": rows}
    report = evaluation.compare(data, {"heldout": predictions(rows)}, {"heldout": predictions(rows, wrong=2)},
                                None, None, tolerance=0.01)
    assert report["verdict"] == "worse"
    assert any("held-out" in reason for reason in report["reasons"])
    assert report["worse"][0]["intent"] in ("ask_balance", "pay_bill")
    assert report["flips"]["heldout"]["broken_count"] == 2


def test_stories_that_start_failing_make_a_candidate_worse_and_labels_can_make_it_better():
    rows = examples()
    same = {"heldout": predictions(rows)}
    passed = {"passed": True, "stories_correct": 63, "stories_total": 63}
    failed = {"passed": False, "stories_correct": 61, "stories_total": 63}
    report = evaluation.compare({"heldout": rows}, same, same, passed, failed, tolerance=0.01)
    assert report["verdict"] == "worse" and "test stories fail (61/63" in report["reasons"][0]
    labels = [{"text": "what's the damage", "intent": "ask_balance", "lang": "en"}]
    better = evaluation.compare({"heldout": rows, "labels": labels}, {**same, "labels": [["out_of_scope", 0.6]]},
                                {**same, "labels": [["ask_balance", 0.9]]}, passed, passed, tolerance=0.01)
    assert better["verdict"] == "better" and better["labels"]["candidate_understood"] == 1
    assert evaluation.compare({"heldout": rows}, None, same, None, None, 0.01)["verdict"] == "unknown"


# -- the migration ----------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_h0002_matches_the_models_and_downgrades(backend, tmp_path):
    with migrated_database(backend, tmp_path, upgrade) as url:
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                assert compare_metadata(context, HandoffBase.metadata) == []
            config = alembic_config(url, MIGRATIONS)
            command.downgrade(config, "h0001")
            command.upgrade(config, "head")
        finally:
            engine.dispose()
