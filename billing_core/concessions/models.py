import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing_core.db import Base, TimestampMixin
from billing_core.enums import Role


class ConcessionKind(str, enum.Enum):
    goodwill_credit = "goodwill_credit"
    late_fee_waiver = "late_fee_waiver"
    retention_discount = "retention_discount"


class AdjustmentStatus(str, enum.Enum):
    granted = "granted"
    pending_approval = "pending_approval"
    rejected = "rejected"


class ConcessionPolicy(TimestampMixin, Base):
    """Who may grant how much of one kind of concession, to whom, and how often.

    Limits are totals in minor units. A retention discount is a monthly discount over
    `discount_months`; its limit applies to the total over those months.
    """

    __tablename__ = "concession_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[ConcessionKind]
    description: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    bot_limit_minor: Mapped[int]
    agent_limit_minor: Mapped[int]
    supervisor_limit_minor: Mapped[int]
    max_per_customer: Mapped[int]  # grants per customer within period_days
    period_days: Mapped[int]
    min_tenure_months: Mapped[int] = mapped_column(default=0)
    requires_bill_shock_percent: Mapped[int | None]  # goodwill: latest bill this % above previous
    requires_late_fee: Mapped[bool] = mapped_column(default=False)
    requires_churn_risk: Mapped[bool] = mapped_column(default=False)
    discount_percent: Mapped[int | None]  # retention offer size
    discount_months: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)

    def limit_for(self, role: Role) -> int:
        """The most this role may grant on its own; customers and the system grant nothing."""
        return {
            Role.bot: self.bot_limit_minor,
            Role.agent: self.agent_limit_minor,
            Role.supervisor: self.supervisor_limit_minor,
            Role.admin: self.supervisor_limit_minor,
        }.get(role, 0)


class Adjustment(TimestampMixin, Base):
    """A concession granted (or awaiting a supervisor): a credit now or a discount over months."""

    __tablename__ = "adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("concession_policies.id"))
    status: Mapped[AdjustmentStatus]
    amount_minor: Mapped[int]  # total value of the concession
    currency: Mapped[str] = mapped_column(String(3))
    months: Mapped[int | None]  # discounts: spread over this many invoices
    reason_code: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str | None] = mapped_column(String(16))
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_by_role: Mapped[str] = mapped_column(String(16))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))

    policy: Mapped[ConcessionPolicy] = relationship(lazy="joined")
