from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_core.enums import Role
from billing_core.staff.models import StaffUser
from handoff.container import Container
from handoff.core.security import read_access_token
from handoff.errors import Forbidden, HandoffError
from handoff.services.queue import Agent

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


class NotAuthenticated(HandoffError):
    status_code = 401


def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_session(container: ContainerDep) -> Iterator[Session]:
    with container.sessions() as session, session.begin():
        yield session


def get_billing_session(container: ContainerDep) -> Iterator[Session]:
    with container.billing_sessions() as session, session.begin():
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
BillingSessionDep = Annotated[Session, Depends(get_billing_session)]


def agent_from_token(container: Container, token: str | None) -> Agent:
    username = read_access_token(container.settings, token) if token else None
    if username is None:
        raise NotAuthenticated("sign in first: a valid bearer token is required")
    with container.billing_sessions() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username,
                                                      StaffUser.active))
    if user is None:
        raise NotAuthenticated("this account no longer exists or is disabled")
    return Agent(username=user.username, role=user.role.value,
                 languages=tuple(user.languages.split(",")), max_concurrent=user.max_concurrent,
                 full_name=user.full_name)


def get_current_user(container: ContainerDep, token: Annotated[str | None, Depends(oauth2)]) -> Agent:
    return agent_from_token(container, token)


CurrentUser = Annotated[Agent, Depends(get_current_user)]


def require(*roles: Role):
    allowed = {role.value for role in roles}

    def check(user: CurrentUser) -> Agent:
        if user.role not in allowed:
            raise Forbidden(f"this needs the role {' or '.join(sorted(allowed))}")
        return user

    return Depends(check)


StaffUserDep = Annotated[Agent, require(Role.agent, Role.supervisor, Role.admin)]
SupervisorDep = Annotated[Agent, require(Role.supervisor, Role.admin)]
AdminDep = Annotated[Agent, require(Role.admin)]
