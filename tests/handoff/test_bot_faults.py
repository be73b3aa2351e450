"""The bot's processes fail mid-conversation: the customer gets an answer and a place in the queue."""
import httpx
import pytest

from bot.serve import free_port, start_action_server, start_rasa_server, write_endpoints
from handoff.migrate import upgrade
from tests.handoff.conftest import start_handoff_service
from tests.handoff.page_fixtures import Customer


@pytest.fixture
def private_stack(model, bot_database_url, twilio_fake, tmp_path):
    """Action server, Rasa and handoff service of this test alone, so it may stop them."""
    actions = start_action_server(database_url=bot_database_url, log_dir=tmp_path)
    endpoints = write_endpoints(tmp_path / "endpoints.yml", action_url=actions.url,
                                tracker_db=tmp_path / "tracker.db")
    rasa = start_rasa_server(model=model, endpoints=endpoints, log_dir=tmp_path)
    store = f"sqlite:///{tmp_path / 'handoff.db'}"
    upgrade(store)
    service = start_handoff_service(port=free_port(), database_url=store, rasa_url=rasa.url,
                                    billing_url=bot_database_url, twilio_url=twilio_fake.url,
                                    log=tmp_path / "handoff.log", rasa_timeout_seconds="5")
    yield actions, rasa, service
    for server in (service.server, rasa, actions):
        server.stop()


def transcript(service, conversation_id):
    return httpx.get(f"{service.url}/api/chat/{conversation_id}/messages", timeout=10).json()


@pytest.mark.parametrize("stopped", ["rasa", "actions"])
def test_a_stopped_bot_process_loses_no_message(private_stack, stopped):
    actions, rasa, service = private_stack
    customer = Customer(service)
    assert customer.say("hi there")["mode"] == "bot"
    (rasa if stopped == "rasa" else actions).stop()
    result = customer.say("what is my balance please")
    assert result["mode"] == "queued"
    texts = " ".join(reply["text"] for reply in result["replies"])
    assert "trouble" in texts and "queue" in texts
    history = transcript(service, customer.conversation_id)
    said = [m["text"] for m in history["messages"] if m["author"] == "customer"]
    assert said == ["hi there", "what is my balance please"]
    # Later messages wait for a person instead of vanishing.
    waiting = customer.say("hello?")
    assert waiting["mode"] == "queued" and "message is saved" in waiting["replies"][0]["text"]
    history = transcript(service, customer.conversation_id)["messages"]
    assert [m["text"] for m in history if m["author"] == "customer"][-1] == "hello?"


def test_a_hand_back_rasa_missed_is_made_before_the_next_message(private_stack, model, tmp_path,
                                                                    staff_password):
    """Rasa was down while the agent resolved: the bot stayed paused in its tracker, so the
    customer's next message got no answer and was queued again as the bot being down."""
    actions, rasa, service = private_stack
    customer = Customer(service)
    assert customer.say("I want to talk to a person")["mode"] == "queued"
    with service.staff("agent1", staff_password) as agent:
        handoff = service.handoff_of(agent, customer.conversation_id)
        agent.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()
        rasa.stop()
        agent.post(f"/api/handoffs/{handoff['id']}/resolve",
                   json={"resolution": "explained the bill"}).raise_for_status()
    again = start_rasa_server(model=model, endpoints=tmp_path / "endpoints.yml", log_dir=tmp_path,
                              port=int(rasa.url.rsplit(":", 1)[1]), log_name="rasa-again.log")
    try:
        after = customer.say("what is my balance please")
        said = " ".join(reply["text"] for reply in after["replies"])
        assert after["mode"] == "bot", said
        assert "account number" in said and "trouble" not in said
        assert [row.status for row in service.rows(
            "select status from handoffs where conversation_id = :c",
            c=customer.conversation_id)] == ["resolved"]
    finally:
        again.stop()
