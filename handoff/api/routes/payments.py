"""Payment links the assistant sends: what to pay, until when, and how (bank transfer).

Everything comes from the signed, expiring token (`billing_core.invoices.service`): no login,
no database, nothing about the account beyond its masked number. Paying itself is out of
scope: production points BILLING_PAYMENT_LINK_BASE_URL at its payment provider; by default
links land on the page `/pay/{token}` (`pages.py`), which shows this.
"""
from datetime import datetime, timezone

from fastapi import APIRouter

from billing_core.config import get_settings as billing_settings
from billing_core.invoices.service import read_payment_link
from billing_core.security import mask_all_but_last4
from handoff.api.schemas import PaymentLinkOut

router = APIRouter(prefix="/api", tags=["payments"])


@router.get("/payment-links/{token}", response_model=PaymentLinkOut, responses={
    404: {"description": "not a payment link of ours"},
    410: {"description": "the link has expired; the assistant makes a new one"}})
def payment_link(token: str) -> dict:
    """Amount due, masked account, valid-until and bank-transfer instructions of a link."""
    claims = read_payment_link(token)
    settings = billing_settings()
    bank_transfer = None
    if settings.payment_iban:  # never outside dev unless configured: see BillingSettings
        bank_transfer = {"beneficiary": settings.payment_beneficiary,
                         "iban": settings.payment_iban, "reference": claims["acct"]}
    return {"amount_minor": claims["amt"], "currency": claims["cur"],
            "account": mask_all_but_last4(claims["acct"]),
            "valid_until": datetime.fromtimestamp(claims["exp"], timezone.utc).isoformat(),
            "bank_transfer": bank_transfer}
