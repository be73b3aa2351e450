"""Security: Twilio signatures, verification brute force, staff roles, secrets and masking in logs.

Not repeated here (tests/handoff covers them): a forged or missing signature refused, one
replayed MessageSid, agents seeing only the queue and their own conversations.
"""
import asyncio
import base64
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import jwt
import pytest
import websockets

from bench.stack import JWT_SECRET, STAFF_PASSWORD, TWILIO_SID, TWILIO_TOKEN
from tests.reliability.helpers import AMOUNT, Web, rows, sent_to, sms, staff, token, wait_for_sms


def stored_texts(stack, conversation_id: str) -> list[str]:
    return [text for (text,) in rows(stack.handoff_url, "select text from messages where "
                                     "conversation_id=:c and author='customer' order by seq",
                                     c=conversation_id)]


# -- Twilio ------------------------------------------------------------------------------------
def test_a_signature_for_another_url_or_token_or_body_is_refused(stack):
    phone = "+31699000201"
    other_url = sms(stack, phone, "hello", url="https://attacker.example/sms/twilio")
    other_token = sms(stack, phone, "hello", token="another-accounts-auth-token")
    from twilio.request_validator import RequestValidator

    from bench.stack import SERVICE_NUMBER

    signed = {"MessageSid": "SM" + "f" * 32, "AccountSid": TWILIO_SID, "From": phone,
              "To": SERVICE_NUMBER, "Body": "hello", "NumMedia": "0"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(stack.public_url + "/sms/twilio", signed)
    tampered = httpx.post(stack.public_url + "/sms/twilio", data={**signed, "Body": "STOP"},
                          headers={"X-Twilio-Signature": signature}, timeout=30)
    extra_field = httpx.post(stack.public_url + "/sms/twilio", data={**signed, "Extra": "1"},
                             headers={"X-Twilio-Signature": signature}, timeout=30)
    for response in (other_url, other_token, tampered, extra_field):
        assert response.status_code == 403, response.text
    assert stored_texts(stack, "sms-31699000201") == []
    assert rows(stack.handoff_url, "select count(*) from inbound_sms where message_sid=:s",
                s=signed["MessageSid"])[0][0] == 0
    assert sent_to(stack, phone) == []


def test_the_same_message_sid_arriving_at_once_is_processed_once(stack):
    phone, sid = "+31699000202", "SM" + "e" * 32
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda _: sms(stack, phone, "what can you do?", sid=sid), range(6)))
    assert [r.status_code for r in responses] == [200] * 6
    assert stored_texts(stack, "sms-31699000202") == ["what can you do?"]
    time.sleep(2)
    first = wait_for_sms(stack, phone, 1)
    assert len(first) == len(sent_to(stack, phone)) and len(first) >= 1


# -- verification brute force --------------------------------------------------------------------
def test_guessing_a_date_of_birth_locks_the_account_and_leaks_nothing(stack):
    victim = stack.customers[0]
    name = rows(stack.billing_url, "select c.name from customers c join accounts a on a.customer_id=c.id "
                                   "where a.account_number=:n", n=victim.account_number)[0][0]
    replies = []
    guesses = ["01-01-1970", "02-02-1971", "03-03-1972"]
    for guess in guesses:  # a new conversation per guess: the lock is per account
        attacker = Web(stack)
        replies.append(attacker.text("what is my balance?"))
        replies.append(attacker.text(victim.account_number))
        replies.append(attacker.text(guess))
    right = f"{victim.date_of_birth:%d-%m-%Y}"
    later = Web(stack)
    later.say("what is my balance?")
    later.say(victim.account_number)
    replies.append(later.text(right))  # the right answer, while locked
    replies.append(later.text("what is my balance?"))
    assert any("locked" in r or "15 minutes" in r or "geblokkeerd" in r for r in replies[-2:]), replies[-2:]
    for reply in replies:
        assert AMOUNT not in reply and name not in reply and victim.plan.capitalize() not in reply, reply
    # over SMS from the customer's own phone, the right factor is refused as well
    sms(stack, victim.phone, "what is my balance?")
    sms(stack, victim.phone, right)
    texts = [m["body"] for m in wait_for_sms(stack, victim.phone, 2)]
    assert texts and all(AMOUNT not in t and name not in t for t in texts), texts
    locked = rows(stack.billing_url, "select verification_locked_until from accounts where account_number=:n",
                  n=victim.account_number)[0][0]
    assert locked is not None
    logs = "".join(p.logs() for p in stack.processes())
    for secret in [*guesses, right, name, f"{victim.date_of_birth:%Y-%m-%d}"]:
        assert secret not in logs, f"{secret!r} is in a service log"


