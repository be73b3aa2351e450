"""Reports for supervisors and admins: retention insight and queue health (JSON and CSV).

`GET /api/reports/retention` and `GET /api/reports/queue` give everything the `/reports`
page draws; each of their tables is also a CSV download (`.../{table}.csv`). Agents get
403, requests without a valid token 401. How the figures are computed: docs/retention.md.
"""
import csv
import io
from datetime import date, datetime, timedelta, timezone
from fastapi import APIRouter, Query
from fastapi.responses import Response

from billing_core.db import session_scope
from billing_core.retention.reports import (
    DIMENSIONS, HORIZONS, csv_columns, csv_value, retention_report, run_followups,
)
from handoff.api.deps import ContainerDep, SupervisorDep
from handoff.errors import HandoffError, NotFound
from handoff.services.queue_health import DEFAULT_GOAL, DEFAULT_TARGET_SECONDS, queue_health

router = APIRouter(prefix="/api/reports", tags=["reports"])

RETENTION_TABLES = (*DIMENSIONS, "comparison", "monthly")
QUEUE_TABLES = ("languages", "histogram", "hours")

class InvalidParameter(HandoffError):
    status_code = 422


Horizon = Query(90, description="still a customer this many days after the offer: 30 or 90")
Months = Query(18, ge=1, le=60, description="offers of the last N calendar months")


def _retention(container, horizon: int, months: int) -> dict:
    if horizon not in HORIZONS:
        raise InvalidParameter(f"horizon must be one of {', '.join(map(str, HORIZONS))} days")
    with session_scope(container.billing_sessions) as billing:
        return retention_report(billing, horizon_days=horizon, months=months, today=date.today())


@router.get("/retention")
def retention(user: SupervisorDep, container: ContainerDep, horizon: int = Horizon,
              months: int = Months) -> dict:
    """Retention by concession type, amount band, reason, channel, offerer and month.

    `horizon`: still active 30 or 90 days after the offer. `months`: offers of the last
    `months` calendar months (this one included).
    """
    return _retention(container, horizon, months)


@router.get("/retention/{table}.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def retention_csv(table: str, user: SupervisorDep, container: ContainerDep,
                  horizon: int = Horizon, months: int = Months) -> Response:
    """One table of the retention report as CSV (money in EUR, rates as fractions)."""
    if table not in RETENTION_TABLES:
        raise NotFound(f"no retention table {table!r}; one of {', '.join(RETENTION_TABLES)}")
    report = _retention(container, horizon, months)
    columns = csv_columns(table)
    rows = [[csv_value(field, row.get(field)) for field, _ in columns] for row in report["tables"][table]]
    return csv_response(f"retention-{table}-{horizon}d.csv", [header for _, header in columns], rows)


@router.post("/retention/followups")
def followups(user: SupervisorDep, container: ContainerDep) -> dict:
    """Fill in what is due: still active after 30/90 days, cancelled on, paid on time."""
    with session_scope(container.billing_sessions) as billing:
        return run_followups(billing, today=date.today())


def _queue(container, days: int, target_seconds: float, goal: float,
           handle_seconds: float | None, arrivals_per_hour: float | None) -> dict:
    until = datetime.now(timezone.utc)
    with session_scope(container.sessions) as session:
        return queue_health(session, since=until - timedelta(days=days), until=until,
                            target_seconds=target_seconds, goal=goal,
                            handle_seconds=handle_seconds, arrivals_per_hour=arrivals_per_hour)


QueueDays = Query(28, ge=1, le=365, description="contacts queued in the last N days")
Target = Query(DEFAULT_TARGET_SECONDS, ge=1, le=3600, description="answered within this many seconds")
Goal = Query(DEFAULT_GOAL, gt=0, lt=1, description="service level goal for staffing, e.g. 0.8")
Handle = Query(None, gt=0, le=7200, description="handle time for staffing (default: observed)")
Arrivals = Query(None, ge=0, le=100_000, description="contacts per hour for a staffing estimate")


@router.get("/queue")
def queue(user: SupervisorDep, container: ContainerDep, days: int = QueueDays,
          target_seconds: float = Target, goal: float = Goal,
          handle_seconds: float | None = Handle, arrivals_per_hour: float | None = Arrivals) -> dict:
    """Queue health overall and per language: waits, service level, abandon rate, handle
    time, and agents needed (Erlang C) at the busiest and an average hour."""
    return _queue(container, days, target_seconds, goal, handle_seconds, arrivals_per_hour)


@router.get("/queue/{table}.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def queue_csv(table: str, user: SupervisorDep, container: ContainerDep, days: int = QueueDays,
              target_seconds: float = Target, goal: float = Goal,
              handle_seconds: float | None = Handle,
              arrivals_per_hour: float | None = Arrivals) -> Response:
    if table not in QUEUE_TABLES:
        raise NotFound(f"no queue table {table!r}; one of {', '.join(QUEUE_TABLES)}")
    report = _queue(container, days, target_seconds, goal, handle_seconds, arrivals_per_hour)
    scopes = [("all", report["overall"])] + [(b["language"], b) for b in report["languages"]]
    if table == "languages":
        header = ["language", "contacts", "answered", "abandoned", "answered_within_target",
                  "target_seconds", "service_level", "abandon_rate", "average_wait_seconds",
                  "median_wait_seconds", "p90_wait_seconds", "average_handle_seconds",
                  "median_handle_seconds", "p90_handle_seconds", "peak_hour_utc",
                  "peak_arrivals_per_hour", "agents_needed_peak", "average_arrivals_per_hour",
                  "agents_needed_average"]
        rows = []
        for scope, block in scopes:
            staffing = block["staffing"]
            rows.append([scope] + [_fmt(block[name]) for name in header[1:5]]
                        + [_fmt(report["target_seconds"])]
                        + [_fmt(block[name]) for name in header[6:14]]
                        + [_fmt(staffing["peak_hour"]),
                           _fmt(staffing["peak"]["arrivals_per_hour"]), staffing["peak"]["agents"],
                           _fmt(staffing["average"]["arrivals_per_hour"]),
                           staffing["average"]["agents"]])
    elif table == "histogram":
        header = ["language", "wait_from_seconds", "wait_to_seconds", "answered", "abandoned"]
        rows = [[scope, b["from_seconds"], _fmt(b["to_seconds"]), b["answered"], b["abandoned"]]
                for scope, block in scopes for b in block["histogram"]]
    else:
        header = ["language", "hour_utc", "arrivals_per_hour", "agents_needed"]
        rows = [[scope, h["hour"], _fmt(h["arrivals_per_hour"]), h["agents"]]
                for scope, block in scopes for h in block["staffing"]["by_hour"]]
    return csv_response(f"queue-{table}-{report['days']}d.csv", header, rows)


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def csv_response(filename: str, header: list[str], rows: list[list]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})
