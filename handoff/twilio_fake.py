"""A small local stand-in for Twilio's Messages API (Twilio's cloud is not reachable here).

    .venv-app/bin/python -m handoff.twilio_fake --port 8099

Point the handoff service at it with `HANDOFF_TWILIO_API_BASE_URL=http://127.0.0.1:8099`; the
official client then sends here exactly what it would send to api.twilio.com.

- `POST /2010-04-01/Accounts/{sid}/Messages.json` (form `From`, `To`, `Body`): checks HTTP basic
  auth (account sid / auth token), records the message and answers like Twilio (201, `sid`
  "SM..."); errors in Twilio's JSON shape.
- `GET /messages?to=...` the messages sent to a number (or `phone=...`: both directions, as the
  phone page shows them); `POST /fail {"count": n, "status"?: 500, "code"?, "to"?}` makes the
  next n sends fail; `POST /reset` forgets everything.
- `GET /phone`: a demo phone. Pick a demo number, type a text; the fake signs it with the auth
  token, POSTs it to the handoff service's `/sms/twilio` as Twilio would, and shows the replies.

Settings come from the handoff service's own (`HANDOFF_TWILIO_ACCOUNT_SID`,
`HANDOFF_TWILIO_AUTH_TOKEN`, `HANDOFF_PUBLIC_URL`) unless given on the command line.
"""
import argparse
import base64
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from twilio.request_validator import RequestValidator

DEMO_PHONES = ["+31600000001", "+31600000002", "+31600000003", "+31600000004"]
PHONE_PAGE = Path(__file__).resolve().parent / "static" / "phone.html"


@dataclass
class FakeState:
    account_sid: str
    auth_token: str
    handoff_url: str  # the handoff service's public URL (signatures are computed over it)
    messages: list[dict[str, Any]] = field(default_factory=list)
    # injected failures: number (None: any number) -> [count left, HTTP status, Twilio code]
    failures: dict[str | None, list] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_failure(self, to: str) -> tuple[int, int] | None:
        for key in (to, None):
            failure = self.failures.get(key)
            if failure and failure[0] > 0:
                failure[0] -= 1
                return failure[1], failure[2] or 20500 + failure[1] % 100
        return None


class FailIn(BaseModel):
    count: int = Field(ge=0, le=100_000)
    status: int = Field(default=500, ge=400, le=599)
    code: int | None = None  # Twilio error code in the body (e.g. 21211 invalid To)
    to: str | None = None  # only sends to this number fail (each number counts separately)


class PhoneIn(BaseModel):
    phone: str = Field(pattern=r"^\+?[0-9]{3,15}$")
    text: str = Field(min_length=1, max_length=1600)


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "status": status,
                         "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                        status_code=status)


