"""Retention insight: the statistics, the follow-ups and the report, on SQLite and PostgreSQL.

Every figure is checked against numbers worked out by hand (fractions in the comments) or
published ones (Newcombe 1998, Statistics in Medicine 17: 857-872 and 873-890).
"""
import subprocess
import sys
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from billing_core.actor import Actor
from billing_core.concessions.models import ConcessionKind
from billing_core.concessions.service import decide_concession, grant_concession
from billing_core.customers.service import get_account
from billing_core.enums import Role
from billing_core.retention.history import FIRST_ACCOUNT, seed_history
from billing_core.retention.models import OfferResponse, RetentionOutcome
from billing_core.retention.reports import (
    NO_CONCESSION, Estimate, OfferRow, amount_band, breakdown, comparison_by_reason,
    cost_per_retained, group_figures, mover_interval, paid_on_time, retention_report,
    run_followups, wilson_interval,
)
from billing_core.retention.service import record_offer, record_response


def close(value, expected, tolerance=5e-5):
    return value is not None and abs(value - float(expected)) <= tolerance


# ------------------------------------------------------------------------------- statistics
@pytest.mark.parametrize("successes, n, low, high", [
    (81, 263, 0.2553, 0.3662),   # Newcombe 1998a, table I (score method without correction)
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (29, 29, 0.8830, 1.0),
])
def test_wilson_interval_matches_published_values(successes, n, low, high):
    estimate = wilson_interval(successes, n)
    assert close(estimate.value, Fraction(successes, n))
    assert close(estimate.low, low) and close(estimate.high, high)


def test_wilson_interval_by_hand():
    # 8/10, z = 1.959964: centre (0.8 + z²/20) / (1 + z²/10) = 0.716738,
    # half z·sqrt(0.8·0.2/10 + z²/400) / (1 + z²/10) = 0.226581
    estimate = wilson_interval(8, 10)
    assert close(estimate.low, 0.716738 - 0.226581, 1e-5)
    assert close(estimate.high, 0.716738 + 0.226581, 1e-5)
    assert wilson_interval(0, 0) == Estimate(None, None, None)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


@pytest.mark.parametrize("a, m, b, n, low, high", [
    (56, 70, 48, 80, 0.0524, 0.3339),   # Newcombe 1998b, table II, method 10
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0),
    (10, 10, 0, 10, 0.6075, 1.0),
])
def test_difference_interval_is_newcombes_hybrid_score(a, m, b, n, low, high):
    estimate = mover_interval([(1.0, wilson_interval(a, m)), (-1.0, wilson_interval(b, n))])
    assert close(estimate.value, Fraction(a, m) - Fraction(b, n))
    assert close(estimate.low, low) and close(estimate.high, high)


def test_standardised_difference_combines_the_reasons_by_hand():
    # Offers: 4 "price" (3 kept), 2 "service_issue" (1 kept).
    # Offered nothing: price 2 of 4 kept, service_issue 1 of 2 kept.
    rows = [_row("retention_discount", "price", kept) for kept in (1, 1, 1, 0)] + \
           [_row("goodwill_credit", "service_issue", kept) for kept in (1, 0)] + \
           [_row(None, "price", kept) for kept in (1, 1, 0, 0)] + \
           [_row(None, "service_issue", kept) for kept in (1, 0)] + \
           [_row(None, "moving", 1)]  # no offer had this reason: never in a comparison
    comparison = comparison_by_reason(rows)
    assert comparison == {"price": (4, 2), "service_issue": (2, 1), "moving": (1, 1)}
    figures = group_figures("all", "All", [r for r in rows if r.treated], comparison)
    # offers 4/6 kept; comparison weighted to the offers' reasons: 4/6·2/4 + 2/6·1/2 = 1/2
    assert figures.offers == 6 and figures.retained == 4 and figures.matched_offers == 6
    assert close(figures.retention.value, Fraction(2, 3))
    assert close(figures.comparison.value, Fraction(1, 2))
    assert figures.comparison_customers == 6
    assert close(figures.difference.value, Fraction(1, 6))
    # MOVER: p1 - (2/3)·p_price - (1/3)·p_service, each with its Wilson interval
    w1, wp, ws = wilson_interval(4, 6), wilson_interval(2, 4), wilson_interval(1, 2)
    low = 1 / 6 - ((w1.value - w1.low) ** 2 + (2 / 3 * (wp.high - wp.value)) ** 2
                   + (1 / 3 * (ws.high - ws.value)) ** 2) ** 0.5
    high = 1 / 6 + ((w1.high - w1.value) ** 2 + (2 / 3 * (wp.value - wp.low)) ** 2
                    + (1 / 3 * (ws.value - ws.low)) ** 2) ** 0.5
    assert close(figures.difference.low, low, 1e-9) and close(figures.difference.high, high, 1e-9)
    # cost: 6 accepted offers of EUR 20 = 12000; extra customers kept 1/6 · 6 = 1
    assert figures.cost_minor == 12000 and close(figures.extra_retained, 1)
    assert figures.cost_per_retained_minor == 12000

    by_kind = {g.key: g for g in breakdown(rows, "kind")}
    assert close(by_kind["retention_discount"].difference.value, Fraction(3, 4) - Fraction(1, 2))
    assert close(by_kind["goodwill_credit"].difference.value, 0)
    assert by_kind["goodwill_credit"].cost_per_retained_minor is None  # nobody extra kept


