"""The reliability suite's own stack: private processes it may kill, restart and load.

One stack per session (`bench.stack.build`): a billing DB with the demo data plus generated
customers, the action server, Rasa (SQLite tracker store), the Twilio stand-in and the handoff
service, each on a free 127.0.0.1 port in a temporary folder. Nothing here is shared with the
other suites, so lockouts, crashes and load stay in this suite. After every test, any process a
test left stopped is started again.
"""
from pathlib import Path

import pytest

from bench.stack import Stack, build
from bot.training import current_model


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    stack = build(tmp_path_factory.mktemp("reliability"), model=current_model(), customers=24,
                  extra_handoff_env={
                      # a stalled bot holds Twilio's webhook for 1 s, not 5 (fault tests)
                      "HANDOFF_SMS_WEBHOOK_BUDGET_SECONDS": "1",
                      # keep retrying while the Twilio stand-in fails (fast retries, capped at 2 s)
                      "HANDOFF_SMS_MAX_ATTEMPTS": "40"})
    yield stack
    stack.stop()


@pytest.fixture(autouse=True)
def everything_running(request):
    yield
    if "stack" not in request.fixturenames:
        return
    stack: Stack = request.getfixturevalue("stack")
    for managed in stack.processes():
        if not managed.running:
            managed.start()


HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Everything here runs real processes with a trained model: marked rasa and slow."""
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.rasa)
            item.add_marker(pytest.mark.slow)
