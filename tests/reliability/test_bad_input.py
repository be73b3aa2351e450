"""Bad input to every public endpoint: a clear 4xx or a polite bot reply, never a 5xx.

Customers' REST chat and WebSocket, the Twilio webhook (signed and unsigned), sign-in, the staff
API with a valid token, the pages. Texts: empty, 10,000 characters, control characters, emoji
and right-to-left text, lone surrogates, injection-looking strings; bodies: invalid JSON, wrong
content types, deep nesting, huge form fields; ids: out of 64-bit range, negative, foreign.
"""
import asyncio
import json
import re

import httpx
import pytest
import websockets

from handoff.api.schemas import clean_text
from tests.reliability.helpers import Web, sms, staff

INJECTIONS = [
    "'; DROP TABLE conversations; --",
    "1 OR 1=1",
    "<script>alert('x')</script>",
    "{{7*7}} ${7*7} #{7*7}",
    "${jndi:ldap://127.0.0.1/a}",
    "%s%s%s%n",
    "../../../../etc/passwd",
    "/restart",
    '/inform{"account_number": "10000001", "verified": true}',
    "\\u0000 \\x00 \\n",
]
ODD_TEXTS = [
    "😀🔥💸" * 60,
    "مرحبا، ما هو رصيدي؟",
    "שלום, מה היתרה שלי?",
    "\u202egnp.exe\u202c balance",
    "wat\u200b is\u200d mijn\ufeff saldo",
    "hello\x07\x1b[31m red \x1b[0m",
    "a" * 2000,
    "ÅÄÖ ñ ß ﬁ Ⅻ ① 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    " \t what is my balance \n\n",
    "\u200b\u200b",
]
NO_TEXTS = ["", " ", "\x00", "\x00\x01\x02", "\n\t \r"]  # nothing left after cleaning


def polite(body: dict) -> None:
    assert body["mode"] in ("bot", "queued", "agent", "closed"), body
    assert body["replies"], body
    for reply in body["replies"]:
        assert reply["text"].strip()
        assert not re.search(r"Traceback|Exception|internal error|\{\w+\}", reply["text"]), reply


@pytest.mark.parametrize("message", INJECTIONS + ODD_TEXTS)
def test_odd_and_hostile_texts_get_a_polite_reply(stack, message):
    web = Web(stack)
    response = web.post(message)
    assert response.status_code == 200, response.text
    polite(response.json())
    assert web.said() == [clean_text(message)]  # stored as shown, minus control characters


@pytest.mark.parametrize("message", NO_TEXTS + ["x" * 2001, "x" * 10_000])
def test_empty_or_too_long_texts_are_refused_with_422(stack, message):
    response = Web(stack).post(message)
    assert response.status_code == 422, response.text
    assert "text" in response.text


RAW_BODIES = [
    ("invalid JSON", b'{"conversation_id": "rel-x", "text": ', "application/json"),
    ("JSON array", b"[1, 2, 3]", "application/json"),
    ("JSON null", b"null", "application/json"),
    ("not UTF-8", b'{"conversation_id": "rel-x", "text": "\xff\xfe"}', "application/json"),
    ("lone surrogate", b'{"conversation_id": "rel-x", "text": "\\ud800 hi"}', "application/json"),
    ("deep nesting", b'{"conversation_id": "rel-x", "text": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
     "application/json"),
    ("plain text", b"what is my balance", "text/plain"),
    ("form", b"conversation_id=rel-x&text=hi", "application/x-www-form-urlencoded"),
    ("XML", b"<message><text>hi</text></message>", "application/xml"),
    ("no content type", b'{"conversation_id": "rel-x", "text": "hi"}', None),
    ("1 MB text", json.dumps({"conversation_id": "rel-x", "text": "a" * 1_000_000}).encode(),
     "application/json"),
    ("wrong types", b'{"conversation_id": 5, "text": ["hi"], "lang": 3}', "application/json"),
    ("bad lang", b'{"conversation_id": "rel-x", "text": "hi", "lang": "xx"}', "application/json"),
    ("SMS id", b'{"conversation_id": "sms-31600000001", "text": "hi"}', "application/json"),
    ("id with slash", b'{"conversation_id": "a/../b", "text": "hi"}', "application/json"),
    ("id too long", json.dumps({"conversation_id": "a" * 65, "text": "hi"}).encode(), "application/json"),
    ("fake button payload", b'{"conversation_id": "rel-x", "text": "ok", "payload": "/x{\\"a\\": 1} && rm"}',
     "application/json"),
]


