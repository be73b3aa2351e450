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
                "12041985", "19850412", "12 april 85", "12-04-85", "12/4/85", "12 april '85",
                "born on the 12th of April 1985", "April 12th 1985", "dob: 12.04.1985",
                "geboren op 12 april 1985", "12e april 1985"):
        result = verify_identity(demo, account_number=JANE, date_of_birth=dob)
        assert result.verified, dob
        assert result.customer_name == "Jane Doe"


@pytest.mark.parametrize("digits", ["10000001", "31021985", "12049999", "00000000"])
def test_eight_digits_that_are_no_date_of_birth_are_not_read_as_one(digits):
    with pytest.raises(InvalidRequest):
        parse_date_of_birth(digits)


@pytest.mark.parametrize("text, born", [
    ("21-07-01", "2001-07-21"),  # this century only for someone old enough to be a customer
    ("21-07-10", "2010-07-21"),
    ("21-07-11", "1911-07-21"),
    ("3 november 90", "1990-11-03"),
])
def test_two_digit_years_are_read_as_the_nearest_plausible_birth_year(text, born):
    from datetime import date
    assert parse_date_of_birth(text, today=date(2026, 11, 24)).isoformat() == born


@pytest.mark.parametrize("text", ["0085-04-12", "12 april 2099", "12 april", "the 12th",
                                  "12 13 1985", "born yesterday"])
def test_what_is_no_plausible_date_of_birth_is_refused_not_compared(text):
    with pytest.raises(InvalidRequest):
        parse_date_of_birth(text)


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


def test_a_number_that_is_no_account_is_refused_like_one_that_is(demo):
    """Three failed tries in a conversation lock it, whether or not the number exists, so the
    answers never tell which account numbers exist, and a mistyped number does not loop."""
    now = utcnow()
    for conversation, number in (("c-unknown", "10009999"), ("c-known", JANE)):
        results = [verify_identity(demo, account_number=number, postcode="0000AA",
                                   conversation_id=conversation, now=now) for _ in range(3)]
        assert [(r.status, r.attempts_left) for r in results] == [
            (VerificationStatus.failed, 2), (VerificationStatus.failed, 1),
            (VerificationStatus.locked, 0)], number
        assert results[2].locked_until == now + timedelta(minutes=15)


def test_a_locked_conversation_cannot_go_on_with_other_account_numbers(demo):
    now = utcnow()
    for number in ("10009997", "10009998", "10009999"):
        verify_identity(demo, account_number=number, postcode="0000AA", conversation_id="c2",
                        now=now)
    # even the right details of a real account wait for the lock to end
    locked = verify_identity(demo, account_number=JANE, postcode="1012AB", conversation_id="c2",
                             now=now + timedelta(minutes=5))
    assert locked.status is VerificationStatus.locked and locked.customer_name is None
    assert verify_identity(demo, account_number=JANE, postcode="1012AB", conversation_id="c3",
                           now=now + timedelta(minutes=5)).verified  # another conversation
    later = verify_identity(demo, account_number=JANE, postcode="1012AB", conversation_id="c2",
                            now=now + timedelta(minutes=15, seconds=1))
    assert later.verified


def test_factors_are_not_stored_in_clear(demo):
    from billing_core.customers.models import Customer

    jane = demo.scalar(select(Customer).where(Customer.name == "Jane Doe"))
    assert "1985" not in jane.date_of_birth_hash and "1012" not in jane.postcode_hash
    assert len(jane.date_of_birth_hash) == 64
