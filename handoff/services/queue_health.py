"""Queue health from the handoff store, and staffing with Erlang C.

Every handoff that entered the live-agent queue and left it in the period counts as a
contact: answered (an agent claimed it) or abandoned (the customer left the queue).

- wait: claimed_at - queued_at (answered), closed_at - queued_at (abandoned);
- service level: answered within the target (e.g. 60 s) / (answered + abandoned);
- abandon rate: abandoned / (answered + abandoned);
- handle time: closed_at - claimed_at of answered contacts that were closed;
- staffing: Erlang C (M/M/N: Poisson arrivals, exponential handle times, no abandonment,
  first come first served, one conversation per agent at a time) for the observed arrival
  rate and mean handle time: the fewest agents whose predicted service level reaches the goal.

`seed_queue_history` writes a simulated, plausible queue history for the demo.
"""
import math
import random
import time as clock
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from handoff.errors import HandoffError
from handoff.models import Conversation, Handoff, HandoffStatus, Owner

# Wait histogram: lower edges in seconds; the last bin is open-ended.
WAIT_BINS = (0, 15, 30, 60, 120, 180, 300, 600, 900)
DEFAULT_TARGET_SECONDS = 60
DEFAULT_GOAL = 0.8
MAX_AGENTS = 10_000
HISTORY_PREFIX = "hist-"


# ------------------------------------------------------------------------------- Erlang C
def erlang_b(servers: int, traffic: float) -> float:
    """Blocking probability of Erlang B, by the recursion B(k) = A B(k-1) / (k + A B(k-1)).

    Only ratios below 1 are multiplied, so it neither overflows nor loses precision for
    thousands of servers (no factorials, no powers).
    """
    if servers < 0 or traffic < 0:
        raise ValueError("servers and traffic must not be negative")
    b = 1.0
    for k in range(1, servers + 1):
        b = traffic * b / (k + traffic * b)
    return b


def erlang_c(servers: int, traffic: float) -> float:
    """Probability that a contact has to wait (Erlang C), traffic A = arrival rate x handle time.

    1 when servers <= traffic: the queue grows without bound.
    """
    if traffic <= 0:
        return 0.0
    if servers <= traffic:
        return 1.0
    b = erlang_b(servers, traffic)
    return servers * b / (servers - traffic * (1 - b))


def service_level(servers: int, traffic: float, handle_seconds: float, target_seconds: float) -> float:
    """Share of contacts answered within the target: 1 - C e^{-(N - A) T / AHT}."""
    if traffic <= 0:
        return 1.0
    if servers <= traffic:
        return 0.0
    wait_probability = erlang_c(servers, traffic)
    return 1 - wait_probability * math.exp(-(servers - traffic) * target_seconds / handle_seconds)


def average_speed_of_answer(servers: int, traffic: float, handle_seconds: float) -> float:
    """Mean wait over all contacts: C AHT / (N - A); infinite when N <= A."""
    if traffic <= 0:
        return 0.0
    if servers <= traffic:
        return math.inf
    return erlang_c(servers, traffic) * handle_seconds / (servers - traffic)


@dataclass(frozen=True)
class Staffing:
    arrivals_per_hour: float
    handle_seconds: float
    traffic_erlangs: float
    target_seconds: float
    goal: float
    agents: int  # conversations handled at the same time (servers)
    service_level: float
    wait_probability: float
    average_speed_of_answer_seconds: float
    occupancy: float
    curve: list[dict]  # service level for agents around the answer (for a chart)

    def as_dict(self) -> dict:
        result = dict(self.__dict__)
        if math.isinf(result["average_speed_of_answer_seconds"]):
            result["average_speed_of_answer_seconds"] = None
        return result


class TooManyAgents(HandoffError, ValueError):
    """Inputs (e.g. ?arrivals_per_hour=100000&handle_seconds=7200) that need more agents than
    the search goes to: the caller's mistake, 422, not a server error (was a 500)."""

    status_code = 422


