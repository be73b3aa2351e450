"""A request to change personal or account details (address, e-mail, phone, name, password,
who holds the contract, the bank account direct debit is taken from), in English or Dutch.

The intent contract has no intent for it and the model reads it as out of scope; the bot
cannot change these details, but a colleague can, so the out-of-scope answer offers one.
"""
import re

from bot.language import plain_words

_DETAILS = (r"(address|adress|adres|adressen|e ?mail|email address|mailadres|emailadres|"
            r"e mailadres|phone number|mobile number|telefoonnummer|mobiel nummer|"
            r"mobiele nummer|06 nummer|name|surname|"
            r"naam|achternaam|password|wachtwoord|contact details|contactgegevens|details|"
            r"personal details|gegevens|persoonlijke gegevens|contact person|contactpersoon|"
            r"bank account|bank account number|bank details|iban|bankrekening|"
            r"bankrekeningnummer|rekeningnummer|bankgegevens)")
_CHANGING = (r"(change|changed|update|updated|edit|correct|new|different|wrong|spelled wrong|"
             r"moved|put|wijzigen|wijzig|veranderd|veranderen|verander|aanpassen|pas|"
             r"aangepast|bijwerken|bijgewerkt|updaten|doorgeven|geef|nieuw|nieuwe|klopt niet|"
             r"verkeerd|verhuisd|overzetten|zet|oude|ander|anders)")
_REQUEST = re.compile(
    rf"\b{_CHANGING}\b.*\b{_DETAILS}\b|\b{_DETAILS}\b.*\b{_CHANGING}\b|"
    r"\b(adreswijziging|naamswijziging|moved house|verhuisd|in my partner's name|"
    r"op naam van|contract (over|to)|transfer (the|my|this) (account|contract)|"
    r"(switched|changed|changing|switching) banks|(andere|nieuwe) bank)\b")


def asks_to_change_details(text: str) -> bool:
    """True for "I need to change my address", "mijn e-mailadres is veranderd", "put the
    account in my partner's name"; not for "change my plan" or "what's my account number"."""
    return bool(_REQUEST.search(plain_words(text)))


# "Can I change the date my bill is due?", "kan de afschrijving later in de maand?"
_DUE_DAY = (r"(due date|due day|billing date|billing day|payment date|date (my|the) (bill|invoice|"
            r"payment) is due|day (my|the) (bill|invoice) (is due|comes)|vervaldatum|betaaldatum|"
            r"afschrijfdatum|datum van (de )?afschrijving|afschrijving|incassodatum|factuurdatum)")
_MOVING = (r"(change|move|shift|different|later|other|another|moved|verzetten|verschuiven|"
           r"veranderen|wijzigen|aanpassen|andere|later|verplaatsen)")
_DUE_DAY_MOVE = re.compile(rf"\b{_MOVING}\b.*\b{_DUE_DAY}\b|\b{_DUE_DAY}\b.*\b{_MOVING}\b")


def asks_to_move_due_date(text: str) -> bool:
    """Moving the day bills are due or collected: a colleague's job, not the bot's."""
    return bool(_DUE_DAY_MOVE.search(plain_words(text)))
