"""Queue health and Erlang C, on SQLite and PostgreSQL handoff stores.

Erlang C values are the textbook ones (e.g. the 10-Erlang table in Koole, "Call Center
Optimization", and the 100 calls / 30 min, 3 min handle time example used across the
industry), or worked out by hand in the comments.
"""
import math
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from billing_core.db import session_scope
from handoff.models import Conversation, Handoff, HandoffStatus, Owner
from handoff.services.queue_health import (
    WAIT_BINS, agents_needed, average_speed_of_answer, erlang_b, erlang_c, queue_health,
    seed_queue_history, service_level,
)


# ------------------------------------------------------------------------------- Erlang B / C
def test_erlang_b_by_hand():
    assert erlang_b(0, 5.0) == 1.0
    assert erlang_b(1, 1.0) == pytest.approx(0.5)        # A / (1 + A)
    assert erlang_b(2, 2.0) == pytest.approx(0.4)        # (4/2) / (1 + 2 + 4/2)
    assert erlang_b(3, 2.0) == pytest.approx((8 / 6) / (1 + 2 + 2 + 8 / 6))


def test_erlang_c_by_hand_and_from_the_textbook():
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)      # B = 4/19; C = 3B / (3 - 2(1 - B))
    assert erlang_c(1, 0.3) == pytest.approx(0.3)        # M/M/1: P(wait) = utilisation
    for agents, probability in ((11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741), (15, 0.1020)):
        assert erlang_c(agents, 10.0) == pytest.approx(probability, abs=5e-5)
    assert erlang_c(10, 10.0) == 1.0 and erlang_c(5, 10.0) == 1.0  # overloaded: everyone waits
    assert erlang_c(3, 0.0) == 0.0


def test_service_level_and_speed_of_answer_of_the_classic_example():
    # 100 calls in 30 minutes, 180 s each: A = 200/h x 180 s = 10 Erlang; target 20 s.
    assert service_level(13, 10.0, 180, 20) == pytest.approx(1 - 0.2853 * math.exp(-3 * 20 / 180), abs=1e-4)
    assert service_level(14, 10.0, 180, 20) == pytest.approx(0.8884, abs=1e-4)
    assert average_speed_of_answer(14, 10.0, 180) == pytest.approx(0.1741 * 180 / 4, abs=0.01)  # 7.8 s
    staffing = agents_needed(200, 180, target_seconds=20, goal=0.8)
    assert staffing.agents == 14 and staffing.traffic_erlangs == pytest.approx(10.0)
    assert staffing.occupancy == pytest.approx(10 / 14)
    assert [c["agents"] for c in staffing.curve] == list(range(11, 18))
    assert staffing.curve[2]["service_level"] < 0.8 <= staffing.curve[3]["service_level"]
    assert agents_needed(200, 180, target_seconds=20, goal=0.9).agents == 15
    assert service_level(10, 10.0, 180, 20) == 0.0 and average_speed_of_answer(9, 10.0, 180) == math.inf


def test_erlang_c_is_stable_for_large_centres():
    # Reference in log space: ln(A^N/N!) via lgamma, summed with log-sum-exp.
    def reference(n, a):
        terms = [k * math.log(a) - math.lgamma(k + 1) for k in range(n)]
        last = n * math.log(a) - math.lgamma(n + 1) + math.log(n / (n - a))
        top = max(terms + [last])
        total = sum(math.exp(t - top) for t in terms) + math.exp(last - top)
        return math.exp(last - top) / total

    for n, a in ((200, 180.0), (1200, 1150.0), (5000, 4900.0)):
        value = erlang_c(n, a)
        assert 0 < value < 1 and value == pytest.approx(reference(n, a), rel=1e-9)
    big = agents_needed(100_000, 300, target_seconds=20, goal=0.9)  # 8333 Erlang
    assert big.agents > big.traffic_erlangs and big.service_level >= 0.9


def test_agents_needed_edge_cases():
    none = agents_needed(0, 300)
    assert none.agents == 0 and none.service_level == 1.0 and none.curve == []
    assert agents_needed(1, 60).agents == 1
    with pytest.raises(ValueError):
        agents_needed(10, 300, goal=1.0)
    with pytest.raises(ValueError):
        agents_needed(-1, 300)


# ------------------------------------------------------------------------------- from the store
BASE = datetime(2025, 5, 5, tzinfo=timezone.utc)  # a Monday


