"""Messages that answer nothing but say something about the conversation itself, in English
or Dutch: a moment ("wait, let me find it"), a closing in a thanks ("thanks, that's all")
and, while verification asks for a detail, why it is needed or that the account number
given was the wrong one; and disagreeing with what the bot just said ("no, that's wrong").

The intent contract has no intents for these, and the classifier reads them as goodbye, no,
a bill question, an unclear answer or a bare value; the actions that answer those intents
check the text first, so the bot's question (or offer) stays open instead of ending.
"""
import re

from bot.language import plain_words

# Fillers in front of a pause: "ok wait", "sorry, one moment", "ja momentje".
_LEAD = (r"((ok|okay|oke|oké|okey|sorry|uh|uhm|um|umm|hmm|eh|ehm|oh|nou|ja|yes|yeah|right|sure|"
         r"prima|goed|even)\s)*")
_POLITE = r"(\s(please|pls|plz|graag|aub|alsjeblieft|alstublieft|svp|thanks|dank je))?"
_WHILE = r"(sec|secs|second|seconds|moment|moments|minute|minutes|min|mins|mo|tick|jiffy|bit)"
_PAUSE = (
    r"(wait|waiting|hold on|hang on|hold up|hold it|bear with me|brb|be right back|"
    rf"(just\s|wait\s)?(a|one|1)\s{_WHILE}|just a\s{_WHILE}|"
    rf"(give me|gimme) (a|one|1|two|2|a few|few) (more )?{_WHILE}|"
    r"wacht|wacht even|wacht eens|wacht ff|wacht effe|wachten|moment|momentje|momentjes|"
    r"(een )?ogenblik|(een )?ogenblikje|(een )?seconde|(een )?secondje|(een )?minuutje|"
    r"geef me (even )?(een )?(moment|momentje|minuutje|seconde|secondje)|"
    r"even geduld|(even|ff|effe) (zoeken|kijken|pakken|opzoeken|checken|nakijken)|"
    # thinking it over: "let me think", "hmm", "even denken"
    r"let me think|let me see|lemme think|thinking|h+m{2,}|uhm+|umm+|ehm+|"
    r"(even|ff|effe) (denken|nadenken)|ik denk even na|ik moet even nadenken)"
)
# What the customer goes to do: "let me find it", "I'll grab my bill", "ik zoek het even op";
# only with words that point at a detail ("I'm looking for a cheaper plan" is no pause).
_OBJECT_EN = (r"(it|that|this|them|one|up|out|for it|for that|for them|real quick|quickly|"
              r"quick|first|now|again|my \w+( \w+)?|the \w+( \w+)?)")
_OBJECT_NL = r"(het|hem|dat|die|even|ff|effe|snel|op|erbij|bij|er|eerst|nu|nog|na|mijn \w+|de \w+)"
_FINDING = (
    r"((let me|lemme|i'll|i will|i need to|i have to|i must|i gotta|i'm going to|im going to|"
    r"i am going to|gonna|i'm|im|i am)\s(just\s|quickly\s|go\s)*"
    r"(find|look|check|get|grab|fetch|search|dig|pull|looking|searching|finding|getting|"
    rf"grabbing|checking|digging)(\s{_OBJECT_EN})*|"
    rf"ik(\s(ga|moet|zal))?(\s{_OBJECT_NL})*\s(zoek|zoeken|pak|pakken|kijk|kijken|opzoeken|"
    rf"haal|halen|check|checken)(\s{_OBJECT_NL})*|"
    r"ik ben (het |hem |even |nog )*(aan het )?(zoeken|kijken))"
)
# A message that says it cannot or will not ("wait, I don't have it") is no pause.
_REFUSAL = re.compile(r"\b(not|no|don't|dont|can't|cant|cannot|won't|wont|never|niet|geen|"
                      r"nooit|nee|kan't)\b")


