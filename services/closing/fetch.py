"""A claim's closing report for the departments' API (with its access rules: a department sees
its own claims, an administrator all) and for ``claimflow claims report``."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Annotated, Literal

from fastapi import Query
from sqlalchemy import select

from services.closing.report import FORMATS, NoReport, PdfUnavailable, document, latest_report
from services.departments.keys import Principal
from services.departments.service import Forbidden, NotFound
from services.departments.transitions import may_access
from services.gateway.errors import ApiError
from services.gateway.models import ErrorBody
from shared.bootstrap import App
from shared.claim_number import parse_claim_number
from shared.db.models import Claim


def report_document(app: App, number: str, fmt: str = "html", principal: Principal | None = None
                    ) -> tuple[bytes, str]:
    """The latest closing report of claim ``number`` in ``fmt`` and its media type. NotFound,
    Forbidden (the principal's department may not see the claim), NoReport, PdfUnavailable."""
    if parse_claim_number(number) is None:
        raise NotFound(number)
    with app.sessions() as session:
        claim = session.scalar(select(Claim).where(Claim.claim_number == number.strip()))
        if claim is None:
            raise NotFound(number)
        if principal is not None and not may_access(principal.is_admin, principal.department, claim.department):
            raise Forbidden(number)
        report = latest_report(session, claim)
        html = report.html
    return document(html, fmt), FORMATS[fmt]


# --- the departments' API: GET /v1/department/claims/{number}/report ---------------------------
ReportFormat = Annotated[Literal["html", "pdf"], Query(description="html (the default) or pdf")]
REPORT_RESPONSES = {
    200: {"description": "the latest closing report", "content": {"text/html": {"schema": {"type": "string"}},
                                                                  "application/pdf": {"schema": {
                                                                      "type": "string", "format": "binary"}}}},
    404: {"model": ErrorBody, "description": "not_found: no claim with this number; no_report: the claim has not "
                                             "been closed yet"},
    501: {"model": ErrorBody, "description": "pdf_unavailable: PDF is not installed on this server; ask for html"}}


@contextmanager
def report_answers():
    """A missing report and a missing PDF library as HTTP answers."""
    try:
        yield
    except NoReport as exc:
        raise ApiError(404, "no_report", str(exc)) from None
    except PdfUnavailable as exc:
        raise ApiError(501, "pdf_unavailable", str(exc)) from None
