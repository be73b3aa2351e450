from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st
from pydantic import ValidationError

from billing_core.actor import Actor
from billing_core.config import DEV_PAYMENT_BENEFICIARY, DEV_PAYMENT_IBAN, BillingSettings
from billing_core.db import utcnow
from billing_core.errors import IdempotencyConflict, InvalidRequest, InvalidToken, PaymentLinkExpired
from billing_core.invoices.models import Invoice, LineKind
from billing_core.invoices.service import (
    check_double_charge, create_payment_link, explain_latest_bill, get_balance, latest_payment,
    read_payment_link,
    record_payment,
)
from billing_core.money import div_round_half_up, format_money, parse_amount


def test_jane_latest_bill_is_thirty_percent_higher_for_promotion_and_late_fee(demo):
    explanation = explain_latest_bill(demo, account_number="10000001")
    assert explanation.previous.total_minor == 4114
    assert explanation.latest.total_minor == 5340
    assert explanation.percent_change == 30
    reasons = [(c.reason, c.impact_minor) for c in explanation.changes]
    assert reasons == [("promotion_ended", 600), ("late_fee", 500), ("tax_change", 126)]
    assert sum(c.impact_minor for c in explanation.changes) == explanation.difference_minor
    # what the latest bill is made of, line by line, adds up to it
    assert [line.kind for line in explanation.latest_lines] == ["recurring", "tax", "late_fee"]
    assert sum(line.amount_minor for line in explanation.latest_lines) == 5340


def test_demo_balances_tell_the_stories(demo, today):
    jane = get_balance(demo, account_number="10000001", today=today)
    assert (jane.balance_minor, jane.status, jane.overdue_minor) == (5340, "due", 0)
    assert jane.next_due_date > today
    tom = get_balance(demo, account_number="10000003", today=today)
    assert tom.status == "overdue" and tom.overdue_minor > 0
    assert tom.balance_minor > tom.overdue_minor
    for number in ("10000002", "10000004"):
        assert get_balance(demo, account_number=number, today=today).overdue_minor == 0


def test_recording_a_payment_is_idempotent_and_lowers_the_balance(demo, today):
    actor = Actor.system()
    first = record_payment(demo, account_number="10000001", amount_minor=5340, method="ideal",
                           idempotency_key="pay-1", actor=actor)
    again = record_payment(demo, account_number="10000001", amount_minor=5340, method="ideal",
                           idempotency_key="pay-1", actor=actor)
    assert again.id == first.id
    balance = get_balance(demo, account_number="10000001", today=today)
    assert (balance.balance_minor, balance.status) == (0, "paid")
    with pytest.raises(IdempotencyConflict):
        record_payment(demo, account_number="10000001", amount_minor=100, method="ideal",
                       idempotency_key="pay-1", actor=actor)
    with pytest.raises(InvalidRequest):
        record_payment(demo, account_number="10000001", amount_minor=0, method="ideal",
                       idempotency_key="pay-2", actor=actor)


def test_the_latest_payment_is_the_newest_received(demo, today):
    before = latest_payment(demo, account_number="10000002")
    latest_bill = get_balance(demo, account_number="10000002", today=today).latest_invoice
    assert before.paid_on < latest_bill.issue_date  # the demo's latest bills are still open
    record_payment(demo, account_number="10000002", amount_minor=1234, method="bank_transfer",
                   idempotency_key="pay-latest", actor=Actor.system())
    after = latest_payment(demo, account_number="10000002")
    assert (after.amount_minor, after.currency, after.method) == (1234, "EUR", "bank_transfer")
    assert after.paid_on == utcnow().date()


def test_payment_link_is_signed_for_the_balance_and_expires(demo):
    now = utcnow()
    link = create_payment_link(demo, account_number="10000003", now=now)
    assert link.url.endswith(link.token)
    claims = read_payment_link(link.token, now=now)
    assert (claims["acct"], claims["amt"]) == ("10000003", link.amount_minor)
    with pytest.raises(PaymentLinkExpired, match="expired"):
        read_payment_link(link.token, now=now + timedelta(hours=49))
    payload, signature = link.token.split(".")
    for forged in (payload[:-2] + "xx." + signature, "", ".", "a.b.c", payload + ".é€😀",
                   "\ud800." + signature, payload + "." + signature[:-1] + "\x00"):
        with pytest.raises(InvalidToken, match="not valid") as raised:
            read_payment_link(forged, now=now)
        assert not isinstance(raised.value, PaymentLinkExpired)


def test_rounding_is_half_up_away_from_zero():
    assert [div_round_half_up(n, 2) for n in (1, 3, -1, -3, 4)] == [1, 2, -1, -2, 2]
    assert div_round_half_up(1, 3) == 0 and div_round_half_up(2, 3) == 1


def test_money_parsing_and_formatting():
    assert parse_amount("€20") == 2000 and parse_amount("15,50 euro") == 1550
    assert parse_amount("7.5") == 750
    assert format_money(123450, lang="en") == "€1,234.50"
    assert format_money(123450, lang="nl") == "€ 1.234,50"
    with pytest.raises(InvalidRequest):
        parse_amount("twenty")


