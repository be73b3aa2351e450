"""The web pages: customer chat (`/` and `/chat`), payment links (`/pay/{token}`), the agent
console (`/console`), reports and admin.

Plain HTML, CSS and JavaScript from `handoff/static` (no build step, nothing from a CDN);
`handoff.main` mounts that folder at `/static`. Pages get a strict Content-Security-Policy:
scripts and styles from this origin only, connections to this origin only (REST and
WebSockets).
"""
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from handoff.api.deps import StaffUserDep
from handoff.api.schemas import CannedResponse
from handoff.canned import canned_responses

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["pages"])


def page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type="text/html; charset=utf-8",
                        headers=SECURITY_HEADERS)


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/chat", status_code=307)


@router.api_route("/chat", methods=["GET", "HEAD"], include_in_schema=False)
def chat_page() -> FileResponse:
    return page("chat.html")


@router.api_route("/pay/{token}", methods=["GET", "HEAD"], include_in_schema=False)
def pay_page() -> FileResponse:
    """Where payment links land by default: the page reads the token from its own path and
    asks `/api/payment-links/{token}` (routes/payments.py); instructions only, no payment."""
    return page("pay.html")


@router.api_route("/console", methods=["GET", "HEAD"], include_in_schema=False)
def console_page() -> FileResponse:
    return page("console.html")


@router.api_route("/reports", methods=["GET", "HEAD"], include_in_schema=False)
def reports_page() -> FileResponse:
    """Retention insight and queue health for supervisors and admins (data needs a token)."""
    return page("reports.html")


@router.api_route("/admin", methods=["GET", "HEAD"], include_in_schema=False)
def admin_page() -> FileResponse:
    """NLU review inbox, labelling, retraining and models for admins (data needs a token)."""
    return page("admin.html")


@router.get("/api/agents/me", tags=["console"])
def me(user: StaffUserDep) -> dict:
    """Who is signed in: the console shows the name and offers what the role allows."""
    return {"username": user.username, "role": user.role, "full_name": user.full_name,
            "languages": list(user.languages), "max_concurrent": user.max_concurrent}


@router.get("/api/canned", response_model=list[CannedResponse], tags=["console"])
def canned(user: StaffUserDep) -> list[dict]:
    """Canned responses (English and Dutch) the console inserts into the reply box."""
    return canned_responses()
