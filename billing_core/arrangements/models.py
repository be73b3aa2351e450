import enum
from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing_core.db import Base, TimestampMixin


class ArrangementKind(str, enum.Enum):
    extension = "extension"
    instalments = "instalments"


class ArrangementStatus(str, enum.Enum):
    active = "active"
    completed = "completed"
    broken = "broken"
    cancelled = "cancelled"


class PaymentArrangement(TimestampMixin, Base):
    __tablename__ = "payment_arrangements"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[ArrangementKind]
    status: Mapped[ArrangementStatus] = mapped_column(default=ArrangementStatus.active)
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    actor: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))

    instalments: Mapped[list["ArrangementInstalment"]] = relationship(
        order_by="ArrangementInstalment.due_date", cascade="all, delete-orphan", lazy="selectin"
    )


class ArrangementInstalment(Base):
    __tablename__ = "arrangement_instalments"

    id: Mapped[int] = mapped_column(primary_key=True)
    arrangement_id: Mapped[int] = mapped_column(ForeignKey("payment_arrangements.id"), index=True)
    due_date: Mapped[date]
    amount_minor: Mapped[int]