def _basic_auth(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, password


def create_app(*, account_sid: str, auth_token: str, handoff_url: str) -> FastAPI:
    state = FakeState(account_sid, auth_token, handoff_url.rstrip("/"))
    app = FastAPI(title="Twilio stand-in (Messages API)", version="0.1.0")
    app.state.fake = state

    @app.post("/2010-04-01/Accounts/{sid}/Messages.json")
    async def create_message(sid: str, request: Request):
        credentials = _basic_auth(request)
        if credentials is None or not secrets.compare_digest(
                f"{credentials[0]}:{credentials[1]}", f"{state.account_sid}:{state.auth_token}"):
            return _error(401, 20003, "Authenticate")
        if sid != state.account_sid:
            return _error(404, 20404, f"The requested resource /2010-04-01/Accounts/{sid}/Messages.json was not found")
        form = await request.form()
        to, sender, body = form.get("To"), form.get("From"), form.get("Body")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not sender and not form.get("MessagingServiceSid"):
            return _error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        with state.lock:
            failure = state.take_failure(to)
            if failure is not None:
                return _error(failure[0], failure[1], "Injected failure from the Twilio stand-in")
            now = datetime.now(timezone.utc)
            message = {
                "sid": "SM" + secrets.token_hex(16), "account_sid": sid, "from": sender,
                "to": to, "body": body, "status": "queued", "direction": "outbound-api",
                "num_segments": str(max(1, -(-len(body) // 153))), "num_media": "0",
                "api_version": "2010-04-01", "price": None, "price_unit": "EUR",
                "error_code": None, "error_message": None, "messaging_service_sid": None,
                "date_created": format_datetime(now), "date_updated": format_datetime(now),
                "date_sent": None, "subresource_uris": {},
            }
            message["uri"] = f"/2010-04-01/Accounts/{sid}/Messages/{message['sid']}.json"
            state.messages.append({**message, "received_at": now.isoformat()})
        return JSONResponse(message, status_code=201)

    @app.get("/messages")
    def list_messages(to: str | None = None, phone: str | None = None) -> list[dict]:
        """Recorded messages, oldest first: sent `to` a number, or to and from a `phone`."""
        with state.lock:
            rows = list(state.messages)
        if to:
            rows = [m for m in rows if m["to"] == to]
        if phone:
            rows = [m for m in rows if phone in (m["to"], m["from"])]
        return rows

    @app.post("/fail")
    def fail(body: FailIn) -> dict:
        with state.lock:
            state.failures[body.to] = [body.count, body.status, body.code]
        return {"failing": body.count, "status": body.status, "to": body.to}

    @app.post("/reset")
    def reset() -> dict:
        with state.lock:
            state.messages.clear()
            state.failures.clear()
        return {"status": "reset"}

    @app.get("/phone", response_class=HTMLResponse)
    def phone_page() -> str:
        return PHONE_PAGE.read_text(encoding="utf-8")

    @app.get("/phone/config")
    def phone_config() -> dict:
        return {"phones": DEMO_PHONES, "handoff_url": state.handoff_url}

    @app.post("/phone/send")
    async def phone_send(body: PhoneIn) -> JSONResponse:
        """Deliver a text to the handoff service exactly as Twilio's webhook would, signed."""
        url = state.handoff_url + "/sms/twilio"
        params = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": state.account_sid,
                  "From": body.phone, "To": "+3197010000000", "Body": body.text,
                  "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
                  "ApiVersion": "2010-04-01"}
        signature = RequestValidator(state.auth_token).compute_signature(url, params)
        now = datetime.now(timezone.utc)
        with state.lock:
            state.messages.append({"sid": params["MessageSid"], "from": body.phone,
                                   "to": params["To"], "body": body.text, "direction": "inbound",
                                   "status": "received", "date_created": format_datetime(now),
                                   "received_at": now.isoformat()})
        try:
            async with httpx.AsyncClient(timeout=20) as client:
                response = await client.post(url, data=params,
                                             headers={"X-Twilio-Signature": signature})
        except httpx.HTTPError as exc:
            return JSONResponse({"delivered": False, "detail": f"handoff service unreachable: {exc}"},
                                status_code=502)
        return JSONResponse({"delivered": response.status_code == 200,
                             "status": response.status_code, "sid": params["MessageSid"]})

    return app


def main() -> None:
    import uvicorn

    from handoff.core.config import Settings

    settings = Settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--account-sid", default=settings.twilio_account_sid)
    parser.add_argument("--auth-token", default=settings.twilio_auth_token)
    parser.add_argument("--handoff-url", default=settings.public_url,
                        help="the handoff service's public URL (default HANDOFF_PUBLIC_URL)")
    args = parser.parse_args()
    app = create_app(account_sid=args.account_sid, auth_token=args.auth_token,
                     handoff_url=args.handoff_url)
    print(f"twilio fake: http://{args.host}:{args.port} (phone page /phone), "
          f"webhook target {args.handoff_url}/sms/twilio", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws="wsproto")


if __name__ == "__main__":
    main()
