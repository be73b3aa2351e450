from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from billing_core.staff.service import authenticate
from handoff.api.deps import BillingSessionDep, ContainerDep, NotAuthenticated
from handoff.api.schemas import TokenOut
from handoff.core.security import create_access_token

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut)
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: BillingSessionDep,
          container: ContainerDep) -> TokenOut:
    user = authenticate(session, username=form.username, password=form.password)
    if user is None:
        raise NotAuthenticated("wrong username or password")
    return TokenOut(access_token=create_access_token(container.settings, username=user.username,
                                                     role=user.role.value),
                    username=user.username, role=user.role.value)
