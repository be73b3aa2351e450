import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from billing_core.actor import Actor
from billing_core.audit.models import AuditEvent
from billing_core.concessions.models import Adjustment, AdjustmentStatus, ConcessionKind
from billing_core.concessions.service import (
    assess_concession, decide_concession, grant_concession, pending_approvals,
)
from billing_core.enums import Role
from billing_core.errors import (
    ConcessionFrequencyExceeded, ConcessionLimitExceeded, IdempotencyConflict, NotEligible,
    PermissionDenied,
)
from billing_core.invoices.service import get_balance
from billing_core.seed import seed_demo

JANE, SANNE, EVA = "10000001", "10000002", "10000004"
AGENT = Actor("agent1", Role.agent)
SUPERVISOR = Actor("super1", Role.supervisor)


def grant(session, **overrides):
    arguments = dict(account_number=EVA, kind=ConcessionKind.retention_discount,
                     amount_minor=3300, actor=Actor.bot(), reason_code="cancel_threat",
                     idempotency_key="k1", churn_risk=True, conversation_id="conv-eva")
    arguments.update(overrides)
    return grant_concession(session, **arguments)


def test_eva_is_offered_a_retention_discount_within_the_bot_limit(demo):
    assessment = assess_concession(demo, account_number=EVA, kind=ConcessionKind.retention_discount,
                                   role=Role.bot, churn_risk=True)
    assert assessment.eligible and assessment.within_role_limit
    # 10% of Plus (€55.00 excl. VAT) for 6 months.
    assert (assessment.suggested_minor, assessment.months) == (3300, 6)
    adjustment = grant(demo)
    assert adjustment.status is AdjustmentStatus.granted and adjustment.months == 6
    event = demo.scalar(select(AuditEvent).where(AuditEvent.action == "concession.granted"))
    assert (event.actor, event.actor_role, event.reason, event.conversation_id) == \
        ("bot", "bot", "cancel_threat", "conv-eva")


def test_retention_needs_tenure_and_churn_risk(demo):
    no_risk = assess_concession(demo, account_number=EVA, kind=ConcessionKind.retention_discount,
                                role=Role.bot, churn_risk=False)
    assert no_risk.reasons == ["no_churn_risk"]
    jane = assess_concession(demo, account_number=JANE, kind=ConcessionKind.retention_discount,
                             role=Role.bot, churn_risk=True)
    assert jane.reasons == ["tenure_too_short"]
    with pytest.raises(NotEligible):
        grant(demo, account_number=JANE)


def test_above_the_bot_limit_the_error_carries_the_maximum(demo):
    with pytest.raises(ConcessionLimitExceeded) as raised:
        grant(demo, amount_minor=4001)
    assert raised.value.max_allowed_minor == 4000 and raised.value.role == "bot"
    assert demo.scalar(select(func.count(Adjustment.id))) == 0


def test_agent_above_limit_requests_supervisor_approval(demo):
    pending = grant(demo, amount_minor=20000, actor=AGENT, request_approval=True)
    assert pending.status is AdjustmentStatus.pending_approval
    assert [a.id for a in pending_approvals(demo)] == [pending.id]
    with pytest.raises(PermissionDenied):
        decide_concession(demo, adjustment_id=pending.id, approver=AGENT, approve=True)
    approved = decide_concession(demo, adjustment_id=pending.id, approver=SUPERVISOR, approve=True)
    assert approved.status is AdjustmentStatus.granted and approved.approved_by == "super1"
    assert pending_approvals(demo) == []


def test_nobody_goes_past_the_supervisor_limit(demo):
    with pytest.raises(ConcessionLimitExceeded) as raised:
        grant(demo, amount_minor=30001, actor=AGENT, request_approval=True)
    assert raised.value.max_allowed_minor == 12000
    with pytest.raises(ConcessionLimitExceeded):
        grant(demo, amount_minor=30001, actor=SUPERVISOR)


def test_one_retention_discount_per_year(demo):
    grant(demo)
    with pytest.raises(ConcessionFrequencyExceeded):
        grant(demo, idempotency_key="k2", actor=AGENT)


def test_retry_returns_the_same_grant_and_a_different_request_conflicts(demo):
    first = grant(demo)
    assert grant(demo).id == first.id
    with pytest.raises(IdempotencyConflict):
        grant(demo, amount_minor=3000)


