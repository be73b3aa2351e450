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


_ADVICE = re.compile(
    r"\b(best|right|cheapest|ideal|good) (plan|one|option|deal|choice|abonnement|pakket)? ?for me\b|"
    r"\b(fits|suits|suit|fit) (me|my|how i)\b|\brecommend|\badvi[cs]e\b|"
    r"\bshould i (be on|take|choose|pick|get|go for|have)\b|\bwhich (plan|one) should\b|"
    r"\bpast (het )?(best )?bij (mij|me|mijn)\b|\bpast het best\b|\braad\w* (je|u|jij) (me |mij )?aan\b|"
    r"\baanraden\b|\badvies\b|\bwelk\w* (abonnement|pakket)?\s?(moet|zou) ik\b|"
    r"\b(voor mij|bij mij) het (best|voordeligst|goedkoopst)|"
    # "am I paying too much?", "betaal ik niet te veel?", "a cheaper plan for me?"
    r"\b(am i|are we) (paying|pay) too much\b|\bbetaal ik (niet )?(te veel|teveel)\b|"
    r"\bcheaper (plan|one|deal|option)? ?for me\b|\bgoedkoper\w* (abonnement|pakket)? ?voor mij\b")


def asks_plan_advice(text: str) -> bool:
    """"Which plan is best for me?", "welk abonnement past bij mij?": the advice that needs
    the customer's own data use, not the price list."""
    return bool(_ADVICE.search(plain_words(text)))


_CURRENT = re.compile(
    r"\b(what|which) (plan|subscription|package) (am i on|am i|do i have|i'm on|im on|i have)\b|"
    r"\bmy (current|present|existing) (plan|subscription)\b|\bwhat am i on\b|"
    r"\b(welk|wat voor( een)?) (abonnement|pakket) (heb ik|zit ik|gebruik ik)\b|"
    r"\bmijn huidige (abonnement|pakket)\b|\bop welk (abonnement|pakket) (zit|sta) ik\b")


def asks_current_plan(text: str) -> bool:
    """"What plan am I on now?", "welk abonnement heb ik?": the customer's own plan."""
    return bool(_CURRENT.search(plain_words(text)))


_DATA_QUESTION = re.compile(r"\b(\d* ?gb|data|enough|genoeg|voldoende|megabytes?|gigabytes?)\b")


def asks_about_data(text: str) -> bool:
    """"Is 5 GB enough for me?", "is dat genoeg data?": how the plan fits their data use."""
    return bool(_DATA_QUESTION.search(plain_words(text)))


_UNLIMITED = re.compile(r"\b(unlimited|onbeperkt|onbeperkte|limitless|no (data )?limit|"
                        r"geen (data)?limiet|zonder limiet)\b")


def plan_described(text: str) -> str | None:
    """The plan a description names: "the unlimited plan" is Premium, our only plan without
    a data limit."""
    return "premium" if _UNLIMITED.search(plain_words(text)) else None


_DATA_USE = re.compile(
    r"\bhow (many|much) (gb|gigs|gigabytes?|data)( have i| did i| do i| i)?( already)? "
    r"(used|use|using|gebruikt)\b|\b(my|the) data (usage|use)\b|\bmy usage\b|"
    r"\bhoeveel (data|gb|mb)\b.*\b(verbruikt|gebruikt|gebruik)\b|\bmijn dataverbruik\b")


def asks_data_use(text: str) -> bool:
    """"How many GB have I used this month?", "mijn dataverbruik": the data used, which the
    classifier reads as a balance or plans question."""
    return bool(_DATA_USE.search(plain_words(text))) and not asks_plan_advice(text)
