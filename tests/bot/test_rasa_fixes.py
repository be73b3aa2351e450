"""bot/rasa_run.py fixes change how Rasa computes, never what it answers."""
import json
import subprocess

import pytest

from bot.training import REPO, rasa_env

pytestmark = pytest.mark.rasa

PROBE = r'''
import asyncio, json, sys
from rasa.core.agent import Agent
from bot import rasa_run

texts = ["how much do I owe", "hoeveel moet ik betalen?", "I want to talk to a person NOW",
         "my date of birth is 12-04-1985", "what's the weather in Paris", "🙂👍", "???", "ok",
         "waarom is mijn rekening zo hoog deze maand", "1012 AB"]

async def rankings():
    agent = Agent.load(sys.argv[1])
    return [(await agent.parse_message(text))["intent_ranking"] for text in texts]

before = asyncio.run(rankings())
rasa_run.apply(["classifier"])
built = []
row = rasa_run.sentence_row
rasa_run.sentence_row = lambda message: built.append(1) or row(message)
after = asyncio.run(rankings())
print(json.dumps({"before": before, "after": after, "rows_built": len(built)}))
'''


def test_classifier_rows_from_sentence_features_give_the_same_intents(model):
    result = subprocess.run([str(REPO / ".venv-rasa" / "bin" / "python"), "-W", "ignore", "-c",
                             PROBE, str(model)], cwd=REPO, env=rasa_env(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rankings = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(rankings["before"]) == 10
    assert rankings["rows_built"] == 10  # the fix built every row
    for before, after in zip(rankings["before"], rankings["after"]):
        assert [r["name"] for r in after] == [r["name"] for r in before]
        assert [r["confidence"] for r in after] == pytest.approx(
            [r["confidence"] for r in before], abs=1e-12)
