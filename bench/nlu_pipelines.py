"""Compare NLU pipelines on this machine: training time, accuracy, out-of-scope recall, latency.

    PYTHONPATH=. .venv-rasa/bin/python -W ignore -m bench.nlu_pipelines [config.yml bot/configs/X.yml ...]
        [--dev bench/nlu_dev.jsonl] [--reuse] [--sweep 0.3,0.4,0.5] [--no-shared]

Each config is trained on the same data (`rasa train`, timed end to end), then every text of
the held-out split, the dev set (our own examples, never trained on) and every file in
../shared/eval is parsed once in-process. The raw intent ranking is kept, so the
FallbackClassifier decision (confidence below `threshold`, or the top two closer than
`ambiguity_threshold`) can be replayed for other thresholds without retraining (--sweep).
Probes check the known weak spots: entity extraction (dates of birth, postcodes) and a few
dialogue answers found by the story tests. Writes bench/results/nlu_pipelines.json and
prints a table.
"""
import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import yaml

from bot.nlu_eval import FALLBACK, OUT_OF_SCOPE, percentile, quiet_rasa, read_examples, score
from bot.training import REPO, train

HELDOUT = REPO / "bot" / "eval" / "heldout.jsonl"
DEV = REPO / "bench" / "nlu_dev.jsonl"
SHARED = sorted((REPO.parent / "shared" / "eval").glob("*.jsonl"))
RESULTS = REPO / "bench" / "results"

# (text, {entity: value}) the extractor must find; {} means "no entity at all".
ENTITY_PROBES = [
    ("12-04-1985", {"date_of_birth": "12-04-1985"}),
    ("my date of birth is 30/01/1978", {"date_of_birth": "30/01/1978"}),
    ("1985-04-12", {"date_of_birth": "1985-04-12"}),
    ("born on 12 april 1985", {"date_of_birth": "12 april 1985"}),
    ("April 12, 1985", {"date_of_birth": "April 12, 1985"}),
    ("21 juli 2001", {"date_of_birth": "21 juli 2001"}),
    ("mijn geboortedatum is 3 november 1990", {"date_of_birth": "3 november 1990"}),
    ("geboren op 30 januari 1978", {"date_of_birth": "30 januari 1978"}),
    ("12 april 1985 is my birthday", {"date_of_birth": "12 april 1985"}),
    ("ik ben geboren in 1990 en woon in Utrecht", {}),
    ("1012AB", {"postcode": "1012AB"}),
    ("my postcode is 1012 AB", {"postcode": "1012 AB"}),
    ("postcode 3511cd", {"postcode": "3511cd"}),
    ("10000001", {"account_number": "10000001"}),
    ("account 10000003, born 30-01-1978", {"account_number": "10000003", "date_of_birth": "30-01-1978"}),
    ("switch me to premium", {"plan": "premium"}),
    ("zet me op basis", {"plan": "basic"}),
]

# Answers the story tests showed to go wrong (intent expected in that dialogue position).
INTENT_PROBES = [
    ("twee termijnen graag", "inform"), ("doe maar 3 termijnen", "inform"),
    ("zes termijnen alsjeblieft", "inform"), ("veertien dagen extra graag", "inform"),
    ("oké, dat aanbod neem ik aan", "affirm"), ("ik wil stoppen met mijn abonnement", "cancel_service"),
    ("ik wil een regeling treffen", "payment_arrangement"), ("ik wil een lagere prijs", "request_discount"),
    ("nee, ik wil echt weg", "cancel_service"),
    ("I'd rather go over this with someone from your team", "request_human"),
    ("I'd like to discuss this with an actual person", "request_human"),
    ("can a colleague of yours take over?", "request_human"),
    ("I need to sort out paying this bill", "pay_bill"),
    ("huh", OUT_OF_SCOPE), ("uh", OUT_OF_SCOPE), ("...", OUT_OF_SCOPE), ("asdf", OUT_OF_SCOPE),
    ("jkjkjk", OUT_OF_SCOPE), ("hmm?", OUT_OF_SCOPE), ("wat?", OUT_OF_SCOPE),
]


