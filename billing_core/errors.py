"""Typed errors raised by billing services. Callers map them to replies or HTTP codes."""
class BillingError(Exception):
    """Base class: a request the billing core refuses, with a message safe to show staff."""

    code = "billing_error"


class NotFound(BillingError):
    code = "not_found"


class AccountNotFound(NotFound):
    code = "account_not_found"


class IdempotencyConflict(BillingError):
    """The idempotency key was used before for a different request."""

    code = "idempotency_conflict"


class InvalidRequest(BillingError):
    code = "invalid_request"


class StaffUserExists(BillingError):
    code = "staff_user_exists"


class NotEligible(BillingError):
    code = "not_eligible"


class ConcessionLimitExceeded(BillingError):
    """The actor's role may not grant this much; carries the most it may grant."""

    code = "concession_limit_exceeded"

    def __init__(self, *, max_allowed_minor: int, currency: str, role: str):
        super().__init__(
            f"{role} may grant at most {max_allowed_minor} {currency} minor units here"
        )
        self.max_allowed_minor = max_allowed_minor
        self.currency = currency
        self.role = role


class ConcessionFrequencyExceeded(BillingError):
    code = "concession_frequency_exceeded"


class PermissionDenied(BillingError):
    code = "permission_denied"


class InvalidToken(BillingError):
    code = "invalid_token"


class PaymentLinkExpired(InvalidToken):
    """A genuine payment link past its valid-until: the customer needs a new one."""

    code = "payment_link_expired"
