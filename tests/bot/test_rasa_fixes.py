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
rows_built = len(built)
wordless = [asyncio.run(agents[-1].parse_message(text))["intent"]["name"] for text in ("", "   \n")]
fortran = [c.clf.coef_.flags.f_contiguous for c in gc.get_objects()
           if isinstance(c, LogisticRegressionClassifier)]

rasa_run.apply(["gc"])
frozen_before = gc.get_freeze_count()

async def load_then_next_tick():
    loaded = await agent_module.load_agent(model_path=sys.argv[1])
    await asyncio.sleep(0)  # the freeze runs once the caller has stored the agent
    return loaded

asyncio.run(load_then_next_tick())
print(json.dumps({"before": before, "after": after, "rows_built": rows_built, "fortran": fortran, "wordless": wordless,
                  "frozen_before": frozen_before, "frozen_after": gc.get_freeze_count()}))
'''


def run_probe(code: str, *args: str) -> dict:
    """Run `code` in .venv-rasa; it prints its findings as JSON on its last line."""
    result = subprocess.run([str(REPO / ".venv-rasa" / "bin" / "python"), "-W", "ignore", "-c",
                             code, *args], cwd=REPO, env=rasa_env(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def probed(model) -> dict:
    """The probe's findings: one model load without the fixes, one with, one through `gc`."""
    return run_probe(PROBE, str(model))


def test_classifier_rows_from_sentence_features_give_the_same_intents(probed):
    rankings = probed
    assert len(rankings["before"]) == 10
    assert rankings["rows_built"] == 10  # the fix built every row
    assert sorted(rankings["fortran"]) == [False, True]  # only the agent loaded with the fix
    for before, after in zip(rankings["before"], rankings["after"]):
        assert [r["name"] for r in after] == [r["name"] for r in before]
        assert [r["confidence"] for r in after] == pytest.approx(
            [r["confidence"] for r in before], abs=1e-12)


def test_a_text_without_words_falls_back_instead_of_crashing_the_classifier(probed):
    assert probed["wordless"] == ["nlu_fallback", "nlu_fallback"]


def test_the_heap_is_frozen_after_a_model_loads(probed):
    counts = probed
    assert counts["frozen_before"] == 0
    assert counts["frozen_after"] > 100_000  # TensorFlow, the model, the domain


VALIDATOR_PROBE = r'''
import copy, json
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.core import events as e
from bot.rasa_run import valid_by_event_type

schema = RemoteAction.action_response_format_spec()
full = validator_for(schema)(schema)
fast = valid_by_event_type(schema, validator_for(schema))
samples = [e.UserUttered("hi", {"name": "greet", "confidence": 0.9}, [{"entity": "plan", "value": "basic",
                                                                        "start": 0, "end": 5}]),
           e.SlotSet("plan", "basic"), e.ActionExecuted("utter_greet"), e.BotUttered("hello", {"buttons": []}),
           e.ActiveLoop("verify_form"), e.ActiveLoop(None), e.FollowupAction("action_listen"),
           e.SessionStarted(), e.Restarted(), e.AllSlotsReset(), e.ConversationPaused(),
           e.ConversationResumed(), e.UserUtteranceReverted(), e.ActionReverted(), e.StoryExported(),
           e.ReminderScheduled("EXTERNAL_x", __import__("datetime").datetime(2030, 1, 1)),
           e.ReminderCancelled("r1"), e.ActionExecutionRejected("a"), e.LoopInterrupted(True),
           e.AgentUttered("x"), e.EntitiesAdded([{"entity": "a", "value": 1}])]
events = [s.as_dict() for s in samples]
cases = [{"events": events, "responses": [{"text": "hi"}]}, {"events": []}, {}, {"responses": []},
         {"events": None}, {"events": "x"}, {"events": [1]}, {"events": [{}]}, {"events": [{"event": ["user"]}]},
         {"events": [{"event": "nonsense"}]}, {"events": [{"event": None}]}, {"responses": "x"}, [], "x", None]
for event in events:
    cases.append({"events": [event]})
    for key in list(event):
        for wrong in (None, 1, 1.5, "x", [], {}, True, [{"x": 1}]):
            broken = copy.deepcopy(event)
            broken[key] = wrong
            cases.append({"events": [event, broken]})
        missing = copy.deepcopy(event)
        del missing[key]
        cases.append({"events": [missing]})
verdicts = [(full.is_valid(case), fast(case)) for case in cases]
print(json.dumps({"cases": len(cases), "valid": sum(v for v, _ in verdicts),
                  "differ": [json.dumps(c)[:200] for c, (a, b) in zip(cases, verdicts) if a != b]}))
'''


def test_checking_each_event_against_its_own_type_gives_the_full_schemas_verdict():
    found = run_probe(VALIDATOR_PROBE)
    assert found["differ"] == []
    assert found["cases"] > 500 and 100 < found["valid"] < found["cases"] - 100  # both verdicts well covered


GRAPH_PROBE = r'''
import asyncio, json, sys
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from bot import rasa_run

