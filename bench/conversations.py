"""Scripted conversations for the load runs: what customers really do, turn by turn.

Each turn is (text, check): `check` is a word one of the replies must contain (case-insensitive,
any of `|`-separated alternatives), so a run that "answers" with an apology or the wrong flow
counts as an error instead of as a fast turn. Scripts end politely; a conversation never
locks an account (only correct factors are given).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from bench.stack import Customer


@dataclass(frozen=True)
class Turn:
    text: str
    expect: str = ""  # "a|b": one reply must contain a or b (lowercase); "" = any reply


def _dob(customer: Customer, style: int) -> str:
    day = customer.date_of_birth
    return [f"{day:%d-%m-%Y}", f"{day:%d/%m/%Y}", f"{day:%Y-%m-%d}"][style % 3]


def billing_script(customer: Customer, rng: random.Random) -> list[Turn]:
    """Greet, ask the balance, verify, why is my bill higher, plan preview, decline, bye."""
    factor = customer.postcode if rng.random() < 0.3 else _dob(customer, rng.randrange(3))
    if customer.language == "nl":
        return [
            Turn(rng.choice(["hoi", "hallo", "goedemiddag"]), "assistent"),
            Turn(rng.choice(["wat is mijn saldo", "hoeveel moet ik nog betalen?"]), "klantnummer"),
            Turn(customer.account_number, "geboortedatum|postcode"),
            Turn(factor, "geverifieerd"),
            Turn(rng.choice(["waarom is mijn rekening hoger", "waarom is mijn factuur zo hoog?"]),
                 "factuur|rekening"),
            Turn(rng.choice(["ik wil een ander abonnement", "ik wil overstappen naar een ander abonnement"]),
                 "abonnement"),
            Turn(rng.choice(["nee", "nee, toch niet"]), ""),
            Turn(rng.choice(["bedankt, doei", "dank je wel"]), ""),
        ]
    return [
        Turn(rng.choice(["hi", "hello", "good afternoon"]), "assistant"),
        Turn(rng.choice(["what is my balance?", "how much do I owe?"]), "account number"),
        Turn(customer.account_number, "date of birth|postcode"),
        Turn(factor, "verified"),
        Turn(rng.choice(["why is my bill higher?", "why is my bill so high this month"]),
             "bill"),
        Turn(rng.choice(["I want to change my plan", "can I switch to another plan?"]), "plan"),
        Turn(rng.choice(["no", "no thanks"]), ""),
        Turn(rng.choice(["thanks, bye", "thank you"]), ""),
    ]


# The stock `rasa init` bot (moodbot): the same number of turns, each answered by its stories.
STOCK_SCRIPTS = [
    [Turn("hi", "how are you"), Turn("I am sad", "did that help"), Turn("yes", "great"),
     Turn("bye", "bye"), Turn("hello", "how are you"), Turn("great", "great"),
     Turn("are you a bot?", "bot"), Turn("goodbye", "bye")],
    [Turn("hey there", "how are you"), Turn("very bad", "did that help"), Turn("no", "bye"),
     Turn("hi", "how are you"), Turn("I am feeling very good", "great"),
     Turn("am I talking to a human?", "bot"), Turn("good morning", "how are you"),
     Turn("see you later", "bye")],
]


def stock_script(rng: random.Random) -> list[Turn]:
    return rng.choice(STOCK_SCRIPTS)
