"""Reasons to cancel that no discount changes, in English or Dutch.

Someone whose partner died, or who moves abroad, is not threatening to leave: a retention
offer to them is tone-deaf. These go to a colleague with condolences or good wishes instead.
"""
import re
from typing import Optional

from bot.language import plain_words

_BEREAVEMENT = re.compile(
    r"\b(passed away|passed on|deceased|funeral|overleden|overlijden|overlijdensakte|"
    r"begrafenis|crematie|wijlen)\b")
# "died" only with a person: "my router died" is a complaint.
_DIED = re.compile(r"\b(died|death|dying|gestorven|sterven|stierf)\b")
_PERSON = re.compile(
    r"\b(husband|wife|partner|father|mother|dad|mum|mom|son|daughter|brother|sister|"
    r"grandmother|grandfather|grandma|grandpa|gran|aunt|uncle|he|she|parent|parents|"
    r"man|vrouw|vader|moeder|pa|ma|mam|pap|zoon|dochter|broer|zus|opa|oma|tante|oom|hij|zij|"
    r"echtgenoot|echtgenote|ouders)\b")
# A move, not a trip: "can I use my phone abroad?" is a plan question.
_MOVING_ABROAD = re.compile(
    r"\b(emigrat\w*|emigre\w*|emigratie|"
    r"(moving|move|moved|relocating|relocate|relocated|going to live|leaving|leave)\s"
    r"(\w+\s)?(abroad|overseas|to another country|out of the country|the country)|"
    r"(verhuis|verhuizen|verhuizing|verhuisd|vertrek|vertrekken|ga wonen|gaan wonen)\s"
    r"(\w+\s)?(naar het buitenland|naar een ander land)|"
    r"(naar het buitenland|in het buitenland|naar een ander land)\s"
    r"(verhuis|verhuizen|verhuisd|vertrek|vertrekken|wonen|gaan wonen))\b")


def unfixable_reason(text: str) -> Optional[str]:
    """'bereavement' or 'moving_abroad' when the message gives that reason, else None."""
    cleaned = plain_words(text)
    if _BEREAVEMENT.search(cleaned) or (_DIED.search(cleaned) and _PERSON.search(cleaned)):
        return "bereavement"
    if _MOVING_ABROAD.search(cleaned):
        return "moving_abroad"
    return None