def test_offers_without_comparison_customers_are_left_out_of_the_difference():
    rows = [_row("goodwill_credit", "price", 1), _row("goodwill_credit", "moving", 0),
            _row(None, "price", 0), _row(None, "price", 1)]
    figures = group_figures("g", "G", [r for r in rows if r.treated], comparison_by_reason(rows))
    assert (figures.offers, figures.matched_offers) == (2, 1)
    assert close(figures.retention.value, 0.5)        # all offers
    assert close(figures.difference.value, 0.5)       # matched: 1/1 - 1/2
    assert figures.cost_minor == 2000                 # of the matched offer only


def test_declined_offers_cost_nothing_and_count_as_offers():
    rows = [_row("retention_discount", "price", 1, amount=6000, response="declined"),
            _row("retention_discount", "price", 1, amount=6000),
            _row(None, "price", 0), _row(None, "price", 1)]
    figures = group_figures("g", "G", [r for r in rows if r.treated], comparison_by_reason(rows))
    assert figures.offers == 2 and figures.accepted == 1 and figures.cost_minor == 6000
    # difference 1 - 1/2 = 1/2 over 2 offers: 1 extra customer for EUR 60
    assert figures.cost_per_retained_minor == 6000


def test_cost_per_extra_customer_kept_and_its_range():
    # EUR 100 over 20 offers; difference 0.25 (0.05 to 0.5): 5 extra customers
    assert cost_per_retained(10000, 20, Estimate(0.25, 0.05, 0.5)) == (2000, 1000, 10000)
    # the interval reaches zero: no upper bound
    assert cost_per_retained(10000, 20, Estimate(0.25, -0.05, 0.5)) == (2000, 1000, None)
    assert cost_per_retained(10000, 20, Estimate(0.0, -0.1, 0.1)) == (None, None, None)
    assert cost_per_retained(10000, 20, Estimate(-0.1, -0.2, 0.0)) == (None, None, None)
    assert cost_per_retained(10000, 0, Estimate(None, None, None)) == (None, None, None)
    assert cost_per_retained(0, 20, Estimate(0.25, 0.05, 0.5)) == (None, None, None)  # declined only


@pytest.mark.parametrize("amount, band", [
    (0, NO_CONCESSION), (1, "up_to_10"), (1000, "up_to_10"), (1001, "10_to_25"),
    (2500, "10_to_25"), (2501, "25_to_50"), (5000, "25_to_50"), (5001, "50_to_100"),
    (10000, "50_to_100"), (10001, "over_100"), (30000, "over_100"),
])
def test_amount_bands_include_their_upper_bound(amount, band):
    assert amount_band(amount) == band


