"""Rasa's events (production mode's event broker) applied to the handoff store, as the
consumer does (handoff.services.rasa_events.RasaEventSink), on SQLite and PostgreSQL."""
from sqlalchemy import select

from handoff.models import Author, Conversation, Message
from handoff.services import transcript
from handoff.services.pubsub import InProcessBroker
from handoff.services.rasa_events import RasaEventSink

PARSE = {"intent": {"name": "ask_balance", "confidence": 0.93},
         "intent_ranking": [{"name": "ask_balance", "confidence": 0.93}], "entities": []}


def user(sender, text, **extra):
    return {"event": "user", "sender_id": sender, "text": text, "parse_data": PARSE,
            "timestamp": 1_790_000_000.5, **extra}


def bot(sender, text, at=1_790_000_001.0):
    return {"event": "bot", "sender_id": sender, "text": text, "timestamp": at, "data": {}}


def lines(sessions, conversation_id):
    with sessions() as session:
        return [(m.seq, m.author.value, m.text, m.intent) for m in session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq))]


def test_a_turn_that_bypassed_the_service_is_stored_once_even_when_redelivered(sessions):
    sink = RasaEventSink(sessions, InProcessBroker())
    turn = [user("api-1", "what is my balance", message_id="m1"),
            {"event": "action", "sender_id": "api-1", "name": "utter_ask_account"},
            bot("api-1", "What is your account number?")]
    assert [sink.apply(e) for e in turn] == ["customer", "skipped", "bot"]
    # RabbitMQ redelivers what a consumer that died had not acknowledged; a new consumer
    # (another replica) starts with an empty memory
    again = RasaEventSink(sessions, InProcessBroker())
    assert [again.apply(e) for e in turn] == ["duplicate", "skipped", "skipped"]
    assert lines(sessions, "api-1") == [(1, "customer", "what is my balance", "ask_balance"),
                                        (2, "bot", "What is your account number?", None)]
    with sessions() as session:
        assert session.get(Conversation, "api-1").channel == "rasa"


def test_a_forwarded_turn_gets_its_nlu_result_and_its_answers_are_not_stored_twice(sessions):
    with sessions() as session, session.begin():
        conversation = transcript.get_or_create(session, "web-1", channel="web")
        transcript.append(session, conversation, author=Author.customer, text="what is my balance")
        transcript.append(session, conversation, author=Author.bot, text="Your account number?")
    sink = RasaEventSink(sessions, InProcessBroker())
    assert sink.apply(user("web-1", "what is my balance", metadata={"handoff_seq": 1})) == "nlu"
    assert sink.apply(bot("web-1", "Your account number?")) == "skipped"
    assert RasaEventSink(sessions, InProcessBroker()).apply(bot("web-1", "Your account number?")) == "skipped"
    assert lines(sessions, "web-1") == [(1, "customer", "what is my balance", "ask_balance"),
                                        (2, "bot", "Your account number?", None)]


def test_events_that_name_no_valid_conversation_are_ignored(sessions):
    sink = RasaEventSink(sessions, InProcessBroker())
    assert sink.apply(user("../etc", "hi")) == "skipped"
    assert sink.apply({"event": "user", "text": "hi"}) == "skipped"
    with sessions() as session:
        assert session.scalar(select(Message.id)) is None
