"""The console's API: who may see accounts and grant concessions, approvals, idempotency.

Real processes throughout (handoff service, Rasa, action server, seeded billing DB); the
customers reach the queue by talking to the bot.
"""
import uuid

import httpx
import pytest

from tests.handoff.customers import add_customer
from tests.handoff.page_fixtures import Customer, Staff, billing_rows, queued_customer

pytestmark = [pytest.mark.rasa, pytest.mark.slow, pytest.mark.timeout(420)]


@pytest.fixture
def staff(handoff_service, staff_password):
    people = {}

    def sign_in(username: str) -> Staff:
        if username not in people:
            people[username] = Staff(handoff_service, username, staff_password)
        return people[username]

    yield sign_in
    for person in people.values():
        # leave nobody's conversations claimed: agents have a concurrency limit
        for row in person.get("/api/handoffs", params={"status": "claimed", "mine": "true"}).json():
            person.post(f"/api/handoffs/{row['id']}/resolve", {"resolution": "test cleanup"})
        person.close()


def key() -> str:
    return uuid.uuid4().hex[:20]


STAFF_ENDPOINTS = [
    ("GET", "/api/handoffs?status=queued"), ("GET", "/api/handoffs?status=claimed&mine=true"),
    ("GET", "/api/accounts/10000001"), ("GET", "/api/approvals"), ("GET", "/api/canned"),
    ("GET", "/api/agents/me"), ("POST", "/api/approvals/1/approve"), ("POST", "/api/approvals/1/reject"),
    ("GET", "/api/handoffs/1/concessions"), ("GET", "/api/handoffs/1/concessions/options"),
    ("POST", "/api/handoffs/1/concessions"), ("POST", "/api/handoffs/1/claim"),
]


def test_staff_endpoints_need_a_valid_token_and_the_right_role(handoff_service, staff):
    with httpx.Client(base_url=handoff_service.url, timeout=10) as anonymous:
        for method, path in STAFF_ENDPOINTS:
            response = anonymous.request(method, path, json={})
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers.get("www-authenticate") == "Bearer"
            forged = anonymous.request(method, path, json={},
                                       headers={"Authorization": "Bearer not.a.token"})
            assert forged.status_code == 401, (method, path)
        wrong = anonymous.post("/api/auth/token", data={"username": "agent1", "password": "wrong"})
        assert wrong.status_code == 401
    agent = staff("agent1")
    assert agent.get("/api/agents/me").json()["role"] == "agent"
    for path in ("/api/approvals",):
        assert agent.get(path).status_code == 403
    for verdict in ("approve", "reject"):
        response = agent.post(f"/api/approvals/1/{verdict}", {})
        assert response.status_code == 403, response.text
    # an agent sees an account only while handling its customer's conversation
    assert agent.get("/api/accounts/10000001").status_code == 403
    assert staff("super1").get("/api/accounts/10000001").status_code == 200
    assert staff("super1").get("/api/approvals").status_code == 200


def test_an_agent_cannot_act_on_another_agents_conversation(handoff_service, staff):
    sanne = queued_customer(handoff_service, "10000002")   # Dutch: both agents speak it
    anna, bram = staff("agent1"), staff("agent2")
    handoff = anna.handoff_for(sanne.conversation_id)
    assert handoff["customer_name"] == "Sanne de Vries" and handoff["language"] == "nl"
    assert anna.post(f"/api/handoffs/{handoff['id']}/claim").status_code == 200
    hid = handoff["id"]

    assert bram.post(f"/api/handoffs/{hid}/claim").status_code == 409
    assert bram.post(f"/api/handoffs/{hid}/messages", {"text": "Hallo, met Bram"}).status_code == 403
    assert bram.post(f"/api/handoffs/{hid}/release", {}).status_code == 403
    assert bram.post(f"/api/handoffs/{hid}/resolve", {"resolution": "x"}).status_code == 403
    grant = {"kind": "goodwill_credit", "amount_minor": 500, "reason_code": "bill_shock",
             "idempotency_key": key()}
    assert bram.post(f"/api/handoffs/{hid}/concessions", grant).status_code == 403
    assert bram.get(f"/api/handoffs/{hid}/concessions/options").status_code == 403
    assert bram.get(f"/api/handoffs/{hid}/concessions").status_code == 403
    assert bram.get("/api/accounts/10000002").status_code == 403
    # the owner can, and the customer hears only her
    assert anna.get("/api/accounts/10000002").json()["customer_name"] == "Sanne de Vries"
    assert anna.post(f"/api/handoffs/{hid}/messages", {"text": "Hallo Sanne"}).status_code == 201
    messages = httpx.get(f"{handoff_service.url}/api/chat/{sanne.conversation_id}/messages").json()
    agent_lines = [m for m in messages["messages"] if m["author"] == "agent"]
    assert [m["text"] for m in agent_lines] == ["Hallo Sanne"]
    assert agent_lines[0]["author_name"] == "Anna Agent"
    assert anna.post(f"/api/handoffs/{hid}/resolve", {"resolution": "question answered"}).status_code == 200
    # once closed, nobody acts on it any more (not even the agent who had it)
    assert anna.post(f"/api/handoffs/{hid}/concessions", grant).status_code == 409
    assert anna.get("/api/accounts/10000002").status_code == 403


