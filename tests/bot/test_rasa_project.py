import re

from tests.bot.conftest import run_rasa
from bot.training import REPO

UNUSED = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")


def action_source() -> str:
    return "\n".join(p.read_text() for p in (REPO / "bot" / "actions").glob("*.py"))


def response_is_sent_by_an_action(name: str, source: str) -> bool:
    if f'"{name}"' in source or name.startswith("utter_ask_"):  # forms ask with utter_ask_<slot>
        return True
    # f"utter_reason_{change.reason}" and the like
    return any(name.startswith(prefix) for prefix in re.findall(r'f"(utter_\w+?)\{', source))


def test_data_validates_and_every_response_is_used():
    result = run_rasa("data", "validate", "--domain", "bot/domain", "--data", "bot/data",
                      "--config", "config.yml")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    source = action_source()
    unused = [name for name in UNUSED.findall(output)
              if not response_is_sent_by_an_action(name, source)]
    assert unused == [], f"responses neither in rules nor sent by an action: {unused}"
    other_warnings = [line for line in output.splitlines() if "UserWarning" in line
                      and "is not used in any story or rule" not in line]
    assert other_warnings == []


def test_stories_pass_without_prediction_errors(model, endpoints, tmp_path):
    result = run_rasa("test", "core", "--model", str(model), "--stories", "bot/tests",
                      "--fail-on-prediction-errors", "--endpoints", str(endpoints),
                      "--out", str(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, (tmp_path / "failed_test_stories.yml").read_text() \
        if (tmp_path / "failed_test_stories.yml").exists() else output[-3000:]
    correct, total = map(int, re.search(r"Correct:\s+(\d+) / (\d+)", output).groups())
    assert correct == total
    assert total >= 40, f"only {total} test stories"
