import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing_core.db import Base, TimestampMixin


class LineKind(str, enum.Enum):
    recurring = "recurring"
    usage = "usage"
    proration = "proration"
    discount = "discount"
    tax = "tax"
    late_fee = "late_fee"
    credit = "credit"


class Invoice(TimestampMixin, Base):
    """A monthly bill. `total_minor` is always the sum of its lines (see `add_line`)."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    period_start: Mapped[date]
    period_end: Mapped[date]  # exclusive
    issue_date: Mapped[date]
    due_date: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    total_minor: Mapped[int] = mapped_column(default=0)

    lines: Mapped[list["InvoiceLine"]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position", cascade="all, delete-orphan"
    )

    def __init__(self, **fields):
        fields.setdefault("total_minor", 0)  # a new invoice without lines totals 0, not None
        super().__init__(**fields)

    def add_line(self, *, kind: LineKind, code: str, description: str, amount_minor: int) -> "InvoiceLine":
        line = InvoiceLine(
            kind=kind, code=code, description=description, amount_minor=amount_minor,
            position=len(self.lines),
        )
        self.lines.append(line)
        self.total_minor = sum(item.amount_minor for item in self.lines)
        return line


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int]
    kind: Mapped[LineKind]
    code: Mapped[str] = mapped_column(String(64))  # stable key to compare months, e.g. plan:standard
    description: Mapped[str] = mapped_column(String(200))
    amount_minor: Mapped[int]  # signed: discounts and credits are negative

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(TimestampMixin, Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    paid_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
