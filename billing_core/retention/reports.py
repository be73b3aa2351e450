"""Retention insight: which concessions keep customers, compared with customers offered nothing.

Every retention outcome (`RetentionOutcome`) is one conversation with an unhappy customer:
what was offered (or nothing: the comparison group), by whom, on which channel, the answer,
and later whether the customer was still active 30 and 90 days on and paid on time.

The figures (see docs/retention.md for the reasoning and the limits):

- retention rate of a group = customers still active at the horizon / offers in the group,
  with a 95% Wilson score interval;
- comparison rate = the same for customers with the same complaint type (reason code) who
  were offered nothing, re-weighted to the group's mix of reasons (direct standardisation);
- difference = retention rate - comparison rate, with a 95% interval from the MOVER method
  (Newcombe's hybrid score interval when there is a single reason);
- cost per extra retained customer = value of the accepted concessions / (difference x
  offers), i.e. what the concessions cost for each customer kept who would otherwise have left.

Only offers whose outcome at the horizon is known count; the rest are reported as pending.
This is observational data: the differences are associations, not proven effects.

`update_payment_followups` fills `paid_on_time`; `run_followups` runs every follow-up
(`python -m billing_core.retention.reports followups` from cron).
"""
import argparse
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.calendar import add_months
from billing_core.concessions.models import Adjustment, AdjustmentStatus, ConcessionKind, ConcessionPolicy
from billing_core.customers.models import Account
from billing_core.invoices.models import Invoice, Payment
from billing_core.retention.models import OfferResponse, RetentionOutcome
from billing_core.retention.service import update_followups

Z95 = 1.959963984540054  # two-sided 95%
HORIZONS = (30, 90)
PAYMENT_WINDOW_DAYS = 90
CREDIT_KINDS = (ConcessionKind.goodwill_credit, ConcessionKind.late_fee_waiver)
NO_CONCESSION = "none"

# Amount bands in minor units, inclusive upper bounds (None: no upper bound).
AMOUNT_BANDS: tuple[tuple[str, str, int | None], ...] = (
    ("up_to_10", "up to €10", 1000),
    ("10_to_25", "€10–25", 2500),
    ("25_to_50", "€25–50", 5000),
    ("50_to_100", "€50–100", 10000),
    ("over_100", "over €100", None),
)
KIND_LABELS = {
    "retention_discount": "Retention discount", "goodwill_credit": "Goodwill credit",
    "late_fee_waiver": "Late-fee waiver", NO_CONCESSION: "No concession",
}
REASON_LABELS = {
    "cancel_threat": "Cancellation threat", "complaint": "Bill complaint",
    "discount_request": "Wants a discount", "price": "Price too high",
    "bill_shock": "Bill shock", "service_issue": "Service problem",
    "retention_offer": "Retention offer", "late_fee": "Late fee",
    "agent_goodwill": "Goodwill", "moving": "Moving house",
}
OFFERER_LABELS = {"bot": "Bot", "agent": "Agent"}  # supervisors count as agents
RESPONSE_LABELS = {"accepted": "Accepted", "declined": "Declined", "offered": "No answer"}
CHANNEL_LABELS = {"web": "Web chat", "sms": "SMS", "unknown": "Unknown"}
DIMENSIONS = ("kind", "band", "reason", "channel", "offerer", "response")


# ------------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Estimate:
    """A proportion or difference with a 95% interval; all None when there is no data."""

    value: float | None
    low: float | None
    high: float | None


NO_ESTIMATE = Estimate(None, None, None)


def wilson_interval(successes: int, n: int, z: float = Z95) -> Estimate:
    """Wilson score interval for successes/n (stays inside [0, 1], sound for small n and 0 or n)."""
    if n <= 0:
        return NO_ESTIMATE
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half))


