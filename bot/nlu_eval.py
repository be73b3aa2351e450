"""Evaluate the NLU model on a labelled JSONL file: `{"text", "intent", "lang"?}` per line.

    make nlu-eval DATA=../shared/eval/clinc150_billing.jsonl
    .venv-rasa/bin/python -m bot.nlu_eval DATA.jsonl [--model models/x.tar.gz] [--out report.json]

Runs inside .venv-rasa (it loads the model in-process). Prints a summary and writes a JSON
report: in-scope accuracy and macro F1, out-of-scope recall (out_of_scope predicted as
out_of_scope or nlu_fallback), per-intent precision and recall, per-language figures, the
top confusions, and parse latency.
"""
import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"
REPO = Path(__file__).resolve().parents[1]


def read_examples(path: Path) -> list[dict]:
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            examples.append({"text": str(item["text"]), "intent": str(item["intent"]),
                             "lang": item.get("lang", "en")})
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise SystemExit(f"error: {path}:{number}: not a {{text, intent}} JSON line ({exc})")
    if not examples:
        raise SystemExit(f"error: {path} has no examples")
    return examples


def normalise(intent: str) -> str:
    """A fallback on an out-of-scope line is the right answer: the bot declines either way."""
    return OUT_OF_SCOPE if intent == FALLBACK else intent


def score(examples: list[dict], predictions: list[str]) -> dict:
    """All figures from gold and predicted intents (pure; unit-tested)."""
    gold = [e["intent"] for e in examples]
    predicted = [normalise(p) for p in predictions]
    labels = sorted(set(gold))
    per_intent = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = {"precision": round(precision, 4), "recall": round(recall, 4),
                             "f1": round(f1, 4), "support": tp + fn}

    def figures(indices: list[int]) -> dict:
        in_scope = [i for i in indices if gold[i] != OUT_OF_SCOPE]
        oos = [i for i in indices if gold[i] == OUT_OF_SCOPE]
        return {
            "n": len(indices),
            "in_scope_n": len(in_scope),
            "in_scope_accuracy": round(sum(predicted[i] == gold[i] for i in in_scope) / len(in_scope), 4)
            if in_scope else None,
            "out_of_scope_n": len(oos),
            "out_of_scope_recall": round(sum(predicted[i] == OUT_OF_SCOPE for i in oos) / len(oos), 4)
            if oos else None,
        }

    confusions = Counter((g, p) for g, p in zip(gold, predicted) if g != p)
    examples_of = defaultdict(list)
    for example, p in zip(examples, predicted):
        if example["intent"] != p and len(examples_of[(example["intent"], p)]) < 3:
            examples_of[(example["intent"], p)].append(example["text"])
    by_language = defaultdict(list)
    for index, example in enumerate(examples):
        by_language[example["lang"]].append(index)
    return {
        **figures(list(range(len(examples)))),
        "macro_f1": round(statistics.fmean(v["f1"] for v in per_intent.values()), 4),
        "per_intent": per_intent,
        "per_language": {lang: figures(indices) for lang, indices in sorted(by_language.items())},
        "top_confusions": [{"gold": g, "predicted": p, "count": n, "examples": examples_of[(g, p)]}
                           for (g, p), n in confusions.most_common(10)],
    }


def quiet_rasa() -> None:
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.ERROR)
    configure_structlog(logging.ERROR)


async def predict(model: Path, texts: list[str]) -> tuple[list[str], list[float]]:
    from rasa.core.agent import Agent

    quiet_rasa()
    agent = Agent.load(str(model))
    intents, latencies = [], []
    for index, text in enumerate(texts, start=1):
        started = time.perf_counter()
        parsed = await agent.parse_message(text)
        latencies.append((time.perf_counter() - started) * 1000)
        intents.append(parsed["intent"]["name"] or FALLBACK)
        if index % 200 == 0 or index == len(texts):
            sys.stderr.write(f"\rnlu-eval: {index}/{len(texts)} parsed")
    sys.stderr.write("\n")
    return intents, latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)


def print_summary(report: dict) -> None:
    def pct(value):
        return "   -  " if value is None else f"{100 * value:5.1f}%"

    print(f"\n{report['data']}  (model {report['model']}, {report['n']} lines)")
    print(f"  in-scope accuracy {pct(report['in_scope_accuracy'])}   macro F1 {report['macro_f1']:.3f}"
          f"   out-of-scope recall {pct(report['out_of_scope_recall'])}")
    for lang, figures in report["per_language"].items():
        print(f"  {lang}: in-scope {pct(figures['in_scope_accuracy'])} of {figures['in_scope_n']:4d}"
              f"   out-of-scope recall {pct(figures['out_of_scope_recall'])} of {figures['out_of_scope_n']}")
    print(f"  parse latency p50 {report['latency_ms']['p50']} ms, p95 {report['latency_ms']['p95']} ms")
    for confusion in report["top_confusions"][:5]:
        print(f"  {confusion['count']:4d} x {confusion['gold']} -> {confusion['predicted']}"
              f"   e.g. {confusion['examples'][0]!r}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs="+", help="JSONL files")
    parser.add_argument("--model", type=Path, help="default: the model of the current data")
    parser.add_argument("--out", type=Path, help="report file (one data file) or folder")
    args = parser.parse_args(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    if args.model is None:
        from bot.training import current_model

        args.model = current_model()
    reports = {}
    for data in args.data:
        examples = read_examples(data)
        predictions, latencies = asyncio.run(predict(args.model, [e["text"] for e in examples]))
        report = {"data": str(data), "model": args.model.name,
                  **score(examples, predictions),
                  "latency_ms": {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95)}}
        print_summary(report)
        out = args.out or REPO / "results" / "nlu-eval"
        target = out if out.suffix == ".json" else out / f"{data.stem}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(report, indent=2, ensure_ascii=False))
        print(f"  report: {target}")
        reports[str(data)] = report
    return reports


if __name__ == "__main__":
    main()
