"""More than one question in a message ("what's my balance and can I pay by card?", "wanneer
moet ik betalen en kan ik in delen betalen?"), in English or Dutch.

The classifier gives a message one intent, so the other questions were dropped without a
word. These readers find the account questions asked besides the intent, to be answered
with it (the plain information first, then one offer: `bot.actions.common.answer_in_order`).
"""
import re

from bot.language import plain_words
from bot.payment_claims import pays_a_part
from bot.payment_methods import asked_payment_method

_ASKED_BESIDES = {
    "ask_balance": r"(my balance|the balance|how much do i owe|what do i owe|how much i owe|"
                   r"how much is my bill|mijn saldo|het saldo|hoeveel moet ik betalen|"
                   r"hoeveel ben ik|hoeveel staat er open|wat staat er open)",
    "ask_due_date": r"(when is it due|when is my bill due|when is the bill due|due date|"
                    r"when do i have to pay|when should i pay|when must i pay|"
                    r"wanneer moet ik (het )?betalen|vervaldatum|wanneer moet het binnen zijn|"
                    r"uiterlijk wanneer)",
    "explain_bill": r"(why is (it|my bill|the bill|this bill) (so )?(high|higher|expensive|more)|"
                    r"why did (it|my bill) go up|waarom is (mijn rekening|de rekening|"
                    r"mijn factuur|het) (zo )?(hoog|hoger|duur|duurder))",
    "payment_arrangement": r"(instalments?|installments?|in (two|2|three|3|four|4) (parts|"
                           r"payments|goes)|payment plan|payment arrangement|more time to pay|"
                           r"spread (it|the payment|the cost)|termijnen|in delen|in stukjes|"
                           r"betalingsregeling|uitstel|gespreid)",
    "pay_bill": r"(how (do|can) i pay|payment link|pay (it|my bill|the bill) now|betaallink|"
                r"hoe (kan|moet) ik (het )?betalen)",
    "request_discount": r"(discount|korting|(late )?fee (removed|waived|taken off)|"
                        r"(remove|waive|drop) the (late )?fee|compensation|compensatie|"
                        r"(kosten|boete) (kwijtschelden|schrappen|laten vallen|terug))",
    "change_plan": r"((switch|change|move|go|downgrade|upgrade)( me)? (to|over to) "
                   r"(basic|standard|plus|premium)|overstappen naar|(naar|op) (basic|basis|"
                   r"standard|standaard|plus|premium) (overstappen|gaan|zetten))",
}
_PATTERNS = {intent: re.compile(rf"\b{words}\b") for intent, words in _ASKED_BESIDES.items()}
# The balance answer names its due date and the due date answer its amount: one question.
_SAME_QUESTION = {"ask_balance": "ask_due_date", "ask_due_date": "ask_balance"}


def also_asked(text: str, intent: str) -> list[str]:
    """The account questions in `text` besides `intent`, in the order of `_ASKED_BESIDES`
    ("can I pay by card?" is `pay_bill`: its answer comes with the link)."""
    if intent not in _ASKED_BESIDES:  # a complaint, a threat, a plan change: answered alone
        return []
    cleaned = plain_words(text)
    found = [asked for asked, pattern in _PATTERNS.items() if pattern.search(cleaned)]
    if asked_payment_method(text) and "pay_bill" not in found:
        found.append("pay_bill")
    if pays_a_part(text):  # "pay this month's instalment": paying, no arrangement asked
        found = [asked for asked in found if asked != "payment_arrangement"]
    return [asked for asked in found
            if asked not in (intent, _SAME_QUESTION.get(intent))]