def mover_interval(terms: Sequence[tuple[float, Estimate]]) -> Estimate:
    """Interval for sum(c_i * p_i) from each p_i's own interval (MOVER, Zou & Donner 2008).

    With terms [(1, p1), (-1, p2)] and Wilson intervals this is Newcombe's hybrid score
    interval for a difference of two proportions (his method 10).
    """
    if not terms or any(e.value is None for _, e in terms):
        return NO_ESTIMATE
    value = sum(c * e.value for c, e in terms)
    below = sum((c * (e.value - (e.low if c > 0 else e.high))) ** 2 for c, e in terms)
    above = sum((c * ((e.high if c > 0 else e.low) - e.value)) ** 2 for c, e in terms)
    return Estimate(value, value - math.sqrt(below), value + math.sqrt(above))


def amount_band(amount_minor: int) -> str:
    """The band key of a concession amount (0 or nothing offered: 'none')."""
    if amount_minor <= 0:
        return NO_CONCESSION
    for key, _label, upper in AMOUNT_BANDS:
        if upper is None or amount_minor <= upper:
            return key
    raise AssertionError("unreachable")


def band_label(key: str) -> str:
    return next((label for k, label, _ in AMOUNT_BANDS if k == key), "No concession")


# ------------------------------------------------------------------------------- the data
@dataclass(frozen=True)
class OfferRow:
    """One retention outcome, reduced to what the figures need."""

    offered_on: date
    kind: str  # NO_CONCESSION for the comparison group
    amount_minor: int
    reason: str
    channel: str
    offerer: str  # bot | agent
    response: str
    retained: bool | None  # still active at the horizon; None: not known yet

    @property
    def treated(self) -> bool:
        return self.kind != NO_CONCESSION

    @property
    def cost_minor(self) -> int:
        """What the concession cost: its value when accepted, nothing otherwise."""
        return self.amount_minor if self.treated and self.response == OfferResponse.accepted.value else 0

    def key(self, dimension: str) -> str:
        if dimension == "band":
            return amount_band(self.amount_minor) if self.treated else NO_CONCESSION
        if dimension == "month":
            return f"{self.offered_on:%Y-%m}"
        return getattr(self, dimension)


def offerer_of(role: str) -> str:
    return "bot" if role == "bot" else "agent"


def load_rows(session: Session, *, horizon_days: int = 90, since: date | None = None,
              until: date | None = None) -> list[OfferRow]:
    """The outcomes offered in [since, until], without superseded comparison rows."""
    return _load(session, horizon_days=horizon_days, since=since, until=until)[0]


def _load(session: Session, *, horizon_days: int, since: date | None,
          until: date | None) -> tuple[list[OfferRow], int]:
    """(rows, how many "nothing offered" rows were left out because the same conversation
    got a concession later, e.g. from an agent after the bot had nothing it could offer)."""
    if horizon_days not in HORIZONS:
        raise ValueError(f"horizon must be one of {HORIZONS}")
    active = RetentionOutcome.active_after_30d if horizon_days == 30 else RetentionOutcome.active_after_90d
    query = select(RetentionOutcome.offered_at, RetentionOutcome.concession_kind,
                   RetentionOutcome.amount_minor, RetentionOutcome.reason_code,
                   RetentionOutcome.channel, RetentionOutcome.offered_by_role,
                   RetentionOutcome.response, active, RetentionOutcome.conversation_id)
    if since is not None:
        query = query.where(RetentionOutcome.offered_at >= _midnight(since))
    if until is not None:
        query = query.where(RetentionOutcome.offered_at < _midnight(until + timedelta(days=1)))
    with_concession = _conversations_with_concession(session)
    rows, superseded = [], 0
    for offered_at, kind, amount, reason, channel, role, response, retained, conversation in \
            session.execute(query):
        if kind is None and conversation is not None and conversation in with_concession:
            superseded += 1
            continue
        rows.append(OfferRow(
            offered_on=offered_at.date(), kind=kind or NO_CONCESSION,
            amount_minor=amount if kind else 0, reason=reason, channel=channel or "unknown",
            offerer=offerer_of(role),
            response=response.value if isinstance(response, OfferResponse) else str(response),
            retained=retained))
    return rows, superseded


def _conversations_with_concession(session: Session) -> set[str]:
    return set(session.scalars(select(RetentionOutcome.conversation_id).where(
        RetentionOutcome.concession_kind.is_not(None),
        RetentionOutcome.conversation_id.is_not(None)).distinct()))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


