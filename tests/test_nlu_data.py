"""Checks on the NLU training data (bot/data/nlu) and the held-out split (bot/eval)."""
import collections
import json
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
NLU_DIR = ROOT / "bot" / "data" / "nlu"
HELDOUT = ROOT / "bot" / "eval" / "heldout.jsonl"
SHARED_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
LANGS = ("en", "nl")
MIN_EXAMPLES = 40
HELDOUT_PER_INTENT = 12

INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "out_of_scope",
    "ask_balance", "ask_due_date", "explain_bill", "pay_bill", "payment_arrangement",
    "change_plan", "ask_plans", "request_discount", "complain", "cancel_service",
    "request_human", "inform",
}
ENTITIES = {"account_number", "date_of_birth", "postcode", "plan", "amount", "date"}

# [text](entity) or [text]{"entity": ..., "value": ...}
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\(([^)]+)\)|(\{[^}]*\}))")


def normalise(text):
    text = ANNOTATION.sub(r"\1", text).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def load_training():
    """Return [(lang, intent, raw_example)] for every intent example."""
    yaml = YAML(typ="safe")
    rows = []
    for lang in LANGS:
        for path in sorted((NLU_DIR / lang).glob("*.yml")):
            for item in yaml.load(path.read_text(encoding="utf-8"))["nlu"]:
                if "intent" not in item:
                    continue
                for line in item["examples"].splitlines():
                    line = line.strip()
                    if line:
                        assert line.startswith("- "), f"{path.name}: bad example line {line!r}"
                        rows.append((lang, item["intent"], line[2:].strip()))
    return rows


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


TRAINING = load_training()


def test_only_contract_intents():
    assert {intent for _, intent, _ in TRAINING} == INTENTS


@pytest.mark.parametrize("lang", LANGS)
def test_enough_examples_per_intent(lang):
    counts = collections.Counter(intent for l, intent, _ in TRAINING if l == lang)
    too_few = {i: counts[i] for i in INTENTS if counts[i] < MIN_EXAMPLES}
    assert not too_few, f"{lang}: fewer than {MIN_EXAMPLES} examples: {too_few}"


def test_no_duplicate_examples():
    counts = collections.Counter(normalise(text) for _, _, text in TRAINING)
    assert not [t for t, n in counts.items() if n > 1]


def test_entity_annotations_use_contract_names():
    bad = []
    for _, intent, text in TRAINING:
        for _, name, meta in ANNOTATION.findall(text):
            name = name or json.loads(meta).get("entity")
            if name not in ENTITIES:
                bad.append((intent, text))
    assert not bad


def test_lookups_and_regexes():
    items = YAML(typ="safe").load((NLU_DIR / "lookups.yml").read_text(encoding="utf-8"))["nlu"]
    regexes = {i["regex"]: i["examples"] for i in items if "regex" in i}
    assert set(regexes) == {"account_number", "postcode"}
    assert re.search(regexes["account_number"].strip()[2:], "account 10000001 please")
    assert re.search(regexes["postcode"].strip()[2:], "postcode 1012 ab")
    assert {i["lookup"] for i in items if "lookup" in i} == {"plan"}
    assert {i["synonym"] for i in items if "synonym" in i} == {"basic", "standard", "plus", "premium"}


def test_heldout_shape():
    rows = load_jsonl(HELDOUT)
    counts = collections.Counter((r["intent"], r["lang"]) for r in rows)
    assert counts == {(i, l): HELDOUT_PER_INTENT for i in INTENTS for l in LANGS}


def test_training_does_not_contain_heldout_lines():
    heldout = {normalise(r["text"]) for r in load_jsonl(HELDOUT)}
    leaked = [text for _, _, text in TRAINING if normalise(text) in heldout]
    assert not leaked


@pytest.mark.skipif(not SHARED_EVAL.is_dir(), reason="shared eval sets not present")
def test_training_does_not_contain_shared_eval_lines():
    evaluation = {normalise(r["text"]) for p in SHARED_EVAL.glob("*.jsonl") for r in load_jsonl(p)}
    leaked = [text for _, _, text in TRAINING if normalise(text) in evaluation]
    assert not leaked
