"""Compare NLU pipelines on this machine: training time, accuracy, out-of-scope recall, latency.

    .venv-rasa/bin/python -m bench.nlu_pipelines [config.yml bot/configs/diet.yml ...]

Each config is trained on the same data, then evaluated on the held-out split and every
file in ../shared/eval. Writes bench/results/nlu_pipelines.json and prints a table.
"""
import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from bot.nlu_eval import percentile, predict, read_examples, score
from bot.training import REPO, train

EVAL_FILES = [REPO / "bot" / "eval" / "heldout.jsonl",
              *sorted((REPO.parent / "shared" / "eval").glob("*.jsonl"))]
RESULTS = REPO / "bench" / "results"


def measure(config: Path) -> dict:
    name = config.stem if config.name != "config.yml" else "current"
    started = time.monotonic()
    model = train(config=config, out=RESULTS / "models", name=f"compare-{name}", quiet=True)
    row = {"config": str(config.relative_to(REPO)), "train_seconds": round(time.monotonic() - started, 1),
           "sets": {}}
    for data in EVAL_FILES:
        examples = read_examples(data)
        predictions, latencies = asyncio.run(predict(model, [e["text"] for e in examples]))
        report = score(examples, predictions)
        row["sets"][data.stem] = {
            "in_scope_accuracy": report["in_scope_accuracy"],
            "out_of_scope_recall": report["out_of_scope_recall"],
            "macro_f1": report["macro_f1"],
            "per_language": {lang: {k: v for k, v in figures.items() if k.endswith(("accuracy", "recall"))}
                             for lang, figures in report["per_language"].items()},
            "parse_p50_ms": percentile(latencies, 0.5), "parse_p95_ms": percentile(latencies, 0.95),
        }
    return row


def print_table(rows: list[dict]) -> None:
    def pct(value):
        return "   -  " if value is None else f"{100 * value:5.1f}%"

    print(f"\n{'set':<22}" + "".join(f"{row['config']:>30}" for row in rows))
    print(f"{'training time':<22}" + "".join(f"{row['train_seconds']:>29}s" for row in rows))
    for data in EVAL_FILES:
        for key, label in (("in_scope_accuracy", "in-scope"), ("out_of_scope_recall", "oos recall")):
            values = [row["sets"][data.stem][key] for row in rows]
            if any(v is not None for v in values):
                print(f"{data.stem[:13] + ' ' + label:<22}" + "".join(f"{pct(v):>30}" for v in values))
    print(f"{'parse p95 (heldout)':<22}" + "".join(
        f"{row['sets']['heldout']['parse_p95_ms']:>28}ms" for row in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", type=Path,
                        default=[REPO / "config.yml", REPO / "bot" / "configs" / "diet.yml"])
    args = parser.parse_args()
    rows = []
    for config in args.configs:
        sys.stderr.write(f"nlu-pipelines: {config} ...\n")
        rows.append(measure(config.resolve()))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "nlu_pipelines.json").write_text(json.dumps(rows, indent=2))
    print_table(rows)


if __name__ == "__main__":
    main()