@pytest.mark.parametrize("invoices, money_in, expected", [
    # offered on 1 March; window (1 Mar, 30 May]
    ([(date(2025, 3, 15), 5000), (date(2025, 4, 15), 5000)],
     [(date(2025, 3, 10), 5000), (date(2025, 4, 15), 5000)], True),   # paid on the due date
    ([(date(2025, 3, 15), 5000), (date(2025, 4, 15), 5000)],
     [(date(2025, 3, 10), 5000), (date(2025, 4, 16), 5000)], False),  # a day late
    ([(date(2025, 2, 15), 5000), (date(2025, 3, 15), 5000)],
     [(date(2025, 3, 14), 10000)], True),   # the older bill first, both covered in time
    ([(date(2025, 2, 15), 5000), (date(2025, 3, 15), 5000)],
     [(date(2025, 3, 14), 5000)], False),   # the payment went to the older bill
    ([(date(2025, 3, 15), 5000)], [], False),                          # never paid
    ([(date(2025, 2, 15), 5000), (date(2025, 6, 15), 5000)], [], None),  # nothing due in the window
])
def test_paid_on_time_by_hand(invoices, money_in, expected):
    assert paid_on_time(offered_on=date(2025, 3, 1), invoices=invoices, money_in=money_in) is expected


def _row(kind, reason, kept, *, amount=2000, response="accepted", offerer="bot", channel="web",
         on=date(2025, 1, 15)):
    return OfferRow(offered_on=on, kind=kind or NO_CONCESSION, amount_minor=amount if kind else 0,
                    reason=reason, channel=channel, offerer=offerer,
                    response=response if kind else "offered", retained=bool(kept))


# ------------------------------------------------------------------------------- in the database
def _offer(session, today, account, days_ago, *, kind=None, amount=0, reason="cancel_threat",
           actor=Actor.bot(), channel="web", response=None):
    offered_at = datetime.combine(today - timedelta(days=days_ago), time(12), tzinfo=timezone.utc)
    outcome = record_offer(session, account_number=account, reason_code=reason, actor=actor,
                           concession_kind=kind, amount_minor=amount, channel=channel,
                           offered_at=offered_at)
    if response:
        record_response(session, outcome_id=outcome.id, response=response, actor=actor)
    return outcome


@pytest.fixture
def outcomes(demo, today):
    """Eight conversations with the demo customers; Sanne cancels 65 days ago."""
    agent = Actor("agent1", Role.agent)
    accepted, declined = OfferResponse.accepted, OfferResponse.declined
    rows = {
        "eva": _offer(demo, today, "10000004", 100, kind="retention_discount", amount=3300, response=accepted),
        "sanne": _offer(demo, today, "10000002", 100, kind="retention_discount", amount=2400, response=declined),
        "jane": _offer(demo, today, "10000001", 100, kind="goodwill_credit", amount=1000, reason="complaint",
                       actor=agent, channel="sms", response=accepted),
        "tom_none": _offer(demo, today, "10000003", 100),
        "sanne_none_95": _offer(demo, today, "10000002", 95, channel="sms"),
        "sanne_none_99": _offer(demo, today, "10000002", 99, actor=Actor("agent2", Role.agent)),
        "jane_none": _offer(demo, today, "10000001", 100, reason="complaint"),
        "eva_recent": _offer(demo, today, "10000004", 10, kind="goodwill_credit", amount=500),
    }
    sanne = get_account(demo, account_number="10000002")
    sanne.status = "cancelled"
    sanne.cancelled_at = datetime.combine(today - timedelta(days=65), time(9), tzinfo=timezone.utc)
    demo.flush()
    return rows


def test_followups_fill_activity_and_payment(demo, today, outcomes):
    counts = run_followups(demo, today=today)
    assert counts["payment"] == 7  # all but the recent one: its 90 days have not passed
    expected = {  # (30 days, 90 days, paid on time)
        "eva": (True, True, True),
        "sanne": (True, False, True),     # cancelled 35 days after the offer
        "jane": (True, True, False),      # the demo's late invoice is due within the window
        "tom_none": (True, True, False),  # the demo's unpaid invoice
        "sanne_none_95": (False, False, True),  # cancelled exactly 30 days on: gone at 30 days
        "sanne_none_99": (True, False, True),
        "jane_none": (True, True, False),
        "eva_recent": (None, None, None),
    }
    for name, values in expected.items():
        outcome = outcomes[name]
        assert (outcome.active_after_30d, outcome.active_after_90d, outcome.paid_on_time) == values, name
    assert outcomes["sanne"].cancelled_on == today - timedelta(days=65)
    assert run_followups(demo, today=today) == {"activity": 0, "payment": 0}  # done once


