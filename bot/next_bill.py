"""Questions about what comes next, which the classifier reads as a balance, due-date or bill
question: the next bill ("how much will my next bill be?", "wat ga ik volgende maand
betalen?"), answered with an estimate of it, not the open balance; and when something agreed
starts ("vanaf wanneer gaat dat in?")."""
import re

from bot.language import plain_words

_NEXT_BILL = re.compile(
    r"\bnext (bill|invoice|statement|month's bill|months bill)\b|"
    r"\b(bill|invoice|pay|paying|cost) (next month|from now on)\b|"
    r"\bhow much (will|do|would|am) i (pay|be paying|paying)( then| now)? (next month|per month|"
    r"a month|each month|every month|from now on|after (that|this))\b|"
    r"\bwhat will (i pay|my bill be|i be paying)\b|\bmy new (monthly )?(price|amount|bill)\b|"
    r"\bvolgende (factuur|rekening|maandfactuur)\b|"
    r"\bhoeveel (betaal|ga) ik (dan |nu )?(volgende maand|per maand|voortaan|straks)\b|"
    r"\bwat (ga|moet) ik (dan |nu )?(volgende maand|voortaan|straks|per maand) betalen\b|"
    r"\b(mijn )?nieuwe (maand)?bedrag\b")


def asks_next_bill(text: str) -> bool:
    return bool(_NEXT_BILL.search(plain_words(text)))


_STARTS = re.compile(
    r"\bvanaf wanneer\b|\bwanneer gaat (dat|het|die|deze|de \w+) in\b|"
    r"\bwanneer (begint|start) (dat|het|die|de \w+)\b|"
    r"\bwhen (does|will) (it|that|this|the \w+) (start|begin|kick in|take effect|apply|go through)\b|"
    r"\bfrom when\b|\bstarting when\b")


def asks_when_it_starts(text: str) -> bool:
    return bool(_STARTS.search(plain_words(text)))