def agents_needed(arrivals_per_hour: float, handle_seconds: float, *,
                  target_seconds: float = DEFAULT_TARGET_SECONDS, goal: float = DEFAULT_GOAL) -> Staffing:
    """The fewest agents whose Erlang C service level reaches `goal` (0 < goal < 1)."""
    if not 0 < goal < 1:
        raise ValueError("the service level goal must be between 0 and 1 (exclusive)")
    if arrivals_per_hour < 0 or handle_seconds < 0:
        raise ValueError("arrival rate and handle time must not be negative")
    traffic = arrivals_per_hour * handle_seconds / 3600
    if traffic == 0:
        return Staffing(arrivals_per_hour, handle_seconds, 0.0, target_seconds, goal, 0, 1.0, 0.0,
                        0.0, 0.0, [])
    servers = math.floor(traffic) + 1
    while service_level(servers, traffic, handle_seconds, target_seconds) < goal:
        servers += 1
        if servers > MAX_AGENTS:
            raise TooManyAgents("more than 10000 agents needed; check the inputs")
    curve = []
    for n in range(max(1, servers - 3), servers + 4):
        curve.append({"agents": n,
                      "service_level": service_level(n, traffic, handle_seconds, target_seconds),
                      "occupancy": min(1.0, traffic / n)})
    return Staffing(
        arrivals_per_hour=arrivals_per_hour, handle_seconds=handle_seconds,
        traffic_erlangs=traffic, target_seconds=target_seconds, goal=goal, agents=servers,
        service_level=service_level(servers, traffic, handle_seconds, target_seconds),
        wait_probability=erlang_c(servers, traffic),
        average_speed_of_answer_seconds=average_speed_of_answer(servers, traffic, handle_seconds),
        occupancy=traffic / servers, curve=curve)


# ------------------------------------------------------------------------------- observed figures
@dataclass(frozen=True)
class Contact:
    language: str
    queued_at: datetime
    answered: bool
    wait_seconds: float | None
    handle_seconds: float | None


