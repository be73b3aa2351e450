from handoff.channels.sms_render import option_payload, render
from handoff.models import Author, Conversation
from handoff.services import transcript

BUTTONS = [{"title": "Basic", "payload": '/inform{"plan": "basic"}'},
           {"title": "Premium", "payload": '/inform{"plan": "premium"}'}]


def test_a_number_picks_from_the_buttons_of_the_latest_turn(sessions):
    with sessions() as session, session.begin():
        conversation = Conversation(id="sms-1", channel="sms", phone="+1")
        session.add(conversation)
        session.flush()
        transcript.append(session, conversation, author=Author.customer, text="switch plan")
        transcript.append(session, conversation, author=Author.bot, text="Which plan?", buttons=BUTTONS)
        transcript.append(session, conversation, author=Author.bot, text="Basic saves you €508.20")
        assert option_payload(session, "sms-1", "2") == '/inform{"plan": "premium"}'
        assert option_payload(session, "sms-1", "3") is None and option_payload(session, "sms-1", "hi") is None
        transcript.append(session, conversation, author=Author.customer, text="2")
        transcript.append(session, conversation, author=Author.bot, text="Done.")
        assert option_payload(session, "sms-1", "1") is None  # those options were answered


def test_options_are_numbered_with_a_hint_in_the_customers_language():
    [body] = render([{"text": "Welk abonnement?", "buttons": BUTTONS}], language="nl")
    assert body == "Welk abonnement?\n1) Basic\n2) Premium\n(antwoord met een cijfer)"
