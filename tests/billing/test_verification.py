from datetime import timedelta

import pytest
from sqlalchemy import select

from billing_core.audit.models import AuditEvent
from billing_core.customers.service import VerificationStatus, verify_identity
from billing_core.db import utcnow
from billing_core.errors import InvalidRequest
from billing_core.security import parse_date_of_birth

JANE = "10000001"


def test_date_of_birth_in_any_common_format_verifies(demo):
    for dob in ("1985-04-12", "12-04-1985", "12/04/1985", "12 april 1985", "April 12, 1985",
                "12041985", "19850412"):
        result = verify_identity(demo, account_number=JANE, date_of_birth=dob)
        assert result.verified, dob
        assert result.customer_name == "Jane Doe"


@pytest.mark.parametrize("digits", ["10000001", "31021985", "12049999", "00000000"])
def test_eight_digits_that_are_no_date_of_birth_are_not_read_as_one(digits):
    with pytest.raises(InvalidRequest):
        parse_date_of_birth(digits)


def test_postcode_verifies_regardless_of_spacing_and_case(demo):
    assert verify_identity(demo, account_number=JANE, postcode="1012 ab").verified


def test_phone_selects_the_account_but_a_second_factor_is_required(demo):
    result = verify_identity(demo, phone="+31600000002", postcode="3511CD")
    assert result.verified and result.account_number == "10000002"
    with pytest.raises(InvalidRequest):
        verify_identity(demo, phone="+31600000002")
    assert not verify_identity(demo, phone="+31600000002", postcode="1012AB").verified


def test_account_number_wins_over_the_sender_phone(demo):
    # Sanne's phone, Jane's account number and Jane's postcode: Jane is verified.
    result = verify_identity(demo, account_number=JANE, phone="+31600000002", postcode="1012AB")
    assert result.account_number == JANE


def test_three_failures_lock_for_fifteen_minutes_then_expire(demo):
    now = utcnow()
    first = verify_identity(demo, account_number=JANE, date_of_birth="1985-04-13", now=now)
    assert (first.status, first.attempts_left) == (VerificationStatus.failed, 2)
    second = verify_identity(demo, account_number=JANE, postcode="9999ZZ", now=now)
    assert second.attempts_left == 1
    third = verify_identity(demo, account_number=JANE, date_of_birth="garbage", now=now)
    assert third.status is VerificationStatus.locked
    assert third.locked_until == now + timedelta(minutes=15)

    right_but_locked = verify_identity(demo, account_number=JANE, date_of_birth="1985-04-12",
                                       now=now + timedelta(minutes=14))
    assert right_but_locked.status is VerificationStatus.locked
    assert right_but_locked.account_number is None and right_but_locked.customer_name is None

    after = verify_identity(demo, account_number=JANE, date_of_birth="1985-04-12",
                            now=now + timedelta(minutes=15, seconds=1))
    assert after.verified


def test_success_resets_the_failure_count(demo):
    verify_identity(demo, account_number=JANE, postcode="0000AA")
    verify_identity(demo, account_number=JANE, postcode="0000AA")
    assert verify_identity(demo, account_number=JANE, postcode="1012AB").verified
    assert verify_identity(demo, account_number=JANE, postcode="0000AA").attempts_left == 2


def test_every_attempt_is_audited_with_the_conversation(demo):
    verify_identity(demo, account_number=JANE, postcode="0000AA", conversation_id="c1")
    verify_identity(demo, account_number=JANE, postcode="1012AB", conversation_id="c1")
    verify_identity(demo, account_number="99999999", postcode="1012AB", conversation_id="c1")
    actions = demo.scalars(select(AuditEvent.action).where(AuditEvent.conversation_id == "c1")
                           .order_by(AuditEvent.id)).all()
    assert actions == ["verification.failed", "verification.succeeded",
                       "verification.unknown_account"]


def test_factors_are_not_stored_in_clear(demo):
    from billing_core.customers.models import Customer

    jane = demo.scalar(select(Customer).where(Customer.name == "Jane Doe"))
    assert "1985" not in jane.date_of_birth_hash and "1012" not in jane.postcode_hash
    assert len(jane.date_of_birth_hash) == 64
