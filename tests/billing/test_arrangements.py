from datetime import timedelta

import pytest

from billing_core.actor import Actor
from billing_core.arrangements.models import ArrangementKind
from billing_core.arrangements.service import (
    check_arrangement_eligibility, create_arrangement, fewest_instalments, preview_arrangement,
)
from billing_core.errors import InvalidRequest, NotEligible
from billing_core.invoices.service import get_balance, record_payment

TOM = "10000003"


@pytest.mark.parametrize("count", [2, 3, 4, 5, 6])
def test_instalments_add_up_to_the_balance(demo, today, count):
    balance = get_balance(demo, account_number=TOM, today=today).balance_minor
    preview = preview_arrangement(demo, account_number=TOM, kind=ArrangementKind.instalments,
                                  instalments=count, today=today)
    amounts = [amount for _, amount in preview.schedule]
    assert len(amounts) == count and sum(amounts) == balance
    assert max(amounts) - min(amounts) < count  # only the remainder cents differ
    dates = [due for due, _ in preview.schedule]
    assert dates == sorted(dates) and dates[0] > today


@pytest.mark.parametrize("account", ["10000001", TOM, "10000002"])
def test_the_first_instalment_is_never_before_the_bill_was_due(demo, today, account):
    """Asking to spread a bill must not make it due sooner (Jane's bill is due in 9 days)."""
    balance = get_balance(demo, account_number=account, today=today)
    preview = preview_arrangement(demo, account_number=account,
                                  kind=ArrangementKind.instalments, instalments=2, today=today)
    first = preview.schedule[0][0]
    assert first >= today + timedelta(days=7)
    assert first >= balance.next_due_date


@pytest.mark.parametrize("total, monthly, count", [
    (6655, 2000, 4),   # 4 parts: 16.66 first (carrying the remainder), then 16.63
    (6655, 1664, 5),   # 16.64 a month: 4 parts start with 16.66, so 5
    (6655, 6655, 2),   # as an arrangement, at least two parts
    (6655, 1110, 6),
    (6655, 1109, None),  # even 6 parts start with 11.10
])
def test_fewest_instalments_within_what_the_customer_can_pay(total, monthly, count):
    assert fewest_instalments(total_minor=total, monthly_minor=monthly) == count


@pytest.mark.parametrize("count", [1, 7])
def test_instalment_count_outside_two_to_six_is_refused(demo, today, count):
    with pytest.raises(InvalidRequest):
        preview_arrangement(demo, account_number=TOM, kind=ArrangementKind.instalments,
                            instalments=count, today=today)


def test_extension_is_at_most_fourteen_days(demo, today):
    # Tom's balance is overdue: the days count from today
    preview = preview_arrangement(demo, account_number=TOM, kind=ArrangementKind.extension,
                                  extension_days=14, today=today)
    assert (preview.schedule[0][0] - today).days == 14
    with pytest.raises(InvalidRequest):
        preview_arrangement(demo, account_number=TOM, kind=ArrangementKind.extension,
                            extension_days=15, today=today)


def test_an_extension_of_a_bill_not_due_yet_counts_from_its_due_date(demo, today):
    due = get_balance(demo, account_number="10000004", today=today).next_due_date
    assert due > today  # Eva's latest bill is open, not overdue
    preview = preview_arrangement(demo, account_number="10000004",
                                  kind=ArrangementKind.extension, extension_days=14, today=today)
    assert preview.schedule[0][0] == due + timedelta(days=14)


def test_tom_gets_one_arrangement_and_not_a_second(demo, today):
    assert check_arrangement_eligibility(demo, account_number=TOM, today=today) == []
    arrangement = create_arrangement(demo, account_number=TOM, kind=ArrangementKind.instalments,
                                     instalments=3, idempotency_key="arr-1", actor=Actor.bot(),
                                     conversation_id="c-tom", today=today)
    assert len(arrangement.instalments) == 3
    retry = create_arrangement(demo, account_number=TOM, kind=ArrangementKind.instalments,
                               instalments=3, idempotency_key="arr-1", actor=Actor.bot(),
                               today=today)
    assert retry.id == arrangement.id
    assert check_arrangement_eligibility(demo, account_number=TOM, today=today) == ["arrangement_active"]
    with pytest.raises(NotEligible):
        create_arrangement(demo, account_number=TOM, kind=ArrangementKind.extension,
                           idempotency_key="arr-2", actor=Actor.bot(), today=today)
    assert get_balance(demo, account_number=TOM, today=today).arrangement_id == arrangement.id


def test_no_arrangement_without_a_balance(demo, today):
    balance = get_balance(demo, account_number="10000002", today=today).balance_minor
    record_payment(demo, account_number="10000002", amount_minor=balance, method="ideal",
                   idempotency_key="pay-s", actor=Actor.system())
    assert check_arrangement_eligibility(demo, account_number="10000002", today=today) == ["no_balance_due"]
