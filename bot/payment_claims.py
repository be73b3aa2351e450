"""'I already paid': a customer saying a payment was made, in English or Dutch; or that
something was charged twice.

Asked as a balance, due date, bill or payment question (the classifier spreads these over
all four), it needs what payment arrived, not the balance alone or a payment link. "I paid on
time, why is there a late fee?" disputes the fee instead: it needs the fee looked at.
"""
import re

from bot.language import plain_words

_CLAIM = re.compile(
    r"\b(already paid|just paid|i paid|i've paid|ive paid|i have paid|i had paid|we paid|"
    r"we've paid|we have paid|i did pay|paid (it|this|that|the bill|the invoice|already|in full|"
    r"last week|yesterday|on time)|i transferred|i've transferred|i have transferred|"
    r"(money|payment|amount) (went|has gone|was taken|was debited|left)|"
    r"al betaald|net betaald|ik heb betaald|ik heb (het|de rekening|de factuur|alles|dat) "
    r"(al |gewoon |gisteren |vorige week )*betaald|heb (al |gisteren |vorige week )*betaald|"
    r"(al |gisteren |vorige week )?overgemaakt|is (al )?afgeschreven|werd afgeschreven|"
    r"(ik|we|wij) (heb|hebben) (\w+ ){0,4}betaald|betaald (met|via|per))\b")
# "I paid twice" or "I paid too much" is a billing error (explain_bill / complain), not a
# missing payment; "haven't paid" is no claim.
_NOT_A_CLAIM = re.compile(r"\b(twice|double|two times|too much|te veel|dubbel|twee keer|"
                          r"haven't|have not|not paid|niet betaald|nog niet)\b")


def says_already_paid(text: str) -> bool:
    cleaned = plain_words(text)
    return bool(_CLAIM.search(cleaned)) and not _NOT_A_CLAIM.search(cleaned)


# iDEAL and cards arrive within minutes; a bank transfer (also what the payment link's page
# asks for) takes days.
_INSTANT = re.compile(r"\b(ideal|card|credit card|creditcard|debit card|debitcard|pinpas|"
                      r"bankpas|apple pay|google pay|paypal|bancontact|tikkie)\b")


def paid_instantly(text: str) -> bool:
    """True when the customer names a payment method that arrives within minutes."""
    return bool(_INSTANT.search(plain_words(text)))


_LATE_FEE = re.compile(r"\b(late fee|late fees|late payment fee|late charge|late payment charge|"
                       r"penalty|boete|aanmaningskosten|aanmaning|herinneringskosten|"
                       r"incassokosten|te laat betaald|kosten voor te laat)\b")
_DISPUTED = re.compile(r"\b(on time|in time|before the due date|before it was due|wasn't late|"
                       r"was not late|not late|wrong|unfair|mistake|shouldn't|should not|remove|"
                       r"waive|cancel|op tijd|voor de vervaldatum|niet te laat|klopt niet|"
                       r"onterecht|oneerlijk|fout|vergissing|weghalen|kwijtschelden|"
                       r"terugdraaien|schrappen)\b")


_PAYING_LATE = re.compile(r"\b(pay late|paying late|paid late|pay it late|pay after|miss the due date|"
                          r"miss the deadline|after the due date|too late|te laat|"
                          r"na de vervaldatum|na de uiterste)\b")


def asks_about_paying_late(text: str) -> bool:
    """True for "how much is the late fee if I pay late?", "krijg ik een boete als ik te laat
    betaal?": what paying after the due date costs, not a fee already charged."""
    cleaned = plain_words(text)
    return bool(_PAYING_LATE.search(cleaned) or _LATE_FEE.search(cleaned))


def disputes_late_fee(text: str) -> bool:
    """True for "the late fee, I paid on time" or "die boete klopt niet": a late fee the
    customer says is wrong, not a question about what it is ("why is there a late fee?")."""
    cleaned = plain_words(text)
    return bool(_LATE_FEE.search(cleaned)) and bool(_DISPUTED.search(cleaned))


