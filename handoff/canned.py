"""Canned responses for agents, in English and Dutch.

The console inserts one into the reply box (in the conversation's language, or the other
with a click), filling `{customer}` (first name), `{agent}` (first name), `{amount}` and
`{bill_changes}` (what raised the latest bill, from the handoff packet's bill changes:
"your promotion ended and a late payment fee was added"; `[reasons]` when the packet has
none, e.g. the customer is not verified); the agent edits it before sending. Nothing here is
sent automatically, and no text states a customer's circumstances of its own.
"""

CANNED = [
    {
        "key": "greeting",
        "title": {"en": "Greeting", "nl": "Begroeting"},
        "text": {
            "en": "Hi {customer}, this is {agent}. I've read your conversation with our "
                  "assistant, so you don't need to repeat anything.",
            "nl": "Hallo {customer}, u spreekt met {agent}. Ik heb uw gesprek met onze assistent "
                  "gelezen, dus u hoeft niets te herhalen.",
        },
    },
    {
        "key": "checking",
        "title": {"en": "Checking", "nl": "Even kijken"},
        "text": {
            "en": "Thanks for waiting. I'm looking at your account now, one moment please.",
            "nl": "Bedankt voor uw geduld. Ik kijk nu in uw account, een moment alstublieft.",
        },
    },
    {
        "key": "bill_higher",
        "title": {"en": "Why the bill is higher", "nl": "Waarom de rekening hoger is"},
        "text": {
            "en": "I can see why your latest bill is higher: {bill_changes}. I'm sorry this "
                  "came as a surprise.",
            "nl": "Ik zie waarom uw laatste rekening hoger is: {bill_changes}. Sorry dat dit u "
                  "verraste.",
        },
    },
    {
        "key": "credit_granted",
        "title": {"en": "Credit granted", "nl": "Tegoed gegeven"},
        "text": {
            "en": "I've added a credit of {amount} to your account. You'll see it on your next bill.",
            "nl": "Ik heb een tegoed van {amount} op uw account gezet. U ziet het terug op uw "
                  "volgende rekening.",
        },
    },
    {
        "key": "approval_pending",
        "title": {"en": "Asking a supervisor", "nl": "Vraag aan leidinggevende"},
        "text": {
            "en": "I've asked my supervisor to approve this for you. It usually takes a few "
                  "minutes; please stay with me.",
            "nl": "Ik heb mijn leidinggevende gevraagd dit voor u goed te keuren. Dat duurt meestal "
                  "een paar minuten; blijft u even bij mij?",
        },
    },
    {
        "key": "anything_else",
        "title": {"en": "Anything else?", "nl": "Nog iets?"},
        "text": {
            "en": "Is there anything else I can help you with today?",
            "nl": "Kan ik u vandaag nog ergens anders mee helpen?",
        },
    },
    {
        "key": "back_to_bot",
        "title": {"en": "Back to the assistant", "nl": "Terug naar de assistent"},
        "text": {
            "en": "I'll hand you back to our assistant now; it can answer your other bill "
                  "questions straight away. Have a good day, {customer}!",
            "nl": "Ik geef u nu terug aan onze assistent; die beantwoordt uw andere vragen over "
                  "uw rekening direct. Fijne dag nog, {customer}!",
        },
    },
]


def canned_responses() -> list[dict]:
    return [dict(item) for item in CANNED]
