"""The closing report: written when a claim closes (and again when the customer's answer comes
after), kept in ``claim_reports`` so that the document of a closing stays what it was, whatever
later changes the template, the policy or a reopening make. HTML from a Jinja2 template; PDF made
from that HTML by WeasyPrint where it is installed (``pip install 'claimflow[pdf]'``)."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import jinja2
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.closing.dossier import gather
from shared.db.models import Claim, ClaimReport

FORMATS = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or the Pango library it draws text with) is not installed here."""


class NoReport(LookupError):
    """The claim has not been closed: there is no closing report yet."""


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("services.closing", "templates"), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


def _when(value: str | None, timezone: str) -> str:
    if not value:
        return "—"
    at = datetime.fromisoformat(value)
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def render_html(dossier: dict, timezone: str = "UTC", version: int | None = None) -> str:
    """The report of ``dossier`` as an HTML document, times shown in ``timezone``."""
    env = _environment().overlay()
    env.filters["when"] = lambda value: _when(value, timezone)
    return env.get_template("report.html.j2").render(d=dossier, timezone=timezone, version=version)


def render_pdf(html: str) -> bytes:
    """The HTML report as a PDF (A4), or PdfUnavailable."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:    # OSError: WeasyPrint is there, the Pango library is not
        raise PdfUnavailable("PDF needs WeasyPrint and the Pango library: pip install 'claimflow[pdf]' "
                             f"(and apt-get install libpango-1.0-0); {type(exc).__name__}") from None
    return weasyprint.HTML(string=html).write_pdf()


def write_report(session: Session, claim: Claim, reason: str, now: datetime, timezone: str = "UTC") -> ClaimReport:
    """A new version of the claim's closing report, of the facts at ``now``."""
    version = (session.scalar(select(func.max(ClaimReport.version)).where(ClaimReport.claim_id == claim.id))
               or 0) + 1
    dossier = gather(session, claim, now)
    report = ClaimReport(claim_id=claim.id, version=version, reason=reason, produced_at=now, dossier=dossier,
                         html=render_html(dossier, timezone, version))
    session.add(report)
    session.flush()
    return report


def latest_report(session: Session, claim: Claim) -> ClaimReport:
    report = session.scalar(select(ClaimReport).where(ClaimReport.claim_id == claim.id)
                            .order_by(ClaimReport.version.desc()).limit(1))
    if report is None:
        raise NoReport(f"claim {claim.claim_number} has no closing report: it is {claim.status}, "
                       "and a report is written when it closes")
    return report


def document(html: str, fmt: str) -> bytes:
    """A stored report's HTML in ``fmt`` (html or pdf), as bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return html.encode("utf-8") if fmt == "html" else render_pdf(html)