# ------------------------------------------------------------------------------- figures
@dataclass(frozen=True)
class GroupFigures:
    """The figures of one row of a report table (one value of one dimension)."""

    key: str
    label: str
    offers: int  # offers with a known outcome
    accepted: int
    retained: int
    retention: Estimate
    matched_offers: int  # offers with comparison customers of the same reason
    comparison_customers: int
    comparison: Estimate  # standardised to this group's reasons
    difference: Estimate
    cost_minor: int  # accepted concessions of the matched offers
    extra_retained: float | None
    cost_per_retained_minor: int | None
    cost_per_retained_low_minor: int | None
    cost_per_retained_high_minor: int | None  # None with a value: no upper bound

    def as_dict(self) -> dict:
        result = asdict(self)
        for name in ("retention", "comparison", "difference"):
            estimate = result.pop(name)
            result[name] = estimate["value"]
            result[f"{name}_low"] = estimate["low"]
            result[f"{name}_high"] = estimate["high"]
        result["acceptance"] = self.accepted / self.offers if self.offers else None
        return result


def comparison_by_reason(rows: Iterable[OfferRow]) -> dict[str, tuple[int, int]]:
    """reason -> (customers offered nothing, of whom retained), outcomes known."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        if not row.treated and row.retained is not None:
            counts[row.reason][0] += 1
            counts[row.reason][1] += row.retained
    return {reason: (n, kept) for reason, (n, kept) in counts.items()}


def group_figures(key: str, label: str, treated: Sequence[OfferRow],
                  comparison: dict[str, tuple[int, int]]) -> GroupFigures:
    """Figures for offers `treated` (outcomes known) against the per-reason `comparison`."""
    offers = len(treated)
    retained = sum(1 for r in treated if r.retained)
    matched = [r for r in treated if comparison.get(r.reason, (0, 0))[0] > 0]
    n1 = len(matched)
    by_reason: dict[str, int] = defaultdict(int)
    for row in matched:
        by_reason[row.reason] += 1
    retained_matched = sum(1 for r in matched if r.retained)
    treated_estimate = wilson_interval(retained_matched, n1)
    baseline_terms = []
    for reason, count in sorted(by_reason.items()):
        n0, kept0 = comparison[reason]
        baseline_terms.append((count / n1, wilson_interval(kept0, n0)))
    baseline = mover_interval(baseline_terms) if n1 else NO_ESTIMATE
    difference = mover_interval([(1.0, treated_estimate)] + [(-w, e) for w, e in baseline_terms]) \
        if n1 else NO_ESTIMATE
    cost = sum(r.cost_minor for r in matched)
    extra = difference.value * n1 if difference.value is not None else None
    per, per_low, per_high = cost_per_retained(cost, n1, difference)
    return GroupFigures(
        key=key, label=label, offers=offers,
        accepted=sum(1 for r in treated if r.response == OfferResponse.accepted.value),
        retained=retained, retention=wilson_interval(retained, offers), matched_offers=n1,
        comparison_customers=sum(comparison[reason][0] for reason in by_reason),
        comparison=baseline, difference=difference, cost_minor=cost,
        extra_retained=extra, cost_per_retained_minor=per, cost_per_retained_low_minor=per_low,
        cost_per_retained_high_minor=per_high)


def cost_per_retained(cost_minor: int, offers: int, difference: Estimate
                      ) -> tuple[int | None, int | None, int | None]:
    """cost / (difference x offers), with the range the difference's interval implies.

    None when the concessions kept nobody extra (difference <= 0) or cost nothing (declined
    offers only). The upper end is None (unbounded) when the interval of the difference
    reaches zero.
    """
    if difference.value is None or difference.value <= 0 or offers == 0 or cost_minor <= 0:
        return None, None, None

    def per(diff: float) -> int:
        return round(cost_minor / (diff * offers))

    low = per(difference.high) if difference.high and difference.high > 0 else None
    high = per(difference.low) if difference.low is not None and difference.low > 0 else None
    return per(difference.value), low, high


def _label(dimension: str, key: str) -> str:
    if dimension == "kind":
        return KIND_LABELS.get(key, key.replace("_", " ").capitalize())
    if dimension == "band":
        return band_label(key)
    if dimension == "reason":
        return REASON_LABELS.get(key, key.replace("_", " ").capitalize())
    if dimension == "channel":
        return CHANNEL_LABELS.get(key, key)
    if dimension == "offerer":
        return OFFERER_LABELS.get(key, key)
    if dimension == "response":
        return RESPONSE_LABELS.get(key, key)
    return key


def breakdown(rows: Sequence[OfferRow], dimension: str,
              comparison: dict[str, tuple[int, int]] | None = None) -> list[GroupFigures]:
    """One table: the offers (outcome known) grouped by `dimension`, largest group first."""
    comparison = comparison if comparison is not None else comparison_by_reason(rows)
    groups: dict[str, list[OfferRow]] = defaultdict(list)
    for row in rows:
        if row.treated and row.retained is not None:
            groups[row.key(dimension)].append(row)
    if dimension == "band":
        order = [key for key, _, _ in AMOUNT_BANDS]
        keys = [key for key in order if key in groups]
    else:
        keys = sorted(groups, key=lambda k: (-len(groups[k]), k))
    return [group_figures(key, _label(dimension, key), groups[key], comparison) for key in keys]


def monthly(rows: Sequence[OfferRow]) -> list[dict]:
    """Per month of the offer: offers against the same month's comparison customers."""
    by_month: dict[str, list[OfferRow]] = defaultdict(list)
    for row in rows:
        by_month[row.key("month")].append(row)
    result = []
    for month in sorted(by_month):
        in_month = by_month[month]
        comparison = comparison_by_reason(in_month)
        treated = [r for r in in_month if r.treated and r.retained is not None]
        figures = group_figures(month, month, treated, comparison).as_dict()
        figures["pending"] = sum(1 for r in in_month if r.retained is None)
        figures["comparison_all"] = sum(n for n, _ in comparison.values())
        figures["comparison_retention"] = _rate(comparison)
        result.append(figures)
    return result