def test_report_figures_by_hand(demo, today, outcomes):
    run_followups(demo, today=today)
    report = retention_report(demo, horizon_days=90, today=today)
    totals = report["totals"]
    assert (totals["conversations"], totals["offers"], totals["comparison_customers"]) == (8, 4, 4)
    assert totals["superseded_comparison"] == 0
    assert (totals["outcome_known"], totals["pending"]) == (7, 1)
    # paid on time: offered 2 of 3 (eva, sanne; not jane); offered nothing 2 of 4
    assert totals["paid_on_time"]["offered"]["paid_on_time"] == 2
    assert totals["paid_on_time"]["offered"]["customers"] == 3
    assert totals["paid_on_time"]["not_offered"]["paid_on_time"] == 2
    assert totals["paid_on_time"]["not_offered"]["customers"] == 4

    # Comparison, 90 days: cancel_threat 1 of 3 kept (Tom), complaint 1 of 1 (Jane).
    comparison = {r["key"]: r for r in report["tables"]["comparison"]}
    assert (comparison["cancel_threat"]["customers"], comparison["cancel_threat"]["retained"]) == (3, 1)
    assert (comparison["complaint"]["customers"], comparison["complaint"]["retained"]) == (1, 1)

    # All offers: 2 of 3 kept; comparison 2/3·1/3 + 1/3·1 = 5/9; difference 1/9;
    # accepted concessions 3300 + 1000 = 4300 for 1/9 · 3 = 1/3 extra customer: 12900.
    overall = report["overall"]
    assert overall["offers"] == 3 and overall["accepted"] == 2
    assert close(overall["retention"], Fraction(2, 3))
    assert close(overall["comparison"], Fraction(5, 9))
    assert close(overall["difference"], Fraction(1, 9))
    assert overall["cost_minor"] == 4300 and close(overall["extra_retained"], Fraction(1, 3))
    assert overall["cost_per_retained_minor"] == 12900

    kinds = {r["key"]: r for r in report["tables"]["kind"]}
    # retention discount: 1 of 2 kept vs 1/3: +1/6; only Eva accepted (3300) for 1/3 extra
    assert close(kinds["retention_discount"]["retention"], 0.5)
    assert close(kinds["retention_discount"]["difference"], Fraction(1, 6))
    assert kinds["retention_discount"]["cost_per_retained_minor"] == 9900
    assert close(kinds["retention_discount"]["acceptance"], 0.5)
    # goodwill credit: 1 of 1 vs complaint 1 of 1: no difference, no cost per customer
    assert close(kinds["goodwill_credit"]["difference"], 0)
    assert kinds["goodwill_credit"]["cost_per_retained_minor"] is None

    offerers = {r["key"]: r for r in report["tables"]["offerer"]}
    assert (offerers["bot"]["offers"], offerers["agent"]["offers"]) == (2, 1)
    bands = [r["key"] for r in report["tables"]["band"]]
    assert bands == ["up_to_10", "10_to_25", "25_to_50"]  # 1000, 2400, 3300, in band order
    channels = {r["key"]: r["offers"] for r in report["tables"]["channel"]}
    assert channels == {"web": 2, "sms": 1}
    responses = {r["key"]: r["offers"] for r in report["tables"]["response"]}
    assert responses == {"accepted": 2, "declined": 1}
    monthly = report["tables"]["monthly"]
    assert sum(m["offers"] for m in monthly) == 3 and sum(m["pending"] for m in monthly) == 1

    # 30 days: offers 3 of 3 kept; cancel_threat comparison 2 of 3 (the day-30 cancellation)
    report30 = retention_report(demo, horizon_days=30, today=today)
    kinds30 = {r["key"]: r for r in report30["tables"]["kind"]}
    assert close(kinds30["retention_discount"]["retention"], 1.0)
    assert close(kinds30["retention_discount"]["comparison"], Fraction(2, 3))
    assert close(kinds30["retention_discount"]["difference"], Fraction(1, 3))


