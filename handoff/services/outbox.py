"""Outbound SMS waiting to be sent (the sender worker lives in `handoff.channels.sms`)."""
from sqlalchemy.orm import Session

from handoff.models import Conversation, OutboundSms, SmsOptOut


def enqueue_sms(session: Session, conversation: Conversation, bodies: list[str]) -> list[OutboundSms]:
    if not conversation.phone or session.get(SmsOptOut, conversation.phone) is not None:
        return []
    rows = [OutboundSms(conversation_id=conversation.id, to=conversation.phone, body=body)
            for body in bodies if body.strip()]
    session.add_all(rows)
    return rows
