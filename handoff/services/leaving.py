"""What a waiting customer's short message means for the queue.

Leaving: the queue message's "Stop waiting" button (option 1 by SMS), or a short message such
as "never mind" or "laat maar". A longer message that merely starts with "never mind" ("never
mind the bill, my question is about roaming") is for the agent, so only short messages count.

Asking about the wait: "how long is the wait?", "is anyone coming?", "hoe lang moet ik nog
wachten?", "komt er nog iemand?" get the place in the queue and the expected wait; a question
about something else that happens to ask "how long" ("how long does a refund take?") is for
the agent.
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


WAIT_MAX_WORDS = 12
_SOMEONE = r"(anyone|anybody|someone|somebody|an agent|a person|a human|a colleague)"
_WAIT = re.compile("|".join((
    # English
    r"\bhow (long|much longer)\b.*\b(wait|waiting|queue|line|take|takes|taking|until|till|"
    r"before|left)\b",
    r"^how (long|much longer)( still| now| more| left| then)?$",
    r"\b(what'?s|what is|whats) (the|my) (wait|waiting time|wait time|expected wait|position|"
    r"place|number)\b",
    r"\bwhere am i in (the )?(queue|line)\b", r"\bwhat (number|position|place) am i\b",
    r"\bam i still (in the queue|in line|waiting|in the line)\b",
    r"\b(my|our) (place|position|number|turn) in (the )?(queue|line)\b", r"\bmy turn\b",
    rf"^(is |are )?{_SOMEONE} (there|here|coming|on (the|their) way|available)$",
    rf"\b(is|are) {_SOMEONE} (coming|going to|gonna|on (the|their) way)\b",
    rf"\b(will|when will|when does|when is|when's|when can) {_SOMEONE} (come|coming|answer|reply|"
    r"respond|help|join|be (here|with me|there|available)|pick|get to me|talk|speak)\b",
    r"^(hello |hi )?(i'?m |i am |we'?re )?still waiting( here)?$",
    # Dutch
    r"\bhoe ?lang\b.*\b(wachten|wacht|wachttijd|duurt|duren|wachtrij|rij)\b",
    r"^hoe ?lang( nog| nu| dan)*$", r"\bhoeveel langer\b",
    r"\bwat is (de|mijn) (wachttijd|plek|plaats|positie|nummer)\b",
    r"\b(hoeveel|hoe veel) (mensen|klanten|wachtenden)( zijn| staan| wachten)?( er)?( nog)? voor mij\b",
    r"\bwelk nummer ben ik\b", r"\bwaar sta ik\b", r"\b(ben|kom|sta) ik (nog |al |bijna )*aan de beurt\b",
    r"\bsta ik (nog |al )?(in de wachtrij|in de rij)\b",
    r"\bmijn (plek|plaats|positie|nummer|beurt) in de (wachtrij|rij)\b",
    r"\bkomt er (nog |al |wel |ooit |nou )*(iemand|een medewerker)\b",
    r"^(is|zit) (er|daar) (nog |al |wel )*iemand( aanwezig)?$",
    r"\bwanneer (komt er|kom ik|word ik|wordt er|ben ik|gaat er|helpt er)\b",
    r"\bword ik (nog |wel |ooit |nou )*geholpen\b",
    r"\b(gaat|zal) er (nog |al |wel |ooit )*iemand\b",
    r"^(ik )?(wacht|zit te wachten|zit nog te wachten) nog (steeds|altijd)$",
    r"^(ik )?(wacht|zit) (nog steeds|nog altijd)( te wachten)?$",
)))
# A question about something else ("how long does a refund take?") is for the agent.
_OTHER_TOPIC = re.compile(
    r"\b(refund|refunds|payment|payments|pay|paid|bill|bills|invoice|invoices|contract|plan|"
    r"credit|discount|transfer|arrangement|instalment|instalments|fee|fees|subscription|"
    r"notice|debit|money|cancel|cancelling|canceling|terugbetaling|betaling|betalen|betaald|"
    r"rekening|factuur|facturen|abonnement|korting|tegoed|regeling|termijnen|kosten|geld|"
    r"overboeking|opzeggen|opzegtermijn|incasso)\b")


def asks_about_the_wait(text: str) -> bool:
    """True for "how long is the wait?", "is anyone coming?", "hoe lang moet ik nog
    wachten?", "komt er nog iemand?"; not for "are you there?" (for the agent, acknowledged
    as saved) nor for a longer message or one about a bill, a refund or a contract."""
    words = plain_words(text).split()
    plain = " ".join(words)
    return (0 < len(words) <= WAIT_MAX_WORDS and bool(_WAIT.search(plain))
            and not _OTHER_TOPIC.search(plain))
