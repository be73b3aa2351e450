"""A customer saying a payment was made, told apart from other payment messages."""
import pytest

from bot.payment_claims import paid_instantly, says_already_paid


@pytest.mark.parametrize("text", [
    "I already paid", "I paid last week but it still says I owe money",
    "I've paid this bill already", "why does it say I owe, I paid yesterday",
    "the money went out of my account but you still say I owe",
    "I paid it, why am I getting a reminder", "I transferred the amount on Monday",
    "ik heb al betaald", "ik heb gisteren betaald maar het staat nog open",
    "ik heb het bedrag al overgemaakt", "het geld is al afgeschreven",
    "ik heb de factuur vorige week betaald", "ik heb via de betaallink betaald",
    "I paid with iDEAL an hour ago", "betaald met mijn creditcard, staat nog open",
])
def test_payment_claims(text):
    assert says_already_paid(text)


@pytest.mark.parametrize("text, instant", [
    ("I paid with iDEAL an hour ago", True), ("paid by card this morning", True),
    ("ik heb met ideal betaald", True),
    # the payment link's page asks for a bank transfer
    ("I paid through your link", False), ("ik heb via de betaallink betaald", False),
    ("betaald met mijn creditcard", True), ("I transferred the amount on Monday", False),
    ("ik heb het bedrag al overgemaakt", False), ("I already paid", False),
])
def test_payment_methods_that_arrive_within_minutes(text, instant):
    assert paid_instantly(text) is instant


@pytest.mark.parametrize("text", [
    "what do I owe", "how can I pay", "I want to pay my bill", "I paid twice this month",
    "I think I paid too much", "I haven't paid yet, can I get more time",
    "wat moet ik betalen", "ik heb dubbel betaald", "ik heb nog niet betaald",
    "when is the payment due",
])
def test_other_payment_messages(text):
    assert not says_already_paid(text)