def contacts_from(rows: Sequence[tuple]) -> list[Contact]:
    """(status, language, queued_at, claimed_at, closed_at) rows -> contacts that left the queue."""
    contacts = []
    for status, language, queued_at, claimed_at, closed_at in rows:
        status = HandoffStatus(status)
        if claimed_at is not None:
            handle = (closed_at - claimed_at).total_seconds() if closed_at else None
            contacts.append(Contact(language, queued_at, True,
                                    max(0.0, (claimed_at - queued_at).total_seconds()), handle))
        elif status is HandoffStatus.abandoned:
            wait = max(0.0, (closed_at - queued_at).total_seconds()) if closed_at else None
            contacts.append(Contact(language, queued_at, False, wait, None))
    return contacts


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (share in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def histogram(contacts: Sequence[Contact], bins: Sequence[int] = WAIT_BINS) -> list[dict]:
    """Counts of answered and abandoned contacts per wait bin [edge, next edge)."""
    result = [{"from_seconds": low, "to_seconds": bins[i + 1] if i + 1 < len(bins) else None,
               "answered": 0, "abandoned": 0} for i, low in enumerate(bins)]
    for contact in contacts:
        if contact.wait_seconds is None:
            continue
        index = max(i for i, low in enumerate(bins) if contact.wait_seconds >= low)
        result[index]["answered" if contact.answered else "abandoned"] += 1
    return result


def summarise(contacts: Sequence[Contact], *, target_seconds: float) -> dict:
    answered = [c for c in contacts if c.answered]
    abandoned = [c for c in contacts if not c.answered]
    total = len(contacts)
    waits = [c.wait_seconds for c in answered if c.wait_seconds is not None]
    handles = [c.handle_seconds for c in answered if c.handle_seconds is not None]
    within = sum(1 for w in waits if w <= target_seconds)
    return {
        "contacts": total, "answered": len(answered), "abandoned": len(abandoned),
        "answered_within_target": within,
        "service_level": within / total if total else None,
        "abandon_rate": len(abandoned) / total if total else None,
        "average_wait_seconds": sum(waits) / len(waits) if waits else None,
        "median_wait_seconds": percentile(waits, 0.5),
        "p90_wait_seconds": percentile(waits, 0.9),
        "average_handle_seconds": sum(handles) / len(handles) if handles else None,
        "median_handle_seconds": percentile(handles, 0.5),
        "p90_handle_seconds": percentile(handles, 0.9),
        "histogram": histogram(contacts),
    }


def arrival_profile(contacts: Sequence[Contact], days: int) -> list[dict]:
    """Average contacts per hour of the day (UTC) over the period's days."""
    counts = [0] * 24
    for contact in contacts:
        counts[contact.queued_at.astimezone(timezone.utc).hour] += 1
    return [{"hour": hour, "arrivals_per_hour": counts[hour] / days} for hour in range(24)]


def staffing_for(contacts: Sequence[Contact], summary: dict, days: int, *, target_seconds: float,
                 goal: float, handle_seconds: float | None = None,
                 arrivals_per_hour: float | None = None) -> dict:
    """Erlang C at the busiest hour of the day and at an average open hour (or given inputs)."""
    profile = arrival_profile(contacts, days)
    open_hours = [p for p in profile if p["arrivals_per_hour"] > 0]
    handle = handle_seconds or summary["average_handle_seconds"] or 0.0
    peak = max(open_hours, key=lambda p: p["arrivals_per_hour"], default=None)
    average = sum(p["arrivals_per_hour"] for p in open_hours) / len(open_hours) if open_hours else 0.0
    result = {
        "handle_seconds": handle, "open_hours": len(open_hours),
        "peak_hour": peak["hour"] if peak else None,
        "peak": agents_needed(peak["arrivals_per_hour"] if peak else 0.0, handle,
                              target_seconds=target_seconds, goal=goal).as_dict(),
        "average": agents_needed(average, handle, target_seconds=target_seconds, goal=goal).as_dict(),
        "by_hour": [dict(p, agents=agents_needed(p["arrivals_per_hour"], handle,
                                                   target_seconds=target_seconds, goal=goal).agents)
                    for p in profile],
    }
    if arrivals_per_hour is not None:
        result["chosen"] = agents_needed(arrivals_per_hour, handle, target_seconds=target_seconds,
                                         goal=goal).as_dict()
    return result


def queue_health(session: Session, *, since: datetime, until: datetime,
                 target_seconds: float = DEFAULT_TARGET_SECONDS, goal: float = DEFAULT_GOAL,
                 handle_seconds: float | None = None,
                 arrivals_per_hour: float | None = None) -> dict:
    """Figures overall and per language for contacts queued in [since, until)."""
    rows = session.execute(
        select(Handoff.status, Handoff.language, Handoff.queued_at, Handoff.claimed_at,
               Handoff.closed_at)
        .where(Handoff.queued_at >= since, Handoff.queued_at < until)).all()
    waiting_now = sum(1 for row in rows if HandoffStatus(row[0]) is HandoffStatus.queued)
    contacts = contacts_from(rows)
    days = max(1, math.ceil((until - since).total_seconds() / 86400))
    by_language: dict[str, list[Contact]] = defaultdict(list)
    for contact in contacts:
        by_language[contact.language].append(contact)

    def block(items: Sequence[Contact]) -> dict:
        summary = summarise(items, target_seconds=target_seconds)
        summary["staffing"] = staffing_for(items, summary, days, target_seconds=target_seconds,
                                           goal=goal, handle_seconds=handle_seconds,
                                           arrivals_per_hour=arrivals_per_hour)
        return summary

    languages = []
    for language in sorted(by_language, key=lambda lang: (-len(by_language[lang]), lang)):
        languages.append({"language": language, **block(by_language[language])})
    return {
        "since": since.isoformat(), "until": until.isoformat(), "days": days,
        "target_seconds": target_seconds, "goal": goal, "waiting_now": waiting_now,
        "overall": block(contacts), "languages": languages,
        "bins": list(WAIT_BINS),
    }


# ------------------------------------------------------------------------------- demo history
LANGUAGE_PROFILES = {
    # contacts per hour at the busiest hour on a weekday; mean handle seconds
    "nl": {"peak": 24.0, "handle": 390.0},
    "en": {"peak": 16.0, "handle": 330.0},
}
# Relative demand per hour of day (08:00-21:59 open), a morning and an evening peak.
HOUR_SHAPE = {8: 0.35, 9: 0.7, 10: 1.0, 11: 0.95, 12: 0.75, 13: 0.7, 14: 0.65, 15: 0.6,
              16: 0.6, 17: 0.55, 18: 0.6, 19: 0.85, 20: 0.8, 21: 0.45}
PATIENCE_SECONDS = 240.0  # mean time a customer waits before giving up
REASONS = {"customer_asked": 40, "cancel_threat": 20, "complaint": 20,
           "concession_above_bot_limit": 12, "verification_failed": 8}


def history_present(session: Session) -> bool:
    return session.scalar(select(Conversation.id).where(
        Conversation.id.like(f"{HISTORY_PREFIX}%")).limit(1)) is not None


def simulate_day(rng: random.Random, day: date, language: str) -> list[dict]:
    """One day of one language's queue: Poisson arrivals, lognormal handle times, impatient
    customers, and a roster planned one agent short at the peaks (as rosters often are)."""
    profile = LANGUAGE_PROFILES[language]
    weekend = day.weekday() >= 5
    contacts = []
    free_at: list[float] = []  # when each agent is free, seconds since midnight
    for hour, shape in HOUR_SHAPE.items():
        rate = profile["peak"] * shape * (0.6 if weekend else 1.0)
        traffic = rate * profile["handle"] / 3600
        agents = max(1, math.ceil(traffic) + (0 if shape >= 0.8 or weekend else 1))
        while len(free_at) < agents:
            free_at.append(hour * 3600.0)
        on_shift = list(range(agents))
        t = hour * 3600.0
        while True:
            t += rng.expovariate(rate / 3600)
            if t >= (hour + 1) * 3600:
                break
            agent = min(on_shift, key=lambda i: free_at[i])
            start = max(t, free_at[agent])
            patience = rng.expovariate(1 / PATIENCE_SECONDS)
            if start - t > patience:
                contacts.append({"queued": t, "claimed": None, "closed": t + patience, "agent": None})
                continue
            handle = rng.lognormvariate(math.log(profile["handle"]) - 0.5 ** 2 / 2, 0.5)
            free_at[agent] = start + handle
            contacts.append({"queued": t, "claimed": start, "closed": start + handle, "agent": agent})
    return contacts


def seed_queue_history(session: Session, *, today: date, days: int = 42, seed: int = 2024,
                       progress: Callable[[str, int, int], None] | None = None) -> int | None:
    """Simulated handoffs for the `days` before today; None when the history is already there."""
    if history_present(session):
        return None
    rng = random.Random(seed)
    conversations, handoffs = [], []
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        midnight = datetime.combine(day, time(0), tzinfo=timezone.utc)
        for language in sorted(LANGUAGE_PROFILES):
            for number, contact in enumerate(simulate_day(rng, day, language)):
                conversation_id = f"{HISTORY_PREFIX}{day:%Y%m%d}-{language}-{number:04d}"
                queued_at = midnight + timedelta(seconds=contact["queued"])
                closed_at = midnight + timedelta(seconds=contact["closed"])
                claimed_at = midnight + timedelta(seconds=contact["claimed"]) \
                    if contact["claimed"] is not None else None
                reason = rng.choices(list(REASONS), weights=list(REASONS.values()))[0]
                if claimed_at is None:
                    status = HandoffStatus.abandoned
                else:
                    status = HandoffStatus.released if rng.random() < 0.15 else HandoffStatus.resolved
                agent = None if claimed_at is None else (
                    "agent2" if language == "nl" and contact["agent"] % 2 else "agent1")
                conversations.append(dict(
                    id=conversation_id, channel="sms" if rng.random() < 0.3 else "web",
                    language=language, owner=Owner.bot if status is HandoffStatus.released else Owner.closed,
                    agent=None, last_seq=0, created_at=queued_at, updated_at=closed_at))
                handoffs.append(dict(
                    conversation_id=conversation_id, status=status, reason=reason,
                    language=language, priority=0, rank_at=queued_at,
                    packet={"version": 1, "synthetic": True, "reason": reason, "language": language,
                            "flags": [reason]},
                    queued_at=queued_at, claimed_at=claimed_at, closed_at=closed_at, agent=agent,
                    resolution="synthetic history" if claimed_at else "left the queue",
                    created_at=queued_at, updated_at=closed_at))
        if progress:
            progress("queue days", days - offset + 1, days)
    for start in range(0, len(conversations), 2000):
        session.execute(insert(Conversation), conversations[start:start + 2000])
        session.execute(insert(Handoff), handoffs[start:start + 2000])
    return len(handoffs)


def seed_queue_history_at(url: str, *, today: date, days: int = 42, seed: int = 2024,
                          progress: Callable[[str, int, int], None] | None = None) -> tuple[int | None, float]:
    """Migrate the handoff store at `url` and seed its history; (handoffs or None, seconds)."""
    from billing_core.db import make_engine, make_session_factory, session_scope
    from handoff.migrate import upgrade

    started = clock.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            count = seed_queue_history(session, today=today, days=days, seed=seed, progress=progress)
    finally:
        engine.dispose()
    return count, clock.perf_counter() - started
