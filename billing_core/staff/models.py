from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from billing_core.db import Base, TimestampMixin
from billing_core.enums import Role


class StaffUser(TimestampMixin, Base):
    """Agents, supervisors and admins. `languages` is a comma list of skills (en,nl)."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role]
    password_hash: Mapped[str] = mapped_column(String(255))
    languages: Mapped[str] = mapped_column(String(32), default="en,nl")
    max_concurrent: Mapped[int] = mapped_column(default=3)
    active: Mapped[bool] = mapped_column(default=True)
