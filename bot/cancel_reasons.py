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
# Countries people here move to, named instead of "abroad" ("we verhuizen naar Spanje").
_COUNTRIES = (r"(spain|spanje|portugal|france|frankrijk|germany|duitsland|belgium|belgie|"
              r"belgië|england|engeland|the uk|scotland|schotland|ireland|ierland|italy|italie|"
              r"italië|greece|griekenland|turkey|turkije|morocco|marokko|switzerland|zwitserland|"
              r"austria|oostenrijk|sweden|zweden|norway|noorwegen|denmark|denemarken|poland|"
              r"polen|the us|the usa|america|amerika|canada|australia|australie|australië|"
              r"new zealand|nieuw zeeland|thailand|indonesia|indonesie|indonesië|suriname|"
              r"curacao|curaçao|aruba|bonaire|dubai|south africa|zuid afrika)")
# A move, not a trip: "can I use my phone abroad?" is a plan question.
_MOVING_ABROAD = re.compile(
    r"\b(emigrat\w*|emigre\w*|emigratie|"
    r"(moving|move|moved|relocating|relocate|relocated|going to live|leaving|leave)\s"
    r"(\w+\s){0,3}(abroad|overseas|to another country|out of the country|the country)|"
    r"(verhuis|verhuizen|verhuizing|verhuisd|vertrek|vertrekken|ga wonen|gaan wonen)\s"
    r"(\w+\s){0,3}(naar het buitenland|naar een ander land)|"
    # a country only with a word for moving house: "leaving for Spain" may be a holiday
    rf"(moving|move|moved|relocating|relocate|relocated|going to live)\s(\w+\s){{0,3}}"
    rf"to {_COUNTRIES}|"
    rf"(verhuis|verhuizen|verhuizing|verhuisd|ga wonen|gaan wonen)\s(\w+\s){{0,3}}"
    rf"naar {_COUNTRIES}|"
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


_THREAT = re.compile(
    r"\bor (else )?(i will |i'll |ill |i )(leave|go|cancel|switch|walk|quit)\b|"
    r"\bor (i'm|im|i am) (leaving|gone|out|off|cancelling|canceling|done)\b|"
    r"\b(i'll|ill|i will|going to|gonna) (leave|cancel|switch provider|go elsewhere)\b|"
    r"\banders (zeg ik op|ga ik weg|stap ik over|ben ik weg|vertrek ik|ben ik vertrokken)\b|"
    r"\bik (zeg|stap) (op|over)\b|\bik ga weg\b")


def threatens_to_leave(text: str) -> bool:
    """"Give me €100 credit or I leave", "korting anders zeg ik op": a discount asked with a
    threat to leave, which the classifier reads as a discount request only."""
    return bool(_THREAT.search(plain_words(text)))
