"""A question about how the customer can pay ("can I pay with iDEAL?", "nemen jullie
creditcards aan?", "can I set up direct debit?"), in English or Dutch.

Read as `pay_bill` (or not understood), such a question would otherwise get a payment link
without its answer; which methods the link's page takes is a setting
(`BillingSettings.payment_methods`), and direct debit needs a mandate a colleague sets up.
"""
import re

from bot.language import plain_words
from bot.payment_claims import says_already_paid

DIRECT_DEBIT = "direct_debit"
ANY_METHOD = "any"  # "which payment methods do you accept?"

# Checked in this order: "automatisch afschrijven" is direct debit, not a card.
_METHODS = {
    DIRECT_DEBIT: r"(direct debit|direct debits|automatic payment|automatic payments|autopay|"
                  r"auto pay|pay automatically|paid automatically|taken automatically|"
                  r"automatische incasso|incasso|machtiging|machtigen|automatisch|automatische|"
                  r"(take|taking|collect|debit) (it|the money|the payment|the amount|the bill) "
                  r"(from|off|out of) my (bank )?account|"
                  r"van mijn (bank)?rekening (afschrijven|afhalen|halen|laten afschrijven))",
    "ideal": r"(ideal)",
    "paypal": r"(paypal|pay pal)",
    "apple_pay": r"(apple pay|applepay)",
    "google_pay": r"(google pay|googlepay|gpay)",
    "bancontact": r"(bancontact)",
    "card": r"(credit card|credit cards|creditcard|creditcards|debit card|debit cards|"
            r"debitcard|card|cards|visa|mastercard|maestro|amex|american express|pinpas|"
            r"bankpas|betaalpas|pinnen|pin)",
    "cash": r"(cash|contant|contanten|contant geld)",
    "bank_transfer": r"(bank transfer|transfer|wire|wire transfer|overboeking|overmaken|"
                     r"overschrijving|overschrijven|iban)",
    ANY_METHOD: r"(payment method|payment methods|ways to pay|way to pay|payment options|"
                r"options to pay|betaalmethode|betaalmethodes|betaalmethoden|betaalwijze|"
                r"betaalwijzen|betaalmogelijkheden|manieren om te betalen|waarmee kan ik betalen)",
}
_METHOD_PATTERNS = {method: re.compile(rf"\b{words}\b") for method, words in _METHODS.items()}
_ASKING = re.compile(
    r"\b(can|could|may i|do you|does|is it possible|possible|accept|accepted|accepts|"
    r"take|takes|allowed|set up|setup|sign up|switch to|rather|instead|which|what|how|like|want|"
    r"kan ik|kan je|kun je|kunt u|kunnen|nemen jullie|neemt|accepteren|accepteert|mogelijk|"
    r"kan het|kan dat|instellen|aanvragen|regelen|aanmelden|overstappen|liever|welke|"
    r"waarmee|hoe|wil|graag)\b")


def asked_payment_method(text: str) -> str | None:
    """The payment method a message asks about (`ideal`, `card`, `paypal`, `apple_pay`,
    `google_pay`, `bancontact`, `cash`, `bank_transfer`, `direct_debit`, or `any` for the
    methods in general), or None; "I paid
    with iDEAL yesterday" tells of a payment and asks nothing."""
    cleaned = plain_words(text)
    if not (_ASKING.search(cleaned) or text.rstrip().endswith("?")) or says_already_paid(text):
        return None
    return next((method for method, pattern in _METHOD_PATTERNS.items()
                 if pattern.search(cleaned)), None)