texts = ["hi", "how much do I owe", "hoeveel moet ik betalen?", "I want to talk to a person NOW",
         "my date of birth is 12-04-1985", "what's the weather in Paris", "???", "100234",
         "switch me to premium", "ja graag"]

async def outputs(agent):
    found = []
    for text in texts:
        parse = await agent.parse_message(text)
        tracker = DialogueStateTracker.from_events("probe", [ActionExecuted("action_listen")],
                                                   agent.domain.slots)
        tracker.update(UserUttered(text, parse["intent"], parse["entities"], parse))
        prediction = agent.processor._predict_next_with_tracker(tracker)
        found.append([parse, prediction.policy_name, prediction.probabilities])
    return json.loads(json.dumps(found, default=str))

async def main():
    agent = Agent.load(sys.argv[1])
    before = await outputs(agent)
    rasa_run.apply(["graph"])
    first, replayed = await outputs(agent), await outputs(agent)  # recorded, then replayed
    print(json.dumps({"same": before == first == replayed, "count": len(before),
                      "plans": len(agent.processor.graph_runner._bot_plans)}))

asyncio.run(main())
'''


def test_replaying_the_recorded_graph_order_parses_and_predicts_the_same(model):
    found = run_probe(GRAPH_PROBE, str(model))
    assert found == {"same": True, "count": 10, "plans": 2}  # one plan to parse, one to predict


TEST_STORIES = r'''
import json, sys
from pathlib import Path
from rasa.core.agent import Agent
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionReverted, Restarted, UserUtteranceReverted
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph
from bot import rasa_run

agent = Agent.load(sys.argv[1])
domain = agent.domain
policy = next(node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
              if isinstance(node._component, RulePolicy))
steps = [step for path in sorted(Path("bot/tests").glob("*.yml"))
         for step in YAMLStoryReader(domain).read_from_file(path)]
stories = TrainingDataGenerator(StoryGraph(steps), domain, remove_duplicates=False, augmentation_factor=0,
                                use_story_concatenation=False).generate_story_trackers()
'''  # the model, its RulePolicy and the trackers of the test stories (bot/tests), for the probes below


RULES_PROBE = TEST_STORIES + r'''
# every point of every test story where the bot picks its next action, forms included
trackers = [DialogueStateTracker.from_events(story.sender_id, list(story.events)[:k], domain.slots)
            for story in stories for k, event in enumerate(story.events)
            if k and isinstance(event, ActionExecuted)]

def predictions():
    found = [policy.predict_action_probabilities(tracker, domain) for tracker in trackers]
    return json.loads(json.dumps([[p.probabilities, [e.as_dict() for e in p.events], p.hide_rule_turn,
                                   p.is_end_to_end_prediction, p.is_no_user_prediction] for p in found]))

before = predictions()
rasa_run.apply(["rules"])
after = predictions()
print(json.dumps({"same": before == after, "count": len(trackers),
                  "in_loop": sum(t.active_loop_name is not None for t in trackers),
                  "longest": max(len(t.events) for t in trackers)}))
'''


def test_rules_found_from_the_newest_action_predict_the_same(model):
    found = run_probe(RULES_PROBE, str(model))
    assert found["same"] is True
    # long histories and active forms (the unhappy-path rules) are both covered
    assert found["count"] > 500 and found["in_loop"] > 100 and found["longest"] > 40


STATES_PROBE = TEST_STORIES + r'''
rule_only = policy._get_rule_only_data()
rasa_run.apply(["states"])
original = Domain._bot_states_for_tracker_history
flags = [dict(), dict(ignore_rule_only_turns=True, rule_only_data=rule_only),
         dict(ignore_rule_only_turns=False, rule_only_data=rule_only)]
checked, differ = 0, []

def compare(tracker, where):
    global checked
    for flag in flags:
        kept = domain.states_for_tracker_history(tracker, **flag)
        if kept != original(domain, tracker, **flag):
            differ.append(where)
        checked += 1

# events arrive one by one, as in a served conversation; then undone, and a restart
undo = [UserUtteranceReverted(), ActionReverted(), ActionExecuted("action_listen"), Restarted()]
for number, story in enumerate(stories):
    tracker = DialogueStateTracker.from_events(f"s{number}", [], domain.slots)
    for index, event in enumerate([*story.events, *undo]):
        tracker.update(event)
        compare(tracker, [number, index])
print(json.dumps({"differ": differ[:5], "checked": checked, "stories": len(stories)}))
'''


def test_kept_dialogue_states_are_rasas_states(model):
    found = run_probe(STATES_PROBE, str(model))
    assert found["differ"] == []
    assert found["stories"] > 40 and found["checked"] > 5000