def test_grants_within_the_limit_are_idempotent_and_limits_hold(handoff_service, staff,
                                                                  bot_database_url):
    tom = queued_customer(handoff_service, "10000003")
    anna = staff("agent1")
    hid = anna.handoff_for(tom.conversation_id)["id"]
    assert anna.post(f"/api/handoffs/{hid}/concessions",
                     {"kind": "retention_discount", "amount_minor": 2400,
                      "idempotency_key": key()}).status_code == 409  # not claimed yet
    anna.post(f"/api/handoffs/{hid}/claim").raise_for_status()

    options = {o["kind"]: o for o in anna.get(f"/api/handoffs/{hid}/concessions/options",
                                              params={"churn_risk": "true"}).json()}
    assert options["late_fee_waiver"]["eligible"] is False
    assert "no_late_fee" in options["late_fee_waiver"]["reasons"]
    retention = options["retention_discount"]
    assert retention["eligible"] and retention["role_limit_minor"] == 12000
    assert retention["max_minor"] == 30000 and retention["months"] == 6

    offer = {"kind": "retention_discount", "amount_minor": retention["suggested_minor"],
             "reason_code": "retention_offer", "idempotency_key": key(), "churn_risk": True,
             "note": "loyal customer"}
    first = anna.post(f"/api/handoffs/{hid}/concessions", offer)
    assert first.status_code == 201, first.text
    granted = first.json()
    assert granted["status"] == "granted" and granted["granted_by"] == "agent1"
    assert granted["conversation_id"] == tom.conversation_id and granted["channel"] == "web"
    retry = anna.post(f"/api/handoffs/{hid}/concessions", offer)
    assert retry.json()["id"] == granted["id"]                   # the same grant, once
    conflict = anna.post(f"/api/handoffs/{hid}/concessions", {**offer, "amount_minor": 100})
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"
    again = anna.post(f"/api/handoffs/{hid}/concessions", {**offer, "idempotency_key": key()})
    assert again.status_code == 409 and again.json()["code"] == "concession_frequency_exceeded"
    no_fee = anna.post(f"/api/handoffs/{hid}/concessions",
                       {"kind": "late_fee_waiver", "amount_minor": 500, "idempotency_key": key()})
    assert no_fee.status_code == 409 and no_fee.json()["code"] == "not_eligible"
    bad = anna.post(f"/api/handoffs/{hid}/concessions",
                    {"kind": "goodwill_credit", "amount_minor": -5, "idempotency_key": key()})
    assert bad.status_code == 422

    listed = anna.get(f"/api/handoffs/{hid}/concessions").json()
    assert [c["id"] for c in listed] == [granted["id"]]
    account = anna.get("/api/accounts/10000003").json()
    assert account["concessions"][0]["id"] == granted["id"]
    rows = billing_rows(bot_database_url,
                        "select r.response, r.offered_by from retention_outcomes r "
                        "where r.adjustment_id = :id", id=granted["id"])
    assert [tuple(r) for r in rows] == [("accepted", "agent1")]


