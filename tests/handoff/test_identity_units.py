"""What an agent's identity check reads from the customer's messages (nothing is checked here:
the billing core does that)."""
import pytest

from handoff.services.identity import Claimed, claimed_identity


@pytest.mark.parametrize("texts, claimed", [
    (["my account number is 1000-0003", "born 30-01-1978"], Claimed("10000003", "1978-01-30")),
    (["10000001 12041985"], Claimed("10000001", "1985-04-12")),
    (["10000001", "I was born on the 12th of April 1985"], Claimed("10000001", "1985-04-12")),
    (["acct 10 00 00 02", "postcode 3511 cd"], Claimed("10000002", None, "3511CD")),
    (["10000002", "3511 cd"], Claimed("10000002", None, "3511CD")),
    (["10000002 and my postcode is 3511CD"], Claimed("10000002", None, "3511CD")),
    # the newest wins; a date of birth is preferred to a postcode
    (["10000001 01-01-1990", "sorry: 12-04-1985, 1012AB"], Claimed("10000001", "1985-04-12")),
    (["I used 1500 MB abroad", "12041985"], Claimed(None, "1985-04-12")),
    (["why is my bill higher?", "it went up by 30%"], Claimed()),
])
def test_claimed_identity(texts, claimed):
    assert claimed_identity(texts) == claimed