def _rate(comparison: dict[str, tuple[int, int]]) -> float | None:
    n = sum(c for c, _ in comparison.values())
    return sum(k for _, k in comparison.values()) / n if n else None


def retention_report(session: Session, *, horizon_days: int = 90, months: int = 18,
                     today: date | None = None) -> dict:
    """Everything the reports page shows about concessions, JSON-ready."""
    today = today or date.today()
    since = add_months(today.replace(day=1), -(months - 1))
    rows, superseded = _load(session, horizon_days=horizon_days, since=since, until=today)
    comparison = comparison_by_reason(rows)
    known = [r for r in rows if r.retained is not None]
    treated = [r for r in known if r.treated]
    overall = group_figures("all", "All offers", treated, comparison).as_dict()
    tables = {dimension: [g.as_dict() for g in breakdown(rows, dimension, comparison)]
              for dimension in DIMENSIONS}
    tables["comparison"] = [
        {"key": reason, "label": _label("reason", reason), "customers": n, "retained": kept,
         **_estimate_dict("retention", wilson_interval(kept, n))}
        for reason, (n, kept) in sorted(comparison.items(), key=lambda item: (-item[1][0], item[0]))]
    tables["monthly"] = monthly(rows)
    return {
        "horizon_days": horizon_days, "since": since.isoformat(), "until": today.isoformat(),
        "currency": "EUR",
        "totals": {
            "conversations": len(rows), "offers": sum(1 for r in rows if r.treated),
            "comparison_customers": sum(1 for r in rows if not r.treated),
            "superseded_comparison": superseded,
            "outcome_known": len(known), "pending": len(rows) - len(known),
            "offers_with_outcome": len(treated),
            "paid_on_time": _paid_on_time_share(session, since, today),
        },
        "overall": overall,
        "tables": tables,
    }


def _estimate_dict(name: str, estimate: Estimate) -> dict:
    return {name: estimate.value, f"{name}_low": estimate.low, f"{name}_high": estimate.high}


