from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing_core.db import Base, TimestampMixin
from billing_core.enums import Language


class Customer(TimestampMixin, Base):
    """A person. Verification factors are stored only as keyed hashes (see `security`)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[Language] = mapped_column(default=Language.en)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(200))
    date_of_birth_hash: Mapped[str] = mapped_column(String(64))
    postcode_hash: Mapped[str] = mapped_column(String(64))
    customer_since: Mapped[date]

    accounts: Mapped[list["Account"]] = relationship(back_populates="customer")


class Account(TimestampMixin, Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_number: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    billing_day: Mapped[int] = mapped_column(default=1)  # cycles start on this day, 1 to 28
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | cancelled
    cancelled_at: Mapped[datetime | None]
    failed_verification_attempts: Mapped[int] = mapped_column(default=0)
    verification_locked_until: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship(back_populates="accounts")
