"""A waiting customer who no longer wants a person: the queue message's "Stop waiting"
button (option 1 by SMS), or a short message such as "never mind" or "laat maar".

A longer message that merely starts with "never mind" ("never mind the bill, my question is
about roaming") is for the agent, so only short messages count.
"""
import re

from bot.language import plain_words

LEAVE_QUEUE = "/leave_queue"  # the button's payload; never forwarded to the bot
MAX_WORDS = 8

_PHRASES = (
    r"never ?mind|forget it|stop waiting|leave the queue|cancel (the|my) request|"
    r"(i )?(don't|do not|no longer) need (a person|a colleague|help|an agent)( anymore| any more)?|"
    r"not needed anymore|no longer needed|(i )?(figured|sorted) it out|it's sorted|all sorted|"
    r"i'll (try|come back|ask) later|i'll leave it|no need anymore|"
    r"laat (maar|maar zitten)|hoeft niet meer|niet meer nodig|ik wacht niet meer|"
    r"stop (met )?wachten|wachtrij verlaten|uit de wachtrij|ik probeer het later( nog eens)?|"
    r"ik kom (later|straks) terug|(is )?al opgelost|annuleer (mijn|het) verzoek|vergeet het( maar)?|"
    r"geen medewerker meer nodig"
)
_START_OR_END = re.compile(rf"^({_PHRASES})\b|\b({_PHRASES})$")


def wants_to_leave_queue(text: str) -> bool:
    """True for "never mind", "I figured it out, thanks", "laat maar"; not for a longer
    message for the agent or for "cancel" alone (it may be about the subscription)."""
    words = plain_words(text).split()
    while words and words[-1] in ("thanks", "thank", "you", "bedankt", "dank", "je", "u", "please",
                                  "graag", "alsjeblieft", "anyway", "toch"):
        words.pop()  # "never mind, thanks anyway": what matters comes before
    return 0 < len(words) <= MAX_WORDS and bool(_START_OR_END.search(" ".join(words)))
