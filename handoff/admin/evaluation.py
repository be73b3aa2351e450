"""A candidate model against the live one: NLU on the held-out split and ../shared/eval,
the test stories, the labelled examples; per-intent F1, confusion matrices, a verdict.

Parsing and drawing run in .venv-rasa (`handoff.admin.rasa_eval`); scoring is
`bot.nlu_eval.score`, the same figures `make nlu-eval` prints. The live model's results on
the fixed sets and stories are cached per model and evaluation data, so a second candidate
only parses the live model's copy of the labelled examples.

Verdict: "worse" when, beyond the tolerance (1 point by default), the held-out macro F1 or
in-scope accuracy, or the pooled ../shared/eval in-scope accuracy or out-of-scope recall
drops, or the test stories fail where the live model passed them; "better" when none drops
and one of them (or the labelled examples understood) rises; "same" otherwise; "unknown"
without a live model to compare with. Activating a "worse" model needs an override.
"""
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.nlu_eval import OUT_OF_SCOPE, normalise, read_examples, score
from bot.training import RASA, REPO, run_logged

RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
STORIES = REPO / "bot" / "tests"
HELDOUT, SHARED, LABELS = "heldout", "shared", "labels"
Progress = Callable[[str], None]


@dataclass
class EvalData:
    sets: dict[str, Path]  # "heldout", "shared:<file stem>"
    actions_url: str | None

    @property
    def shared(self) -> list[str]:
        return [name for name in self.sets if name.startswith("shared:")]

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for name, path in sorted(self.sets.items()):
            digest.update(name.encode())
            digest.update(path.read_bytes())
        for path in sorted(STORIES.rglob("*.yml")):
            digest.update(path.read_bytes())
        digest.update(b"stories" if self.actions_url else b"no stories")
        return digest.hexdigest()[:16]


def eval_data(settings) -> EvalData:
    sets = {HELDOUT: Path(settings.nlu_heldout)}
    folder = Path(settings.nlu_shared_eval_dir)
    if folder.is_dir():
        for path in sorted(folder.glob(settings.nlu_shared_eval_glob)):
            sets[f"shared:{path.stem}"] = path
    return EvalData(sets, settings.nlu_eval_actions_url)


def parse_with_models(spec: dict, folder: Path, progress: Progress | None) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    spec_file = folder / "spec.json"
    spec_file.write_text(json.dumps({**spec, "out": str(folder)}))
    code, output = run_logged([str(RASA_PYTHON), "-W", "ignore", "-m", "handoff.admin.rasa_eval",
                               str(spec_file)], progress, TF_CPP_MIN_LOG_LEVEL="3")
    if code != 0:
        raise RuntimeError(f"evaluation failed:\n{output[-3000:]}")
    return json.loads((folder / "predictions.json").read_text())


def run_stories(model: Path, actions_url: str, folder: Path, progress: Progress | None) -> dict:
    """`rasa test core --fail-on-prediction-errors` on bot/tests with the demo/test action server."""
    folder.mkdir(parents=True, exist_ok=True)
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "{actions_url}/webhook"\n')
    started = time.monotonic()
    code, output = run_logged([str(RASA), "test", "core", "--model", str(model), "--stories",
                               str(STORIES), "--fail-on-prediction-errors", "--endpoints",
                               str(endpoints), "--out", str(folder)], progress)
    found = re.findall(r"Correct:\s+(\d+) / (\d+)", output)
    failed_file = folder / "failed_test_stories.yml"
    failed = failed_file.read_text()[:4000] if failed_file.exists() else ""
    stories = (int(found[0][0]), int(found[0][1])) if found else (0, 0)
    actions = (int(found[1][0]), int(found[1][1])) if len(found) > 1 else (0, 0)
    result = {"passed": code == 0 and stories[0] == stories[1] and stories[1] > 0,
              "stories_correct": stories[0], "stories_total": stories[1],
              "actions_correct": actions[0], "actions_total": actions[1],
              "seconds": round(time.monotonic() - started, 1)}
    if not result["passed"]:
        result["failed_stories"] = failed or output[-2000:]
        result["failed_count"] = failed.count("- story:") if failed else None
    return result


# -- figures -------------------------------------------------------------------------------------
def examples_of(data: EvalData, labels_file: Path | None) -> dict[str, list[dict]]:
    examples = {name: read_examples(path) for name, path in data.sets.items()}
    if labels_file is not None:
        examples[LABELS] = read_examples(labels_file)
    return examples


def figures_for(examples: dict[str, list[dict]], predictions: dict[str, list]) -> dict[str, dict]:
    """score() per set, plus the pooled shared sets (the headline figures)."""
    result = {}
    for name, rows in predictions.items():
        if name in examples and examples[name]:
            result[name] = score(examples[name], [row[0] for row in rows])
    shared = [name for name in predictions if name.startswith("shared:")]
    if shared:
        pooled_examples = [e for name in shared for e in examples[name]]
        pooled_predictions = [row[0] for name in shared for row in predictions[name]]
        result[SHARED] = score(pooled_examples, pooled_predictions)
    return result


HEADLINES = [  # (set, figure, label)
    (HELDOUT, "macro_f1", "held-out macro F1"),
    (HELDOUT, "in_scope_accuracy", "held-out in-scope accuracy"),
    (HELDOUT, "out_of_scope_recall", "held-out out-of-scope recall"),
    (SHARED, "in_scope_accuracy", "../shared/eval in-scope accuracy"),
    (SHARED, "out_of_scope_recall", "../shared/eval out-of-scope recall"),
    (SHARED, "macro_f1", "../shared/eval macro F1"),
]
GATED = {(HELDOUT, "macro_f1"), (HELDOUT, "in_scope_accuracy"), (SHARED, "in_scope_accuracy"),
         (SHARED, "out_of_scope_recall")}