def test_late_fee_waiver_is_limited_to_the_fee_and_credits_the_balance(demo, today):
    assessment = assess_concession(demo, account_number=JANE, kind=ConcessionKind.late_fee_waiver,
                                   role=Role.bot)
    assert assessment.eligible and assessment.suggested_minor == 500
    with pytest.raises(ConcessionLimitExceeded):
        grant(demo, account_number=JANE, kind=ConcessionKind.late_fee_waiver, amount_minor=600,
              actor=AGENT)
    grant(demo, account_number=JANE, kind=ConcessionKind.late_fee_waiver, amount_minor=500,
          reason_code="first_late_fee")
    assert get_balance(demo, account_number=JANE, today=today).balance_minor == 5340 - 500
    sanne = assess_concession(demo, account_number=SANNE, kind=ConcessionKind.late_fee_waiver,
                              role=Role.bot)
    assert sanne.reasons == ["no_late_fee"]


def test_goodwill_credit_needs_bill_shock(demo):
    jane = assess_concession(demo, account_number=JANE, kind=ConcessionKind.goodwill_credit,
                             role=Role.bot)
    assert jane.eligible and 0 < jane.suggested_minor <= 1000
    sanne = assess_concession(demo, account_number=SANNE, kind=ConcessionKind.goodwill_credit,
                              role=Role.bot)
    assert sanne.reasons == ["no_bill_shock"]


def test_concurrent_grants_never_exceed_the_limit(committed_factory):
    with committed_factory() as session, session.begin():
        seed_demo(session, today=date.today(), staff_password="concurrency-test")
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def attempt(index: int) -> None:
        barrier.wait()
        try:
            with committed_factory() as session, session.begin():
                grant(session, idempotency_key=f"race-{index}")
            outcomes.append("granted")
        except ConcessionFrequencyExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["granted"] + ["refused"] * 5
    with committed_factory() as session:
        assert session.scalar(select(func.count(Adjustment.id))) == 1


def test_the_monthly_discount_said_is_what_the_next_bill_takes_off(demo):
    """Before: the bot said "€6.66 less each month" (VAT on the €5.50 part alone), and Eva's
    next bill came €6.65 lower (VAT on the discounted fee)."""
    from billing_core.calendar import add_months, cycle_start
    from billing_core.concessions.service import monthly_discount_on_bill
    from billing_core.customers.service import get_account
    from billing_core.invoices.billing import issue_invoice

    eva = get_account(demo, account_number=EVA)
    today = date.today()
    said = monthly_discount_on_bill(demo, account_number=EVA, amount_minor=3300, months=6,
                                    today=today)
    assert said == 665
    start = add_months(cycle_start(today, eva.billing_day), 1)
    without = issue_invoice(demo, account=eva, period_start=start)
    demo.delete(without)
    demo.flush()
    grant(demo)
    with_discount = issue_invoice(demo, account=eva, period_start=start)
    assert without.total_minor - with_discount.total_minor == said


def test_the_discount_in_place_counts_the_bills_it_still_takes_off(demo):
    from billing_core.calendar import add_months, cycle_start
    from billing_core.concessions.service import discount_in_place
    from billing_core.customers.service import get_account

    today = date.today()
    assert discount_in_place(demo, account_number=EVA, today=today) is None
    grant(demo)
    day = get_account(demo, account_number=EVA).billing_day
    first = add_months(cycle_start(today, day), 1)
    now = discount_in_place(demo, account_number=EVA, today=today)
    assert (now.percent, now.bills_left, now.last_bill_on) == (10, 6, add_months(first, 5))
    later = discount_in_place(demo, account_number=EVA, today=add_months(first, 2))
    assert later.bills_left == 3  # the bills of first, +1 and +2 are issued by then
    assert discount_in_place(demo, account_number=EVA, today=add_months(first, 5)) is None


def test_the_next_bill_estimate_is_the_bill_the_invoice_run_makes(demo):
    from billing_core.customers.service import get_account
    from billing_core.invoices.billing import issue_invoice
    from billing_core.invoices.service import estimate_next_bill

    today = date.today()
    before = estimate_next_bill(demo, account_number=EVA, today=today)
    grant(demo)  # 10% for 6 months, from the next bill on
    estimate = estimate_next_bill(demo, account_number=EVA, today=today)
    assert before.total_minor - estimate.total_minor == 665
    issued = issue_invoice(demo, account=get_account(demo, account_number=EVA),
                           period_start=estimate.issue_date)
    assert (issued.total_minor, issued.issue_date) == (estimate.total_minor, estimate.issue_date)
