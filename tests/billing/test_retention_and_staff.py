from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from billing_core.actor import Actor
from billing_core.audit.models import AuditEvent
from billing_core.customers.service import get_account
from billing_core.enums import Role
from billing_core.retention.models import OfferResponse
from billing_core.retention.service import (record_offer, record_response,
                                          retention_in_conversation, update_followups)
from billing_core.staff.service import authenticate, create_staff_user


def test_retention_outcome_follows_the_customer_after_the_offer(demo):
    offered_at = datetime(2025, 1, 10, 12, tzinfo=timezone.utc)
    kept = record_offer(demo, account_number="10000004", reason_code="cancel_threat",
                        actor=Actor.bot(), concession_kind="retention_discount",
                        amount_minor=3300, channel="web", conversation_id="c-eva",
                        offered_at=offered_at)
    left = record_offer(demo, account_number="10000002", reason_code="cancel_threat",
                        actor=Actor("agent1", Role.agent), offered_at=offered_at)  # nothing offered
    record_response(demo, outcome_id=kept.id, response=OfferResponse.accepted, actor=Actor.bot())
    sanne = get_account(demo, account_number="10000002")
    sanne.status, sanne.cancelled_at = "cancelled", offered_at + timedelta(days=45)

    assert update_followups(demo, today=date(2025, 2, 20)) == 2  # both reach 30 days
    assert (kept.active_after_30d, left.active_after_30d) == (True, True)
    assert kept.active_after_90d is None
    update_followups(demo, today=date(2025, 4, 20))
    assert (kept.active_after_90d, left.active_after_90d) == (True, False)
    assert left.cancelled_on == date(2025, 2, 24)
    assert kept.response is OfferResponse.accepted and left.concession_kind is None
    actions = demo.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_type == "retention_outcome")).all()
    assert sorted(actions) == ["retention.offered", "retention.offered", "retention.response"]


def test_the_retention_offer_of_a_chat_is_found_from_when_its_session_started(demo):
    offered_at = datetime(2025, 1, 10, 12, tzinfo=timezone.utc)
    outcome = record_offer(demo, account_number="10000004", reason_code="cancel_threat",
                           actor=Actor.bot(), concession_kind="retention_discount",
                           amount_minor=3300, conversation_id="c-eva", offered_at=offered_at)
    assert retention_in_conversation(demo, conversation_id="c-eva") is outcome
    assert retention_in_conversation(demo, conversation_id="c-eva",
                                     since=offered_at - timedelta(minutes=5)) is outcome
    assert retention_in_conversation(demo, conversation_id="c-eva",
                                     since=offered_at + timedelta(hours=2)) is None
    assert retention_in_conversation(demo, conversation_id="c-other") is None


def test_staff_passwords_are_hashed_and_checked(session):
    user = create_staff_user(session, username="agent9", full_name="Nine", role=Role.agent,
                             password="correct horse")
    session.flush()
    assert "correct horse" not in user.password_hash and user.password_hash.startswith("scrypt$")
    assert authenticate(session, username="agent9", password="correct horse").id == user.id
    assert authenticate(session, username="agent9", password="wrong") is None
    assert authenticate(session, username="nobody", password="correct horse") is None
    user.active = False
    assert authenticate(session, username="agent9", password="correct horse") is None
