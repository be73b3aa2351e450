"""`rasa` with the project's server-side fixes; `bot/serve.py` starts the Rasa server this way.

    .venv-rasa/bin/python -m bot.rasa_run run -i 127.0.0.1 -p 5005 --enable-api ...

Measured with py-spy under load (docs/performance.md has the numbers), per turn:

- `validator`: Rasa 3.6 checks every action server response with `jsonschema.validate`, which
  first checks the large event schema itself against the JSON Schema meta-schema, on every
  custom action call: 62% of the Rasa server's CPU. Here the response is validated against
  the same schema with a validator built once; an invalid response still raises the same
  `ValidationError`. A valid response is recognised by testing each event against its own
  event type's part of the schema (not against all 23 types, as `oneOf` does): same verdict,
  measured equal on valid and broken responses (tests/bot/test_rasa_fixes.py).
- `language`: the `language` slot's custom mapping (`action_detect_language`) cost an action
  server round trip on every message (the whole tracker and domain as JSON, a new TCP
  connection). The same function (`bot.language.language_slot_update`, also what the action
  server runs) is answered inside Rasa instead; the action stays in the domain and on the
  action server, so a Rasa started without this module behaves the same, only slower.
- `sqlite`: the SQLite tracker store keeps its connection and commits in WAL mode with
  synchronous=NORMAL, instead of a new connection per operation and a rollback journal with
  synchronous=FULL: one short write instead of several fsyncs, which blocked Rasa's single
  event loop on every save. A power cut (not a crash of Rasa) can lose
  the last tracker writes; the transcript in the handoff store stays the record of what was
  said (its store keeps synchronous=FULL).

- `events`: every event read from the tracker store is resolved to its class by walking all
  subclasses of `Event` again (`Event.resolve_by_type`, 4-5% of the CPU); the answers are
  remembered per type name (classes do not change while the server runs).
- `connections`: Rasa opens a new aiohttp session, so a new TCP connection, for every action
  server call; the session of an endpoint is kept and its connections reused (same headers,
  authentication and timeout), each for at most 2 s idle, less than servers keep them.
- `classifier`: the linear intent classifier builds its input row through
  `Message.get_sparse_features` / `get_dense_features`, which deep-copy and `hstack` the
  sequence features of every featurizer too (one row per token, then thrown away) before the
  sentence features it uses: 8% of the Rasa server's CPU. The row is now built from the
  sentence features alone, in one sparse matrix: the same columns, the same values. Its
  coefficients are kept in Fortran order, so that scipy stops copying their transpose (24,000
  features x 19 intents) for every product: 0.26 -> 0.04 ms per `predict_proba`, same result.
  An empty text or one of only spaces, which crashed Rasa's classifier (REST: 200 with no
  reply and a traceback), gets no intent and falls back like any text the bot cannot read.
- `gc`: after a model is loaded, everything allocated so far (TensorFlow, the model, the
  domain) is frozen out of the cyclic garbage collector's reach. Otherwise every full
  collection walks that whole heap: 280-380 ms pauses of the event loop, measured with
  `gc.callbacks` under load, during which no turn moves.

- `graph`: Rasa runs its model graph (NLU components, policies) through dask's scheduler on
  every parse and prediction, rebuilding the graph, its minimal form and dask's ordering each
  time: 8% of a Rasa server's CPU beside the components' own work. The first run of each
  shape (targets, input names) still goes through dask and records the order dask ran the
  nodes in; later runs call the same nodes in that order with the same arguments.
- `rules`: `RulePolicy` finds the rules that match a conversation by checking all of them
  (125 here) against the newest state, then filtering the rest against every older state of
  the whole history, although no rule is longer than a few states. Now the newest state is
  checked only against the rules whose last state names its previous action (or none), and
  the filter stops once every remaining rule has matched over its whole length: the same
  rules, 5% of a Rasa server's CPU.
- `states`: every policy, for every action it predicts, turns the whole conversation into
  dialogue states by replaying all its events into a new tracker (12% of a Rasa server's
  CPU): the memoization policy once and the rule policy once or twice per prediction, and
  again after each action of the same message. The state before each action depends only on
  the events before it, so the states are kept with the tracker and only events added since
  are replayed; each policy still gets its own copies, filtered as Rasa filters them.

`BOT_RASA_FIXES` selects them (comma-separated, default all of them; `none` for plain Rasa),
so the benchmark can measure each.
"""
import os
import sys
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.events import ActionExecuted
from rasa.shared.nlu.constants import ACTION_NAME, FEATURE_TYPE_SENTENCE, TEXT
from scipy.sparse import coo_matrix, csr_matrix, vstack