# -- staff endpoints -----------------------------------------------------------------------------
def staff_operations(stack) -> list[tuple[str, str]]:
    spec = httpx.get(stack.public_url + "/openapi.json", timeout=10).json()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                concrete = re.sub(r"\{[^}]*\}", "1", path).replace("/1.csv", "/languages.csv")
                found.append((method.upper(), concrete))
    return found


def forged_tokens() -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": "admin1", "role": "admin", "iat": now, "exp": now + 3600}
    unsigned = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode() + "." + \
        base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode() + "."
    return {
        "garbage": "not-a-token",
        "other secret": jwt.encode(claims, "someone-elses-secret-key-0123456789abcdef", algorithm="HS256"),
        "alg none": unsigned,
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, JWT_SECRET, algorithm="HS256"),
        "unknown user": jwt.encode({**claims, "sub": "nobody"}, JWT_SECRET, algorithm="HS256"),
    }


def test_every_staff_endpoint_refuses_missing_and_forged_tokens(stack):
    operations = staff_operations(stack)
    assert len(operations) > 20
    wrong = []
    with httpx.Client(base_url=stack.public_url, timeout=30) as client:
        for method, path in operations:
            answers = [client.request(method, path).status_code]
            for bad in forged_tokens().values():
                answers.append(client.request(method, path, headers={"Authorization": f"Bearer {bad}"}).status_code)
            if set(answers) != {401}:
                wrong.append((method, path, answers))
    assert wrong == []


@pytest.mark.parametrize("username, forbidden", [
    ("agent1", ("/api/approvals", "/api/reports", "/api/admin")),
    ("super1", ("/api/admin",)),
])
def test_staff_without_the_role_get_403(stack, username, forbidden):
    wrong = []
    with staff(stack, username) as client:
        for method, path in staff_operations(stack):
            if path.startswith(forbidden):
                status = client.request(method, path, json={}).status_code
                if status != 403:
                    wrong.append((method, path, status))
    assert wrong == []


def test_the_agent_websocket_refuses_missing_and_forged_tokens(stack):
    async def refused(query: str) -> bool:
        url = stack.public_url.replace("http://", "ws://") + "/api/agents/ws" + query
        try:
            async with websockets.connect(url, open_timeout=10) as socket:
                await asyncio.wait_for(socket.recv(), 5)
        except (websockets.InvalidStatusCode, websockets.ConnectionClosed):
            return True
        except asyncio.TimeoutError:
            return False
        return False

    async def main():
        queries = ["", "?token="] + [f"?token={t}" for t in forged_tokens().values()]
        return [q for q in queries if not await refused(q)]

    assert asyncio.run(main()) == []


# -- masking and secrets ---------------------------------------------------------------------------
CARD = "4111 1111 1111 1111"


