import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from billing_core.db import Base, TimestampMixin


class OfferResponse(str, enum.Enum):
    offered = "offered"
    accepted = "accepted"
    declined = "declined"


class RetentionOutcome(TimestampMixin, Base):
    """One retention conversation: what was offered, the answer, and the customer later on.

    `concession_kind` is None for the comparison group (unhappy customers offered nothing).
    """

    __tablename__ = "retention_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    adjustment_id: Mapped[int | None] = mapped_column(ForeignKey("adjustments.id"))
    concession_kind: Mapped[str | None] = mapped_column(String(32))
    amount_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    reason_code: Mapped[str] = mapped_column(String(64))  # complaint type: bill_shock, price, service…
    channel: Mapped[str | None] = mapped_column(String(16))
    offered_by: Mapped[str] = mapped_column(String(64))
    offered_by_role: Mapped[str] = mapped_column(String(16))
    offered_at: Mapped[datetime]
    response: Mapped[OfferResponse] = mapped_column(default=OfferResponse.offered)
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    active_after_30d: Mapped[bool | None]
    active_after_90d: Mapped[bool | None]
    cancelled_on: Mapped[date | None]
    paid_on_time: Mapped[bool | None]
