"""What counts as leaving the queue, told apart from messages for the agent."""
import pytest

from handoff.services.leaving import wants_to_leave_queue


@pytest.mark.parametrize("text", [
    "never mind", "Never mind, thanks anyway!", "I figured it out, thanks", "forget it",
    "I don't need a person anymore", "laat maar", "laat maar zitten, bedankt", "hoeft niet meer",
    "ik wacht niet meer", "is al opgelost", "stop waiting",
])
def test_leaving(text):
    assert wants_to_leave_queue(text)


@pytest.mark.parametrize("text", [
    "cancel",  # maybe the subscription: for the agent
    "I want to cancel my subscription", "hello?", "how long will this take",
    "never mind the bill, my question is about roaming and why it costs so much",
    "", "thanks",
])
def test_messages_for_the_agent(text):
    assert not wants_to_leave_queue(text)
