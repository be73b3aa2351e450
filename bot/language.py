"""English or Dutch, from the words a customer writes.

The `language` slot follows this on every message (a custom slot mapping,
`action_detect_language`: answered inside Rasa by bot/rasa_run.py, by the action server
otherwise), so replies follow the customer on every channel. Bare values ("10000001",
"ok") say nothing and leave the slot as it was.
"""
import re
from itertools import islice
from typing import Iterable, Optional

DUTCH = set("""
ik je jij u uw mijn mn m'n me mij wat waarom hoe wanneer waar welke welk wie het de een een
niet geen wel wil wilt kan kun kunt ben bent is zijn was heb hebt heeft hebben moet moeten
mag graag bedankt dank dankje dankjewel bedankt hoi hallo goedemorgen goedemiddag
goedenavond doei dag ja jazeker nee neen klopt prima oke oké rekening factuur facturen
betalen betaling betaald bedrag saldo openstaand abonnement opzeggen stoppen klacht
medewerker mens iemand spreken praten bellen hoeveel wanneer vervaldatum termijnen
regeling uitstel korting duur duurder hoger hoog waarom omdat over van voor met op aan
dat dit er nog al ook maar dan als naar bij tot uit om zo te even ff aub alsjeblieft
alstublieft svp deze die jullie jou weer veel kosten extra maand maanden euro goedkoper
goedkoop pakket overstappen wijzigen veranderen verlagen hulp helpen ontvangen gekregen
snap begrijp snap niks echt heel erg boos ontevreden vind denk weet zeggen
""".split())

# "Hi" and "hey" open Dutch chats as often as English ones: they count for neither.
ENGLISH = set("""
i me my mine you your what why how when where which who the a an not no yes yeah yep nope
want wanna can could would should is are was were be been have has had do does did need
please pls thanks thank thx hello morning evening bye goodbye okay sure bill bills
invoice pay paid payment balance owe due amount plan plans cancel cancellation complaint
agent person human someone speak talk call how much when instalments installments
arrangement extension discount expensive higher high because about of for with on to from
that this there still also but then if at by out so just get got give know think help
charge charged fee fees month months cheaper cheap switch change upgrade downgrade
received really very angry unhappy understand account number date birth
""".split())

# Thanks, greetings and goodbyes are said in either language ("thank you so much" in a Dutch
# chat, "dank je" in an English one): made of these words only, a message moves no language
# the customer has written in.
COURTESY = set("""
thanks thank thx ty you so much very a lot cheers ok okay oke oké great nice have good day
bye goodbye hello hi hey kind regards dank je u jij wel bedankt dankje dankjewel dankuwel
hartelijk hoor heel erg fijn fijne dag doei hoi hallo top super prima vriendelijke groet groeten
and en for voor your uw the de het help hulp all alles
""".split())

# How far back a conversation is read for the language the customer writes in.
RECENT_MESSAGES = 20
_WORD = re.compile(r"[a-zA-Z\u00C0-\u024F']+")
# Dutch postcodes ("8216AN", "1012 at") say nothing about the language; their letters could
# read as an English word ("an", "at", "by"...) and flip a Dutch conversation to English.
_POSTCODE = re.compile(r"\b\d{4}\s?[a-zA-Z]{2}\b")


_PLAIN_WORD = re.compile(r"[a-z\u00C0-\u024F0-9']+")


def plain_words(text: str) -> str:
    """The message in lower case, words and numbers separated by single spaces, without
    punctuation ("Wacht even, ik zoek’t op!" -> "wacht even ik zoek't op"): what the text
    readers of bot/ match their phrases against."""
    return " ".join(_PLAIN_WORD.findall(text.lower().replace("\u2019", "'")))


_NAMES = {"nl": r"(dutch|nederlands|hollands)", "en": r"(english|engels)"}
_ASKING = (r"(speak|speaks|talk|write|continue|switch|answer|reply|spreek|spreekt|praat|praten|"
           r"schrijf|schrijven|verder|antwoord|antwoorden)")
_POLITE = r"(please|pls|graag|alsjeblieft|alstublieft|aub|svp)"
# "How do you say thanks in Dutch?" asks for a word, not for the conversation's language.
_TRANSLATING = re.compile(r"\b(translate|translated|translation|mean|means|word|words|spell|"
                          r"vertaal|vertaald|vertaling|betekent|betekenen|woord|woorden|spel|"
                          r"how (do|would|can|should) (you|i|we) say|how to say|"
                          r"hoe (zeg|zeggen|schrijf) (je|ik|u|we|jij)|hoe heet)\b")


# "I don't speak Dutch (well)", "ik spreek geen Engels": the other language is not asked for.
_NOT_SPOKEN = re.compile(r"\b(i|ik)\b.*\b(not|don't|dont|can't|cannot|niet|geen)\b")


def requested_language(text: str) -> Optional[str]:
    """The language a message asks for by name ("in Dutch please", "spreekt u Engels?",
    "Nederlands graag"), else None. Naming a language without asking for it ("I'm Dutch",
    "how do you say thanks in Dutch?", "sorry, I don't speak Dutch well") asks for nothing."""
    cleaned = plain_words(text)
    if _TRANSLATING.search(cleaned) or _NOT_SPOKEN.search(cleaned):
        return None
    for language, name in _NAMES.items():
        if (re.fullmatch(rf"(in )?(het )?{name}( {_POLITE})?( {_POLITE})?", cleaned)
                or re.search(rf"\b{_ASKING}\b.*\b{name}\b|\bin (het )?{name}\b", cleaned)):
            return language
    return None


def _lead(text: str) -> int:
    """Dutch words minus English words: > 0 leans Dutch, < 0 English."""
    words = [w.lower() for w in _WORD.findall(_POSTCODE.sub(" ", text))]
    return sum(w in DUTCH for w in words) - sum(w in ENGLISH for w in words)


def detect_language(text: str) -> Optional[str]:
    """'nl' or 'en' when the text clearly is one of them, else None."""
    return _language(_lead(text))


def _language(lead: int) -> Optional[str]:
    return "nl" if lead > 0 else "en" if lead < 0 else None


def language_slot_update(text: str, current: Optional[str],
                         earlier: Iterable[str] = ()) -> Optional[str]:
    """The `language` slot's new value after a customer message, or None to leave it as it is.

    `earlier` are the customer's earlier messages, newest first. A language the customer has
    written in is left only for a message with two more words of the other one (Dutch
    customers write "thanks", English ones "wat") that is more than thanks, a greeting or a
    goodbye ("thank you so much", "dank je wel"). A language that came only from
    the browser or the profile is left on one word ("hallo" on an English browser).
    Typed intent syntax ("/greet") says nothing about the language. Used by the action server's
    `action_detect_language` and, without the round trip, inside Rasa (bot/rasa_run.py).
    """
    if text.startswith("/"):
        return None
    asked = requested_language(text)
    if asked:  # asked for by name: that language, whatever the words around it
        return asked if asked != current else None
    lead = _lead(text)
    language = _language(lead)
    if not language or language == current:
        return None
    if current and (abs(lead) < 2 or _courtesy_only(text)) and _has_written_in(current, earlier):
        return None
    return language


def _courtesy_only(text: str) -> bool:
    return all(word in COURTESY for word in plain_words(text).split())


def _has_written_in(language: str, earlier: Iterable[str]) -> bool:
    return any(detect_language(text) == language
               for text in islice(earlier, RECENT_MESSAGES) if not text.startswith("/"))