def test_cards_and_dates_of_birth_are_masked_for_agents_and_in_logs(stack):
    customer = Web(stack)
    customer.say(f"my card {CARD} was charged twice")
    customer.say("I was born April 12, 1985 and on 12-04-1985")
    result = customer.say("I want to talk to a person")
    assert result["mode"] == "queued", result
    raw = [CARD, CARD.replace(" ", ""), "April 12, 1985", "12-04-1985"]

    async def watch(conversation_id: str, agent_token: str) -> list[dict]:
        url = stack.public_url.replace("http://", "ws://") + f"/api/agents/ws?token={agent_token}"
        async with websockets.connect(url, open_timeout=10) as socket:
            await socket.send(json.dumps({"watch": conversation_id}))
            await asyncio.sleep(0.5)
            customer.say(f"still waiting, card {CARD}, born April 12, 1985")
            events = []
            try:
                while True:
                    events.append(json.loads(await asyncio.wait_for(socket.recv(), 3)))
            except asyncio.TimeoutError:
                return events

    agent_token = token(stack, "agent1")
    with staff(stack, "agent1") as agent:
        listed = agent.get("/api/handoffs").json()
        handoff = next(h for h in listed if h["conversation_id"] == customer.conversation_id)
        detail = agent.get(f"/api/handoffs/{handoff['id']}").json()
        events = asyncio.run(watch(customer.conversation_id, agent_token))
    shown = json.dumps([listed, detail, events], ensure_ascii=False)
    assert "••••1111" in shown and "••-••-••••" in shown
    for value in raw:
        assert value not in shown, f"{value!r} shown to an agent"
    assert any(e.get("type") == "message" for e in events), events
    logs = "".join(p.logs() for p in stack.processes())
    for value in raw:
        assert value not in logs, f"{value!r} is in a service log"
    # the customer themself still sees what they typed
    assert CARD in " ".join(customer.said())


def test_no_secret_or_access_token_is_ever_logged(stack):
    """Exercise what could log them (sign-ins, wrong passwords, staff WebSockets, outbound SMS
    through Twilio's API with basic auth), then read every process's output."""
    issued = [token(stack, name) for name in ("agent1", "super1", "admin1")]
    httpx.post(stack.public_url + "/api/auth/token",
               data={"username": "admin1", "password": STAFF_PASSWORD + "x"}, timeout=10)
    httpx.post(stack.public_url + "/api/auth/token",
               data={"username": STAFF_PASSWORD, "password": STAFF_PASSWORD}, timeout=10)

    async def sockets():
        for value in issued:
            url = stack.public_url.replace("http://", "ws://") + f"/api/agents/ws?token={value}"
            async with websockets.connect(url, open_timeout=10) as socket:
                await socket.send(json.dumps({"watch": "rel-nothing"}))
                await asyncio.sleep(0.2)
    asyncio.run(sockets())
    sms(stack, "+31699000203", "HELP")
    wait_for_sms(stack, "+31699000203", 1)
    time.sleep(1)  # let the processes flush their output
    basic = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    secrets = {"Twilio auth token": TWILIO_TOKEN, "Twilio basic auth": basic,
               "JWT secret": JWT_SECRET, "staff password": STAFF_PASSWORD,
               **{f"access token {i}": value for i, value in enumerate(issued)}}
    for process in stack.processes():
        output = process.logs()
        assert output, f"{process.name} wrote nothing at all"
        for label, secret in secrets.items():
            assert secret not in output, f"the {label} is in the {process.name}'s log"
    assert "token=[redacted]" in stack.handoff.logs()


def test_a_payment_link_s_token_is_in_no_log(stack):
    """The link's token is all it takes to open the customer's payment page (amount, name of
    the bank account): requests for it must not write it into the access logs."""
    # customers 0-2 are locked or used by the other tests here; one with something to pay
    for customer in stack.customers[3:]:
        web = Web(stack)
        web.say("I want to pay my bill")
        web.say(customer.account_number)
        match = re.search(r"/pay/([A-Za-z0-9_.\-]+)", web.text(customer.postcode))
        if match:
            break
    else:
        pytest.fail("no generated customer has anything to pay")
    link_token = match.group(1)
    assert httpx.get(f"{stack.public_url}/pay/{link_token}", timeout=10).status_code == 200
    assert httpx.get(f"{stack.public_url}/api/payment-links/{link_token}",
                     timeout=10).status_code == 200
    time.sleep(1)  # let the processes flush their output
    for process in stack.processes():
        assert link_token not in process.logs(), f"the payment-link token is in {process.name}'s log"
    assert "/pay/[redacted]" in stack.handoff.logs()