def fallback_params(config: Path) -> tuple[float, float]:
    pipeline = yaml.safe_load(config.read_text())["pipeline"]
    for component in pipeline:
        if component["name"] == "FallbackClassifier":
            return float(component.get("threshold", 0.3)), float(component.get("ambiguity_threshold", 0.1))
    return 0.0, 0.0


def decide(ranking: list[dict], threshold: float, ambiguity: float) -> str:
    """Replay FallbackClassifier on the raw ranking (nlu_fallback entries removed)."""
    if not ranking:
        return FALLBACK
    top = ranking[0]["confidence"]
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    if top < threshold or top - second < ambiguity:
        return FALLBACK
    return ranking[0]["name"]


async def parse_all(model: Path, texts: list[str]) -> tuple[list[dict], list[float]]:
    from rasa.core.agent import Agent

    quiet_rasa()
    agent = Agent.load(str(model))
    parsed, latencies = [], []
    for text in texts:
        started = time.perf_counter()
        result = await agent.parse_message(text)
        latencies.append((time.perf_counter() - started) * 1000)
        ranking = [r for r in result.get("intent_ranking") or [] if r["name"] != FALLBACK]
        parsed.append({"ranking": ranking[:3],
                       "entities": [(e["entity"], e.get("value"), e["extractor"]) for e in result["entities"]]})
    return parsed, latencies


def figures(examples: list[dict], rankings: list[list[dict]], threshold: float, ambiguity: float) -> dict:
    report = score(examples, [decide(r, threshold, ambiguity) for r in rankings])
    return {"in_scope_accuracy": report["in_scope_accuracy"],
            "out_of_scope_recall": report["out_of_scope_recall"],
            "macro_f1": report["macro_f1"],
            "per_language": {lang: {k: v for k, v in f.items() if k.endswith(("accuracy", "recall"))}
                             for lang, f in report["per_language"].items()},
            "top_confusions": [(c["gold"], c["predicted"], c["count"]) for c in report["top_confusions"][:6]]}


def measure(config: Path, sets: dict[str, list[dict]], reuse: bool, sweep: list[float]) -> dict:
    name = config.stem if config.name != "config.yml" else "current"
    model = RESULTS / "models" / f"compare-{name}.tar.gz"
    train_seconds = None
    if not (reuse and model.exists()):
        started = time.monotonic()
        model = train(config=config, out=RESULTS / "models", name=f"compare-{name}", quiet=True)
        train_seconds = round(time.monotonic() - started, 1)
    threshold, ambiguity = fallback_params(config)
    texts = [e["text"] for examples in sets.values() for e in examples]
    probe_texts = [t for t, _ in ENTITY_PROBES] + [t for t, _ in INTENT_PROBES]
    parsed, latencies = asyncio.run(parse_all(model, texts + probe_texts))
    row = {"config": str(config.relative_to(REPO)) if config.is_relative_to(REPO) else str(config),
           "train_seconds": train_seconds, "threshold": threshold, "ambiguity_threshold": ambiguity,
           "parse_p50_ms": percentile(latencies, 0.5), "parse_p95_ms": percentile(latencies, 0.95),
           "parse_mean_ms": round(statistics.fmean(latencies), 2), "sets": {}, "sweep": {}}
    offset = 0
    rankings_of = {}
    for set_name, examples in sets.items():
        rankings_of[set_name] = [p["ranking"] for p in parsed[offset:offset + len(examples)]]
        offset += len(examples)
        row["sets"][set_name] = figures(examples, rankings_of[set_name], threshold, ambiguity)
    for t in sweep:
        row["sweep"][str(t)] = {s: {k: v for k, v in figures(sets[s], rankings_of[s], t, ambiguity).items()
                                    if k != "top_confusions"} for s in sets}
    entity_results = parsed[offset:offset + len(ENTITY_PROBES)]
    row["entity_failures"] = []
    for (text, expected), result in zip(ENTITY_PROBES, entity_results):
        found = {}
        for entity, value, _ in result["entities"]:
            found.setdefault(entity, str(value))
        if {k: v.lower() for k, v in found.items()} != {k: v.lower() for k, v in expected.items()}:
            row["entity_failures"].append({"text": text, "expected": expected, "found": result["entities"]})
    intent_results = parsed[offset + len(ENTITY_PROBES):]
    row["intent_probe_failures"] = []
    for (text, expected), result in zip(INTENT_PROBES, intent_results):
        got = decide(result["ranking"], threshold, ambiguity)
        if (OUT_OF_SCOPE if got == FALLBACK else got) != expected:
            top = result["ranking"][0] if result["ranking"] else {"name": None, "confidence": 0}
            row["intent_probe_failures"].append(f"{text!r}: {got} ({top['name']} {top['confidence']:.2f})")
    return row


