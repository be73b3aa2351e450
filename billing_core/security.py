"""Keyed hashes for verification factors, staff password hashing, signed payment-link tokens."""
import base64
import hashlib
import hmac
import json
import re
import secrets
from datetime import date

from billing_core.config import get_settings
from billing_core.errors import InvalidRequest, InvalidToken

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "januari": 1, "februari": 2, "maart": 3, "mei": 5, "juni": 6, "juli": 7, "augustus": 8,
    "oktober": 10,
}
for _name, _number in list(_MONTHS.items()):
    _MONTHS.setdefault(_name[:3], _number)


def normalize_postcode(text: str) -> str:
    """'1012 ab' -> '1012AB'."""
    return re.sub(r"\s+", "", text).upper()


# Words around a date of birth that say nothing about it ("I was born on the 12th of April").
_DATE_FILLER = {"i", "was", "born", "on", "the", "of", "my", "date", "birth", "dob", "is", "its",
                "it's", "ik", "ben", "geboren", "op", "mijn", "geboortedatum", "de", "het", "van"}
_ORDINAL = re.compile(r"(\d{1,2})(?:st|nd|rd|th|ste|de|e)")
# Two-digit years are read in this century only up to this many years ago ("05" is 2005 but
# "15" is 1915 in 2026): younger people are no account holders.
_YOUNGEST_CUSTOMER_YEARS = 16


def parse_date_of_birth(text: str, *, today: date | None = None) -> date:
    """Accept 1985-04-12, 12-04-1985, 12/04/1985, 12.04.1985, 12 april 1985, April 12, 1985,
    the 12th of April 1985, two-digit years (12-04-85, 12 april '85) and without separators
    12041985 or 19850412, with words such as "born on" around them.

    Numeric dates with the day first are read day-first (European), as customers here write.
    A year before 1900 or in the future is no date of birth (an error, not a mismatch).
    """
    today = today or date.today()
    cleaned = re.sub(r"[,']", " ", text.strip().lower())
    cleaned = " ".join(w for w in cleaned.replace(":", " ").split() if w not in _DATE_FILLER)
    if re.fullmatch(r"\d{8}", cleaned):
        return _undivided_date(cleaned)
    try:
        if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", cleaned):
            found = date(int(m[1]), int(m[2]), int(m[3]))
        elif m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})", cleaned):
            found = date(_year(m[3], today), int(m[2]), int(m[1]))
        else:
            words = [_ORDINAL.fullmatch(w)[1] if _ORDINAL.fullmatch(w) else w
                     for w in cleaned.split()]
            if len(words) != 3 or not re.fullmatch(r"\d{4}|\d{2}", words[2]):
                raise InvalidRequest(f"not a date of birth: {text!r}")
            if words[0].isdigit() and words[1] in _MONTHS:
                found = date(_year(words[2], today), _MONTHS[words[1]], int(words[0]))
            elif words[0] in _MONTHS and words[1].isdigit():
                found = date(_year(words[2], today), _MONTHS[words[0]], int(words[1]))
            else:
                raise InvalidRequest(f"not a date of birth: {text!r}")
    except ValueError as exc:
        raise InvalidRequest(f"not a valid date: {text!r}") from exc
    if not 1900 <= found.year <= today.year or found > today:
        raise InvalidRequest(f"not a date of birth: {text!r}")
    return found


def _year(digits: str, today: date) -> int:
    """'1985' -> 1985; '85' -> 1985 and '01' -> 2001: this century only for someone old
    enough to be a customer."""
    if len(digits) == 4:
        return int(digits)
    this_century = today.year // 100 * 100 + int(digits)
    return this_century if this_century <= today.year - _YOUNGEST_CUSTOMER_YEARS \
        else this_century - 100


def _undivided_date(digits: str) -> date:
    """'12041985' day first; '19850412' when the day-first reading is no date of birth."""
    for year, month, day in ((digits[4:], digits[2:4], digits[:2]),
                             (digits[:4], digits[4:6], digits[6:])):
        try:
            found = date(int(year), int(month), int(day))
        except ValueError:
            continue
        if 1900 <= found.year <= date.today().year:
            return found
    raise InvalidRequest(f"not a date of birth: {digits!r}")


