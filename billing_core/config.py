"""Billing core settings, read from the environment (prefix ``BILLING_``)."""
from functools import lru_cache
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-change-me"


class BillingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", env_file=None)

    environment: str = "dev"
    database_url: str = f"sqlite:///{REPO_ROOT / 'var' / 'billing.db'}"
    # Peppers the stored verification factors and signs payment links.
    secret_key: str = DEV_SECRET
    payment_link_base_url: str = "http://127.0.0.1:8000/pay"
    payment_link_ttl_hours: int = 48
    default_currency: str = "EUR"

    @model_validator(mode="after")
    def _no_dev_secret_outside_dev(self) -> "BillingSettings":
        if self.environment != "dev" and self.secret_key == DEV_SECRET:
            raise ValueError("BILLING_SECRET_KEY must be set outside the dev environment")
        return self


@lru_cache
def get_settings() -> BillingSettings:
    return BillingSettings()