def test_nothing_offered_by_the_bot_then_a_concession_from_an_agent_is_no_comparison(demo, today):
    # The bot had nothing within its limit for Eva (a comparison row), an agent then gave a
    # retention discount in the same conversation: she is no longer "offered nothing".
    offered_at = datetime.combine(today - timedelta(days=100), time(12), tzinfo=timezone.utc)
    record_offer(demo, account_number="10000004", reason_code="cancel_threat", actor=Actor.bot(),
                 conversation_id="web-eva", offered_at=offered_at)
    record_offer(demo, account_number="10000004", reason_code="cancel_threat",
                 actor=Actor("agent1", Role.agent), concession_kind="retention_discount",
                 amount_minor=6000, conversation_id="web-eva", offered_at=offered_at)
    record_offer(demo, account_number="10000003", reason_code="cancel_threat", actor=Actor.bot(),
                 conversation_id="web-tom", offered_at=offered_at)  # really offered nothing
    run_followups(demo, today=today)
    report = retention_report(demo, today=today)
    assert report["totals"]["comparison_customers"] == 1
    assert report["totals"]["superseded_comparison"] == 1
    assert report["overall"]["comparison_customers"] == 1


def test_console_concessions_to_customers_threatening_to_leave_are_retention_offers(demo, today):
    from handoff.api.routes.concessions import record_retention

    agent, supervisor = Actor("agent1", Role.agent), Actor("super1", Role.supervisor)

    def outcome_of(adjustment):
        return demo.scalar(select(RetentionOutcome).where(RetentionOutcome.adjustment_id == adjustment.id))

    # Jane, bill shock, says she will leave: a goodwill credit is a retention offer.
    credit = grant_concession(demo, account_number="10000001", kind=ConcessionKind.goodwill_credit,
                              amount_minor=2000, actor=agent, reason_code="bill_shock",
                              idempotency_key="t-goodwill", channel="web", conversation_id="c-jane",
                              churn_risk=True, today=today)
    record_retention(demo, credit, churn_risk=True)
    record_retention(demo, credit, churn_risk=True)  # a retried request: still one
    outcome = outcome_of(credit)
    assert (outcome.concession_kind, outcome.amount_minor, outcome.reason_code) == (
        "goodwill_credit", 2000, "bill_shock")
    assert (outcome.offered_by, outcome.offered_by_role, outcome.channel) == ("agent1", "agent", "web")
    assert outcome.response is OfferResponse.accepted
    # The same kind of credit without a cancellation threat is not a retention offer.
    waiver = grant_concession(demo, account_number="10000001", kind=ConcessionKind.late_fee_waiver,
                              amount_minor=500, actor=agent, reason_code="late_fee",
                              idempotency_key="t-waiver", today=today)
    record_retention(demo, waiver)
    assert outcome_of(waiver) is None

    # Eva: above the agent's limit, a supervisor approves: offered, then accepted.
    pending = grant_concession(demo, account_number="10000004", kind=ConcessionKind.retention_discount,
                               amount_minor=15000, actor=agent, reason_code="price",
                               idempotency_key="t-eva", churn_risk=True, request_approval=True,
                               today=today)
    record_retention(demo, pending, churn_risk=True)
    assert outcome_of(pending).response is OfferResponse.offered
    approved = decide_concession(demo, adjustment_id=pending.id, approver=supervisor, approve=True)
    record_retention(demo, approved)
    assert outcome_of(approved).response is OfferResponse.accepted
    assert outcome_of(approved).offered_by == "agent1"  # the offer stays the agent's

    # Sanne: the supervisor rejects: the offer was made, never accepted.
    asked = grant_concession(demo, account_number="10000002", kind=ConcessionKind.retention_discount,
                             amount_minor=15000, actor=agent, reason_code="price",
                             idempotency_key="t-sanne", churn_risk=True, request_approval=True,
                             today=today)
    record_retention(demo, asked, churn_risk=True)
    rejected = decide_concession(demo, adjustment_id=asked.id, approver=supervisor, approve=False)
    record_retention(demo, rejected)
    assert outcome_of(rejected).response is OfferResponse.offered