def hash_factor(kind: str, value: str) -> str:
    """HMAC-SHA256 of a normalised factor; the key never leaves the settings."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def factor_matches(kind: str, value: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_factor(kind, value), stored_hash)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=2**14, r=8, p=1)
    return hmac.compare_digest(digest.hex(), digest_hex)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_token(claims: dict) -> str:
    payload = _b64(json.dumps(claims, sort_keys=True, separators=(",", ":")).encode())
    signature = hmac.new(get_settings().secret_key.encode(), payload.encode(), hashlib.sha256)
    return f"{payload}.{_b64(signature.digest())}"


def read_token(token: str) -> dict:
    """Return the claims of a token signed by `sign_token`; raise InvalidToken otherwise."""
    try:
        payload, signature = token.split(".")
        expected = hmac.new(get_settings().secret_key.encode(), payload.encode(), hashlib.sha256)
        # bytes: compare_digest refuses str with non-ASCII characters (TypeError)
        if not hmac.compare_digest(_b64(expected.digest()).encode(), signature.encode()):
            raise InvalidToken("bad signature")
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, json.JSONDecodeError) as exc:
        raise InvalidToken("malformed token") from exc


_CARD_LIKE = re.compile(r"\b(?:\d[ -]?){13,19}\b")
_DATE_LIKE = re.compile(r"\b\d{1,4}[-/.]\d{1,2}[-/.]\d{2,4}\b")
# The written dates parse_date_of_birth reads: "12 april 1985", "the 12th of April '85",
# "3 nov 90", "12e april 1985", "April the 12th, 1985". A two-digit year followed by an amount
# or a time is none ("on 3 december 50 euros", "1 may 10:30").
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th|ste|de|e)?"
_YEAR = r"(?:\d{4}\b|'?\d{2}\b(?![.,:]\d|\s*(?:€|eur)))"
_WORD_DATE = re.compile(rf"\b{_DAY},?\s+(?:(?:of|van)\s+)?{_MONTH},?\s+{_YEAR}", re.IGNORECASE)
_MONTH_FIRST_DATE = re.compile(rf"\b{_MONTH}\s+(?:the\s+)?{_DAY},?\s+{_YEAR}", re.IGNORECASE)
# Eight digits are a date of birth when the bot would read them as one ("03111990"); account
# numbers (10000001: month 00 either way) stay readable for the agent.
_EIGHT_DIGITS = re.compile(r"\b\d{8}\b")
# Dutch postcodes as the bot takes them: in a sentence as its NLU reads them (1012AB, 1012ab,
# 1012 AB; "1985 is" is none), on their own as the form reads them ("1012 ab"), and after
# the word postcode.
_POSTCODE = re.compile(r"\b\d{4}(?:[A-Za-z]{2}|\s[A-Z]{2})\b")
_POSTCODE_ALONE = re.compile(r"^\s*\d{4}\s?[A-Za-z]{2}\s*$")
# A postcode named in a sentence, in any case and spacing ("mijn postcode is 3511 cd"): the
# verification form reads these too (bot.actions.verification), so one pattern serves both.
NAMED_POSTCODE = re.compile(r"(?P<label>\b(?:post(?:al)?\s?code|zip(?:\s?code)?)\W{0,3}(?:is\s+)?)"
                            r"(?P<postcode>\d{4}\s?[A-Za-z]{2})\b", re.IGNORECASE)
_DATE_MASK, _POSTCODE_MASK = "••-••-••••", "•••• ••"


def mask_all_but_last4(text: str) -> str:
    """'10000003' -> '••••0003': enough for a person to recognise their own number."""
    return "•" * max(0, len(text) - 4) + text[-4:]


def mask_sensitive(text: str) -> str:
    """Hide dates (dates of birth), postcodes and card-like numbers before text is logged or
    shown to staff. Dates go first, so "10000001 12041985" keeps its account number instead
    of reading as one card number."""
    for pattern in (_DATE_LIKE, _WORD_DATE, _MONTH_FIRST_DATE):
        text = pattern.sub(_DATE_MASK, text)
    text = _EIGHT_DIGITS.sub(_mask_if_date_of_birth, text)
    if _POSTCODE_ALONE.match(text):
        return _POSTCODE_MASK
    text = _POSTCODE.sub(_POSTCODE_MASK, text)
    text = NAMED_POSTCODE.sub(lambda m: m.group("label") + _POSTCODE_MASK, text)
    return _CARD_LIKE.sub(lambda m: "•" * 4 + re.sub(r"\D", "", m.group(0))[-4:], text)


def date_of_birth_in(text: str) -> date | None:
    """A date of birth written in `text` as the bot reads them: the whole message ("born on
    12-04-1985"), else the first of the dates `mask_sensitive` hides that parses as one."""
    found = (m.group(0) for pattern in (_DATE_LIKE, _WORD_DATE, _MONTH_FIRST_DATE, _EIGHT_DIGITS)
             for m in pattern.finditer(text))
    for candidate in (text, *found):
        try:
            return parse_date_of_birth(candidate)
        except InvalidRequest:
            continue
    return None


def postcodes_in(text: str) -> list[str]:
    """The Dutch postcodes `mask_sensitive` hides in `text` (on its own, named, or in a
    sentence), as "1012AB"."""
    alone = _POSTCODE_ALONE.match(text)
    found = [alone.group(0)] if alone else []
    found += [m.group("postcode") for m in NAMED_POSTCODE.finditer(text)]
    found += [m.group(0) for m in _POSTCODE.finditer(text)]
    return [re.sub(r"\s", "", code).upper() for code in found]


def _mask_if_date_of_birth(match: re.Match) -> str:
    """Eight digits the bot would take for a date of birth; others (account numbers) stay."""
    try:
        parse_date_of_birth(match.group(0))
    except InvalidRequest:
        return match.group(0)
    return _DATE_MASK