LANGUAGE_ACTION = "action_detect_language"


def valid_by_event_type(schema: dict, validator_class):
    """A check of an action server response that tests each event against its own type only.

    Rasa's schema tests every event against all 23 event types (`oneOf`), which are told apart
    by a constant `event` name: an event is valid exactly when it passes the common part and
    its own type's part. The check answers True only for a valid response; for anything else
    the full validator decides (and words the error). None when the schema is not shaped so.
    """
    events = schema.get("properties", {}).get("events", {})
    items = events.get("items", {})
    by_type = {}
    for option in items.get("oneOf", []):
        name = option.get("properties", {}).get("event", {}).get("const")
        if not isinstance(name, str) or name in by_type:
            return None
        by_type[name] = validator_class(option)
    if not by_type or "$ref" in repr(schema):
        return None
    common = validator_class({key: value for key, value in items.items() if key != "oneOf"})
    outer = validator_class({**schema, "properties": {**schema["properties"], "events": {**events, "items": {}}}})

    def valid(result) -> bool:
        if not outer.is_valid(result):
            return False
        for event in result.get("events") or []:
            name = event.get("event") if isinstance(event, dict) else None
            own = by_type.get(name) if isinstance(name, str) else None
            if own is None or not common.is_valid(event) or not own.is_valid(event):
                return False
        return True

    return valid


def patch_action_response_validation() -> None:
    """RemoteAction._validate_action_result with validators built once (same schema, same errors)."""
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction, "_bot_validator", None) is not None:
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)  # what jsonschema.validate did on every call, once
    validator = validator_class(schema)
    valid = valid_by_event_type(schema, validator_class) or validator.is_valid

    def _validate_action_result(self, result) -> bool:
        if valid(result):
            return True
        # jsonschema.validate(result, schema) minus the schema check: raise the best match.
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions")
        raise error

    RemoteAction._validate_action_result = _validate_action_result
    RemoteAction._bot_validator = validator


