"""Staff access tokens (JWT, HS256)."""
from datetime import timedelta

import jwt

from billing_core.db import utcnow
from handoff.core.config import Settings

ALGORITHM = "HS256"


def create_access_token(settings: Settings, *, username: str, role: str) -> str:
    expires = utcnow() + timedelta(minutes=settings.token_ttl_minutes)
    return jwt.encode({"sub": username, "role": role, "exp": expires}, settings.secret_key,
                      algorithm=ALGORITHM)


def read_access_token(settings: Settings, token: str) -> str | None:
    """The username in a valid, unexpired token; None otherwise."""
    try:
        return jwt.decode(token, settings.secret_key, algorithms=[ALGORITHM]).get("sub")
    except jwt.PyJWTError:
        return None