def pct(value) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def print_table(rows: list[dict], sets: dict[str, list[dict]]) -> None:
    width = max(24, *(len(r["config"]) + 2 for r in rows))
    print(f"\n{'':<28}" + "".join(f"{row['config']:>{width}}" for row in rows))

    def line(label, values):
        print(f"{label:<28}" + "".join(f"{v:>{width}}" for v in values))

    line("training time", [f"{r['train_seconds']}s" if r["train_seconds"] else "(reused)" for r in rows])
    line("parse p50 / p95", [f"{r['parse_p50_ms']} / {r['parse_p95_ms']} ms" for r in rows])
    line("fallback threshold", [str(r["threshold"]) for r in rows])
    for set_name in sets:
        langs = sorted({e["lang"] for e in sets[set_name]})
        for key, label in (("in_scope_accuracy", "in-scope"), ("out_of_scope_recall", "oos recall")):
            values = [r["sets"][set_name][key] for r in rows]
            if all(v is None for v in values):
                continue
            line(f"{set_name[:17]} {label}", [pct(v) for v in values])
            if len(langs) > 1:
                for lang in langs:
                    line(f"  {lang}", [pct(r["sets"][set_name]["per_language"][lang][key]) for r in rows])
    line("entity probes failed", [f"{len(r['entity_failures'])}/{len(ENTITY_PROBES)}" for r in rows])
    line("intent probes failed", [f"{len(r['intent_probe_failures'])}/{len(INTENT_PROBES)}" for r in rows])
    for row in rows:
        print(f"\n{row['config']}:")
        for failure in row["entity_failures"]:
            print(f"  entity: {failure['text']!r} expected {failure['expected']} found {failure['found']}")
        for failure in row["intent_probe_failures"]:
            print(f"  intent: {failure}")
        for set_name, f in row["sets"].items():
            print(f"  {set_name}: " + ", ".join(f"{g}->{p} x{n}" for g, p, n in f["top_confusions"]))
        if row["sweep"]:
            names = list(sets)
            print(f"  threshold sweep   " + "  ".join(f"{n[:14]:>22}" for n in names))
            for t, by_set in row["sweep"].items():
                cells = [f"{pct(by_set[n]['in_scope_accuracy'])} / {pct(by_set[n]['out_of_scope_recall'])}"
                         for n in names]
                print(f"  {t:<16}" + "  ".join(f"{c:>22}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", type=Path,
                        default=[REPO / "config.yml", REPO / "bot" / "configs" / "diet.yml"])
    parser.add_argument("--dev", type=Path, action="append", help=f"extra labelled JSONL (default {DEV.name})")
    parser.add_argument("--reuse", action="store_true", help="reuse bench/results/models/compare-X if present")
    parser.add_argument("--sweep", default="", help="comma-separated fallback thresholds to replay")
    parser.add_argument("--no-shared", action="store_true", help="skip ../shared/eval (quick dev loop)")
    parser.add_argument("--out", type=Path, default=RESULTS / "nlu_pipelines.json")
    args = parser.parse_args()
    files = [HELDOUT, *(args.dev or ([DEV] if DEV.exists() else [])), *([] if args.no_shared else SHARED)]
    sets = {path.stem: read_examples(path) for path in files}
    sweep = [float(t) for t in args.sweep.split(",") if t.strip()]
    rows = []
    for config in args.configs:
        sys.stderr.write(f"nlu-pipelines: {config} ...\n")
        rows.append(measure(config.resolve(), sets, args.reuse, sweep))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    print_table(rows, sets)


if __name__ == "__main__":
    main()
