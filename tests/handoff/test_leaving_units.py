"""What counts as leaving the queue or asking about the wait, told apart from messages for
the agent."""
import pytest

from handoff.services.leaving import asks_about_the_wait, wants_to_leave_queue


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


@pytest.mark.parametrize("text", [
    "how long is the wait?", "How long will this take?", "how long do I have to wait",
    "how much longer?", "how long until someone answers", "what's the waiting time?",
    "is anyone coming?", "Is someone going to answer me?", "anyone there??",
    "when will someone be with me", "where am I in the queue", "what's my position",
    "am I still in the queue?", "still waiting...",
    "hoe lang moet ik nog wachten?", "hoelang duurt het nog", "hoe lang nog?",
    "komt er nog iemand?", "wat is de wachttijd", "hoeveel mensen zijn er nog voor mij?",
    "wanneer ben ik aan de beurt", "word ik nog geholpen?", "is er iemand?",
    "ik wacht nog steeds",
])
def test_questions_about_the_wait(text):
    assert asks_about_the_wait(text)
    assert not wants_to_leave_queue(text)


@pytest.mark.parametrize("text", [
    "are you there?", "it's about my bill", "how long is my contract", "hello?",
    "how long does a refund take", "how long is the notice period for cancelling",
    "wanneer komt mijn terugbetaling", "hoe lang loopt mijn contract nog",
    "I have been waiting for my refund for weeks", "never mind", "laat maar", "",
    "how long is the wait? I also want to know why my bill went up so much this month and "
    "whether I can get the late fee back",
])
def test_not_about_the_wait(text):
    assert not asks_about_the_wait(text)