_TWICE = r"(twice|two times|2 times|double|two bills|2 bills)"
_DOUBLE_CHARGE = re.compile(
    rf"\b(charged|charge|billed|debited|debit|taken|take|took|paid|pay|invoiced|"
    rf"collected)( (me|us|it|this|that|my money|the money|my account|the bill|the amount))?"
    rf"( \w+)? {_TWICE}\b|"
    r"\bdouble (charged|charge|charges|billed|billing|debit|debits|debited|payment|payments)\b|"
    r"\b(two|2) (debits|charges|payments|direct debits|bills|invoices)\b|"
    r"\b(got|received|have|had|sent me) (two|2) (bills|invoices)\b|"
    r"\b(twee keer|2 keer|2x|dubbel) (\w+ ){0,5}(afgeschreven|betaald|gefactureerd|"
    r"geincasseerd|geïncasseerd|in rekening gebracht|afgeboekt|gerekend|gefactureerd)\b|"
    r"\bdubbele (afschrijving|afschrijvingen|betaling|incasso|factuur|facturen)\b|"
    r"\b(twee|2) (afschrijvingen|betalingen|incasso's|incassos|facturen)\b")


def claims_double_charge(text: str) -> bool:
    """True for "you charged me twice", "I was billed twice this month", "ik ben twee keer
    afgeschreven": money taken (or a bill sent) twice, to be checked, not a bill explained."""
    return bool(_DOUBLE_CHARGE.search(plain_words(text)))


def is_payment_message(text: str) -> bool:
    """A double charge, a late fee said to be wrong or "I already paid": each needs the
    account's payments looked at, whatever intent the classifier gave it."""
    return claims_double_charge(text) or disputes_late_fee(text) or says_already_paid(text)


_IN_FULL = re.compile(
    r"\b(all at once|in one go|in one payment|in full|the full amount|the whole (amount|thing|lot)|"
    r"pay (off )?(the rest|everything|it all|all of it|off everything)|"
    r"(pay|settle|clear) (it|everything|the rest|the balance) (off|now|today|at once)|"
    r"in (een|één|1) keer|ineens|in 1x|het hele bedrag|alles (nu |meteen |vandaag )?(betalen|aflossen)|"
    r"volledig (betalen|aflossen))\b")
_NOT_IN_PARTS = re.compile(r"\b(not in instalments|no instalments|niet in termijnen|"
                           r"geen termijnen)\b")
# "I can't pay everything at once" asks for the arrangement.
_UNABLE = re.compile(r"\b(can't|cant|cannot|can not|unable|couldn't|won't|not|never|niet|geen|"
                     r"nooit)\b")


def wants_to_pay_in_full(text: str) -> bool:
    """"Can I pay the rest all at once now?", "ik wil alles in één keer betalen": paying,
    not an arrangement, though the classifier reads it as one."""
    cleaned = plain_words(text)
    return bool(_NOT_IN_PARTS.search(cleaned)) or \
        bool(_IN_FULL.search(cleaned) and not _UNABLE.search(cleaned))


# "Kan ik afbetalen?" (Flemish and Dutch for paying off in parts), "can I pay it bit by bit":
# an arrangement, though the classifier reads some of these as paying now.
_IN_PARTS = re.compile(r"\b(afbetalen|afbetaling|afbetalingsregeling|afbetalingsplan|"
                       r"in (delen|stukjes|stukken|gedeeltes|parts|instalments|installments)|"
                       r"bit by bit|little by little|beetje bij beetje|gespreid)\b")


def wants_to_pay_in_parts(text: str) -> bool:
    return bool(_IN_PARTS.search(plain_words(text))) and not wants_to_pay_in_full(text)


_PART = r"(instalment|installment|instalments|installments|termijn|termijnen|part|deel)"
# "send me a link to pay this month's instalment", "ik wil mijn eerste termijn nu betalen"
_PAYS_PART = re.compile(
    rf"\b(pay|paying|betaal|betalen|link)\b.*\b(this month'?s|next|first|my|the|"
    rf"deze|volgende|eerste|mijn|de) {_PART}\b|"
    rf"\b(this month'?s|next|first|my|deze|volgende|eerste|mijn) {_PART}\b.*"
    rf"\b(pay|betalen|betaal|now|today|nu|vandaag)\b")


def pays_a_part(text: str) -> bool:
    """Paying the next part of a running arrangement, which the classifier reads as asking
    for one."""
    return bool(_PAYS_PART.search(plain_words(text)))