def answer_language_detection_in_process() -> None:
    """`action_detect_language` (the language slot's custom mapping) without a round trip."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import SlotSet, UserUttered

    from bot.language import language_slot_update

    if getattr(RemoteAction, "_bot_remote_run", None) is not None:
        return
    remote_run = RemoteAction.run

    async def run(self, output_channel, nlg, tracker, domain):
        if self.name() != LANGUAGE_ACTION:
            return await remote_run(self, output_channel, nlg, tracker, domain)
        earlier = (event.text or "" for event in reversed(tracker.events)
                   if isinstance(event, UserUttered) and event is not tracker.latest_message)
        value = language_slot_update(tracker.latest_message.text or "",
                                     tracker.get_slot("language"), earlier)
        return [SlotSet("language", value)] if value else []

    RemoteAction.run = run
    RemoteAction._bot_remote_run = remote_run


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if not type(dbapi_connection).__module__.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def tune_sqlite() -> None:
    """The SQLite tracker store: one kept connection, WAL, synchronous=NORMAL.

    Rasa opens the SQLite file with SQLAlchemy's default pool for it (a new connection per
    session, closed after it): closing the last connection checkpoints a WAL, so the kept
    connection (SingletonThreadPool; the tracker store is used from the event loop's thread)
    is what makes WAL pay off.
    """
    from sqlalchemy import event
    from sqlalchemy.engine import Engine, make_url
    from sqlalchemy.pool import SingletonThreadPool
    from rasa.core import tracker_store

    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
    if getattr(tracker_store, "_bot_engine_kwargs", None) is not None:
        return
    original = tracker_store.create_engine_kwargs

    def create_engine_kwargs(url):
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            return {"poolclass": SingletonThreadPool}
        return original(url)

    tracker_store.create_engine_kwargs = create_engine_kwargs
    tracker_store._bot_engine_kwargs = original


def remember_event_types() -> None:
    """Event.resolve_by_type without walking every subclass of Event for every event read."""
    from rasa.shared.core.events import Event

    if getattr(Event, "_bot_resolve_by_type", None) is not None:
        return
    resolve = Event.resolve_by_type
    known: dict = {}

    def resolve_by_type(type_name, default=None):
        cls = known.get(type_name)
        if cls is None:
            cls = resolve(type_name, default)
            if cls is not None and cls is not default:
                known[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)
    Event._bot_resolve_by_type = resolve


def sentence_row(message) -> csr_matrix:
    """One message's classifier input: its sparse sentence features then its dense ones, in
    the order the featurizers added them (what `LogisticRegressionClassifier._create_X` builds)."""
    sentence = [f for f in message.features
                if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
    blocks = [f.features.tocoo() for f in sentence if f.is_sparse()] + \
        [coo_matrix(f.features) for f in sentence if f.is_dense()]  # dense: zeros dropped, as Rasa does
    columns, values, width = [np.zeros(0, dtype=np.int64)], [np.zeros(0)], 0
    for block in blocks:
        columns.append(block.col + width)
        values.append(block.data)
        width += block.shape[1]
    data = np.concatenate(values)
    return csr_matrix((data, np.concatenate(columns), [0, len(data)]), shape=(1, width))


def build_classifier_rows_from_sentence_features() -> None:
    """LogisticRegressionClassifier._create_X without combining the unused sequence features."""
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

    if getattr(LogisticRegressionClassifier, "_bot_create_X", None) is not None:
        return
    create_x = LogisticRegressionClassifier._create_X

    def _create_X(self, messages):
        rows = [sentence_row(message) for message in messages]
        return rows[0] if len(rows) == 1 else vstack(rows, format="csr")

    process = LogisticRegressionClassifier.process

    def process_texts_with_words(self, messages):
        # A text of only spaces has no tokens, so no count features: its row is narrower than
        # the model's and predict_proba raised. It gets no intent (confidence 0) instead, which
        # the FallbackClassifier turns into nlu_fallback, as for any text the bot cannot read.
        with_words, wordless = [], []
        for message in messages:
            (with_words if (message.get(TEXT) or "").strip() else wordless).append(message)
        if with_words:
            process(self, with_words)
        for message in wordless:
            message.set("intent", {"name": None, "confidence": 0.0}, add_to_output=True)
            message.set("intent_ranking", [], add_to_output=True)
        return messages

    load = LogisticRegressionClassifier.load.__func__

    def load_with_fortran_coefficients(cls, *args, **kwargs):
        component = load(cls, *args, **kwargs)
        coefficients = getattr(component.clf, "coef_", None)  # absent when nothing was trained
        if coefficients is not None:
            # predict_proba multiplies the row by coef_.T; scipy copies a transposed C-ordered
            # matrix (classes x features) on every call, a Fortran-ordered one is used in place
            component.clf.coef_ = np.asfortranarray(coefficients)
        return component

    LogisticRegressionClassifier._create_X = _create_X
    LogisticRegressionClassifier.process = process_texts_with_words
    LogisticRegressionClassifier.load = classmethod(load_with_fortran_coefficients)
    LogisticRegressionClassifier._bot_create_X = create_x


def freeze_heap_after_model_loads() -> None:
    """gc.freeze() once the loaded agent is in place (at start and after every model change)."""
    import asyncio
    import gc

    from rasa.core import agent

    if getattr(agent, "_bot_load_agent", None) is not None:
        return
    load_agent = agent.load_agent

    def freeze() -> None:
        gc.unfreeze()  # a replaced model's objects become collectable again
        gc.collect()
        gc.freeze()

    async def load_agent_then_freeze(*args, **kwargs):
        loaded = await load_agent(*args, **kwargs)
        # after the caller has stored the new agent (and dropped the old one)
        asyncio.get_running_loop().call_soon(freeze)
        return loaded

    agent.load_agent = load_agent_then_freeze
    agent._bot_load_agent = load_agent


def run_graphs_in_recorded_order() -> None:
    """DaskGraphRunner.run: dask once per (targets, input names), then its order replayed."""
    import dask
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    if getattr(DaskGraphRunner, "_bot_run", None) is not None:
        return

    def run(self, inputs=None, targets=None):
        run_targets = targets if targets else self._graph_schema.target_names
        inputs = inputs or {}
        shape = (tuple(run_targets), tuple(sorted(inputs)))
        plans = self.__dict__.setdefault("_bot_plans", {})
        plan = plans.get(shape)
        if plan is None:
            plan, result = _record_plan(self, inputs, run_targets)
            plans[shape] = plan
            return result
        order, arguments, node_names = plan
        self._add_inputs_to_graph(inputs, dict.fromkeys(node_names))  # the same clash check
        values = {name: (name, value) for name, value in inputs.items()}
        try:
            for name in order:
                values[name] = self._instantiated_nodes[name](
                    *[values[arg] if is_key else arg for arg, is_key in arguments[name]])
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(values[target] for target in run_targets)

    def _record_plan(runner, inputs, run_targets):
        minimal_schema = runner._graph_schema.minimal_graph_schema(run_targets)
        order = []

        def recorded(name, node):
            def call(*args):
                order.append(name)
                return node(*args)
            return call

        graph = {name: (recorded(name, runner._instantiated_nodes[name]), *node.needs.values())
                 for name, node in minimal_schema.nodes.items()}
        node_names = set(graph)
        runner._add_inputs_to_graph(inputs, graph)
        try:
            result = dict(dask.get(graph, run_targets))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        # dask passes an argument that names a key of the graph as that key's value
        arguments = {name: [(arg, isinstance(arg, str) and arg in graph) for arg in graph[name][1:]]
                     for name in order}
        return (order, arguments, node_names), result

    DaskGraphRunner._bot_run = DaskGraphRunner.run
    DaskGraphRunner.run = run


def rule_index(lookup: dict, rule_states) -> tuple[dict, dict]:
    """Rule keys by the action their last state names (None: it names none), and their lengths.

    A rule whose last state names a previous action can only match a state with that same
    previous action, so the newest state is checked against its bucket and the None one only.
    """
    buckets, lengths = {}, {}
    for key in lookup:
        states = rule_states(key)
        lengths[key] = len(states)
        action = states[-1].get(PREVIOUS_ACTION, {}).get(ACTION_NAME) if states else None
        buckets.setdefault(action, []).append(key)
    return buckets, lengths


def match_rules_by_last_action() -> None:
    """RulePolicy._get_possible_keys: same rules, found from the newest state's action."""
    from rasa.core.policies.rule_policy import RulePolicy

    if getattr(RulePolicy, "_bot_get_possible_keys", None) is not None:
        return

    def get_possible_keys(self, lookup, states):
        if not states:
            return set(lookup.keys())
        indexes = self.__dict__.setdefault("_bot_rule_indexes", {})
        kept = indexes.get(id(lookup))
        if kept is None or kept[0] is not lookup:  # the lookup itself is kept: its id stays its own
            kept = indexes[id(lookup)] = (lookup, *rule_index(lookup, self._rule_key_to_state))
        _, buckets, lengths = kept
        newest = states[-1]
        action = newest.get(PREVIOUS_ACTION, {}).get(ACTION_NAME)
        unnamed = buckets.get(None, [])
        candidates = buckets.get(action, []) + unnamed if action is not None else unnamed
        possible_keys = {key for key in candidates if self._is_rule_applicable(key, 0, newest)}
        for i, state in enumerate(reversed(states[:-1]), start=1):
            # a rule of length <= i matched all its states: Rasa's check answers True for it
            if not any(lengths[key] > i for key in possible_keys):
                break
            possible_keys = {key for key in possible_keys
                             if lengths[key] <= i or self._is_rule_applicable(key, i, state)}
        return possible_keys

    RulePolicy._bot_get_possible_keys = RulePolicy._get_possible_keys
    RulePolicy._get_possible_keys = get_possible_keys


@dataclass
class PriorTurn:
    """What Rasa's history of states takes from the tracker as it stood before one action."""
    state: dict
    hide_rule_turn: bool
    followup_action: Any
    latest_action_name: Any
    active_loop_name: Any
    prev_action: Any


@dataclass
class PriorTurns:
    """A conversation's replay so far: its applied events, the tracker they were replayed
    into, and the turn before each of their actions."""
    domain: Any
    replay: Any
    applied: list = field(default_factory=list)
    turns: list = field(default_factory=list)


def copied_state(state: dict) -> dict:
    """Sub-states are dicts of strings, numbers and tuples: two levels make it independent."""
    return {name: dict(sub_state) for name, sub_state in state.items()}


def prior_turn(domain, tracker, hide_rule_turn: bool) -> PriorTurn:
    # the tracker replaces its latest_action dict on every action, never changes it: kept as is
    return PriorTurn(domain.get_active_state(tracker), hide_rule_turn, tracker.followup_action,
                     tracker.latest_action_name, tracker.active_loop_name, tracker.latest_action)


class PriorTurnsCache:
    """The replay of each live tracker, extended while its applied events only grow."""

    def __init__(self) -> None:
        self._by_tracker: dict[int, tuple] = {}

    def turns(self, domain, tracker) -> list[PriorTurn]:
        """A PriorTurn before each applied action, then one for the tracker as it is now."""
        applied = tracker.applied_events()
        key = id(tracker)
        held = self._by_tracker.get(key)
        kept = held[1] if held is not None and held[0]() is tracker else None
        if (kept is None or kept.domain is not domain or len(kept.applied) > len(applied)
                or any(old is not new for old, new in zip(kept.applied, applied))):
            kept = PriorTurns(domain, tracker.init_copy())
            self._by_tracker[key] = (weakref.ref(tracker, lambda _, key=key: self._by_tracker.pop(key, None)),
                                     kept)
        for event in applied[len(kept.applied):]:
            if isinstance(event, ActionExecuted):
                kept.turns.append(prior_turn(domain, kept.replay, event.hide_rule_turn))
            kept.replay.update(event)
            kept.applied.append(event)
        return [*kept.turns, prior_turn(domain, kept.replay, False)]


def keep_dialogue_states() -> None:
    """Domain.states_for_tracker_history from a kept replay (same states, same filtering)."""
    from rasa.shared.core.domain import Domain

    if getattr(Domain, "_bot_states_for_tracker_history", None) is not None:
        return
    cache = PriorTurnsCache()
    original = Domain.states_for_tracker_history

    def states_for_tracker_history(self, tracker, omit_unset_slots=False, ignore_rule_only_turns=False,
                                   rule_only_data=None):
        if omit_unset_slots:  # no policy of this bot asks for it; kept turns hold all slots
            return original(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        states = []
        ml_action, hidden = None, False
        for turn in cache.turns(self, tracker):
            if ignore_rule_only_turns:
                # the action of the last turn shown to ML policies stands in for hidden ones
                if not hidden:
                    ml_action = turn.prev_action
                if not turn.followup_action and turn.latest_action_name != turn.active_loop_name:
                    hidden = turn.hide_rule_turn
                if hidden:
                    continue
            state = copied_state(turn.state)
            if ignore_rule_only_turns:
                self._remove_rule_only_features(state, rule_only_data)
                if states:
                    self._substitute_rule_only_user_input(state, states[-1])
                if ml_action:
                    state[PREVIOUS_ACTION] = dict(ml_action)  # a copy: callers may change states
            states.append(self._clean_state(state))
        return states

    Domain._bot_states_for_tracker_history = original
    Domain.states_for_tracker_history = states_for_tracker_history


class _KeptSession:
    """`async with endpoint.session()` that leaves the endpoint's kept session open."""

    def __init__(self, session) -> None:
        self._session = session

    async def __aenter__(self):
        return self._session

    async def __aexit__(self, *_exc) -> bool:
        return False


# Idle kept connections are dropped sooner than servers close them (the action server's Sanic
# closes after 5 s): reusing a connection the server is closing at that moment fails the
# action call ("Cannot write to closing transport"), about 1 turn in 1,500 with aiohttp's
# default of 15 s.
IDLE_CONNECTION_SECONDS = 2.0


def keep_connections() -> None:
    """One aiohttp session (and its keep-alive connections) per endpoint and event loop."""
    import asyncio

    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.utils.endpoints import EndpointConfig

    if getattr(EndpointConfig, "_bot_session", None) is not None:
        return
    new_session = EndpointConfig.session

    def kept_session(endpoint):
        """What EndpointConfig.session builds (headers, authentication, timeout), and the
        connections' idle limit."""
        auth = endpoint.basic_auth and aiohttp.BasicAuth(endpoint.basic_auth["username"],
                                                         endpoint.basic_auth["password"])
        return aiohttp.ClientSession(
            headers=endpoint.headers, auth=auth or None,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_CONNECTION_SECONDS))

    def session(self):
        loop = asyncio.get_running_loop()
        kept = self.__dict__.get("_bot_kept_session")
        if kept is None or kept.closed or getattr(kept, "_loop", loop) is not loop:
            kept = kept_session(self)
            self.__dict__["_bot_kept_session"] = kept
        return _KeptSession(kept)

    EndpointConfig.session = session
    EndpointConfig._bot_session = new_session


# name (BOT_RASA_FIXES) -> the patch; applied in this order
FIXES = {
    "validator": patch_action_response_validation,
    "language": answer_language_detection_in_process,
    "sqlite": tune_sqlite,
    "events": remember_event_types,
    "connections": keep_connections,
    "classifier": build_classifier_rows_from_sentence_features,
    "gc": freeze_heap_after_model_loads,
    "graph": run_graphs_in_recorded_order,
    "rules": match_rules_by_last_action,
    "states": keep_dialogue_states,
}


def selected_fixes(value: str | None = None) -> list[str]:
    value = os.environ.get("BOT_RASA_FIXES", ",".join(FIXES)) if value is None else value
    chosen = [name.strip() for name in value.split(",") if name.strip() and name.strip() != "none"]
    unknown = set(chosen) - set(FIXES)
    if unknown:
        raise SystemExit(f"BOT_RASA_FIXES: unknown {sorted(unknown)}; choose from {tuple(FIXES)} or none")
    return chosen


def apply(fixes: list[str]) -> None:
    for name, patch in FIXES.items():
        if name in fixes:
            patch()


def main() -> None:
    apply(selected_fixes())
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
