import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.actor import Actor
from billing_core.audit.service import record_event
from billing_core.enums import Language, Role
from billing_core.errors import InvalidRequest, NotFound, StaffUserExists
from billing_core.security import hash_password, verify_password
from billing_core.staff.models import StaffUser

STAFF_ROLES = (Role.agent, Role.supervisor, Role.admin)
MIN_PASSWORD_LENGTH = 12
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"a staff password has at least {MIN_PASSWORD_LENGTH} characters")


def _languages(languages: str) -> str:
    """"en, NL" -> "en,nl"; the skills the queue routes by (billing_core.enums.Language)."""
    chosen = [part.strip().lower() for part in languages.split(",") if part.strip()]
    known = {language.value for language in Language}
    if not chosen or any(language not in known for language in chosen):
        raise InvalidRequest(f"languages: a comma list of {', '.join(sorted(known))}")
    return ",".join(dict.fromkeys(chosen))


def create_staff_user(session: Session, *, username: str, full_name: str, role: Role,
                      password: str, languages: str = "en,nl", max_concurrent: int = 3,
                      actor: Actor | None = None) -> StaffUser:
    if not USERNAME.fullmatch(username):
        raise InvalidRequest("a username is 2-64 lower-case letters, digits, '.', '_' or '-'")
    if role not in STAFF_ROLES:
        raise InvalidRequest(f"a staff role is one of {', '.join(r.value for r in STAFF_ROLES)}")
    if not full_name.strip():
        raise InvalidRequest("a staff member needs a name (agents sign their messages with it)")
    if not 1 <= max_concurrent <= 20:
        raise InvalidRequest("max_concurrent: 1 to 20 conversations at once")
    check_password(password)
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise StaffUserExists(f"staff user {username!r} exists already")
    user = StaffUser(username=username, full_name=full_name.strip(), role=role,
                     password_hash=hash_password(password), languages=_languages(languages),
                     max_concurrent=max_concurrent)
    session.add(user)
    session.flush()
    record_event(session, actor=actor or Actor.system(), action="staff_created",
                 entity_type="staff_user", entity_id=user.id,
                 after={"username": username, "role": role.value, "languages": user.languages,
                        "max_concurrent": max_concurrent})
    return user


def get_staff_user(session: Session, *, username: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise NotFound(f"no staff user {username!r}")
    return user


def list_staff_users(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def set_staff_password(session: Session, *, username: str, password: str,
                       actor: Actor | None = None) -> StaffUser:
    check_password(password)
    user = get_staff_user(session, username=username)
    user.password_hash = hash_password(password)
    record_event(session, actor=actor or Actor.system(), action="staff_password_set",
                 entity_type="staff_user", entity_id=user.id)
    return user


def set_staff_active(session: Session, *, username: str, active: bool,
                     actor: Actor | None = None) -> StaffUser:
    """A deactivated user's tokens stop working at once: every request checks `active`."""
    user = get_staff_user(session, username=username)
    if user.active != active:
        record_event(session, actor=actor or Actor.system(),
                     action="staff_activated" if active else "staff_deactivated",
                     entity_type="staff_user", entity_id=user.id,
                     before={"active": user.active}, after={"active": active})
        user.active = active
    return user


def authenticate(session: Session, *, username: str, password: str) -> StaffUser | None:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username, StaffUser.active))
    if user is None or not verify_password(password, user.password_hash):
        return None
    return user
