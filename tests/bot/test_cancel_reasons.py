"""Reasons to cancel that no offer changes, told apart from threats and complaints."""
import pytest

from bot.cancel_reasons import unfixable_reason


@pytest.mark.parametrize("text, reason", [
    ("my husband passed away, please cancel his account", "bereavement"),
    ("My dad died last month and this was his contract", "bereavement"),
    ("the account holder is deceased", "bereavement"),
    ("mijn moeder is overleden, ik wil het abonnement opzeggen", "bereavement"),
    ("mijn vader is gestorven", "bereavement"),
    ("I'm moving abroad so I want to cancel", "moving_abroad"),
    ("we're emigrating to Australia", "moving_abroad"),
    ("moving to another country next month", "moving_abroad"),
    ("ik ga emigreren, ik wil opzeggen", "moving_abroad"),
    ("we verhuizen naar het buitenland", "moving_abroad"),
    ("we gaan in het buitenland wonen", "moving_abroad"),
    ("I'm relocating overseas for work", "moving_abroad"),
    ("we verhuizen volgende maand naar het buitenland, ik wil opzeggen", "moving_abroad"),
    ("we verhuizen volgende maand naar Spanje dus ik wil opzeggen", "moving_abroad"),
    ("we are moving to Portugal in March, cancel my contract", "moving_abroad"),
])
def test_reasons_no_offer_changes(text, reason):
    assert unfixable_reason(text) == reason


@pytest.mark.parametrize("text", [
    "this is too expensive, I'm cancelling", "my router died, I want to cancel",
    "I will die before I pay this", "cancel it, the service is dead slow",
    "I'm moving to another provider", "ik zeg op, te duur", "we verhuizen naar Utrecht",
    # a trip is no move
    "can I use my phone abroad", "I'm travelling overseas next week, does my plan work there",
    "werkt mijn abonnement in het buitenland", "ik ga op vakantie naar het buitenland",
    "we vertrekken morgen naar Spanje, werkt mijn abonnement daar",
    "I'm leaving for France tomorrow, cancel roaming",
])
def test_threats_and_complaints_are_no_such_reason(text):
    assert unfixable_reason(text) is None