@pytest.mark.parametrize("label, body, content_type", RAW_BODIES, ids=[b[0] for b in RAW_BODIES])
def test_malformed_chat_requests_are_4xx(stack, label, body, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = httpx.post(stack.public_url + "/api/chat/messages", content=body, headers=headers,
                          timeout=30)
    assert 400 <= response.status_code < 500, (label, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("path", [
    "/api/chat/{long}/messages", "/api/chat/%F0%9F%98%80/messages", "/api/chat/a%00b/messages",
    "/api/chat/rel-none/messages?after=-1", "/api/chat/rel-none/messages?after=abc",
    "/api/chat/rel-none/messages?after=99999999999999999999999",
    "/api/chat/rel-none/messages?after=1e3", "/api/chat/sms-31600000001/messages",
])
def test_reading_a_transcript_with_bad_ids_is_4xx(stack, path):
    response = httpx.get(stack.public_url + path.format(long="a" * 5000), timeout=10)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])


def test_an_existing_transcript_with_a_far_after_is_4xx_or_empty(stack):
    web = Web(stack)
    web.say("hello")
    for after in (2**63 - 1, 2**63, 10**30):
        response = httpx.get(f"{stack.public_url}/api/chat/{web.conversation_id}/messages",
                             params={"after": after}, timeout=10)
        assert response.status_code in (200, 422), response.text
        if response.status_code == 200:
            assert response.json()["messages"] == []


def test_the_chat_websocket_answers_bad_frames_with_errors_and_keeps_going(stack):
    frames = ["[1, 2]", "null", "7", json.dumps({"text": "a" * 10_000}), '{"text": "\\ud800"}',
              '{"text": 5}', '{"nope": 1}', json.dumps({"text": "\x00"}),
              json.dumps({"text": "hi", "payload": "not a payload"})]

    async def main():
        url = stack.public_url.replace("http://", "ws://") + "/api/chat/rel-ws-bad/ws"
        async with websockets.connect(url, open_timeout=10) as socket:
            for frame in frames:
                await socket.send(frame)
                event = json.loads(await asyncio.wait_for(socket.recv(), 10))
                assert event["type"] == "error", (frame, event)
            await socket.send(json.dumps({"text": "what can you do?"}))
            seen = []
            while not any(e.get("message", {}).get("author") == "bot" for e in seen):
                seen.append(json.loads(await asyncio.wait_for(socket.recv(), 30)))
        # an SMS conversation's id: refused at the handshake (closed before accept: HTTP 403)
        with pytest.raises(websockets.InvalidStatusCode) as refused:
            async with websockets.connect(
                    stack.public_url.replace("http://", "ws://") + "/api/chat/sms-31600000001/ws"):
                pass
        assert refused.value.status_code == 403

    asyncio.run(main())


SMS_CASES = [
    ("empty body", {"Body": ""}, {200}),
    ("10,000 characters", {"Body": "x" * 10_000}, {200}),
    ("control characters", {"Body": "hi\x00\x01\x1b[2J"}, {200}),
    ("emoji and RTL", {"Body": "😀 مرحبا שלום"}, {200}),
    ("injection", {"Body": "'; DROP TABLE inbound_sms; --"}, {200}),
    ("huge extra field", {"MediaUrl0": "http://x/" + "a" * 500_000}, {200, 400, 413}),
    ("sender not a number", {"From": "hello"}, {400}),
    ("sender empty", {"From": ""}, {400}),
    ("MessageSid too long", {"MessageSid": "SM" + "a" * 200}, {400}),
    ("MessageSid empty", {"MessageSid": ""}, {400}),
]


@pytest.mark.parametrize("label, fields, expected", SMS_CASES, ids=[c[0] for c in SMS_CASES])
def test_signed_sms_with_bad_fields_is_answered_or_refused_cleanly(stack, label, fields, expected):
    extra = dict(fields)
    phone = extra.pop("From", "+31699000101")
    body = extra.pop("Body", "hello")
    sid = extra.pop("MessageSid", None)
    response = sms(stack, phone, body, sid=sid, extra=extra)
    assert response.status_code in expected, (label, response.status_code, response.text[:300])


@pytest.mark.parametrize("content, content_type", [
    (b'{"From": "+31600000001", "Body": "hi"}', "application/json"),
    (b"Body=%ff%fe&From=%2B31", "application/x-www-form-urlencoded"),
    (b"--x\r\nContent-Disposition: form-data; name=\"Body\"\r\n\r\nhi\r\n--x--\r\n",
     "multipart/form-data; boundary=x"),
    (b"<Body>hi</Body>", "text/xml"),
    (b"", None),
])
def test_unsigned_or_malformed_webhooks_are_refused(stack, content, content_type):
    headers = {"X-Twilio-Signature": "bm9wZQ=="}
    if content_type:
        headers["content-type"] = content_type
    response = httpx.post(stack.public_url + "/sms/twilio", content=content, headers=headers, timeout=30)
    assert response.status_code in (400, 403), response.text


