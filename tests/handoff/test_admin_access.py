"""Who may use the admin API: every /api/admin route answers 401 without a token and 403 to
agents and supervisors (before reading the request); agents may only record suggestions, and
only for conversations they can see. Runs against the shared session service."""
import re

import httpx
import pytest

from tests.handoff.page_fixtures import Staff, queued_customer

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(300)]

PARAM = re.compile(r"\{[^}]+\}")


@pytest.fixture(scope="module")
def admin_routes(handoff_service) -> list[tuple[str, str]]:
    """Every admin route the running service publishes (so a new one is checked too)."""
    spec = httpx.get(handoff_service.url + "/openapi.json", timeout=10).json()
    routes = [(method.upper(), PARAM.sub("1", path)) for path, methods in spec["paths"].items()
              if path.startswith("/api/admin") for method in methods]
    assert len(routes) >= 14, routes
    return routes


def call(client: httpx.Client, method: str, path: str) -> httpx.Response:
    # bodies that would be invalid (or valid) must not matter: the role is checked first
    return client.request(method, path, json={} if method in ("POST", "PUT", "PATCH") else None)


def test_without_a_token_every_admin_route_answers_401(handoff_service, admin_routes):
    with httpx.Client(base_url=handoff_service.url, timeout=30) as anonymous:
        answers = {(m, p): call(anonymous, m, p).status_code for m, p in admin_routes}
    assert set(answers.values()) == {401}, answers


@pytest.mark.parametrize("username", ["agent1", "super1"])
def test_agents_and_supervisors_get_403_on_every_admin_route(handoff_service, staff_password,
                                                            admin_routes, username):
    with handoff_service.staff(username, staff_password) as client:
        answers = {(m, p): call(client, m, p) for m, p in admin_routes}
    assert {key: r.status_code for key, r in answers.items() if r.status_code != 403} == {}
    assert all("admin" in r.json()["detail"] for r in answers.values())
    # nothing happened: no training was started, no label stored
    assert handoff_service.rows("SELECT count(*) FROM nlu_models WHERE origin = 'trained'")[0][0] == 0
    assert handoff_service.rows("SELECT count(*) FROM nlu_labels")[0][0] == 0


def test_the_admin_page_is_served_with_the_strict_policy(handoff_service, staff_password):
    page = httpx.get(handoff_service.url + "/admin", timeout=10)
    assert page.status_code == 200 and "Admin console" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    with handoff_service.staff("admin1", staff_password) as admin:
        assert admin.get("/api/admin/intents").json()["entities"] == [
            "account_number", "date_of_birth", "postcode", "plan", "amount", "date"]
        inbox = admin.get("/api/admin/inbox").json()
        assert inbox["logging"] is False  # this service was not given Rasa's tracker store


def test_an_agent_suggests_an_intent_for_a_message_of_their_own_conversation(handoff_service, staff_password):
    customer = queued_customer(handoff_service, "10000003")
    agent1, agent2 = Staff(handoff_service, "agent1", staff_password), Staff(handoff_service, "agent2", staff_password)
    try:
        handoff = agent1.handoff_for(customer.conversation_id)
        agent1.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()
        message_id = handoff_service.rows(
            "SELECT id FROM messages WHERE conversation_id = :c AND author = 'customer' ORDER BY seq LIMIT 1",
            c=customer.conversation_id)[0][0]
        body = {"message_id": message_id, "intent": "explain_bill", "note": "she asked why the bill went up"}
        assert agent2.post("/api/nlu/suggestions", json=body).status_code == 403  # not their conversation
        made = agent1.post("/api/nlu/suggestions", json=body)
        assert made.status_code == 201, made.text
        assert made.json()["suggested_by"] == "agent1"
        assert agent1.post("/api/nlu/suggestions", json={**body, "intent": "Explain Bill"}).status_code == 400
        assert handoff_service.rows("SELECT intent, suggested_by FROM nlu_suggestions WHERE message_id = :m",
                                    m=message_id) == [("explain_bill", "agent1")]
        agent1.post(f"/api/handoffs/{handoff['id']}/resolve", json={"resolution": "explained"}).raise_for_status()
    finally:
        agent1.close()
        agent2.close()
    with httpx.Client(base_url=handoff_service.url, timeout=10) as anonymous:
        assert anonymous.post("/api/nlu/suggestions", json=body).status_code == 401