def is_pause(text: str) -> bool:
    """True for "wait", "hang on, let me find my bill", "momentje", "wacht even, ik zoek
    mijn klantnummer" and the like; False when the message also says something else."""
    cleaned = plain_words(text)
    if not cleaned or _REFUSAL.search(cleaned):
        return False
    return bool(re.fullmatch(rf"{_LEAD}({_PAUSE}{_POLITE}\s?)+({_FINDING})?", cleaned)
                or re.fullmatch(rf"{_LEAD}{_FINDING}", cleaned))


_WHY = re.compile(r"\b(why|what for|how come|waarom|waarvoor|hoezo)\b|"
                  r"\bwhat do you need (it|that|this|them|those|\w+) for\b")
_NEED = re.compile(r"\b(need|needs|needed|want|wants|ask|asking|asks|require|required|necessary|"
                   r"give|tell|share|know|nodig|wil|wilt|willen|vraag|vraagt|vragen|geven|weten|"
                   r"delen|noodzakelijk|for)\b")
# "Why do I have to pay so much?" is a bill question, not one about the check.
_BILL = re.compile(r"\b(bill|bills|invoice|pay|paid|paying|charge|charged|cost|costs|fee|fees|"
                   r"owe|balance|price|expensive|higher|plan|factuur|rekening|nota|betalen|"
                   r"betaald|kosten|saldo|bedrag|duur|duurder|hoger|abonnement|pakket)\b")


def asks_why_verification(text: str) -> bool:
    """True for "why do you need that?", "what do you need my date of birth for",
    "waarom heeft u dat nodig": asked while verification waits for a detail."""
    cleaned = plain_words(text)
    return (len(cleaned.split()) <= 12 and bool(_WHY.search(cleaned))
            and bool(_NEED.search(cleaned)) and not _BILL.search(cleaned))


_CLOSING = re.compile(
    r"\b(bye|goodbye|bye bye|that's all|that is all|that's it|that's everything|that'll be all|"
    r"nothing else|all set|all good now|i'm done|im done|i'm good now|see you|see ya|take care|"
    r"have a (good|nice|great|lovely) (day|one|evening|weekend)|"
    r"doei|dag dag|tot ziens|tot kijk|dat was het|dat was alles|dat is alles|dat is het|"
    r"verder niks|verder niets|meer niet|fijne dag|prettige dag|fijne avond|fijn weekend)\b")


# "That's it for the bill, now what about my plan?" ends one topic and asks the next.
_NEXT_QUESTION = re.compile(r"\b(what|how|when|why|where|which|can|could|wat|hoe|wanneer|waarom|"
                            r"waar|welke|hoeveel|kan|kun|kunt)\b")


def is_closing(text: str) -> bool:
    """True when a message (a thanks, mostly) also ends the conversation: "great thanks,
    bye", "ok thanks that's all", "bedankt, dat was het"; not when a question follows."""
    words = plain_words(text)
    closing = _CLOSING.search(words)
    return bool(closing) and "?" not in text and not _NEXT_QUESTION.search(words[closing.end():])


_WRONG_NUMBER = re.compile(
    r"\b(wrong|incorrect|not my|not the right) (account |customer )?(number|account|nr|no)\b|"
    r"\b(typo|mistyped|misspelled|typed it wrong)\b|"
    r"\b(verkeerd|verkeerde|fout|foute|foutief|foutieve|onjuist|onjuiste) (klant|account)?"
    r"(nummer|nr)\b|\b(vertypt|verkeerd ingetypt|verkeerd getypt)\b")


def corrects_account_number(text: str) -> bool:
    """True for "sorry, wrong number", "oops that's the wrong account number", "verkeerd
    klantnummer", "ik heb me vertypt": the account number just given was a mistake."""
    return bool(_WRONG_NUMBER.search(plain_words(text)))