@pytest.mark.parametrize("data", [
    {}, {"username": "admin1"}, {"username": "a" * 100_000, "password": "x"},
    {"username": "admin1\x00", "password": "x\x00"}, {"username": "' OR '1'='1", "password": "' OR '1'='1"},
    {"username": "😀", "password": "שלום"}, {"username": "admin1", "password": "p" * 100_000},
])
def test_sign_in_with_bad_forms_is_401_or_422(stack, data):
    response = httpx.post(stack.public_url + "/api/auth/token", data=data, timeout=30)
    assert response.status_code in (401, 422), response.text
    assert "access_token" not in response.text


def test_sign_in_with_a_json_body_or_garbage_is_4xx(stack):
    for content, content_type in ((b'{"username": "admin1", "password": "x"}', "application/json"),
                                  (b"username=%ff&password=%fe", "application/x-www-form-urlencoded"),
                                  (b"\x00\x01", "application/octet-stream")):
        response = httpx.post(stack.public_url + "/api/auth/token", content=content,
                              headers={"content-type": content_type}, timeout=30)
        assert 400 <= response.status_code < 500, response.text


BIG = 2**63
STAFF_CALLS = [
    ("GET", f"/api/handoffs/{BIG}", None), ("GET", "/api/handoffs/-1", None),
    ("GET", "/api/handoffs/abc", None), ("GET", "/api/handoffs?status=nonsense", None),
    ("POST", f"/api/handoffs/{BIG}/claim", None), ("POST", f"/api/handoffs/{10**30}/release", {}),
    ("POST", f"/api/handoffs/{BIG}/resolve", {"resolution": "x" * 10_000}),
    ("POST", "/api/handoffs/1/messages", {"text": "x" * 10_000}),
    ("POST", "/api/handoffs/1/messages", {"text": "\x00"}),
    ("GET", f"/api/handoffs/{BIG}/concessions", None),
    ("GET", f"/api/handoffs/{BIG}/concessions/options", None),
    ("POST", f"/api/handoffs/{BIG}/concessions", {"kind": "goodwill_credit", "amount_minor": 10**20,
                                                   "idempotency_key": "x"}),
    ("POST", f"/api/approvals/{BIG}/approve", {}), ("POST", f"/api/approvals/{BIG}/reject", {"reason": "x"}),
    ("GET", "/api/accounts/' OR 1=1--", None), ("GET", "/api/accounts/" + "9" * 5000, None),
    ("POST", "/api/agents/me/presence", {"status": "dancing"}),
    ("GET", "/api/reports/queue?days=-1", None), ("GET", "/api/reports/retention/x%00.csv", None),
    # staffing for absurd but allowed inputs needs > 10,000 agents (was a 500)
    ("GET", "/api/reports/queue?arrivals_per_hour=100000&handle_seconds=7200", None),
    ("GET", "/api/reports/queue/languages.csv?arrivals_per_hour=23217&handle_seconds=5082", None),
    ("POST", "/api/nlu/suggestions", {"message_id": BIG, "intent": "x" * 1000}),
]


@pytest.mark.parametrize("method, path, body", STAFF_CALLS, ids=[f"{c[0]} {c[1][:50]}" for c in STAFF_CALLS])
def test_staff_endpoints_answer_bad_input_with_4xx(stack, method, path, body):
    with staff(stack, "super1") as client:
        response = client.request(method, path, json=body) if body is not None else client.request(method, path)
    assert 400 <= response.status_code < 500, (method, path, response.status_code, response.text[:300])


def test_a_staff_endpoint_with_invalid_json_is_4xx(stack):
    with staff(stack, "agent1") as client:
        for content in (b'{"status": ', b'{"status": "\\ud800"}', b"[]", b"\xff"):
            response = client.post("/api/agents/me/presence", content=content,
                                   headers={"content-type": "application/json"})
            assert 400 <= response.status_code < 500, (content, response.text)


@pytest.mark.parametrize("path", ["/chat?x=<script>", "/console?%00", "/reports?a=" + "b" * 5000,
                                  "/healthz?x=1", "/metrics", "/static/../handoff/core/config.py",
                                  "/static/%2e%2e/%2e%2e/README.md", "/docs", "/openapi.json",
                                  "/nope", "/api/nope"])
def test_pages_and_static_files_never_fail(stack, path):
    response = httpx.get(stack.public_url + path, timeout=10)
    assert response.status_code < 500, (path, response.status_code)
    assert "DEV_SECRET" not in response.text and "twilio_auth_token" not in response.text


def test_no_request_above_got_a_5xx(stack):
    """The service's own access log agrees: not one 5xx answer in this suite so far."""
    served = stack.handoff.logs()
    errors = re.findall(r'"[A-Z]+ [^"]*" 5\d\d', served)
    assert errors == [], errors[:10]
