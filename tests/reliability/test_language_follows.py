"""The reply language follows the customer through a whole conversation.

Found by the soak test: a Dutch customer verifying with postcode "8216AN" was answered in
English from then on ("an" read as an English word). The same function decides inside Rasa
(bot/rasa_run.py) and on the action server, so both are covered by the unit check; the
conversation check runs through the real stack.
"""
import pytest

from bot.language import detect_language, language_slot_update
from tests.reliability.helpers import Web


@pytest.mark.parametrize("postcode", ["8216AN", "1012 AT", "3511by", "5611 IS", "2011ON", "9999 TO"])
def test_a_postcode_says_nothing_about_the_language(postcode):
    assert detect_language(postcode) is None
    assert language_slot_update(postcode, "nl") is None
    assert detect_language(f"mijn postcode is {postcode}") == "nl"


@pytest.mark.parametrize("text, current, earlier, update", [
    # a word of the other language does not move a customer who has written in theirs
    ("thanks!", "nl", ["wat is mijn saldo"], None),
    ("wat", "en", ["what do I owe you"], None),
    ("ok thanks", "nl", ["10000002", "/affirm", "ik wil een regeling"], None),
    # two words do, unless they are only thanks, a greeting or a goodbye
    ("can you explain", "nl", ["wat is mijn saldo"], "en"),
    ("wat is mijn saldo", "en", ["what do I owe you"], "nl"),
    ("thank you so much", "nl", ["wat is mijn saldo"], None),
    ("dank je", "en", ["what do I owe you"], None),
    ("Dank je wel!", "en", ["what do I owe you"], None),
    ("ok bedankt hoor, fijne dag", "en", ["what do I owe you"], None),
    ("goodbye and thanks for your help", "nl", ["wat is mijn saldo"], None),
    ("thanks, can you explain the bill", "nl", ["wat is mijn saldo"], "en"),
    ("dank je, maar waarom is mijn rekening zo hoog", "en", ["what do I owe you"], "nl"),
    # a language only the browser or the profile chose is left on one word
    ("hallo", "en", [], "nl"),
    ("hallo", "en", ["10000002", "/greet"], "nl"),
    # "hi" and "hey" open Dutch chats too: they move nothing
    ("Hi!", "nl", [], None),
    ("hey", "nl", [], None),
    ("hi", None, [], None),
    ("hello", "nl", [], "en"),
])
def test_one_word_moves_only_a_language_the_customer_has_not_written_in(text, current,
                                                                       earlier, update):
    assert language_slot_update(text, current, earlier) == update


@pytest.mark.parametrize("text, current, earlier, update", [
    # a language asked for by name is taken at once, even in the other language's words
    ("can you speak dutch?", "en", ["what do I owe you"], "nl"),
    ("in Dutch please", "en", ["what do I owe you", "10000002"], "nl"),
    ("kunnen we in het Engels verder", "nl", ["wat is mijn saldo"], "en"),
    ("English please", "nl", ["wat is mijn saldo"], "en"),
    ("do you speak english", "en", [], None),  # already English
    # naming a language is no request
    ("I'm Dutch and my bill is wrong", "en", ["hello"], None),
    ("ik ben Nederlander", "nl", [], None),
    ("can you say that in Dutch?", "en", ["what do I owe you"], "nl"),
    ("how do you say thank you in Dutch?", "en", ["hello"], None),
    ("hoe zeg je bedankt in het Engels", "nl", ["hallo"], None),
    ("wat betekent 'due date' in het Engels", "nl", ["hallo"], None),
    ("translate this into Dutch please", "en", ["hello"], None),
    # saying one does not speak a language asks for nothing ("hoi" alone would be Dutch)
    ("hoi! sorry, I do not speak Dutch well. can you help me with my bill?", "en", [], None),
    ("ik spreek geen Engels", "nl", [], None),
    ("can't you speak Dutch?", "en", ["hello"], "nl"),
])
def test_a_language_asked_for_by_name_is_taken_at_once(text, current, earlier, update):
    assert language_slot_update(text, current, earlier) == update


def test_a_dutch_customer_verifying_by_postcode_stays_in_dutch(stack):
    customer = next(c for c in stack.customers if c.language == "nl")
    web = Web(stack)
    web.say("goedemiddag")
    web.say("wat is mijn saldo")
    web.say(customer.account_number)
    wrong = web.text("1234AN")  # a wrong postcode ending in an English word
    assert "komen niet overeen" in wrong, wrong
    web.say(customer.account_number)  # a failed attempt forgets a typed account number
    right = web.text(customer.postcode)
    assert "geverifieerd" in right and "saldo" in right, right