def _handoff(session, number, language, *, queued, wait=None, handle=None, abandon_after=None,
             status=None):
    conversation = Conversation(id=f"qh-{number}", channel="web", language=language, owner=Owner.closed)
    session.add(conversation)
    queued_at = BASE + queued
    claimed_at = queued_at + timedelta(seconds=wait) if wait is not None else None
    closed_at = None
    if handle is not None:
        closed_at = claimed_at + timedelta(seconds=handle)
    if abandon_after is not None:
        closed_at = queued_at + timedelta(seconds=abandon_after)
    if status is None:
        status = (HandoffStatus.abandoned if abandon_after is not None else
                  HandoffStatus.queued if wait is None else
                  HandoffStatus.resolved if handle is not None else HandoffStatus.claimed)
    session.add(Handoff(conversation_id=conversation.id, status=status, reason="customer_asked",
                        language=language, rank_at=queued_at, packet={}, queued_at=queued_at,
                        claimed_at=claimed_at, closed_at=closed_at))


@pytest.fixture
def store(sessions):
    """Seven handoffs on 5 May 2025 (and one before), figures worked out by hand below."""
    with session_scope(sessions) as session:
        h10 = timedelta(hours=10)
        _handoff(session, 1, "en", queued=h10, wait=10, handle=300)
        _handoff(session, 2, "en", queued=h10 + timedelta(minutes=5), wait=60, handle=600,
                 status=HandoffStatus.released)                        # exactly on target
        _handoff(session, 3, "en", queued=h10 + timedelta(minutes=10), wait=61, handle=120)
        _handoff(session, 4, "en", queued=h10 + timedelta(minutes=20), abandon_after=200)
        _handoff(session, 5, "nl", queued=timedelta(hours=14), wait=0)  # with an agent now
        _handoff(session, 6, "nl", queued=timedelta(hours=14, minutes=3), abandon_after=30)
        _handoff(session, 7, "nl", queued=timedelta(hours=15))           # waiting now
        _handoff(session, 8, "en", queued=timedelta(days=-3), wait=5, handle=100)  # outside
    return sessions


def _report(sessions, **options):
    with session_scope(sessions) as session:
        return queue_health(session, since=BASE, until=BASE + timedelta(days=1), **options)


def test_observed_figures_by_hand(store):
    report = _report(store, target_seconds=60)
    assert report["days"] == 1 and report["waiting_now"] == 1
    overall = report["overall"]
    # 6 left the queue: 4 answered (waits 10, 60, 61, 0), 2 gave up; within 60 s: 3
    assert (overall["contacts"], overall["answered"], overall["abandoned"]) == (6, 4, 2)
    assert overall["answered_within_target"] == 3
    assert overall["service_level"] == pytest.approx(3 / 6)
    assert overall["abandon_rate"] == pytest.approx(2 / 6)
    assert overall["average_wait_seconds"] == pytest.approx((10 + 60 + 61 + 0) / 4)
    assert overall["median_wait_seconds"] == 10 and overall["p90_wait_seconds"] == 61
    # handle time of the three closed ones (the claimed one is still open)
    assert overall["average_handle_seconds"] == pytest.approx((300 + 600 + 120) / 3)
    assert overall["median_handle_seconds"] == 300

    languages = {block["language"]: block for block in report["languages"]}
    assert [block["language"] for block in report["languages"]] == ["en", "nl"]  # biggest first
    en, nl = languages["en"], languages["nl"]
    assert (en["contacts"], en["answered"], en["abandoned"]) == (4, 3, 1)
    assert en["service_level"] == pytest.approx(2 / 4) and en["abandon_rate"] == pytest.approx(1 / 4)
    assert en["average_handle_seconds"] == pytest.approx(340)
    assert (nl["contacts"], nl["answered"], nl["abandoned"]) == (2, 1, 1)
    assert nl["service_level"] == pytest.approx(1 / 2) and nl["average_handle_seconds"] is None

    # histogram: answered 10 s and 0 s in [0, 15); abandoned at 30 s in [30, 60); answered at
    # 60 and 61 s in [60, 120); abandoned at 200 s in [180, 300)
    bins = {b["from_seconds"]: (b["answered"], b["abandoned"]) for b in overall["histogram"]}
    assert list(bins) == list(WAIT_BINS)
    assert bins == {0: (2, 0), 15: (0, 0), 30: (0, 1), 60: (2, 0), 120: (0, 0), 180: (0, 1),
                    300: (0, 0), 600: (0, 0), 900: (0, 0)}
    assert overall["histogram"][-1]["to_seconds"] is None


