"""Billing cycles are months that start on the account's billing day (1 to 28)."""
import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def cycle_start(day: date, billing_day: int = 1) -> date:
    """First day of the cycle that contains `day`."""
    if not 1 <= billing_day <= 28:
        raise ValueError("billing day must be 1 to 28")
    start = day.replace(day=billing_day)
    return start if day >= start else add_months(start, -1)


def cycle_bounds(day: date, billing_day: int = 1) -> tuple[date, date]:
    """The cycle containing `day`: [start, start of next cycle)."""
    start = cycle_start(day, billing_day)
    return start, add_months(start, 1)
