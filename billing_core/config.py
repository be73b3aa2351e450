"""Billing core settings, read from the environment (prefix ``BILLING_``)."""
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-change-me"
# The payment page's bank account in dev: the IBAN is the usual documentation example, nobody's
# real account. Outside dev there is no default: a wrong one would receive customers' money.
DEV_PAYMENT_BENEFICIARY = "Example Billing B.V. (demo)"
DEV_PAYMENT_IBAN = "NL91ABNA0417164300"
# Ways a payment link's page can take money (direct debit is no link: a colleague sets it up).
PaymentMethod = Literal["ideal", "card", "paypal", "apple_pay", "google_pay", "bancontact",
                        "bank_transfer"]


def valid_iban(iban: str) -> bool:
    """Shape and ISO 13616 check digits (mod 97), so a mistyped IBAN is refused at start."""
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


class BillingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", env_file=None)

    environment: str = "dev"
    database_url: str = f"sqlite:///{REPO_ROOT / 'var' / 'billing.db'}"
    # Peppers the stored verification factors and signs payment links.
    secret_key: str = DEV_SECRET
    payment_link_base_url: str = "http://127.0.0.1:8000/pay"
    payment_link_ttl_hours: int = 48
    default_currency: str = "EUR"
    # Bank transfer shown on the payment page (/pay/{token}); both or neither.
    payment_beneficiary: str | None = None
    payment_iban: str | None = None
    # What the payment link's page takes, as the assistant tells customers who ask. Default:
    # a bank transfer when a bank account is set (all the built-in page offers), else none;
    # list your provider's methods when BILLING_PAYMENT_LINK_BASE_URL points at one.
    payment_methods: list[PaymentMethod] | None = None

    @model_validator(mode="after")
    def _no_dev_secret_outside_dev(self) -> "BillingSettings":
        if self.environment != "dev" and self.secret_key == DEV_SECRET:
            raise ValueError("BILLING_SECRET_KEY must be set outside the dev environment")
        return self

    @model_validator(mode="after")
    def _payment_account(self) -> "BillingSettings":
        beneficiary = (self.payment_beneficiary or "").strip() or None
        iban = re.sub(r"\s+", "", self.payment_iban or "").upper() or None
        if self.environment == "dev" and beneficiary is None and iban is None:
            beneficiary, iban = DEV_PAYMENT_BENEFICIARY, DEV_PAYMENT_IBAN
        if (beneficiary is None) != (iban is None):
            raise ValueError("set both BILLING_PAYMENT_BENEFICIARY and BILLING_PAYMENT_IBAN, or neither")
        if iban is not None and not valid_iban(iban):
            raise ValueError("BILLING_PAYMENT_IBAN is not a valid IBAN (check digits)")
        if self.environment != "dev" and iban == DEV_PAYMENT_IBAN:
            raise ValueError("BILLING_PAYMENT_IBAN is the documentation example, not your account")
        self.payment_beneficiary, self.payment_iban = beneficiary, iban
        if self.payment_methods is None:
            self.payment_methods = ["bank_transfer"] if iban else []
        return self


@lru_cache
def get_settings() -> BillingSettings:
    return BillingSettings()