_DISAGREEING = re.compile(
    r"\b(wrong|not right|isn't right|isnt right|can't be right|cant be right|incorrect|"
    r"not correct|isn't correct|don't agree|dont agree|disagree|makes no sense|"
    r"doesn't make sense|doesnt make sense|not good enough|doesn't help|doesnt help|"
    r"not what i asked|nonsense|klopt niet|klopt geen|klopt helemaal niet|klopt niks|"
    r"klopt niets|niet juist|onjuist|fout|niet mee eens|oneens|slaat nergens op|"
    r"heb ik niks aan|heb ik niets aan|helpt niet|niet goed genoeg|onzin)\b")


def disagrees(text: str) -> bool:
    """True for "no, that's wrong", "that can't be right", "nee, dat klopt niet": the
    customer disputes what the bot just said. A bare "no" or "no thanks" is no dispute."""
    return bool(_DISAGREEING.search(plain_words(text)))


_ACCOUNT_NUMBER_WORDS = (r"(account (number|no|nr|num)|acct (number|no|nr)|customer number|"
                         r"klantnummer|klant nummer|rekeningnummer)")
_LACKS = re.compile(
    rf"\b(don't|dont|do not|can't|cant|cannot|couldn't|lost|forgot|forgotten|misplaced|no idea|"
    rf"where (is|do i find|can i find|to find|would i find)|kwijt|vergeten|waar (vind|staat|"
    rf"vinden|zie)|niet (bij de hand|bij me|vinden|weten)|geen idee)\b.*{_ACCOUNT_NUMBER_WORDS}|"
    rf"{_ACCOUNT_NUMBER_WORDS}.*\b(kwijt|vergeten|niet bij de hand|niet bij me|niet vinden|"
    rf"niet|lost|at hand|with me|on me|anywhere)\b"
)


def lacks_account_number(text: str) -> bool:
    """"I don't have my account number at hand", "waar vind ik mijn klantnummer?",
    "ik heb mijn klantnummer niet bij de hand": the customer cannot give it (yet)."""
    return bool(_LACKS.search(plain_words(text)))


_SERVICE = (r"(internet|wifi|wi fi|connection|signal|network|service|phone|tv|television|line|"
            r"router|modem|data|mobile|verbinding|bereik|netwerk|telefoon|televisie|lijn|mobiel)")
_FAULT = re.compile(
    rf"\b{_SERVICE} (\w+ )?(is |has |keeps |went |has been |been )?(down|not working|doesn't work|"
    rf"doesnt work|isn't working|isnt working|stopped working|dead|broken|dropping|cutting out|"
    rf"out|gone|niet|werkt niet|doet het niet|ligt eruit|plat|weg|valt weg|hapert)\b|"
    rf"\bno (internet|signal|connection|service|network|wifi|tv|dial tone)\b|\boutage\b|"
    rf"\bstoring\b|\bgeen (internet|bereik|verbinding|signaal|netwerk|wifi|tv)\b")


def reports_fault(text: str) -> bool:
    """"My internet is down since yesterday", "storing", "geen bereik": a technical fault,
    which the billing assistant cannot fix (a bill question about it still can be)."""
    return bool(_FAULT.search(plain_words(text)))


_REPEAT = re.compile(
    r"^(sorry |excuse me |pardon |wait |huh )?(can you |could you |would you |please |pls )?"
    r"(say (that|it|this) again|repeat( (that|it|this|yourself|the last (bit|part|message)))?|"
    r"come again|what did you (just )?say|once more)( please| pls| again)?$|"
    r"^(pardon|sorry wat|wat zei (je|u|jij)|wat zegt u|"
    r"(kun|kan|kunt|wil|wilt) (je|u|jij) (dat|het) (nog (een keer|eens) )?(herhalen|zeggen)|"
    r"(zeg|herhaal) (dat|het) (nog (een keer|eens)|alsjeblieft|aub)|herhaal|nog een keer|"
    r"nog eens)( alsjeblieft| aub| graag)?$")


# "Sorry?" or "what?" on its own; without the question mark "sorry" is an apology.
_ASKING_AGAIN = re.compile(r"\s*(sorry|what|wat|huh|pardon|hè|he)\s*\?+\s*", re.IGNORECASE)


