"""Asides told apart from answers: a pause from a goodbye or a no, a closing in a thanks, a
question about the check from a bill question."""
import pytest

from bot.asides import (asks_to_repeat, asks_why_verification, corrects_account_number,
                        demands_a_fix, disagrees, is_closing, is_pause, lacks_account_number, reports_fault,
                        sounds_upset)


@pytest.mark.parametrize("text", [
    "wait", "Hang on", "hold on a sec", "one sec", "1 sec please", "give me a minute",
    "gimme a sec", "bear with me", "ok wait", "sorry, one moment", "wait a minute",
    "just a second, let me find it", "wait let me grab my bill", "Hold on, I'll get my card",
    "i'm looking for it", "let me check", "Let me look it up",
    "momentje", "moment graag", "wacht even", "wacht even, ik zoek mijn klantnummer",
    "even zoeken", "ff kijken", "een ogenblikje", "even geduld aub", "ik pak mijn factuur erbij",
    "ik zoek het even op", "ik ga het even opzoeken", "ik ben even aan het zoeken",
    "Wacht, ik pak mijn pas",
    "hmm", "hmmm let me think", "uhm, let me see", "even denken", "ik denk even na",
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
    # confusion or a thought with content is no pause
    "huh", "hmm that's expensive", "let me think about switching to basic",
    "ik denk dat mijn rekening te hoog is",
])
def test_not_pauses(text):
    assert not is_pause(text)


@pytest.mark.parametrize("text", [
    "why do you need that?", "why do you need my date of birth", "what do you need it for",
    "why should I give you that", "how come you want to know", "Why is that necessary",
    "waarom heeft u dat nodig", "waarom wil je mijn geboortedatum weten", "waarvoor is dat nodig",
    "hoezo moet ik dat geven",
])
def test_questions_about_the_check(text):
    assert asks_why_verification(text)


@pytest.mark.parametrize("text", [
    "why is my bill so high", "why do I have to pay so much", "waarom is mijn factuur hoger",
    "why was I charged a fee", "what do I need to do", "10000001", "I need a person",
    "waarom moet ik zoveel betalen",
])
def test_other_questions_are_not_about_the_check(text):
    assert not asks_why_verification(text)


@pytest.mark.parametrize("text, closing", [
    ("great thanks, bye", True), ("ok thanks that's all", True), ("thanks, that's everything", True),
    ("thank you, have a nice day", True), ("bedankt, dat was het", True), ("top, dank je, doei", True),
    ("dank u wel, verder niks", True),
    ("thanks", False), ("thank you so much, that helps", False), ("bedankt voor de uitleg", False),
    ("thanks, and what about my due date?", False),
    ("thank you, that's it for the bill, now what about my plan?", False),
    ("thanks that's all for the balance but how do I pay it", False),
    ("bedankt, dat was het voor de factuur, maar wanneer moet ik betalen", False),
    ("thanks, that's all for now, bye", True), ("that's it, have a nice day and thanks again", True),
])
def test_a_closing_in_a_thanks(text, closing):
    assert is_closing(text) is closing


@pytest.mark.parametrize("text, correction", [
    ("sorry wrong number", True), ("oops that's the wrong account number", True),
    ("wacht, verkeerd nummer", True), ("verkeerd klantnummer", True), ("ik heb me vertypt", True),
    ("I made a typo", True),
    ("no", False), ("I don't have my number", False), ("wrong bill", False),
    ("the amount is wrong", False),
])
def test_the_account_number_given_was_a_mistake(text, correction):
    assert corrects_account_number(text) is correction


@pytest.mark.parametrize("text, disputed", [
    ("no that's wrong", True), ("that can't be right", True), ("no, that's not good enough", True),
    ("I don't agree", True), ("that makes no sense", True), ("nee, dat klopt niet", True),
    ("dat klopt helemaal niet", True), ("daar heb ik niks aan", True), ("dat is onzin", True),
    ("no", False), ("no thanks", False), ("nope, that's all", False), ("no i'm good", False),
    ("nee hoor", False), ("nee dank je", False), ("no that's it", False),
])
def test_disagreeing_with_what_was_said(text, disputed):
    assert disagrees(text) is disputed


@pytest.mark.parametrize("text, repeat", [
    ("say that again", True), ("can you repeat that please", True), ("come again?", True),
    ("Sorry, can you say that again?", True), ("wat zei u?", True),
    ("kunt u dat herhalen?", True), ("repeat please", True), ("sorry?", True), ("wat?", True),
    ("sorry", False), ("sorry, my mistake", False),
    ("can you repeat the payment", False), ("again the bill is wrong", False),
    ("nog een vraag", False), ("ik wil nog eens betalen", False),
])
def test_asking_to_hear_the_last_reply_again(text, repeat):
    assert asks_to_repeat(text) is repeat


@pytest.mark.parametrize("text, fault", [
    ("my internet is down since yesterday", True), ("I have no internet", True),
    ("er is een storing", True), ("mijn internet werkt niet", True), ("ik heb geen bereik", True),
    ("my bill is wrong", False), ("your service is terrible", False),
    ("I want to cancel my service", False), ("can I change my phone number", False),
])
def test_a_fault_told_apart_from_a_bill_complaint(text, fault):
    assert reports_fault(text) is fault


@pytest.mark.parametrize("text, lacking", [
    ("hoi ik wil mijn saldo weten maar ik heb mijn klantnummer niet bij de hand", True),
    ("waar vind ik mijn klantnummer?", True), ("where do I find my account number?", True),
    ("I forgot my customer number", True),
    ("my account number is 10000003", False), ("I want to change my bank account number", False),
    ("mijn klantnummer is 10000002", False),
])
def test_not_having_the_account_number_at_hand(text, lacking):
    assert lacks_account_number(text) is lacking


@pytest.mark.parametrize("text, upset", [
    ("WHY IS MY BILL SO HIGH", True),
    ("this is ridiculous!!!", True),
    ("I'm sick of these charges", True),
    ("wat een oplichting", True),
    ("ik ben het zat met die facturen", True),
    ("WAAROM IS MIJN REKENING ZO HOOG", True),
    ("why is my bill so high?", False),
    ("OK", False),
    ("I have KPN and BTW a question", False),
    ("10000001 1234AB", False),
    ("is this a joke", True),
    ("thanks!", False),
])
def test_anger_told_apart_from_a_plain_question(text, upset):
    assert sounds_upset(text) is upset


@pytest.mark.parametrize("text, demand", [
    ("so what are you going to do about it", True), ("What are you gonna do about this?", True),
    ("how will you put this right", True), ("wat gaan jullie er nou aan doen?", True),
    ("wat doen jullie daaraan", True), ("hoe gaan jullie dit oplossen", True),
    ("what can you do", False), ("what are you doing today", False),
    ("wat kunt u voor mij doen", False), ("what do you do about late payments", False),
])
def test_asking_what_will_be_done_about_the_problem(text, demand):
    assert demands_a_fix(text) is demand
