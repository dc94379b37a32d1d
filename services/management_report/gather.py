"""The report's rows from the database: the claims received in the period, read in chunks of
``CHUNK`` by id, each chunk with its routings, customers' answers, latest decisions and escalations;
a rich progress bar on standard error while it reads. Contacts are hashed (with a key of this run)
as they are read, and a claim's text only gives its product's name: no personal data goes further."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.closing.dossier import ANSWER_ACTIONS, customer_answer
from services.management_report.facts import ClaimFacts, product_name
from services.management_report.period import Period
from shared.db.models import Claim, ClaimDecision, ClaimHistory, SlaEscalation
from shared.db.statements import in_values
from shared.schema import Status

CHUNK = 500
CLOSED = frozenset({Status.CLOSED.value, Status.ARCHIVED.value})
ROUTING = {"routed": "department", "rerouted": "to_department"}     # the history's action → data key
COLUMNS = (Claim.id, Claim.channel, Claim.category, Claim.department, Claim.priority, Claim.status,
           Claim.received_at, Claim.desired_resolution, Claim.sku, Claim.details, Claim.sla_pauses,
           Claim.routed_at, Claim.first_response_at, Claim.decided_at, Claim.closed_at,
           Claim.subject, Claim.description, Claim.customer_email, Claim.customer_phone)


def report_progress() -> Progress:
    """The progress display of ``claimflow report``, on standard error."""
    return Progress(TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True))


def gather(app, period: Period, progress: Progress | None = None) -> list[ClaimFacts]:
    """The facts of every claim received in ``period``."""
    window = (Claim.received_at >= period.start, Claim.received_at < period.end)
    contact_key = secrets.token_bytes(16)
    out: list[ClaimFacts] = []
    with app.sessions() as session:
        total = session.scalar(select(func.count()).select_from(Claim).where(*window)) or 0
        task = progress.add_task("reading claims", total=total) if progress else None
        for rows in _chunks(session, window):
            out += _facts(session, rows, contact_key)
            if progress:
                progress.advance(task, len(rows))
    return out


def _chunks(session: Session, window) -> Iterator[list]:
    last = 0
    while True:
        rows = session.execute(select(*COLUMNS).where(*window, Claim.id > last)
                               .order_by(Claim.id).limit(CHUNK)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _customer(kind: str, value: str | None, key: bytes) -> str | None:
    if not value or not value.strip():
        return None
    return hmac.new(key, f"{kind}:{value.strip().lower()}".encode(), hashlib.sha256).hexdigest()


def closed_at(status: str, history: list[dict]) -> datetime | None:
    """When a closed (or archived) claim last closed, from its history: the closing steps record it
    there, not always in the ``closed_at`` column."""
    if status not in CLOSED:
        return None
    moments = [h["at"] for h in history if h["action"] == "closed"]
    return datetime.fromisoformat(moments[-1]) if moments else None


def _facts(session: Session, rows: list, contact_key: bytes) -> list[ClaimFacts]:
    ids = [r.id for r in rows]
    routes, history = defaultdict(list), defaultdict(list)
    for h in session.execute(select(ClaimHistory.claim_id, ClaimHistory.at, ClaimHistory.action, ClaimHistory.data)
                             .where(in_values(session, ClaimHistory.claim_id, ids),
                                    ClaimHistory.action.in_([*ROUTING, *ANSWER_ACTIONS]))
                             .order_by(ClaimHistory.id)):
        data = h.data or {}
        if h.action in ROUTING and data.get(ROUTING[h.action]):
            routes[h.claim_id].append((h.at, data[ROUTING[h.action]]))
        elif h.action in ANSWER_ACTIONS:
            history[h.claim_id].append({"action": h.action, "data": data, "at": h.at.isoformat()})
    resolution = {d.claim_id: d.resolution for d in session.execute(
        select(ClaimDecision.claim_id, ClaimDecision.resolution)
        .where(in_values(session, ClaimDecision.claim_id, ids)).order_by(ClaimDecision.id))}
    fired = defaultdict(list)
    for e in session.execute(select(SlaEscalation.claim_id, SlaEscalation.target, SlaEscalation.level,
                                    SlaEscalation.department)
                             .where(in_values(session, SlaEscalation.claim_id, ids)).order_by(SlaEscalation.id)):
        fired[e.claim_id].append((e.target, e.level, e.department))
    out = []
    for r in rows:
        customers = tuple(k for k in (_customer("email", r.customer_email, contact_key),
                                      _customer("phone", r.customer_phone, contact_key)) if k)
        text = "\n".join(p for p in (r.description, r.subject) if p)
        out.append(ClaimFacts(
            id=r.id, channel=r.channel, category=r.category, department=r.department, priority=r.priority,
            status=r.status, received_at=r.received_at, desired_resolution=r.desired_resolution,
            sku=(r.sku or "").strip() or None, product=product_name(text),
            details={"sla_flags": (r.details or {}).get("sla_flags", [])}, sla_pauses=list(r.sla_pauses or []),
            routed_at=r.routed_at, first_response_at=r.first_response_at, decided_at=r.decided_at,
            closed_at=r.closed_at or closed_at(r.status, history[r.id]), customers=customers, routes=tuple(routes[r.id]),
            resolution=resolution.get(r.id), answer=customer_answer(history[r.id]),
            escalations=tuple(fired[r.id])))
    return out