def asks_to_repeat(text: str) -> bool:
    """"Say that again", "can you repeat that please", "sorry?", "wat zei u?": the bot's last
    message again (no intent of its own; the model reads them as goodbye, greet, deny or a
    discount)."""
    return bool(_REPEAT.search(plain_words(text)) or _ASKING_AGAIN.fullmatch(text))


_UPSET = re.compile(
    r"\b(ridiculous|outrageous|unacceptable|disgrace|disgraceful|scandalous|shocking|insane|"
    r"absurd|rip off|ripoff|scam|scammers|robbery|daylight robbery|fed up|sick of|sick and tired|"
    r"a joke|wtf|furious|livid|belachelijk|schandalig|schande|bespottelijk|onacceptabel|"
    r"onaanvaardbaar|oplichting|oplichters|diefstal|woedend|ben het zat|spuugzat|kotsbeu)\b")
_SHOUTED_LETTERS = 12  # fewer capitals than this ("OK", "BTW", "KPN") are no shouting


def sounds_upset(text: str) -> bool:
    """"WHY IS MY BILL SO HIGH", "this is ridiculous!!!", "wat een oplichting": the customer
    is angry, which an answer should acknowledge before it asks for anything."""
    letters = [ch for ch in text if ch.isalpha()]
    capitals = sum(ch.isupper() for ch in letters)
    shouted = len(letters) >= _SHOUTED_LETTERS and capitals >= 0.8 * len(letters)
    return shouted or "!!!" in text or bool(_UPSET.search(plain_words(text)))


_DEMANDS_FIX = re.compile(
    r"\bwhat (are|r) (you|u|ya|you guys|you people) (going to|gonna|gona) do (about|with) "
    r"(it|this|that)\b|\bwhat (will|would|can|do) (you|u) (do|plan to do|intend to do) "
    r"(about|to fix) (it|this|that)\b|\bhow (are|r|will) (you|u) (going to |gonna )?((fix|sort|"
    r"solve|resolve) (this|it|that)|put (this|it|that) right)\b|"
    r"\bwat (gaan|gaat|doen|doet) (jullie|u|je) (er|daar|hier)( nou| nu| dan| eigenlijk)* ?aan"
    r"( doen)?\b|\bhoe (gaan|gaat) (jullie|u|je) (dit|dat|het) (oplossen|rechtzetten)\b")


def demands_a_fix(text: str) -> bool:
    """"So what are you going to do about it?", "wat gaan jullie eraan doen?": the customer
    wants something done about their problem (read as a greeting or not understood)."""
    return bool(_DEMANDS_FIX.search(plain_words(text)))


_QUESTION_START = re.compile(
    r"^(so |and |but |ok |okay |oke |en |maar |dus )?(why|what|when|how|where|which|who|can|"
    r"could|is|are|do|does|will|would|waarom|wat|wanneer|hoe|hoezo|waar|welke|wie|kan|kun|kunt|"
    r"moet|mag|wordt|gaat)\b")
_REFUSING = re.compile(r"^(no|nope|nah|nee|neen)\b|\b(no thanks|nee dank|not interested|"
                       r"don't want|dont want|do not want|wil (het )?niet|hoeft niet|liever niet)\b")


def asks_a_question(text: str) -> bool:
    """"Why not straight away?", "what do I do now", "wanneer gaat het in?": a question,
    which the classifier may read as a no or a goodbye; not "no, why would I?"."""
    cleaned = plain_words(text)
    if not cleaned or _REFUSING.search(cleaned):
        return False
    return "?" in text or bool(_QUESTION_START.match(cleaned))