# ------------------------------------------------------------------------------- the history
def _fingerprint(session) -> list[tuple]:
    return [tuple(row) for row in session.execute(
        select(RetentionOutcome.concession_kind, RetentionOutcome.amount_minor,
               RetentionOutcome.reason_code, RetentionOutcome.channel,
               RetentionOutcome.offered_by, RetentionOutcome.offered_at,
               RetentionOutcome.response, RetentionOutcome.active_after_30d,
               RetentionOutcome.active_after_90d, RetentionOutcome.paid_on_time)
        .order_by(RetentionOutcome.offered_at, RetentionOutcome.id))]


def test_history_is_deterministic_and_seeded_once(reference):
    today = date(2025, 6, 1)
    steps = []
    savepoint = reference.begin_nested()
    summary = seed_history(reference, today=today, customers=300, seed=7,
                           progress=lambda step, done, total: steps.append(step))
    first = _fingerprint(reference)
    savepoint.rollback()
    again = seed_history(reference, today=today, customers=300, seed=7)
    assert _fingerprint(reference) == first
    assert summary.customers == again.customers == 300 and summary.offers + summary.comparison == 300
    assert {"customers", "offers", "bills", "follow-ups"} <= set(steps)
    assert seed_history(reference, today=today, customers=300, seed=7) is None  # once
    assert reference.scalar(select(func.count(RetentionOutcome.id))) == 300
    # every outcome older than 90 days is followed up; none of the newer ones at 90 days
    known = reference.scalar(select(func.count(RetentionOutcome.id)).where(
        RetentionOutcome.active_after_90d.is_not(None)))
    old = reference.scalar(select(func.count(RetentionOutcome.id)).where(
        RetentionOutcome.offered_at < datetime(2025, 3, 4, tzinfo=timezone.utc)))  # 90 days by 1 June
    assert known == old > 0
    assert get_account(reference, account_number=str(FIRST_ACCOUNT)).customer.phone is None


def test_history_shows_plausible_patterns(reference):
    today = date(2025, 6, 1)
    seed_history(reference, today=today, customers=3000)
    report = retention_report(reference, horizon_days=90, today=today)
    kinds = {r["key"]: r for r in report["tables"]["kind"]}
    offerers = {r["key"]: r for r in report["tables"]["offerer"]}
    reasons = {r["key"]: r for r in report["tables"]["reason"]}
    assert kinds["retention_discount"]["difference"] > kinds["goodwill_credit"]["difference"] > 0
    assert kinds["retention_discount"]["difference_low"] > 0
    assert offerers["agent"]["difference"] > offerers["bot"]["difference"] > 0
    worst = min(reasons.values(), key=lambda r: r["retention"])
    assert worst["key"] == "service_issue"
    assert reasons["service_issue"]["difference_low"] < 0 < reasons["price"]["difference_low"]
    assert report["overall"]["cost_per_retained_minor"] > 0
    assert 0.5 < report["totals"]["paid_on_time"]["offered"]["share"] < 1


def test_cli_seeds_the_history_only_when_asked_for_a_database_by_url(tmp_path):
    url, store = f"sqlite:///{tmp_path / 'billing.db'}", f"sqlite:///{tmp_path / 'handoff.db'}"

    def run(*args):
        return subprocess.run([sys.executable, "-m", "billing_core", "--database-url", url, *args],
                              capture_output=True, text=True, timeout=300)

    assert run("migrate").returncode == 0
    plain = run("seed", "--demo")
    assert plain.returncode == 0 and "history" not in plain.stdout  # tests stay small
    seeded = run("seed", "--demo", "--history", "--handoff-database-url", store)
    assert seeded.returncode == 0, seeded.stderr
    assert "4000 customers" in seeded.stdout and "handoffs in the queue history" in seeded.stdout
    assert "history: customers" in seeded.stderr and "4000/4000" in seeded.stderr  # progress
    again = run("seed", "--demo", "--history", "--handoff-database-url", store)
    assert "retention history already present" in again.stdout
    assert "queue history already present" in again.stdout
