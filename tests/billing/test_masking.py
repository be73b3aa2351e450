"""What staff and logs see of a customer's words: every date of birth and postcode the bot
accepts as a verification factor is hidden; account numbers, amounts and times are not."""
import pytest

from billing_core.security import mask_sensitive, parse_date_of_birth

DATE_MASK, POSTCODE_MASK = "••-••-••••", "•••• ••"


@pytest.mark.parametrize("date_of_birth", [
    # the forms tests/billing/test_verification.py verifies with
    "1985-04-12", "12-04-1985", "12/04/1985", "12 april 1985", "April 12, 1985", "12041985",
    "19850412", "12 april 85", "12-04-85", "12/4/85", "12 april '85",
    "born on the 12th of April 1985", "April 12th 1985", "dob: 12.04.1985",
    "geboren op 12 april 1985", "12e april 1985",
    # and the ones exploratory testing found unmasked
    "03111990", "3 november 90", "3 nov 90", "november 3rd, '90", "April the 12th, 1985",
])
def test_every_date_of_birth_the_bot_accepts_is_masked(date_of_birth):
    parse_date_of_birth(date_of_birth)  # the bot reads it as a date of birth
    masked = mask_sensitive(date_of_birth)
    assert DATE_MASK in masked and not any(c.isdigit() for c in masked), masked


@pytest.mark.parametrize("text, masked", [
    ("1012AB", POSTCODE_MASK), ("1012 ab", POSTCODE_MASK), ("1012ab", POSTCODE_MASK),
    (" 1012 AB ", POSTCODE_MASK),
    ("10000002 3511CD", f"10000002 {POSTCODE_MASK}"),
    ("I live at 1012 AB Amsterdam", f"I live at {POSTCODE_MASK} Amsterdam"),
    ("mijn postcode is 1012 ab", f"mijn postcode is {POSTCODE_MASK}"),
    ("postcode: 3511 cd", f"postcode: {POSTCODE_MASK}"),
])
def test_postcodes_are_masked(text, masked):
    assert mask_sensitive(text) == masked


@pytest.mark.parametrize("text", [
    "10000001", "my account number is 10000004", "1000 0002",  # agents need the account
    "I paid €53.40 on 3 december", "on 3 december 50 euros went off my account",
    "3 december 12,50", "€ 1234,56", "1500 euro is too much", "EUR 1200",
    "call me on 1 may 10:30", "in 1985 is mijn contract begonnen", "born in 1990 en zo",
    "0612345678", "/inform{\"arrangement_option\": \"instalments_6\"}",
])
def test_account_numbers_amounts_and_times_stay_readable(text):
    assert mask_sensitive(text) == text


def test_an_account_number_and_a_date_of_birth_in_one_message_are_told_apart():
    """Before, the two read as one card number: the account hidden, the birth year shown."""
    assert mask_sensitive("10000001 12041985") == f"10000001 {DATE_MASK}"
    assert mask_sensitive("10000001 12-04-1985") == f"10000001 {DATE_MASK}"


def test_card_numbers_keep_their_last_four_digits():
    assert mask_sensitive("card 4111 1111 1111 1111, born April 12, 1985") == \
        f"card ••••1111, born {DATE_MASK}"
    assert mask_sensitive("4111-1111-1111-1111") == "••••1111"
