"""``GET /v1/claims/{number}``: a claim's status for its customer, who proves who they are with the
claim's e-mail or phone. Anything else — an unknown or malformed number, a wrong or missing contact —
is the same 404, so the endpoint reveals nothing about claims the caller does not own."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from intake_worker.contacts import normalise_email, normalise_phone
from services.gateway.deps import claimflow
from services.gateway.errors import ApiError
from services.gateway.models import ClaimView, ErrorBody
from services.gateway.responses import UNAVAILABLE
from shared.bootstrap import App
from shared.claim_number import parse_claim_number
from shared.db.models import Claim

router = APIRouter(tags=["claims"])

NOT_FOUND = "no claim with this number and contact"


def _iso(value):
    return value.isoformat() if value is not None else None


def view(claim: Claim) -> dict:
    return {"claim_number": claim.claim_number, "status": claim.status, "category": claim.category,
            "department": claim.department, "received_at": _iso(claim.received_at),
            "deadlines": {"first_response": _iso(claim.first_response_due), "decision": _iso(claim.decision_due),
                          "closure": _iso(claim.closure_due)}}


def proves(claim: Claim, email: str | None, phone: str | None, region: str) -> bool:
    """Whether a contact the caller gave is the claim's (compared normalised)."""
    given_email = normalise_email(email) if email else None
    given_phone = normalise_phone(phone, region) if phone else None
    return bool((given_email and given_email == claim.customer_email)
                or (given_phone and given_phone == claim.customer_phone))


def _find(app: App, number: str, email: str | None, phone: str | None) -> dict | None:
    if parse_claim_number(number) is None or not (email or phone):
        return None
    with app.sessions() as session:
        claim = session.scalar(select(Claim).where(Claim.claim_number == number.strip()))
        if claim is None or not proves(claim, email, phone, app.settings.default_region):
            return None
        return view(claim)


@router.get("/v1/claims/{number}", summary="A claim's status, for its customer", response_model=None,
            description="Answers only when `email` or `phone` is the claim's own (compared after "
                        "normalisation); otherwise 404, the same as for a number that does not exist.",
            responses={200: {"model": ClaimView, "description": "the claim's status and deadlines"},
                       404: {"model": ErrorBody, "description": "no claim with this number and contact"},
                       **UNAVAILABLE})
async def get_claim(number: str,
                    email: Annotated[str | None, Query(description="the e-mail given with the claim")] = None,
                    phone: Annotated[str | None, Query(description="the phone given with the claim")] = None,
                    app: App = Depends(claimflow)):
    found = await run_in_threadpool(_find, app, number, email, phone)
    if found is None:
        raise ApiError(404, "not_found", NOT_FOUND)
    return JSONResponse(found)
