"""Runs inside .venv-rasa: parse evaluation texts with models, draw confusion matrices.

    PYTHONPATH=. .venv-rasa/bin/python -m handoff.admin.rasa_eval SPEC.json

SPEC: {"out": dir,
       "jobs": [{"model": "candidate", "path": "/abs/model.tar.gz",
                 "sets": {"heldout": "/abs/heldout.jsonl", ...}}, ...],
       "matrices": [{"model": "candidate", "name": "heldout", "sets": ["heldout"],
                     "predictions": {set: [[intent, confidence], ...]}?}, ...]}

Writes out/predictions.json ({model: {set: [[intent, confidence], ...]}}) and
out/<model>-<name>.png, a confusion matrix over the given sets (gold rows, predicted columns,
nlu_fallback counted as out_of_scope as in bot.nlu_eval.score; colours are row shares, the
numbers counts). Prints `progress DONE TOTAL` lines for the admin console.
"""
import asyncio
import json
import sys
from pathlib import Path

from bot.nlu_eval import FALLBACK, normalise, quiet_rasa, read_examples


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def parse_all(jobs: list[dict]) -> dict:
    from rasa.core.agent import Agent

    quiet_rasa()
    texts = {job["model"]: {name: [e["text"] for e in read_examples(Path(path))]
                            for name, path in job["sets"].items()} for job in jobs}
    total = sum(len(items) for sets in texts.values() for items in sets.values())
    done, predictions = 0, {}
    for job in jobs:
        say(f"phase loading {job['model']} model")
        agent = Agent.load(job["path"])
        predictions[job["model"]] = {}
        for name, items in texts[job["model"]].items():
            say(f"phase {job['model']}: parsing {name} ({len(items)} texts)")
            out = []
            for text in items:
                parsed = await agent.parse_message(text)
                intent = parsed.get("intent") or {}
                out.append([intent.get("name") or FALLBACK, round(float(intent.get("confidence") or 0), 4)])
                done += 1
                if done % 100 == 0:
                    say(f"progress {done} {total}")
            predictions[job["model"]][name] = out
        say(f"progress {done} {total}")
    return predictions


def confusion_png(gold: list[str], predicted: list[str], title: str, target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    predicted = [normalise(p) for p in predicted]
    labels = sorted(set(gold) | set(predicted))
    index = {label: i for i, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted):
        counts[index[g]][index[p]] += 1
    shares = [[c / max(1, sum(row)) for c in row] for row in counts]
    size = max(6.0, 0.42 * len(labels) + 2.5)
    figure, axes = plt.subplots(figsize=(size, size * 0.9), dpi=90)
    axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("labelled")
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            if count:
                axes.text(j, i, str(count), ha="center", va="center", fontsize=7,
                          color="white" if shares[i][j] > 0.55 else "#1d2433")
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(target, format="png")
    plt.close(figure)


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    out = Path(spec["out"])
    out.mkdir(parents=True, exist_ok=True)
    predictions = asyncio.run(parse_all(spec["jobs"])) if spec.get("jobs") else {}
    (out / "predictions.json").write_text(json.dumps(predictions))
    for matrix in spec.get("matrices") or []:
        say(f"phase drawing the {matrix['name']} confusion matrix of {matrix['model']}")
        given = matrix.get("predictions") or {}
        gold, predicted = [], []
        for name, path in matrix["sets"].items():
            examples = read_examples(Path(path))
            rows = given.get(name) or predictions[matrix["model"]][name]
            gold += [e["intent"] for e in examples]
            predicted += [row[0] for row in rows]
        confusion_png(gold, predicted, matrix.get("title") or matrix["name"],
                      out / f"{matrix['model']}-{matrix['name']}.png")
    say("done")


if __name__ == "__main__":
    main(sys.argv[1])