def test_the_target_is_adjustable(store):
    assert _report(store, target_seconds=10)["overall"]["service_level"] == pytest.approx(2 / 6)
    assert _report(store, target_seconds=61)["overall"]["service_level"] == pytest.approx(4 / 6)


def test_staffing_from_the_observed_rate_and_handle_time(store):
    en = next(b for b in _report(store, target_seconds=60, goal=0.8)["languages"] if b["language"] == "en")
    staffing = en["staffing"]
    # English: 4 contacts in the 10:00 hour of one day, 340 s each: A = 4 x 340 / 3600 = 0.3778
    assert staffing["peak_hour"] == 10 and staffing["open_hours"] == 1
    peak = staffing["peak"]
    assert peak["arrivals_per_hour"] == pytest.approx(4) and peak["traffic_erlangs"] == pytest.approx(0.37778, abs=1e-5)
    # 1 agent: C = A = 0.3778, SL = 1 - 0.3778 e^{-(1 - A) 60/340} = 0.6615 < 0.8
    # 2 agents: B = (A²/2)/(1 + A + A²/2) = 0.04924, C = 2B/(2 - A(1 - B)) = 0.06002,
    #           SL = 1 - 0.06002 e^{-(2 - A) 60/340} = 0.9549
    assert peak["agents"] == 2
    assert peak["service_level"] == pytest.approx(0.9549, abs=1e-4)
    assert peak["wait_probability"] == pytest.approx(0.06002, abs=1e-5)
    assert peak["curve"][0]["agents"] == 1
    assert peak["curve"][0]["service_level"] == pytest.approx(0.6615, abs=1e-4)
    by_hour = {p["hour"]: p for p in staffing["by_hour"]}
    assert by_hour[10]["agents"] == 2 and by_hour[9]["agents"] == 0
    # chosen inputs: 200 an hour, 180 s, 20 s target -> the textbook 14 agents
    chosen = _report(store, target_seconds=20, goal=0.8, arrivals_per_hour=200,
                     handle_seconds=180)["overall"]["staffing"]["chosen"]
    assert chosen["agents"] == 14


def test_an_empty_period_has_no_figures(sessions):
    report = _report(sessions)
    assert report["overall"]["contacts"] == 0 and report["overall"]["service_level"] is None
    assert report["overall"]["staffing"]["peak"]["agents"] == 0 and report["languages"] == []


def test_queue_history_is_deterministic_plausible_and_seeded_once(sessions):
    with session_scope(sessions) as session:
        count = seed_queue_history(session, today=date(2025, 6, 1), days=14, seed=5)
        assert seed_queue_history(session, today=date(2025, 6, 1), days=14, seed=5) is None
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count(Handoff.id))) == count > 1000
        first = session.scalar(select(Handoff.queued_at).order_by(Handoff.queued_at).limit(1))
        assert first.date() == date(2025, 5, 18)
        report = queue_health(session, since=datetime(2025, 5, 18, tzinfo=timezone.utc),
                              until=datetime(2025, 6, 1, tzinfo=timezone.utc))
    overall = report["overall"]
    assert overall["contacts"] == count
    assert 0.6 < overall["service_level"] < 0.95 and 0.03 < overall["abandon_rate"] < 0.2
    assert 250 < overall["average_handle_seconds"] < 450
    assert {b["language"] for b in report["languages"]} == {"en", "nl"}
    assert overall["staffing"]["peak"]["agents"] >= 3
    # same seed, same history
    def fingerprint():
        with session_scope(sessions) as session:
            return session.execute(select(
                Handoff.conversation_id, Handoff.status, Handoff.queued_at, Handoff.claimed_at,
                Handoff.closed_at, Handoff.agent).order_by(Handoff.conversation_id)).all()

    before = fingerprint()
    with session_scope(sessions) as session:
        session.query(Handoff).delete()
        session.query(Conversation).delete()
    with session_scope(sessions) as session:
        assert seed_queue_history(session, today=date(2025, 6, 1), days=14, seed=5) == count
    assert fingerprint() == before
