"""The handoff packet shows the agent the buttons a customer pressed by their titles, not by
the payloads the bot read."""
from handoff.models import Author, Conversation
from handoff.services import transcript

OPTIONS = [{"title": "3 instalments", "payload": '/inform{"arrangement_option": "instalments_3"}'},
           {"title": "6 instalments", "payload": '/inform{"arrangement_option": "instalments_6"}'}]
CONFIRM = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
CHANGE = [{"title": "Yes, switch", "payload": "/affirm"}, {"title": "Keep my plan", "payload": "/deny"}]


def test_each_press_shows_the_title_of_the_button_the_bot_had_just_shown(sessions):
    said = [("bot", "How would you like to pay?", OPTIONS), ("bot", "Shall I set that up?", CONFIRM),
            ("bot", "Switch to Basic?", CHANGE)]
    with sessions() as session, session.begin():
        conversation = Conversation(id="web-titles", channel="web")
        session.add(conversation)
        session.flush()
        for _, text, buttons in said:
            transcript.append(session, conversation, author=Author.bot, text=text, buttons=buttons)
    lines = [{"from": "customer", "text": "/affirm"},  # no button shown yet: left as it is
             {"from": "bot", "text": "How would you like to pay?"},
             {"from": "customer", "text": '/inform{"arrangement_option": "instalments_6"}'},
             {"from": "bot", "text": "Shall I set that up?"},
             {"from": "customer", "text": "/affirm"},
             {"from": "bot", "text": "Switch to Basic?"},
             {"from": "customer", "text": "/affirm"},
             {"from": "customer", "text": "6 instalments please"},
             {"from": "bot", "text": "/affirm"}]
    with sessions() as session:
        shown = transcript.with_button_titles(session, "web-titles", lines)
    assert [line["text"] for line in shown] == [
        "/affirm", "How would you like to pay?", "6 instalments", "Shall I set that up?", "Yes",
        "Switch to Basic?", "Yes, switch", "6 instalments please", "/affirm"]
    with sessions() as session:  # another conversation's buttons say nothing about this one
        assert transcript.with_button_titles(session, "web-other", lines[1:3])[1]["text"] == \
            lines[2]["text"]
