import json
import subprocess

from bot.nlu_eval import score
from bot.training import REPO, rasa_env


def test_scores_match_a_hand_computed_case():
    examples = [
        {"text": "a", "intent": "ask_balance", "lang": "en"},
        {"text": "b", "intent": "ask_balance", "lang": "en"},
        {"text": "c", "intent": "pay_bill", "lang": "nl"},
        {"text": "d", "intent": "out_of_scope", "lang": "en"},
        {"text": "e", "intent": "out_of_scope", "lang": "nl"},
    ]
    predictions = ["ask_balance", "pay_bill", "pay_bill", "nlu_fallback", "ask_balance"]
    report = score(examples, predictions)
    assert report["in_scope_accuracy"] == round(2 / 3, 4)
    assert report["out_of_scope_recall"] == 0.5  # nlu_fallback counts as declining
    assert report["per_intent"]["ask_balance"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5,
                                                   "support": 2}
    assert report["per_intent"]["pay_bill"]["precision"] == 0.5
    assert report["per_language"]["nl"] == {"n": 2, "in_scope_n": 1, "in_scope_accuracy": 1.0,
                                            "out_of_scope_n": 1, "out_of_scope_recall": 0.0}
    assert report["top_confusions"][0]["count"] == 1


def test_bad_lines_get_a_clear_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi", "intent": "greet"}\n{"text": "no intent"}\n')
    result = subprocess.run([str(REPO / ".venv-rasa" / "bin" / "python"), "-m", "bot.nlu_eval",
                             str(bad)], cwd=REPO, env=rasa_env(), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1 and "bad.jsonl:2" in result.stderr
    assert "Traceback" not in result.stderr


def test_report_on_the_held_out_split(model, tmp_path):
    out = tmp_path / "heldout.json"
    result = subprocess.run([str(REPO / ".venv-rasa" / "bin" / "python"), "-m", "bot.nlu_eval",
                             "bot/eval/heldout.jsonl", "--model", str(model), "--out", str(out)],
                            cwd=REPO, env=rasa_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert set(report["per_language"]) == {"en", "nl"}
    assert report["n"] == sum(1 for line in (REPO / "bot/eval/heldout.jsonl").open() if line.strip())
    assert 0 < report["in_scope_accuracy"] <= 1 and report["latency_ms"]["p95"] > 0
