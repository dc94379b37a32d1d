"""``/v1/department/claims``: the departments' API, thin handlers over ``service`` and ``transitions``.
Every answer but success is JSON ``{"error", "message"}`` (the gateway's error handlers: a database
that cannot be reached is a 503 with ``Retry-After``); an illegal step is a 409 naming the allowed
next states."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from services.closing.fetch import REPORT_RESPONSES, ReportFormat, report_answers, report_document
from services.departments import service, transitions as t
from services.departments.auth import principal
from services.departments.keys import Principal
from services.departments.schemas import (ClaimDetail, ClaimPage, CustomerReply, DecisionRequest, ExecutionReport,
                                          IllegalTransitionBody, InformationRequest, RerouteRequest)
from services.gateway.deps import claimflow
from services.gateway.errors import ApiError
from services.gateway.models import ErrorBody
from services.gateway.responses import UNAVAILABLE
from shared.bootstrap import App
from shared.db.models import Claim
from shared.schema import Status

router = APIRouter(prefix="/v1/department/claims", tags=["departments"])

Caller = Annotated[Principal, Depends(principal)]
Claimflow = Annotated[App, Depends(claimflow)]
READ = {401: {"model": ErrorBody, "description": "no key, or a key that is unknown or revoked"},
        403: {"model": ErrorBody, "description": "the claim is another department's"},
        404: {"model": ErrorBody, "description": "no claim with this number"}, **UNAVAILABLE}
CHANGE = {**READ, 409: {"model": IllegalTransitionBody, "description": "the claim's state does not allow this "
                                                                        "step: its status and the allowed next ones"},
          400: {"model": ErrorBody, "description": "the body is not JSON"},
          422: {"model": ErrorBody, "description": "the request's fields do not make a valid change"}}


@contextmanager
def answers():
    """The service's refusals as HTTP answers."""
    try:
        yield
    except service.NotFound:
        raise ApiError(404, "not_found", "no claim with this number") from None
    except service.Forbidden:
        raise ApiError(403, "forbidden", "this key's department may not see that department's claims") from None
    except t.InvalidRequest as exc:
        raise ApiError(422, exc.error, str(exc)) from None


def _change(app: App, who: Principal, number: str, make: Callable[[Claim], t.Change]) -> dict | JSONResponse:
    try:
        with answers():
            return service.change_claim(app, who, number, make)
    except t.IllegalAction as exc:      # answered here: its "status" field is not ApiError's HTTP status
        return JSONResponse({"error": "illegal_transition", "message": str(exc), "status": exc.current.value,
                             "allowed": exc.allowed}, status_code=409)


@router.get("", summary="The claims this key may see", response_model=ClaimPage, responses=READ)
def list_claims(app: Claimflow, who: Caller, status: Status | None = None,
                department: Annotated[str | None, Query(description="administrators: one department's "
                                                                    "claims; others: only their own")] = None,
                after: Annotated[int, Query(ge=0, le=2**63 - 1, description="the previous page's `next_after`")] = 0,
                limit: Annotated[int, Query(ge=1, le=500)] = 100):
    with answers():
        return service.list_claims(app, who, status=status.value if status else None, department=department,
                                   after=after, limit=limit)


@router.get("/{number}", summary="One claim, with its decisions and history", response_model=ClaimDetail,
            responses=READ)
def get_claim(number: str, app: Claimflow, who: Caller):
    with answers():
        return service.get_claim(app, who, number)


@router.get("/{number}/report", summary="The claim's closing report: HTML, or PDF", response_class=Response,
            responses={**READ, **REPORT_RESPONSES})
def report(number: str, app: Claimflow, who: Caller, format: ReportFormat = "html"):
    with answers(), report_answers():
        body, media_type = report_document(app, number, format, who)
    return Response(body, media_type=media_type)


@router.post("/{number}/acknowledge", summary="Take the claim on: routed → in_progress",
             response_model=ClaimDetail, responses=CHANGE)
def acknowledge(number: str, app: Claimflow, who: Caller):
    return _change(app, who, number, lambda c: t.acknowledge(c.status))


@router.post("/{number}/request-information", response_model=ClaimDetail, responses=CHANGE,
             summary="Ask the customer: in_progress → awaiting_customer (the deadlines stand still)")
def request_information(number: str, body: InformationRequest, app: Claimflow, who: Caller):
    return _change(app, who, number, lambda c: t.request_information(c.status, body.question))


@router.post("/{number}/customer-replied", response_model=ClaimDetail, responses=CHANGE,
             summary="The customer answered: awaiting_customer → in_progress (the deadlines move on by the wait)")
def customer_replied(number: str, app: Claimflow, who: Caller, body: CustomerReply | None = None):
    return _change(app, who, number, lambda c: t.customer_replied(c.status, body.note if body else None))


@router.post("/{number}/decision", response_model=ClaimDetail, responses=CHANGE,
             summary="Decide: in_progress → decided (a remedy) or rejected (with a reason)")
def decide(number: str, body: DecisionRequest, app: Claimflow, who: Caller):
    resolution = getattr(body.resolution, "value", body.resolution)
    return _change(app, who, number, lambda c: t.decide(c.status, t.decision_of(resolution, body.amount,
                                                                                body.currency, body.reason)))


@router.post("/{number}/executed", response_model=ClaimDetail, responses=CHANGE,
             summary="The remedy was carried out: decided → executed, with evidence")
def executed(number: str, body: ExecutionReport, app: Claimflow, who: Caller):
    return _change(app, who, number, lambda c: t.execute(c.status, body.evidence, body.note))


@router.post("/{number}/reroute", response_model=ClaimDetail, responses=CHANGE,
             summary="Send the claim to another department: routed, in_progress (or reopened) → routed")
def reroute(number: str, body: RerouteRequest, app: Claimflow, who: Caller):
    return _change(app, who, number, lambda c: t.reroute(c, body.department.strip(), body.reason, app.policy,
                                                         body.category))
