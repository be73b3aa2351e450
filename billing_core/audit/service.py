from sqlalchemy.orm import Session

from billing_core.actor import Actor
from billing_core.audit.models import AuditEvent


def record_event(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object = None,
    account_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
    conversation_id: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor=actor.id, actor_role=actor.role.value, action=action, entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id), account_id=account_id,
        before=before, after=after, reason=reason, conversation_id=conversation_id,
    )
    session.add(event)
    return event
