import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.actor import Actor
from billing_core.audit.models import AuditEvent
from billing_core.audit.service import record_event
from billing_core.customers.models import Account, Customer
from billing_core.db import utcnow
from billing_core.enums import Language, Role
from billing_core.errors import AccountNotFound, InvalidRequest
from billing_core.security import (
    factor_matches, hash_factor, normalize_postcode, parse_date_of_birth,
)

MAX_FAILED_ATTEMPTS = 3
LOCKOUT = timedelta(minutes=15)


class VerificationStatus(str, enum.Enum):
    verified = "verified"
    failed = "failed"
    locked = "locked"


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of one attempt. Failures change stored state, so they are results, not errors."""

    status: VerificationStatus
    account_number: str | None = None
    customer_name: str | None = None
    language: str | None = None
    attempts_left: int = 0
    locked_until: datetime | None = None

    @property
    def verified(self) -> bool:
        return self.status is VerificationStatus.verified


def get_account(session: Session, *, account_number: str, for_update: bool = False) -> Account:
    """The account with this number; `for_update` takes a row lock (PostgreSQL) for writes."""
    query = select(Account).where(Account.account_number == account_number.strip())
    if for_update:
        query = query.with_for_update()
    account = session.scalar(query)
    if account is None:
        raise AccountNotFound(f"no account {account_number!r}")
    return account


def find_account_number_by_phone(session: Session, *, phone: str) -> str | None:
    """The active account of the customer with this phone number (SMS sender), if exactly one."""
    numbers = session.scalars(
        select(Account.account_number).join(Customer)
        .where(Customer.phone == phone.strip(), Account.status == "active")
    ).all()
    return numbers[0] if len(numbers) == 1 else None


def create_customer(
    session: Session,
    *,
    name: str,
    date_of_birth: date,
    postcode: str,
    customer_since: date,
    language: Language = Language.en,
    phone: str | None = None,
    email: str | None = None,
) -> Customer:
    customer = Customer(
        name=name, language=language, phone=phone, email=email, customer_since=customer_since,
        date_of_birth_hash=hash_factor("dob", date_of_birth.isoformat()),
        postcode_hash=hash_factor("postcode", normalize_postcode(postcode)),
    )
    session.add(customer)
    return customer


def verify_identity(
    session: Session,
    *,
    account_number: str | None = None,
    phone: str | None = None,
    date_of_birth: str | None = None,
    postcode: str | None = None,
    conversation_id: str | None = None,
    now: datetime | None = None,
) -> VerificationResult:
    """Check a second factor (date of birth or postcode) against the account.

    The account is chosen by number, or by the SMS sender's phone when no number is given;
    the phone never replaces the second factor. Three failures lock verification for 15
    minutes. Every attempt is audited; the caller must commit failures too.
    """
    now = now or utcnow()
    if not (date_of_birth or postcode):
        raise InvalidRequest("a date of birth or postcode is required")
    number = account_number or (phone and find_account_number_by_phone(session, phone=phone))
    actor = Actor(id=f"conversation:{conversation_id}" if conversation_id else "customer",
                  role=Role.customer)
    account = session.scalar(
        select(Account).where(Account.account_number == (number or "").strip()).with_for_update()
    ) if number else None
    failures_here, conversation_locked_until = _attempts_in_conversation(
        session, conversation_id=conversation_id, now=now)
    if conversation_locked_until:
        record_event(session, actor=actor, action="verification.locked", entity_type="account",
                     entity_id=number, account_id=account.id if account else None,
                     conversation_id=conversation_id)
        return VerificationResult(VerificationStatus.locked, locked_until=conversation_locked_until)
    if account is None:
        record_event(session, actor=actor, action="verification.unknown_account",
                     entity_type="account", entity_id=number, conversation_id=conversation_id)
        return _failure(session, actor=actor, number=number, account=None,
                        failures=failures_here + 1, conversation_id=conversation_id, now=now)

    if account.verification_locked_until and account.verification_locked_until > now:
        record_event(session, actor=actor, action="verification.locked", entity_type="account",
                     entity_id=account.account_number, account_id=account.id,
                     conversation_id=conversation_id)
        return VerificationResult(VerificationStatus.locked,
                                  locked_until=account.verification_locked_until)
    if account.verification_locked_until:  # an expired lock starts a fresh count
        account.verification_locked_until = None
        account.failed_verification_attempts = 0

    if _factors_match(account.customer, date_of_birth=date_of_birth, postcode=postcode):
        account.failed_verification_attempts = 0
        record_event(session, actor=actor, action="verification.succeeded", entity_type="account",
                     entity_id=account.account_number, account_id=account.id,
                     conversation_id=conversation_id)
        return VerificationResult(
            VerificationStatus.verified, account_number=account.account_number,
            customer_name=account.customer.name, language=account.customer.language.value,
            attempts_left=MAX_FAILED_ATTEMPTS,
        )

    account.failed_verification_attempts += 1
    if account.failed_verification_attempts >= MAX_FAILED_ATTEMPTS:
        account.verification_locked_until = now + LOCKOUT
        account.failed_verification_attempts = 0
        record_event(session, actor=actor, action="verification.locked_out", entity_type="account",
                     entity_id=account.account_number, account_id=account.id,
                     conversation_id=conversation_id)
        return VerificationResult(VerificationStatus.locked,
                                  locked_until=account.verification_locked_until)
    record_event(session, actor=actor, action="verification.failed", entity_type="account",
                 entity_id=account.account_number, account_id=account.id,
                 conversation_id=conversation_id)
    return _failure(session, actor=actor, number=account.account_number, account=account,
                    failures=max(failures_here + 1, account.failed_verification_attempts),
                    conversation_id=conversation_id, now=now)


# Audit actions that count as a failed attempt in a conversation, and those that end a count.
_FAILED_ATTEMPTS = ("verification.failed", "verification.unknown_account")
_COUNT_ENDS = ("verification.succeeded", "verification.locked_out")


def _attempts_in_conversation(session: Session, *, conversation_id: str | None,
                              now: datetime) -> tuple[int, datetime | None]:
    """Failed attempts in this conversation within the lockout window (since its last success
    or lockout), and until when the conversation itself is locked (None: it is not).

    Counting per conversation as well as per account means an account number that does not
    exist is refused exactly like one that does (three tries, then a lock), so the answers
    never tell which numbers exist, and a mistyped number does not loop for ever.
    """
    if not conversation_id:
        return 0, None
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.at)
        .where(AuditEvent.conversation_id == conversation_id,
               AuditEvent.action.in_(_FAILED_ATTEMPTS + _COUNT_ENDS),
               AuditEvent.at > now - LOCKOUT)
        .order_by(AuditEvent.id.desc())).all()
    failures = 0
    for action, at in rows:
        if action == "verification.locked_out":
            return failures, at + LOCKOUT
        if action == "verification.succeeded":
            break
        failures += 1
    return failures, None


def _failure(session: Session, *, actor: Actor, number: str | None, account: Account | None,
             failures: int, conversation_id: str | None, now: datetime) -> VerificationResult:
    """A failed attempt: attempts left, or from the third failure in the conversation a lock
    of the conversation (the account's own count locks the account, see `verify_identity`)."""
    if failures < MAX_FAILED_ATTEMPTS:
        return VerificationResult(VerificationStatus.failed,
                                  attempts_left=MAX_FAILED_ATTEMPTS - failures)
    record_event(session, actor=actor, action="verification.locked_out", entity_type="account",
                 entity_id=number, account_id=account.id if account else None,
                 conversation_id=conversation_id)
    return VerificationResult(VerificationStatus.locked, locked_until=now + LOCKOUT)


def _factors_match(customer: Customer, *, date_of_birth: str | None, postcode: str | None) -> bool:
    """Every factor given must match. An unparseable date is a mismatch, not an error."""
    checks = []
    if date_of_birth:
        try:
            iso = parse_date_of_birth(date_of_birth).isoformat()
        except InvalidRequest:
            iso = ""
        checks.append(factor_matches("dob", iso, customer.date_of_birth_hash))
    if postcode:
        checks.append(factor_matches("postcode", normalize_postcode(postcode),
                                     customer.postcode_hash))
    return all(checks)
