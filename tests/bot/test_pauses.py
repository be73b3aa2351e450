"""'Wait, let me find it' is told apart from a goodbye, a no and a question."""
import pytest

from bot.pauses import is_pause


@pytest.mark.parametrize("text", [
    "wait", "Hang on", "hold on a sec", "one sec", "1 sec please", "give me a minute",
    "gimme a sec", "bear with me", "ok wait", "sorry, one moment", "wait a minute",
    "just a second, let me find it", "wait let me grab my bill", "Hold on, I'll get my card",
    "i'm looking for it", "let me check", "Let me look it up",
    "momentje", "moment graag", "wacht even", "wacht even, ik zoek mijn klantnummer",
    "even zoeken", "ff kijken", "een ogenblikje", "even geduld aub", "ik pak mijn factuur erbij",
    "ik zoek het even op", "ik ga het even opzoeken", "ik ben even aan het zoeken",
    "Wacht, ik pak mijn pas",
])
def test_pauses(text):
    assert is_pause(text)


@pytest.mark.parametrize("text", [
    "", "ok", "no", "nee", "bye", "10000001", "moment of truth",
    # saying it cannot or will not is no pause: verification stops for these
    "hold on, I don't have it", "no wait", "nee wacht", "ik kan hem niet vinden",
    "wait I don't want to give that",
    # something else said after the pause
    "wait, that's not right", "wait why is my bill so high", "ok bye i'll check later",
    # looking for something other than a detail
    "i'm looking for a cheaper plan", "ik zoek een goedkoper abonnement",
    "I'm checking out other providers", "i will pay later",
])
def test_not_pauses(text):
    assert not is_pause(text)
