"""Schemathesis against the handoff service's own OpenAPI spec: no server errors.

Every operation of `/openapi.json` gets examples that fit its schema and examples that do not
(Schemathesis' positive and negative generation), sent as an agent and as an admin. Bounded:
`EXAMPLES` per operation and mode, derandomized (the same examples every run), no example
database. As admin, the operations that start work outside the request (training a model,
activating or rolling back a model) are left out: their input handling is covered as agent
(403 before anything runs) and by the admin suite.
"""
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.reliability.helpers import token

EXAMPLES = 8
SIDE_EFFECTS = {("POST", "/api/admin/training"), ("POST", "/api/admin/models/{model_id}/activate"),
                ("POST", "/api/admin/rollback")}


def fuzz(stack, username: str, skip: set[tuple[str, str]]) -> tuple[list[str], int]:
    schema = schemathesis.openapi.from_url(stack.public_url + "/openapi.json")
    headers = {"Authorization": f"Bearer {token(stack, username)}"}
    failures, calls = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in skip:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case):
                nonlocal calls
                calls += 1
                response = case.call(base_url=stack.public_url, headers=headers, timeout=60)
                if response.status_code >= 500 or "Traceback" in response.text:
                    failures.append(f"{operation.label} ({mode.value}) -> {response.status_code}: "
                                    f"{response.text[:200]}\n    {case.as_curl_command()}")

            try:
                call()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                pass
    return failures, calls


@pytest.mark.parametrize("username, skip", [("agent1", set()), ("admin1", SIDE_EFFECTS)])
def test_no_operation_answers_with_a_server_error(stack, username, skip):
    started = time.monotonic()
    failures, calls = fuzz(stack, username, skip)
    assert calls > 100, f"only {calls} calls: the spec did not load as expected"
    assert failures == [], "\n".join(failures[:10])
    assert time.monotonic() - started < 600