def test_above_the_agents_limit_a_supervisor_decides(handoff_service, staff, bot_database_url):
    """Sanne may get a retention discount; EUR 150 is above an agent's EUR 120."""
    sanne = queued_customer(handoff_service, "10000002")
    anna, sara = staff("agent1"), staff("super1")
    hid = anna.handoff_for(sanne.conversation_id)["id"]
    anna.post(f"/api/handoffs/{hid}/claim").raise_for_status()
    retention = {o["kind"]: o for o in anna.get(f"/api/handoffs/{hid}/concessions/options",
                                                params={"churn_risk": "true"}).json()}[
        "retention_discount"]
    assert retention["eligible"] and retention["role_limit_minor"] == 12000

    offer = {"kind": "retention_discount", "amount_minor": 15000, "reason_code": "price",
             "idempotency_key": key(), "churn_risk": True, "note": "Basic would be cheaper"}
    refused = anna.post(f"/api/handoffs/{hid}/concessions", offer)
    assert refused.status_code == 403
    assert refused.json()["code"] == "concession_limit_exceeded"
    assert refused.json()["max_allowed_minor"] == 12000
    too_much = anna.post(f"/api/handoffs/{hid}/concessions",
                         {**offer, "amount_minor": 40000, "request_approval": True,
                          "idempotency_key": key()})
    assert too_much.status_code == 403                            # above the supervisor limit
    no_risk = anna.post(f"/api/handoffs/{hid}/concessions",
                        {**offer, "churn_risk": False, "request_approval": True,
                         "idempotency_key": key()})
    assert no_risk.status_code == 409 and no_risk.json()["code"] == "not_eligible"

    pending = anna.post(f"/api/handoffs/{hid}/concessions", {**offer, "request_approval": True})
    assert pending.status_code == 201 and pending.json()["status"] == "pending_approval"
    adjustment = pending.json()["id"]
    assert adjustment in [a["id"] for a in sara.get("/api/approvals").json()]
    assert anna.post(f"/api/approvals/{adjustment}/approve", {}).status_code == 403
    approved = sara.post(f"/api/approvals/{adjustment}/approve", {"reason": "fair"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "granted" and approved.json()["approved_by"] == "super1"
    assert sara.post(f"/api/approvals/{adjustment}/reject", {}).status_code == 400  # decided
    assert adjustment not in [a["id"] for a in sara.get("/api/approvals").json()]
    assert anna.get(f"/api/handoffs/{hid}/concessions").json()[0]["status"] == "granted"
    row = billing_rows(bot_database_url,
                       "select ad.status, ad.granted_by, ad.granted_by_role, ad.approved_by, "
                       "ad.conversation_id, ad.channel, r.response, r.offered_by "
                       "from adjustments ad join retention_outcomes r on r.adjustment_id = ad.id "
                       "where ad.id = :id", id=adjustment)
    assert [tuple(r) for r in row] == [("granted", "agent1", "agent", "super1",
                                        sanne.conversation_id, "web", "accepted", "agent1")]


def test_a_rejected_request_is_not_granted(handoff_service, staff, bot_database_url):
    """Jane's goodwill credit above the agent's EUR 25: the supervisor rejects it."""
    jane = queued_customer(handoff_service, "10000001")
    anna, sara = staff("agent1"), staff("super1")
    hid = anna.handoff_for(jane.conversation_id)["id"]
    anna.post(f"/api/handoffs/{hid}/claim").raise_for_status()
    balance = anna.get("/api/accounts/10000001").json()["balance_minor"]
    pending = anna.post(f"/api/handoffs/{hid}/concessions",
                        {"kind": "goodwill_credit", "amount_minor": 4000, "reason_code": "bill_shock",
                         "idempotency_key": key(), "request_approval": True})
    assert pending.status_code == 201 and pending.json()["status"] == "pending_approval"
    rejected = sara.post(f"/api/approvals/{pending.json()['id']}/reject", {"reason": "too much"})
    assert rejected.json()["status"] == "rejected" and rejected.json()["approved_by"] == "super1"
    assert anna.get("/api/accounts/10000001").json()["balance_minor"] == balance
    assert anna.get(f"/api/handoffs/{hid}/concessions").json()[0]["status"] == "rejected"


def test_a_cancel_threat_gets_the_retention_discount_from_its_packet(handoff_service, staff,
                                                                     bot_database_url):
    """A customer who threatens to cancel and turns the bot's offer down reaches an agent with
    the cancel_threat flag: the options and the grant take the churn risk from the packet
    (before, the retention discount read "no_churn_risk" unless the agent set it by hand)."""
    lotte = add_customer(bot_database_url, name="Lotte Visser", years=6)
    customer = Customer(handoff_service, "en")
    customer.say("I want to cancel my subscription")
    customer.say(lotte.account_number)
    offer = customer.text(lotte.date_of_birth)
    assert "Lotte Visser" in offer and "10% off your plan" in offer, offer
    customer.say("no thanks")
    assert customer.say("yes please")["mode"] == "queued"
    anna = staff("agent1")
    handoff = anna.handoff_for(customer.conversation_id)
    assert "cancel_threat" in handoff["flags"], handoff
    hid = handoff["id"]
    anna.post(f"/api/handoffs/{hid}/claim").raise_for_status()

    options = {o["kind"]: o for o in anna.get(f"/api/handoffs/{hid}/concessions/options").json()}
    retention = options["retention_discount"]
    assert retention["eligible"] and retention["reasons"] == [], retention
    # the agent may still say otherwise
    told = {o["kind"]: o for o in anna.get(f"/api/handoffs/{hid}/concessions/options",
                                           params={"churn_risk": "false"}).json()}
    assert told["retention_discount"]["reasons"] == ["no_churn_risk"]

    granted = anna.post(f"/api/handoffs/{hid}/concessions",
                        {"kind": "retention_discount", "amount_minor": retention["suggested_minor"],
                         "reason_code": "retention_offer", "idempotency_key": key()})
    assert granted.status_code == 201, granted.text
    assert granted.json()["status"] == "granted"
    rows = billing_rows(bot_database_url,
                        "select r.response, r.offered_by from retention_outcomes r "
                        "where r.adjustment_id = :id", id=granted.json()["id"])
    assert [tuple(r) for r in rows] == [("accepted", "agent1")]
