"""A request to change personal or account details, told apart from other requests."""
import pytest

from bot.account_details import asks_to_change_details


@pytest.mark.parametrize("text", [
    "can you update my address", "my phone number is different now", "e-mail wijzigen",
    "I'd like to change my password", "nieuw adres", "can I change my email address",
    "ik ben verhuisd", "de naam op het contract moet anders", "my name is spelled wrong",
    "put the account in my husband's name", "zet de rekening op naam van mijn vrouw",
    "I need to change my bank account number", "ik heb een nieuwe bankrekening",
])
def test_requests_to_change_details(text):
    assert asks_to_change_details(text)


@pytest.mark.parametrize("text", [
    "I want to change my plan", "what's my account number", "switch me to basic",
    "wat is mijn saldo", "what's the weather", "ik wil een ander abonnement",
    "where do I find my account number", "can I pay by card",
    "wat is jullie rekeningnummer", "which bank account do I transfer to",
])
def test_other_messages(text):
    assert not asks_to_change_details(text)


@pytest.mark.parametrize("text", ["sorry wrong number", "I have a new account number?",
                                  "verkeerd nummer"])
def test_a_wrong_account_number_is_no_request_to_change_details(text):
    assert not asks_to_change_details(text)
