from datetime import date

import pytest
from sqlalchemy import select

from billing_core.actor import Actor
from billing_core.audit.models import AuditEvent
from billing_core.errors import IdempotencyConflict, InvalidRequest, NotFound
from billing_core.plans.service import (
    apply_plan_change, compare_plan, current_subscription, list_plans, preview_plan_change,
    recommend_plan,
)
from tests.billing.factories import make_account


def test_plans_are_listed_cheapest_first_with_vat(reference):
    plans = list_plans(reference)
    assert [p.code for p in plans] == ["basic", "standard", "plus", "premium"]
    assert plans[0].monthly_price_incl_vat_minor == 2420


def test_sanne_is_recommended_basic_with_the_yearly_saving(demo, today):
    recommendation = recommend_plan(demo, account_number="10000002", today=today)
    assert recommendation.current.code == "plus"
    assert recommendation.candidate.code == "basic"
    assert recommendation.should_switch
    # Plus €66.55 vs Basic €24.20 a month incl. VAT for 2-4 GB.
    assert recommendation.yearly_saving_minor == 12 * (6655 - 2420)
    assert len(recommendation.usage_gb) == 3


@pytest.mark.parametrize("plan_code, yearly_saving", [
    ("basic", 12 * (6655 - 2420)), ("premium", 12 * (6655 - 9075)), ("plus", 0),
])
def test_a_named_plan_is_priced_on_sannes_own_usage(demo, today, plan_code, yearly_saving):
    comparison = compare_plan(demo, account_number="10000002", plan_code=plan_code, today=today)
    assert (comparison.current.code, comparison.candidate.code) == ("plus", plan_code)
    assert comparison.yearly_saving_minor == yearly_saving
    assert comparison.should_switch is (yearly_saving > 0)


def test_comparing_with_a_plan_we_do_not_sell_is_not_found(demo, today):
    with pytest.raises(NotFound):
        compare_plan(demo, account_number="10000002", plan_code="gold", today=today)


def test_heavy_user_is_not_pushed_to_a_smaller_plan(demo, today):
    recommendation = recommend_plan(demo, account_number="10000004", today=today)
    assert recommendation.candidate.code == "plus" and not recommendation.should_switch


@pytest.mark.parametrize("today, days_remaining, days_in_cycle, proration", [
    (date(2025, 1, 17), 15, 31, 726),   # 31-day month: 1500 * 15 / 31 = 725.8
    (date(2025, 4, 17), 14, 30, 700),   # 30-day month
    (date(2025, 2, 15), 14, 28, 750),   # 28-day February
    (date(2024, 2, 15), 15, 29, 776),   # leap-year February: 1500 * 15 / 29 = 775.9
    (date(2025, 1, 1), 31, 31, 1500),   # first day: the whole month
    (date(2025, 1, 31), 1, 31, 48),     # last day: one day, 48.4 rounds down
])
def test_upgrade_proration_by_day(reference, today, days_remaining, days_in_cycle, proration):
    account = make_account(reference, plan="standard", since=date(2020, 1, 1))
    preview = preview_plan_change(reference, account_number=account.account_number,
                                  to_plan_code="plus", today=today)
    assert preview.direction == "upgrade" and preview.effective_date == today
    assert (preview.days_remaining, preview.days_in_cycle) == (days_remaining, days_in_cycle)
    assert preview.proration_minor == proration
    assert preview.proration_incl_vat_minor == proration + (proration * 21 + 50) // 100


def test_proration_follows_the_billing_day(reference):
    account = make_account(reference, plan="standard", billing_day=20)
    preview = preview_plan_change(reference, account_number=account.account_number,
                                  to_plan_code="plus", today=date(2025, 3, 5))
    # Cycle 20 Feb - 20 Mar 2025 has 28 days; 15 remain.
    assert (preview.days_in_cycle, preview.days_remaining) == (28, 15)


def test_downgrade_waits_for_the_next_cycle_without_proration(demo, today):
    preview = preview_plan_change(demo, account_number="10000002", to_plan_code="basic",
                                  today=today)
    assert preview.direction == "downgrade" and preview.proration_minor == 0
    assert preview.effective_date > today
    change = apply_plan_change(demo, account_number="10000002", to_plan_code="basic",
                               idempotency_key="chg-1", actor=Actor.bot(),
                               conversation_id="conv-s", today=today)
    assert change.status == "scheduled"
    assert current_subscription(demo, account_number="10000002", today=today).plan.code == "plus"
    assert current_subscription(demo, account_number="10000002",
                                today=preview.effective_date).plan.code == "basic"
    event = demo.scalar(select(AuditEvent).where(AuditEvent.action == "plan.changed"))
    assert event.before == {"plan": "plus"} and event.after["plan"] == "basic"
    assert event.conversation_id == "conv-s" and event.actor == "bot"


def test_plan_change_retry_returns_the_same_change_and_conflicts_are_refused(demo, today):
    first = apply_plan_change(demo, account_number="10000001", to_plan_code="plus",
                              idempotency_key="chg-2", actor=Actor.bot(), today=today)
    retry = apply_plan_change(demo, account_number="10000001", to_plan_code="plus",
                              idempotency_key="chg-2", actor=Actor.bot(), today=today)
    assert retry.id == first.id
    with pytest.raises(IdempotencyConflict):
        apply_plan_change(demo, account_number="10000001", to_plan_code="premium",
                          idempotency_key="chg-2", actor=Actor.bot(), today=today)
    assert current_subscription(demo, account_number="10000001", today=today).plan.code == "plus"


def test_plan_change_refuses_same_plan_and_unknown_plans(demo, today):
    with pytest.raises(InvalidRequest):
        preview_plan_change(demo, account_number="10000001", to_plan_code="standard", today=today)
    with pytest.raises(NotFound):
        preview_plan_change(demo, account_number="10000001", to_plan_code="gold", today=today)


def test_second_change_while_one_is_scheduled_is_refused(demo, today):
    apply_plan_change(demo, account_number="10000002", to_plan_code="basic",
                      idempotency_key="chg-3", actor=Actor.bot(), today=today)
    with pytest.raises(InvalidRequest):
        apply_plan_change(demo, account_number="10000002", to_plan_code="standard",
                          idempotency_key="chg-4", actor=Actor.bot(), today=today)