line_kinds = st.sampled_from(list(LineKind))
amounts = st.integers(min_value=-1_000_000, max_value=1_000_000)


@given(st.lists(st.tuples(line_kinds, amounts), max_size=30))
def test_invoice_total_always_equals_the_sum_of_its_lines(lines):
    invoice = Invoice(lines=[])
    for index, (kind, amount) in enumerate(lines):
        invoice.add_line(kind=kind, code=f"c{index}", description="x", amount_minor=amount)
    assert invoice.total_minor == sum(amount for _, amount in lines)


@settings(max_examples=25, deadline=None)
@given(usage=st.lists(st.integers(min_value=0, max_value=200), min_size=7, max_size=7),
       promotion=st.sampled_from([None, 10, 15, 33]), late=st.sampled_from([None, 2, 4]))
def test_billing_run_totals_equal_the_sum_of_lines(engine, usage, promotion, late):
    from sqlalchemy.orm import Session

    from billing_core.seed import DemoCustomer, add_customer_history, seed_reference_data
    from billing_core.enums import Language
    from datetime import date

    with engine.connect() as connection, connection.begin() as transaction:
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        seed_reference_data(session)
        spec = DemoCustomer("P", "55555555", date(1990, 1, 1), "1000AA", "+31699999999",
                            Language.en, "basic", 1, tuple(usage), promotion_percent=promotion,
                            late_cycle=late)
        account = add_customer_history(session, spec, today=date.today())
        invoices = session.query(Invoice).filter_by(account_id=account.id).all()
        assert len(invoices) == 7
        for invoice in invoices:
            assert invoice.total_minor == sum(line.amount_minor for line in invoice.lines)
            taxed = sum(l.amount_minor for l in invoice.lines
                        if l.kind in (LineKind.recurring, LineKind.usage, LineKind.discount))
            tax = sum(l.amount_minor for l in invoice.lines if l.kind is LineKind.tax)
            assert tax == div_round_half_up(taxed * 21, 100)
        session.close()
        transaction.rollback()


def test_the_payment_bank_account_is_an_example_in_dev_and_unset_elsewhere():
    dev = BillingSettings(environment="dev")
    assert (dev.payment_beneficiary, dev.payment_iban) == (DEV_PAYMENT_BENEFICIARY, DEV_PAYMENT_IBAN)
    production = {"environment": "production", "secret_key": "not-the-dev-secret"}
    unset = BillingSettings(**production)
    assert (unset.payment_beneficiary, unset.payment_iban) == (None, None)
    assert BillingSettings(**production, payment_beneficiary="", payment_iban=" ").payment_iban is None
    own = BillingSettings(**production, payment_beneficiary="Acme B.V.",
                          payment_iban="gb82 west 1234 5698 7654 32")
    assert own.payment_iban == "GB82WEST12345698765432"
    for wrong in ({"payment_iban": "GB82WEST12345698765432"},             # no beneficiary
                  {"payment_beneficiary": "Acme B.V.", "payment_iban": "GB82WEST12345698765433"},
                  {"payment_beneficiary": "Acme B.V.", "payment_iban": "not an iban"},
                  {"payment_beneficiary": "Acme B.V.", "payment_iban": DEV_PAYMENT_IBAN}):
        with pytest.raises(ValidationError):
            BillingSettings(**production, **wrong)


def test_the_payment_page_takes_a_bank_transfer_unless_set_otherwise():
    assert BillingSettings(environment="dev").payment_methods == ["bank_transfer"]
    production = {"environment": "production", "secret_key": "not-the-dev-secret"}
    assert BillingSettings(**production).payment_methods == []  # no account: nothing to claim
    provider = BillingSettings(**production, payment_methods=["ideal", "card"])
    assert provider.payment_methods == ["ideal", "card"]
    with pytest.raises(ValidationError):
        BillingSettings(**production, payment_methods=["cheque"])


def test_a_payment_taken_twice_is_found_and_left_as_credit(demo, today):
    check = check_double_charge(demo, account_number="10000001", today=today)
    assert check.repeated_payment is None and check.credit_minor == 0
    assert check.latest_bill.total_minor == 5340
    actor = Actor.system()
    for key, days_ago in (("debit-1", 3), ("debit-2", 2)):
        record_payment(demo, account_number="10000001", amount_minor=5340, method="direct_debit",
                       idempotency_key=key, actor=actor, paid_at=utcnow() - timedelta(days=days_ago))
    check = check_double_charge(demo, account_number="10000001", today=today)
    first, second = check.repeated_payment
    assert (first.amount_minor, second.amount_minor) == (5340, 5340)
    assert (second.paid_on - first.paid_on).days == 1
    assert check.credit_minor == 5340  # the second one paid nothing: it is credit


def test_payments_of_one_amount_a_month_apart_are_no_double_charge(demo, today):
    actor = Actor.system()
    for key, days_ago in (("month-1", 40), ("month-2", 10)):
        record_payment(demo, account_number="10000003", amount_minor=2500, method="direct_debit",
                       idempotency_key=key, actor=actor, paid_at=utcnow() - timedelta(days=days_ago))
    assert check_double_charge(demo, account_number="10000003", today=today).repeated_payment is None
