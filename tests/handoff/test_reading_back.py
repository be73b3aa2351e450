"""An agent reads back a conversation they handled after resolving or releasing it; other
agents are told why they may not.

Real processes: Rasa and the action server on the demo data and the handoff service.
"""
import pytest

from tests.handoff.customers import WebCustomer

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(180)]


def handled(service, agent, customer: WebCustomer, close: str) -> dict:
    """`agent` claims the customer's waiting conversation, answers and closes it."""
    assert customer.say("I want to talk to a person")["mode"] == "queued"
    handoff = service.handoff_of(agent, customer.conversation_id)
    agent.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()
    agent.post(f"/api/handoffs/{handoff['id']}/messages",
               json={"text": "Your late fee is explained on page 2."}).raise_for_status()
    agent.post(f"/api/handoffs/{handoff['id']}/{close}",
               json={"resolution": "explained the late fee"}).raise_for_status()
    return handoff


@pytest.mark.parametrize("close, status, closing_line", [
    ("resolve", "resolved", "This conversation has been closed"),
    ("release", "released", "You're back with the assistant"),
])
def test_the_agent_who_handled_a_conversation_reads_it_back(
        handoff_service, staff_password, close, status, closing_line):
    customer = WebCustomer(handoff_service)
    with handoff_service.staff("agent1", staff_password) as anna, \
            handoff_service.staff("agent2", staff_password) as bram:
        hid = handled(handoff_service, anna, customer, close)["id"]
        customer.say("hello again")  # the bot's again: not part of what Anna handled

        detail = anna.get(f"/api/handoffs/{hid}")
        assert detail.status_code == 200, detail.text  # before: 403 "belongs to another agent"
        assert detail.json()["status"] == status and detail.json()["agent"] == "agent1"
        texts = [m["text"] for m in detail.json()["messages"]]
        assert "Your late fee is explained on page 2." in texts
        assert closing_line in texts[-1], texts      # up to the close, not what came after
        assert "hello again" not in texts
        last = detail.json()["messages"][-1]["seq"]
        earlier = anna.get(f"/api/handoffs/{hid}/messages", params={"before": last})
        assert earlier.status_code == 200, earlier.text
        assert [m["seq"] for m in earlier.json()["messages"]] == list(range(1, last))
        later = anna.get(f"/api/handoffs/{hid}/messages", params={"before": last + 10})
        assert "hello again" not in [m["text"] for m in later.json()["messages"]]
        # read-only: nothing more can be said in it
        assert anna.post(f"/api/handoffs/{hid}/messages", json={"text": "x"}).status_code == 409

        # another agent is told what is true
        refused = bram.get(f"/api/handoffs/{hid}")
        assert refused.status_code == 403
        assert refused.json()["detail"] == (f"this conversation was {status} by another agent; "
                                            "only they and supervisors can read it")
        assert bram.get(f"/api/handoffs/{hid}/messages", params={"before": 2}).status_code == 403
    with handoff_service.staff("super1", staff_password) as sara:
        everything = [m["text"] for m in sara.get(f"/api/handoffs/{hid}").json()["messages"]]
        assert "hello again" in everything  # supervisors see the whole conversation


def test_other_agents_are_told_why_they_may_not_read_a_conversation(handoff_service,
                                                                    staff_password):
    waiting, left = WebCustomer(handoff_service), WebCustomer(handoff_service)
    with handoff_service.staff("agent1", staff_password) as anna, \
            handoff_service.staff("agent2", staff_password) as bram:
        assert waiting.say("I want to talk to a person")["mode"] == "queued"
        claimed = handoff_service.handoff_of(anna, waiting.conversation_id)
        assert bram.get(f"/api/handoffs/{claimed['id']}").status_code == 200  # queued: anyone
        anna.post(f"/api/handoffs/{claimed['id']}/claim").raise_for_status()
        refused = bram.get(f"/api/handoffs/{claimed['id']}")
        assert refused.status_code == 403
        assert refused.json()["detail"] == "another agent is handling this conversation"
        anna.post(f"/api/handoffs/{claimed['id']}/release", json={}).raise_for_status()

        assert left.say("I want to talk to a person")["mode"] == "queued"
        gone = handoff_service.handoff_of(anna, left.conversation_id)
        assert left.say("never mind")["mode"] == "bot"
        refused = bram.get(f"/api/handoffs/{gone['id']}")
        assert refused.status_code == 403
        assert refused.json()["detail"] == ("the customer left the queue before an agent took "
                                            "this conversation; only supervisors can read it")