def _paid_on_time_share(session: Session, since: date, until: date) -> dict:
    """Of customers whose payment follow-up is done: share who paid on time, offered vs not."""
    query = select(RetentionOutcome.concession_kind, RetentionOutcome.paid_on_time,
                   RetentionOutcome.conversation_id).where(
        RetentionOutcome.paid_on_time.is_not(None),
        RetentionOutcome.offered_at >= _midnight(since),
        RetentionOutcome.offered_at < _midnight(until + timedelta(days=1)))
    with_concession = _conversations_with_concession(session)
    counts = {"offered": [0, 0], "not_offered": [0, 0]}
    for kind, on_time, conversation in session.execute(query):
        if kind is None and conversation is not None and conversation in with_concession:
            continue  # superseded, as in the retention figures
        bucket = counts["offered" if kind else "not_offered"]
        bucket[0] += 1
        bucket[1] += bool(on_time)
    return {group: {"customers": n, "paid_on_time": k, **_estimate_dict("share", wilson_interval(k, n))}
            for group, (n, k) in counts.items()}


# ------------------------------------------------------------------------------- follow-ups
def update_payment_followups(session: Session, *, today: date | None = None) -> int:
    """Fill `paid_on_time` once the payment window (90 days after the offer) has passed.

    Paid on time: every invoice due within the window was covered, oldest invoice first,
    by payments and credit-type concessions made on or before its due date (the same
    allocation as the balance). No invoice due in the window: left unknown (None).
    Returns how many outcomes were filled in.
    """
    today = today or date.today()
    cutoff = _midnight(today - timedelta(days=PAYMENT_WINDOW_DAYS)) + timedelta(days=1)
    pending = list(session.scalars(select(RetentionOutcome).where(
        RetentionOutcome.paid_on_time.is_(None), RetentionOutcome.offered_at < cutoff)))
    updated = 0
    for chunk_start in range(0, len(pending), 500):
        chunk = pending[chunk_start:chunk_start + 500]
        account_ids = sorted({o.account_id for o in chunk})
        invoices = _by_account(session.execute(
            select(Invoice.account_id, Invoice.period_start, Invoice.due_date, Invoice.total_minor)
            .where(Invoice.account_id.in_(account_ids))
            .order_by(Invoice.account_id, Invoice.period_start, Invoice.id)))
        money_in = _by_account(session.execute(
            select(Payment.account_id, Payment.paid_at, Payment.amount_minor)
            .where(Payment.account_id.in_(account_ids))))
        for account_id, created, amount in session.execute(
                select(Adjustment.account_id, Adjustment.created_at, Adjustment.amount_minor)
                .join(ConcessionPolicy)
                .where(Adjustment.account_id.in_(account_ids),
                       Adjustment.status == AdjustmentStatus.granted,
                       ConcessionPolicy.kind.in_(CREDIT_KINDS))):
            money_in[account_id].append((account_id, created, amount))
        for outcome in chunk:
            verdict = paid_on_time(
                offered_on=outcome.offered_at.date(),
                invoices=[(due, total) for _, _, due, total in invoices[outcome.account_id]],
                money_in=[(at.date(), amount) for _, at, amount in money_in[outcome.account_id]])
            if verdict is not None:
                outcome.paid_on_time = verdict
                updated += 1
    return updated


def _by_account(rows) -> dict[int, list[tuple]]:
    grouped: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(tuple(row))
    return grouped


def paid_on_time(*, offered_on: date, invoices: Sequence[tuple[date, int]],
                 money_in: Sequence[tuple[date, int]],
                 window_days: int = PAYMENT_WINDOW_DAYS) -> bool | None:
    """`invoices` (due date, total) oldest first; `money_in` (date, amount) payments and credits."""
    window_end = offered_on + timedelta(days=window_days)
    owed = 0
    seen_any = False
    for due, total in invoices:
        owed += total
        if not offered_on < due <= window_end:
            continue
        seen_any = True
        paid = sum(amount for day, amount in money_in if day <= due)
        if paid < owed:
            return False
    return True if seen_any else None