_BARGAIN = re.compile(
    r"\b(can|could|would) (you|u) (do|make it|give me|go to) (\d+|more|better|a bit more)\b|"
    r"\b(how|what) about (\d+|more|a year|twelve|12)\b|\bmake it (\d+|more|a year)\b|"
    r"\b(is that|is this) (the best|all) (you can do|you can offer|you have)?\b|"
    r"\bbest you can do\b|\b\d+ ?(%|percent|procent)\b|\b\d+ (months|maanden) instead\b|"
    r"\bthat's not much\b|\bthat is not much\b|\bnot enough\b|"
    r"\b(kan|kunt|kun) (je|u|jij|het) (er )?(niet )?(wat )?(meer|beter|\d+)\b|\bmeer korting\b|"
    r"\bis dat (alles|het beste|het enige)\b|\bdat is (niet veel|weinig|te weinig)\b|"
    r"\bwat dacht je van \d+|\b(hoger|beter) bod\b")


def bargains(text: str) -> bool:
    """"Can you do 20%?", "what about 12 months?", "is that the best you can do?", "kan het
    niet meer?": asking for more than an offer (read as anything)."""
    return bool(_BARGAIN.search(plain_words(text)))


_WITHDRAWN = re.compile(
    r"(oh |ok |okay |ah )?(never ?mind|forget it|forget about it|doesn t matter|doesn't matter|"
    r"not important|no worries|laat maar|laat ook maar|hoeft niet|hoeft niet meer|"
    r"maakt niet uit|vergeet het|vergeet het maar|niet belangrijk)( then| dan| hoor| thanks| bedankt)?")


def withdraws(text: str) -> bool:
    """"Never mind", "laat maar": the customer drops what they asked, nothing is missing."""
    return bool(_WITHDRAWN.fullmatch(plain_words(text)))


_INSTEAD = re.compile(r"\b(rather|instead|prefer|make it|how about|what about|actually|"
                      r"liever|toch|in plaats|maak er|wat dacht je van|eigenlijk)\b")


def prefers_instead(text: str) -> bool:
    """"No wait, 3 instead", "nee, toch liever 3": a no that names what the customer wants
    instead (the caller reads the choice)."""
    return bool(_INSTEAD.search(plain_words(text)))


_PERSON = re.compile(
    r"\b(speak|talk|chat) (to|with) (a |an |one of your |some )?(real |actual |live )?"
    r"(person|human|agent|someone|somebody|colleague|employee|people)\b|\b(real|actual|live) "
    r"(person|human|agent)\b|\b(medewerker|een mens|echt iemand|iemand) (spreken|aan de lijn)\b|"
    r"\b(spreken|praten) met (een )?(medewerker|mens|iemand)\b")


def asks_for_person(text: str) -> bool:
    """"I need to speak to a real person about my bill, it's wrong": a request for a person
    inside a message read as something else (a complaint)."""
    return bool(_PERSON.search(plain_words(text)))


_LOST = re.compile(r"(i )?(don't|dont|do not) (understand|get it|get that|follow)( it| that| this)?|"
                   r"(ik )?(snap|begrijp|volg) (het|dat|er|u|je)? ?(niet|niks|geen bal)( van)?|"
                   r"huh i don't get it|what do you mean|wat bedoel (je|u)( daarmee)?")


def does_not_follow(text: str) -> bool:
    """"Ik snap het niet", "I don't understand", "what do you mean?": the last answer was not
    clear to the customer (read as a no or a goodbye)."""
    return bool(_LOST.fullmatch(plain_words(text)))


_WHY_NOT_NOW = re.compile(
    r"\b(why not|waarom niet|can't it|cant it|can it not|kan het niet)\b.*\b(now|today|straight "
    r"away|right away|immediately|at once|nu|vandaag|meteen|direct|gelijk)\b|"
    r"\bwhen (does|will) (it|that|the switch|the change) (start|happen|begin)\b")


def asks_why_not_now(text: str) -> bool:
    """"Why not straight away?", "waarom niet meteen?": when a previewed switch starts (read
    as a bill question, a no or a goodbye)."""
    return bool(_WHY_NOT_NOW.search(plain_words(text)))
