"""Twilio's inbound-message webhook: `POST /sms/twilio`.

Twilio signs every webhook with the account's auth token over the URL it was configured with
and the form fields; anything without a valid `X-Twilio-Signature` is refused (403) before a
single row is written. A `MessageSid` seen before is acknowledged and not processed again.

Replies never go in the webhook response (always empty TwiML): they are queued as
`OutboundSms` rows and sent through the REST API, so a failing Twilio API is retried instead
of losing the turn.

Timing. Twilio waits up to 15 s for the answer. The customer's text is committed first thing
in `Router.customer_message`, before the bot is asked, and the bot's replies go out through the
outbox anyway; so the handler runs the turn in a worker thread and waits for it at most
`sms_webhook_budget_seconds` (5 s). A normal turn (well under a second) finishes inside the
request, and errors still reach Twilio as a 500 (with the MessageSid forgotten when the text was
not stored, so Twilio's retry or fallback can deliver it again). A slow bot (Rasa may take up to
`rasa_timeout_seconds`, and a handoff adds a pause call) no longer holds Twilio: past the budget
the handler answers 200 while the turn finishes in the background, with the text already safe.
This beats processing only in a background task, which would acknowledge texts that were never
stored if the process stopped in between, and beats waiting for the whole turn, which can
outlast Twilio's timeout.
"""
import asyncio
import logging

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from billing_core.db import utcnow
from handoff.api.deps import ContainerDep
from handoff.channels.sms import SmsChannel, conversation_id_for, normalize_phone
from handoff.errors import Forbidden, HandoffError

log = logging.getLogger(__name__)

router = APIRouter(tags=["sms"])

WEBHOOK_PATH = "/sms/twilio"
MAX_BODY = 1600  # Twilio's limit for one (concatenated) message
_running: set[asyncio.Task] = set()  # turns that outlived the request (kept referenced)


class BadWebhook(HandoffError):
    status_code = 400


def empty_twiml() -> Response:
    return Response(str(MessagingResponse()), media_type="text/xml")


def signed_url(request: Request, public_url: str) -> str:
    """The URL as Twilio requested it: the configured public URL, plus any query string."""
    url = public_url.rstrip("/") + WEBHOOK_PATH
    return f"{url}?{request.url.query}" if request.url.query else url


@router.post(WEBHOOK_PATH, response_class=Response, responses={
    200: {"content": {"text/xml": {}}, "description": "empty TwiML: replies go out through the REST API"},
    403: {"description": "missing or invalid X-Twilio-Signature; nothing was stored"}})
async def twilio_inbound(request: Request, container: ContainerDep) -> Response:
    settings = container.settings
    signature = request.headers.get("X-Twilio-Signature")
    if not signature:
        raise Forbidden("missing X-Twilio-Signature header: only Twilio may call this webhook")
    form = await request.form()
    params = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    if not RequestValidator(settings.twilio_auth_token).validate(
            signed_url(request, settings.public_url), params, signature):
        raise Forbidden("invalid X-Twilio-Signature: the request was not signed by Twilio for "
                        f"{settings.public_url.rstrip('/')}{WEBHOOK_PATH} with this account's token")
    message_sid = params.get("MessageSid") or params.get("SmsSid") or ""
    phone = normalize_phone(params.get("From", ""))
    try:
        conversation_id = conversation_id_for(phone)
    except ValueError:
        raise BadWebhook("From must be the sender's phone number") from None
    if not message_sid or len(message_sid) > 64:
        raise BadWebhook("MessageSid is required")
    text = (params.get("Body") or "").strip()[:MAX_BODY]

    channel = SmsChannel.of(container)
    if not await run_in_threadpool(channel.claim_message_sid, message_sid, conversation_id):
        log.info("sms %s already handled; acknowledged again", message_sid)
        return empty_twiml()
    if not text:  # e.g. a picture without words: nothing to answer
        return empty_twiml()

    started = utcnow()
    turn = asyncio.ensure_future(container.run_turn(channel.receive, phone=phone, text=text))
    try:
        await asyncio.wait_for(asyncio.shield(turn), timeout=settings.sms_webhook_budget_seconds)
    except asyncio.TimeoutError:
        _running.add(turn)
        turn.add_done_callback(_finished_late(message_sid))
        log.info("sms %s: turn still running after %.1f s; acknowledged", message_sid,
                 settings.sms_webhook_budget_seconds)
    except Exception:
        stored = await run_in_threadpool(channel.customer_text_stored, conversation_id, text, started)
        if not stored:
            await run_in_threadpool(channel.forget_message_sid, message_sid)
        log.exception("sms %s failed (%s)", message_sid,
                      "text stored" if stored else "text not stored; a retry will be processed")
        if stored:  # it is in the transcript: an agent will see it; do not invite a duplicate
            return empty_twiml()
        raise
    return empty_twiml()


def _finished_late(message_sid: str):
    def done(task: asyncio.Task) -> None:
        _running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sms %s failed after it was acknowledged", message_sid,
                      exc_info=task.exception())
    return done
