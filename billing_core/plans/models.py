from datetime import date

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing_core.db import Base, TimestampMixin


class Plan(TimestampMixin, Base):
    """A tariff: monthly price (excluding VAT), data included, and the price per extra GB."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    monthly_price_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    included_gb: Mapped[int | None]  # None: unlimited
    overage_per_gb_minor: Mapped[int] = mapped_column(default=0)
    rank: Mapped[int]  # order from cheapest to richest; upgrades go up
    active: Mapped[bool] = mapped_column(default=True)


class Subscription(TimestampMixin, Base):
    """An account on a plan from `start_date` until `end_date` (exclusive), maybe with a promotion."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    promotion_code: Mapped[str | None] = mapped_column(String(32))
    promotion_percent: Mapped[int | None]
    promotion_end_date: Mapped[date | None]

    plan: Mapped[Plan] = relationship(lazy="joined")


class UsageRecord(Base):
    """Data used in one billing month (first day of the month)."""

    __tablename__ = "usage_records"
    __table_args__ = (UniqueConstraint("account_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    period_start: Mapped[date]
    data_gb: Mapped[int]


class PlanChange(TimestampMixin, Base):
    __tablename__ = "plan_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    from_plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    to_plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    to_plan: Mapped[Plan] = relationship(foreign_keys=[to_plan_id], lazy="joined")
    effective_date: Mapped[date]
    proration_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # applied | scheduled
    actor: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
