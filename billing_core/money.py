"""Money helpers. Amounts are integers in minor units (cents) plus an ISO currency code.

Decimal appears only at the edges (parsing customer input, formatting for people).
"""
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
import re

from billing_core.errors import InvalidRequest

MINOR_PER_MAJOR = 100
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def div_round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero (commercial rounding)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def percent_of(amount_minor: int, percent: int) -> int:
    """`percent`% of an amount, rounded half up to the minor unit."""
    return div_round_half_up(amount_minor * percent, 100)


@dataclass(frozen=True)
class Money:
    amount_minor: int
    currency: str = "EUR"

    def format(self, lang: str = "en") -> str:
        return format_money(self.amount_minor, self.currency, lang)


def format_money(amount_minor: int, currency: str = "EUR", lang: str = "en") -> str:
    """€1,234.50 in English, € 1.234,50 in Dutch."""
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(amount_minor), MINOR_PER_MAJOR)
    symbol = _SYMBOLS.get(currency, currency + " ")
    if lang == "nl":
        whole = f"{major:,}".replace(",", ".")
        return f"{sign}{symbol} {whole},{minor:02d}"
    return f"{sign}{symbol}{major:,}.{minor:02d}"


_AMOUNT_RE = re.compile(r"-?\d{1,9}(?:[.,]\d{1,2})?")


def parse_amount(text: str) -> int:
    """Parse '€20', '20 euro', '15,50', '15.5' into minor units; raise InvalidRequest otherwise."""
    cleaned = text.replace("€", " ").replace("EUR", " ").replace("euro", " ").strip()
    match = _AMOUNT_RE.search(cleaned.replace(" ", ""))
    if not match:
        raise InvalidRequest(f"not an amount: {text!r}")
    try:
        value = Decimal(match.group(0).replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - regex guarantees a number
        raise InvalidRequest(f"not an amount: {text!r}") from exc
    return int((value * MINOR_PER_MAJOR).to_integral_value())
