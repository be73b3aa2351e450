from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.enums import Role
from billing_core.security import hash_password, verify_password
from billing_core.staff.models import StaffUser


def create_staff_user(session: Session, *, username: str, full_name: str, role: Role,
                      password: str, languages: str = "en,nl", max_concurrent: int = 3) -> StaffUser:
    user = StaffUser(username=username, full_name=full_name, role=role,
                     password_hash=hash_password(password), languages=languages,
                     max_concurrent=max_concurrent)
    session.add(user)
    return user


def authenticate(session: Session, *, username: str, password: str) -> StaffUser | None:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username, StaffUser.active))
    if user is None or not verify_password(password, user.password_hash):
        return None
    return user
