"""Checks on the NLU training data (bot/data/nlu) and the held-out split (bot/eval)."""
import collections
import difflib
import json
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
NLU_DIR = ROOT / "bot" / "data" / "nlu"
HELDOUT = ROOT / "bot" / "eval" / "heldout.jsonl"
DEV = ROOT / "bench" / "nlu_dev.jsonl"  # our own tuning set (bench/nlu_pipelines.py), never trained on
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


NEAR = 0.85


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


def regex_patterns(items, name):
    return [line.strip()[2:] for i in items if i.get("regex") == name
            for line in i["examples"].splitlines() if line.strip()]


def extract(patterns, text):
    """What Rasa's RegexEntityExtractor (case_sensitive: false) would find."""
    return [m.group(0) for p in patterns for m in re.finditer(p, text, re.IGNORECASE)]


def test_lookups_and_regexes():
    items = YAML(typ="safe").load((NLU_DIR / "lookups.yml").read_text(encoding="utf-8"))["nlu"]
    assert {i["regex"] for i in items if "regex" in i} == {"account_number", "postcode", "date_of_birth", "amount", "date"}
    assert extract(regex_patterns(items, "account_number"), "account 10000001 please") == ["10000001"]
    assert extract(regex_patterns(items, "account_number"), "my account is 1000 0002") == ["1000 0002"]
    for phone in ("call me on 06 1234 5678", "06-1234 5678", "1234 5678 9"):
        assert extract(regex_patterns(items, "account_number"), phone) == [], phone
    assert {i["lookup"] for i in items if "lookup" in i} == {"plan"}
    assert {i["synonym"] for i in items if "synonym" in i} == {"basic", "standard", "plus", "premium"}


@pytest.mark.parametrize("text, found", [
    ("postcode 1012AB", ["1012AB"]), ("1012 AB", ["1012 AB"]), ("mijn postcode is 3511cd", ["3511cd"]),
    ("12 april 1985 is my birthday", []), ("ik ben geboren in 1990 en woon in Utrecht", []),
    ("account 10000001", []),
])
def test_postcode_regex_does_not_take_a_year_and_a_word(text, found):
    items = YAML(typ="safe").load((NLU_DIR / "lookups.yml").read_text(encoding="utf-8"))["nlu"]
    assert extract(regex_patterns(items, "postcode"), text) == found


@pytest.mark.parametrize("text, found", [
    ("12-04-1985", "12-04-1985"), ("dob 30/01/1978", "30/01/1978"), ("21.07.2001", "21.07.2001"),
    ("1985-04-12", "1985-04-12"), ("born on 12 april 1985", "12 april 1985"),
    ("April 12, 1985", "April 12, 1985"), ("geboren op 3 november 1990", "3 november 1990"),
    ("30 januari 1978", "30 januari 1978"), ("17 mei 1983", "17 mei 1983"), ("1 maart 1969", "1 maart 1969"),
])
def test_date_of_birth_regex_takes_the_whole_date(text, found):
    items = YAML(typ="safe").load((NLU_DIR / "lookups.yml").read_text(encoding="utf-8"))["nlu"]
    assert extract(regex_patterns(items, "date_of_birth"), text) == [found]


@pytest.mark.parametrize("text", ["pay on the 12th", "12 march", "next friday", "I can pay 1985 euro"])
def test_date_of_birth_regex_needs_a_full_date(text):
    items = YAML(typ="safe").load((NLU_DIR / "lookups.yml").read_text(encoding="utf-8"))["nlu"]
    assert extract(regex_patterns(items, "date_of_birth"), text) == []


def test_heldout_shape():
    rows = load_jsonl(HELDOUT)
    counts = collections.Counter((r["intent"], r["lang"]) for r in rows)
    assert counts == {(i, l): HELDOUT_PER_INTENT for i in INTENTS for l in LANGS}


def near_copies(evaluation: set[str]) -> list[tuple[str, str]]:
    """Training lines equal to an evaluation line, or of 3+ words and nearly the same
    (difflib ratio >= 0.85: a word or an ending changed). Shorter lines ("thanks a lot")
    and lines with numbers are compared exactly only."""
    found = []
    for _, _, text in TRAINING:
        line = normalise(text)
        if line in evaluation:
            found.append((text, line))
            continue
        if len(line.split()) < 3 or any(ch.isdigit() for ch in line):
            continue  # account numbers, dates, postcodes: a format, not a phrasing
        matcher = difflib.SequenceMatcher(None, "", line)  # b is analysed once
        for other in evaluation:
            matcher.set_seq1(other)
            if matcher.real_quick_ratio() >= NEAR and matcher.quick_ratio() >= NEAR \
                    and matcher.ratio() >= NEAR:
                found.append((text, other))
                break
    return found


def test_training_has_no_near_copies_of_heldout_lines():
    assert near_copies({normalise(r["text"]) for r in load_jsonl(HELDOUT)}) == []


def test_training_does_not_contain_dev_lines():
    dev = {normalise(r["text"]) for r in load_jsonl(DEV)}
    leaked = [text for _, _, text in TRAINING if normalise(text) in dev]
    assert not leaked


def test_nonsense_is_taught_as_out_of_scope():
    """Short noises and keyboard mashes must not look like a yes (a "huh" once confirmed a change)."""
    oos = {normalise(text) for lang, intent, text in TRAINING if intent == "out_of_scope"}
    for lang_examples in (["huh", "uh", "hmm", "asdf", "jkjkjk", "lol"], ["hè", "ehm", "nou", "pff"]):
        assert set(lang_examples) <= oos


@pytest.mark.skipif(not SHARED_EVAL.is_dir(), reason="shared eval sets not present")
def test_training_has_no_near_copies_of_shared_eval_lines():
    evaluation = {normalise(r["text"]) for p in SHARED_EVAL.glob("*.jsonl") for r in load_jsonl(p)}
    assert near_copies(evaluation) == []
