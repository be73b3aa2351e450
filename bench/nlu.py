"""NLU figures per evaluation file and language, by `bot.nlu_eval` in .venv-rasa (a subprocess)."""
from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from bench.stack import say
from bot.training import REPO, rasa_env

RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
HELDOUT = REPO / "bot" / "eval" / "heldout.jsonl"
SHARED = REPO.parent / "shared" / "eval"


def eval_files() -> list[Path]:
    return [HELDOUT, *sorted(SHARED.glob("*.jsonl"))]


def evaluate(model: Path, files: list[Path] | None = None, timeout: float = 900) -> dict:
    """{file stem: {accuracy, macro F1, OOS recall, per language, parse latency}}."""
    files = files or eval_files()
    with tempfile.TemporaryDirectory(prefix="bench-nlu-") as out:
        say(f"NLU: evaluating {model.name} on {len(files)} files ({', '.join(f.name for f in files)}) ...")
        started = time.monotonic()
        result = subprocess.run(
            [str(RASA_PYTHON), "-W", "ignore", "-m", "bot.nlu_eval", *map(str, files),
             "--model", str(model), "--out", out],
            cwd=REPO, env=rasa_env(), capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"bot.nlu_eval failed:\n{result.stderr[-3000:]}")
        reports = {}
        for path in files:
            report = json.loads((Path(out) / f"{path.stem}.json").read_text())
            reports[path.stem] = {
                "file": str(path.relative_to(REPO.parent)) if path.is_relative_to(REPO.parent) else str(path),
                "n": report["n"], "in_scope_accuracy": report["in_scope_accuracy"],
                "macro_f1": report["macro_f1"], "out_of_scope_recall": report["out_of_scope_recall"],
                "per_language": report["per_language"], "latency_ms": report["latency_ms"],
                "top_confusions": [{k: c[k] for k in ("gold", "predicted", "count")}
                                   for c in report["top_confusions"][:3]],
            }
        say(f"  NLU evaluation done in {time.monotonic() - started:.0f} s")
        return reports