def understood(gold: str, predicted: str) -> bool:
    return normalise(predicted) == gold or (gold == OUT_OF_SCOPE and normalise(predicted) == OUT_OF_SCOPE)


def flips(examples: list[dict], base: list, candidate: list, limit: int = 15) -> dict:
    fixed, broken = [], []
    for example, b, c in zip(examples, base, candidate):
        was, now = understood(example["intent"], b[0]), understood(example["intent"], c[0])
        row = {"text": example["text"], "lang": example.get("lang"), "gold": example["intent"],
               "base": b[0], "candidate": c[0]}
        if now and not was:
            fixed.append(row)
        elif was and not now:
            broken.append(row)
    return {"fixed_count": len(fixed), "broken_count": len(broken),
            "fixed": fixed[:limit], "broken": broken[:limit]}


def compare(examples: dict[str, list[dict]], base: dict[str, list] | None, candidate: dict[str, list],
            base_stories: dict | None, candidate_stories: dict | None, tolerance: float) -> dict:
    """Everything the admin sees before activating: figures, deltas, flips and the verdict."""
    cand_fig = figures_for(examples, candidate)
    base_fig = figures_for(examples, base) if base else {}
    headline = []
    for set_name, key, label in HEADLINES:
        c = (cand_fig.get(set_name) or {}).get(key)
        b = (base_fig.get(set_name) or {}).get(key)
        if c is None and b is None:
            continue
        headline.append({"set": set_name, "figure": key, "label": label, "base": b, "candidate": c,
                         "delta": None if b is None or c is None else round(c - b, 4),
                         "gated": (set_name, key) in GATED})
    per_intent = []
    for set_name in [HELDOUT, SHARED]:
        cand_intents = (cand_fig.get(set_name) or {}).get("per_intent") or {}
        base_intents = (base_fig.get(set_name) or {}).get("per_intent") or {}
        for intent in sorted(set(cand_intents) | set(base_intents)):
            c = cand_intents.get(intent, {}).get("f1")
            b = base_intents.get(intent, {}).get("f1")
            per_intent.append({"set": set_name, "intent": intent, "base": b, "candidate": c,
                               "delta": None if b is None or c is None else round(c - b, 4),
                               "support": (cand_intents.get(intent) or base_intents.get(intent))["support"]})
    changed = [row for row in per_intent if row["delta"] is not None and abs(row["delta"]) >= 0.005]
    report = {
        "headline": headline,
        "per_intent": per_intent,
        "better": sorted([r for r in changed if r["delta"] > 0], key=lambda r: -r["delta"]),
        "worse": sorted([r for r in changed if r["delta"] < 0], key=lambda r: r["delta"]),
        "sets": {name: {"candidate": _slim(fig), "base": _slim(base_fig.get(name))}
                 for name, fig in cand_fig.items()},
        "stories": {"candidate": candidate_stories, "base": base_stories},
        "flips": {},
        "labels": None,
    }
    if base:
        for name in [HELDOUT, *sorted(n for n in candidate if n.startswith("shared:"))]:
            if name in base and name in candidate:
                report["flips"][name] = flips(examples[name], base[name], candidate[name])
    if LABELS in candidate:
        rows = []
        for index, example in enumerate(examples[LABELS]):
            b = base[LABELS][index][0] if base and LABELS in base else None
            c = candidate[LABELS][index][0]
            rows.append({"text": example["text"], "lang": example.get("lang"), "intent": example["intent"],
                         "base": b, "candidate": c, "confidence": candidate[LABELS][index][1]})
        report["labels"] = {
            "n": len(rows),
            "candidate_understood": sum(r["candidate"] == r["intent"] for r in rows),
            "base_understood": None if not base else sum(r["base"] == r["intent"] for r in rows),
            "examples": rows[:200]}
    report["verdict"], report["reasons"] = verdict(report, tolerance, has_base=bool(base))
    return report


def _slim(figures: dict | None) -> dict | None:
    if not figures:
        return None
    return {k: v for k, v in figures.items() if k != "top_confusions"} | {
        "top_confusions": figures.get("top_confusions", [])[:5]}


def verdict(report: dict, tolerance: float, *, has_base: bool) -> tuple[str, list[str]]:
    if not has_base:
        return "unknown", ["no live model to compare with"]
    worse, better = [], []
    for row in report["headline"]:
        if row["delta"] is None:
            continue
        if row["gated"] and row["delta"] < -tolerance:
            worse.append(f"{row['label']} {100 * row['base']:.1f}% → {100 * row['candidate']:.1f}%")
        elif row["delta"] > tolerance:
            better.append(f"{row['label']} {100 * row['base']:.1f}% → {100 * row['candidate']:.1f}%")
    stories = report["stories"]
    if stories.get("candidate") and stories.get("base"):
        if stories["base"]["passed"] and not stories["candidate"]["passed"]:
            worse.append("test stories fail ({stories_correct}/{stories_total} correct) where the live "
                         "model passes them".format(**stories["candidate"]))
        elif stories["candidate"]["passed"] and not stories["base"]["passed"]:
            better.append("test stories pass again")
    labels = report.get("labels")
    if labels and labels["base_understood"] is not None and labels["candidate_understood"] > labels["base_understood"]:
        better.append(f"labelled examples understood {labels['base_understood']} → "
                      f"{labels['candidate_understood']} of {labels['n']}")
    if worse:
        return "worse", worse
    return ("better", better) if better else ("same", ["no figure changed by more than "
                                                       f"{100 * tolerance:.1f} points"])
