"""Accepting envelopes: one transaction through ``intake_worker.inbox.accept_lines`` (inbox, or
quarantine with a reason), commit, then nudge intake. What the caller is told follows the
outcome: 202 accepted or duplicate; a refused envelope (kept in quarantine) 400/413/422."""
from __future__ import annotations

from dataclasses import dataclass

import structlog
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from intake_worker.inbox import accept_lines
from intake_worker.validation import ReceivedWindow, Refused, check_envelope
from services.stages import nudge
from shared.observability import correlation
from shared.bootstrap import App

log = structlog.get_logger("gateway")

#: HTTP status of a refused envelope, by reason code (any other reason: 422)
REFUSED_STATUS = {"not_json": 400, "oversize": 413}
STATUS_WORDS = {"accepted": "accepted", "redelivered": "duplicate", "quarantined": "quarantined"}


@dataclass(frozen=True)
class Outcome:
    status: str                 # accepted | duplicate | quarantined
    event_id: str | None
    error: str | None = None    # quarantined: the reason code
    message: str | None = None

    def item(self) -> dict:
        body = {"event_id": self.event_id, "status": self.status}
        if self.status == "quarantined":
            body |= {"error": self.error, "message": self.message}
        return body


def _accept(app: App, lines: list[bytes | str], correlation_id: str | None = None) -> list[Outcome]:
    settings, now, window = app.settings, app.clock.now(), ReceivedWindow.of(app.settings)
    with app.sessions.begin() as session:
        acceptance = accept_lines(session, lines, now, settings.max_event_bytes, correlation_id, window)
    nudge(app, "intake", len(acceptance.accepted))
    outcomes = []
    for line, (state, event_id) in zip(lines, acceptance.results):
        if state == "quarantined":
            # accept_lines keeps the reason in the quarantine row; the (pure) check says it again here
            refused = check_envelope(line, settings.max_event_bytes, now, window)
            reason = refused.rejection if isinstance(refused, Refused) else None
            outcomes.append(Outcome("quarantined", event_id, reason.reason.value if reason else "bad_payload",
                                    reason.message if reason else "the event was quarantined"))
        else:
            outcomes.append(Outcome(STATUS_WORDS[state], event_id))
    return outcomes


async def accept(app: App, lines: list[bytes | str]) -> list[Outcome]:
    """Store ``lines`` and say what became of each (database work off the event loop)."""
    return await run_in_threadpool(_accept, app, lines, correlation.current())   # the request's header


def single_response(outcome: Outcome) -> JSONResponse:
    """The answer for one envelope."""
    if outcome.status == "quarantined":
        return JSONResponse({"error": outcome.error, "message": outcome.message, "event_id": outcome.event_id},
                            status_code=REFUSED_STATUS.get(outcome.error, 422))
    return JSONResponse({"event_id": outcome.event_id, "status": outcome.status}, status_code=202)


def batch_response(outcomes: list[Outcome]) -> JSONResponse:
    """The answer for several: 202 with each one's outcome (a refused one is kept in quarantine)."""
    return JSONResponse({"results": [o.item() for o in outcomes]}, status_code=202)
