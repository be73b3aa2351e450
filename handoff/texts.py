"""What the service itself says to customers, in English and Dutch."""

TEXTS = {
    "queued": {
        "en": "You're number {position} in the queue for a colleague. Expected wait: about {minutes} min.",
        "nl": "U bent nummer {position} in de wachtrij voor een medewerker. Verwachte wachttijd: ongeveer {minutes} min.",
    },
    "queued_no_agents": {
        "en": "You're number {position} in the queue, but no colleague is online right now. You can stay "
              "in the queue, or leave a message here and we'll get back to you.",
        "nl": "U bent nummer {position} in de wachtrij, maar er is nu geen medewerker online. U kunt in de "
              "wachtrij blijven, of hier een bericht achterlaten; we komen bij u terug.",
    },
    "queue_update": {
        "en": "Update: you're now number {position} in the queue (about {minutes} min).",
        "nl": "Update: u bent nu nummer {position} in de wachtrij (ongeveer {minutes} min).",
    },
    "leave_queue_button": {
        "en": "Stop waiting",
        "nl": "Stoppen met wachten",
    },
    "queued_message_saved": {
        "en": "Thanks, your message is saved: the colleague reads it when they join. No longer "
              "need a person? Just say \"never mind\".",
        "nl": "Dank u, uw bericht is bewaard: de medewerker leest het zodra die erbij komt. Geen "
              "medewerker meer nodig? Zeg dan \"laat maar\".",
    },
    "left_queue": {
        "en": "You've left the queue. You're back with the assistant: anything else I can help with?",
        "nl": "U heeft de wachtrij verlaten. U bent weer bij de assistent: kan ik nog ergens mee helpen?",
    },
    "agent_joined": {
        "en": "{name} from our team has joined the conversation.",
        "nl": "{name} van ons team is bij het gesprek gekomen.",
    },
    "back_to_bot": {
        "en": "You're back with the assistant. Anything else I can help with?",
        "nl": "U bent weer bij de assistent. Kan ik nog ergens mee helpen?",
    },
    "resolved": {
        "en": "This conversation has been closed. Message us any time if you need anything else; "
              "for your account, the assistant checks it's you again first.",
        "nl": "Dit gesprek is afgesloten. Stuur ons gerust een bericht als u nog iets nodig heeft; "
              "voor uw rekening controleert de assistent eerst opnieuw dat u het bent.",
    },
    "bot_unavailable": {
        "en": "Sorry, our assistant is having trouble right now. I've put you in the queue for a colleague, "
              "and your message is saved.",
        "nl": "Sorry, onze assistent heeft even problemen. Ik heb u in de wachtrij voor een medewerker gezet; "
              "uw bericht is bewaard.",
    },
}


def say(key: str, language: str | None, **values) -> str:
    templates = TEXTS[key]
    return templates.get(language or "en", templates["en"]).format(**values)
