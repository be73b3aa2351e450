"""A customer saying a payment was made, told apart from other payment messages."""
import pytest

from bot.payment_claims import (asks_about_paying_late, claims_double_charge, disputes_late_fee,
                                paid_instantly, says_already_paid, wants_to_pay_in_full,
                                pays_a_part, wants_to_pay_in_parts)


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


@pytest.mark.parametrize("text, disputed", [
    ("the late fee, I paid on time", True), ("please remove the late fee", True),
    ("I was charged a late fee but I paid before the due date", True),
    ("die boete klopt niet, ik heb op tijd betaald", True),
    ("de aanmaningskosten zijn onterecht", True),
    # what the fee is, or no fee at all, is no dispute
    ("why is there a late fee", False), ("what is this late payment fee", False),
    ("that's fine, I paid on time", False), ("I already paid", False),
])
def test_a_late_fee_said_to_be_wrong(text, disputed):
    assert disputes_late_fee(text) is disputed


@pytest.mark.parametrize("text, double", [
    ("you charged me twice", True), ("I was billed twice this month", True),
    ("why was I charged twice", True), ("there are two debits from you on my bank statement", True),
    ("I paid twice by mistake", True), ("this is a disgrace, you took my money twice", True),
    ("I got two bills this month", True), ("double charged again!", True),
    ("ik ben twee keer afgeschreven", True), ("jullie hebben dubbel geïncasseerd", True),
    ("waarom is er twee keer geld afgeschreven", True), ("ik heb twee facturen gekregen", True),
    ("dubbele afschrijving deze maand", True),
    ("Jullie hebben deze maand 2x geld van mijn rekening afgeschreven!", True),
    ("ik heb deze maand 2 facturen gekregen, hoe kan dat?", True),
    ("why is my bill double what it was", False),  # a higher bill: explained, not traced
    ("I already paid", False), ("can I pay in two instalments", False),
    ("kan ik in twee keer betalen", False), ("why is my bill higher", False),
])
def test_a_double_charge_told_apart(text, double):
    assert claims_double_charge(text) is double


@pytest.mark.parametrize("text, late", [
    ("how much is the late fee if I pay late?", True), ("what happens if I pay late", True),
    ("what if I miss the due date", True), ("krijg ik een boete als ik te laat betaal", True),
    ("when is my bill due", False), ("wanneer moet ik betalen", False),
])
def test_a_question_about_paying_late(text, late):
    assert asks_about_paying_late(text) is late


@pytest.mark.parametrize("text, in_full", [
    ("and can I pay the rest all at once now?", True),
    ("I want to pay off everything today, not in instalments", True),
    ("ik wil alles in één keer betalen", True), ("kan ik het hele bedrag ineens betalen", True),
    # not able to: the arrangement is what they ask for
    ("I need a payment plan, I can't pay everything at once", False),
    ("ik kan niet alles in een keer betalen", False), ("can I pay in 3 instalments", False),
])
def test_paying_in_full_told_apart_from_an_arrangement(text, in_full):
    assert wants_to_pay_in_full(text) is in_full


@pytest.mark.parametrize("text, in_parts", [
    ("kan ik afbetalen?", True), ("mag ik het in stukjes betalen", True),
    ("can I pay it bit by bit", True), ("I'd like to pay in parts", True),
    ("ik wil het hele bedrag afbetalen", False),  # all of it: paying, not an arrangement
    ("can I pay my bill", False), ("ik wil mijn openstaande saldo aflossen", False),
])
def test_paying_in_parts_told_apart_from_paying_now(text, in_parts):
    assert wants_to_pay_in_parts(text) is in_parts


@pytest.mark.parametrize("text, part", [
    ("send me a link to pay this month's instalment", True),
    ("I want to pay my first instalment now", True), ("kan ik de volgende termijn betalen", True),
    ("ik wil mijn eerste termijn nu betalen", True),
    ("can I pay in more instalments?", False), ("can I pay in 3 instalments", False),
    ("I need a payment plan", False), ("can I change my instalments", False),
])
def test_paying_a_part_told_apart_from_asking_for_an_arrangement(text, part):
    assert pays_a_part(text) is part