def run_followups(session: Session, *, today: date | None = None) -> dict[str, int]:
    """Every follow-up: still active after 30/90 days (and cancelled on), then paid on time."""
    today = today or date.today()
    account_ids = set(session.scalars(select(RetentionOutcome.account_id).where(
        RetentionOutcome.active_after_90d.is_(None))))
    ids = sorted(account_ids)
    loaded = []  # held here: the identity map keeps objects only while they are referenced
    for start in range(0, len(ids), 500):  # load them once; update_followups then reads memory
        loaded.extend(session.scalars(select(Account).where(Account.id.in_(ids[start:start + 500]))))
    with session.no_autoflush:
        active = update_followups(session, today=today)
    del loaded
    session.flush()
    paid = update_payment_followups(session, today=today)
    session.flush()
    return {"activity": active, "payment": paid}


# ------------------------------------------------------------------------------- CSV
def csv_columns(table: str) -> list[tuple[str, str]]:
    """(field, header) of each exported table; money in EUR, shares as fractions."""
    if table == "comparison":
        return [("key", "reason_code"), ("label", "reason"), ("customers", "customers"),
                ("retained", "retained"), ("retention", "retention_rate"),
                ("retention_low", "retention_ci_low"), ("retention_high", "retention_ci_high")]
    first = [("key", "month" if table == "monthly" else table), ("label", "label")]
    if table == "monthly":
        first = [("key", "month")]
    columns = first + [
        ("offers", "offers"), ("accepted", "accepted"), ("acceptance", "acceptance_rate"),
        ("retained", "retained"), ("retention", "retention_rate"),
        ("retention_low", "retention_ci_low"), ("retention_high", "retention_ci_high"),
        ("matched_offers", "matched_offers"), ("comparison_customers", "comparison_customers"),
        ("comparison", "comparison_retention_rate"), ("comparison_low", "comparison_ci_low"),
        ("comparison_high", "comparison_ci_high"), ("difference", "difference"),
        ("difference_low", "difference_ci_low"), ("difference_high", "difference_ci_high"),
        ("extra_retained", "extra_customers_retained"), ("cost_minor", "concession_cost_eur"),
        ("cost_per_retained_minor", "cost_per_extra_retained_eur"),
        ("cost_per_retained_low_minor", "cost_per_extra_retained_low_eur"),
        ("cost_per_retained_high_minor", "cost_per_extra_retained_high_eur"),
    ]
    if table == "monthly":
        columns.append(("pending", "outcome_pending"))
    return columns


def csv_value(field: str, value) -> str:
    if value is None:
        return ""
    if field.endswith("_minor"):
        return f"{value / 100:.2f}"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


# ------------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> None:
    from billing_core.cli import open_database
    from billing_core.db import session_scope

    parser = argparse.ArgumentParser(prog="python -m billing_core.retention.reports",
                                     description="Retention follow-ups and figures.")
    parser.add_argument("command", choices=["followups", "summary"])
    parser.add_argument("--database-url", help="defaults to BILLING_DATABASE_URL")
    parser.add_argument("--horizon", type=int, default=90, choices=HORIZONS)
    args = parser.parse_args(argv)
    factory = open_database(args.database_url)
    with session_scope(factory) as session:
        if args.command == "followups":
            counts = run_followups(session)
            print(f"followups: {counts['activity']} activity and {counts['payment']} payment "
                  "outcomes filled in")
            return
        report = retention_report(session, horizon_days=args.horizon)
    _print_summary(report, print)


def _print_summary(report: dict, out: Callable[[str], None]) -> None:
    def pct(value):
        return "  n/a" if value is None else f"{100 * value:5.1f}%"

    out(f"retention after {report['horizon_days']} days, offers {report['since']}..{report['until']}")
    for dimension in DIMENSIONS:
        out(f"by {dimension}:")
        for row in report["tables"][dimension]:
            per = row["cost_per_retained_minor"]
            out(f"  {row['label']:<24} n={row['offers']:>5}  kept {pct(row['retention'])} "
                f"vs {pct(row['comparison'])}  diff {pct(row['difference'])} "
                f"[{pct(row['difference_low'])}, {pct(row['difference_high'])}]  "
                f"cost/extra kept {'n/a' if per is None else f'EUR {per / 100:.2f}'}")


if __name__ == "__main__":
    main()
