"""Plan names we do not sell ("the Gold plan", "een studentenabonnement"), in English or
Dutch, and whether a message is about plans at all.

The `plan` entity knows only our own plans, so "I want the Gold plan" used to get "Which plan
would you like?" as if nothing had been named. Names that other providers give their tiers
count anywhere in a plan question; words that are also plain adjectives ("a light user",
"pro rata") only right before a word for plan ("the family plan", "zakelijk abonnement").
"""
import re

from bot.language import plain_words

_TIERS = r"(gold|golden|silver|bronze|platinum|diamond|titanium|goud|zilver|brons|platina)"
_KINDS = (r"(family|student|students|business|senior|seniors|youth|kids|starter|lite|light|pro|"
          r"max|ultra|ultimate|elite|gezin|gezins|familie|studenten|zakelijk|zakelijke|"
          r"jongeren|kinder)")
_PLAN = r"(plan|plans|abonnement|abonnementen|pakket|pakketten|bundel|bundle|package|tariff)"
# How a name is said back ("a plan called Family"), for the forms that only occur joined to
# or in front of the word for plan.
_SAID_AS = {"golden": "gold", "students": "student", "seniors": "senior", "gezins": "gezin",
            "zakelijke": "zakelijk", "studenten": "student", "kinder": "kinderen"}
_TIER_ANYWHERE = re.compile(rf"\b{_TIERS}(s|en)?{_PLAN}?\b")
_KIND_BEFORE_PLAN = re.compile(rf"\b{_KINDS}\s?{_PLAN}\b")


def unknown_plan_name(text: str) -> str | None:
    """The plan name the customer used that is none of ours ("Gold"), or None."""
    words = plain_words(text)
    found = _TIER_ANYWHERE.search(words) or _KIND_BEFORE_PLAN.search(words)
    if not found:
        return None
    name = found.group(1)
    return _SAID_AS.get(name, name).capitalize()


_ABOUT_PLANS = re.compile(rf"{_PLAN}|subscriptions?|data|\d* ?gb\b|"
                          r"\b(basic|standard|plus|premium|basis|standaard)\b")
_PAYMENT_PLAN = re.compile(r"\b(payment|betalings|betaal) ?(plan|plans|plannen|planning)\b")


def mentions_plans(text: str) -> bool:
    """False for "what are my options?" or "which payment plans are there?", which the
    classifier reads as a plan question even while the bot waits for the choice of a
    payment arrangement."""
    return bool(_ABOUT_PLANS.search(_PAYMENT_PLAN.sub("", plain_words(text))))
