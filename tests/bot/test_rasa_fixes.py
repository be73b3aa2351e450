"""bot/rasa_run.py fixes change how Rasa computes, never what it answers."""
import json
import subprocess

import pytest

from bot.training import REPO, rasa_env

pytestmark = pytest.mark.rasa

PROBE = r'''
import asyncio, gc, json, sys
from rasa.core import agent as agent_module
from rasa.core.agent import Agent
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from bot import rasa_run

texts = ["how much do I owe", "hoeveel moet ik betalen?", "I want to talk to a person NOW",
         "my date of birth is 12-04-1985", "what's the weather in Paris", "🙂👍", "???", "ok",
         "waarom is mijn rekening zo hoog deze maand", "1012 AB"]

agents = []  # kept, so that their classifiers can be inspected below

async def rankings():
    agent = Agent.load(sys.argv[1])
    agents.append(agent)
    return [(await agent.parse_message(text))["intent_ranking"] for text in texts]

before = asyncio.run(rankings())
rasa_run.apply(["classifier"])
built = []
row = rasa_run.sentence_row
rasa_run.sentence_row = lambda message: built.append(1) or row(message)
after = asyncio.run(rankings())
fortran = [c.clf.coef_.flags.f_contiguous for c in gc.get_objects()
           if isinstance(c, LogisticRegressionClassifier)]

rasa_run.apply(["gc"])
frozen_before = gc.get_freeze_count()

async def load_then_next_tick():
    loaded = await agent_module.load_agent(model_path=sys.argv[1])
    await asyncio.sleep(0)  # the freeze runs once the caller has stored the agent
    return loaded

asyncio.run(load_then_next_tick())
print(json.dumps({"before": before, "after": after, "rows_built": len(built), "fortran": fortran,
                  "frozen_before": frozen_before, "frozen_after": gc.get_freeze_count()}))
'''


@pytest.fixture(scope="module")
def probed(model) -> dict:
    """The probe's findings: one model load without the fixes, one with, one through `gc`."""
    result = subprocess.run([str(REPO / ".venv-rasa" / "bin" / "python"), "-W", "ignore", "-c",
                             PROBE, str(model)], cwd=REPO, env=rasa_env(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_classifier_rows_from_sentence_features_give_the_same_intents(probed):
    rankings = probed
    assert len(rankings["before"]) == 10
    assert rankings["rows_built"] == 10  # the fix built every row
    assert sorted(rankings["fortran"]) == [False, True]  # only the agent loaded with the fix
    for before, after in zip(rankings["before"], rankings["after"]):
        assert [r["name"] for r in after] == [r["name"] for r in before]
        assert [r["confidence"] for r in after] == pytest.approx(
            [r["confidence"] for r in before], abs=1e-12)


def test_the_heap_is_frozen_after_a_model_loads(probed):
    counts = probed
    assert counts["frozen_before"] == 0
    assert counts["frozen_after"] > 100_000  # TensorFlow, the model, the domain
