"""A question about how to pay, told apart from payments the customer tells of."""
import pytest

from bot.payment_methods import asked_payment_method


@pytest.mark.parametrize("text, method", [
    ("can I pay with iDEAL?", "ideal"), ("kan ik met ideal betalen", "ideal"),
    ("do you take credit cards", "card"), ("accepteren jullie een creditcard?", "card"),
    ("is paypal possible", "paypal"), ("kan ik contant betalen", "cash"),
    ("can I pay with apple pay", "apple_pay"), ("kan ik met bancontact betalen?", "bancontact"),
    ("can I just transfer the money", "bank_transfer"), ("kan ik het overmaken", "bank_transfer"),
    ("can I pay by direct debit", "direct_debit"), ("kan ik automatisch laten afschrijven", "direct_debit"),
    ("I'd like to set up autopay", "direct_debit"), ("machtiging aanvragen", "direct_debit"),
    ("can you just take it from my account every month", "direct_debit"),
    ("kunnen jullie het van mijn rekening afschrijven", "direct_debit"),
    ("which payment methods do you accept", "any"), ("welke betaalmethodes hebben jullie", "any"),
])
def test_questions_about_how_to_pay(text, method):
    assert asked_payment_method(text) == method


@pytest.mark.parametrize("text", [
    "I paid with iDEAL yesterday", "ik heb gisteren met ideal betaald",  # a payment told of
    "I want to pay my bill", "hoeveel moet ik betalen", "what's my balance",
    "send me the payment link",
])
def test_other_messages(text):
    assert asked_payment_method(text) is None
